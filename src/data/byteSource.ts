/**
 * Random-access reads from a file that may be larger than memory.
 * A 32-layer Whisper large-v3 tensor is 5.8 GB: readers take a ByteSource and read the header and then one
 * slice (a head or a layer) at a time, never the whole file into one buffer.
 */
export interface ByteSource {
  /** The file's name as the user gave it; used in every error message. */
  readonly name: string;
  /** Total size in bytes. */
  readonly byteLength: number;
  /** Reads bytes [offset, offset + length). Rejects if that runs past byteLength. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Reads bytes [offset, offset + target.byteLength) straight into `target` (memory the caller already holds, such as
   * a mapped GPU staging buffer), so that a layer's bytes are copied once. Optional: readBytesInto falls back to read().
   */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
}

/** A ByteSource over bytes already in memory (tests, small files, fetch() results). */
export function makeMemorySource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    byteLength: bytes.byteLength,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.byteLength) {
        throw new RangeError(`${name}: read of ${length} bytes at ${offset} runs past the end (${bytes.byteLength} bytes)`);
      }
      return bytes.subarray(offset, offset + length);
    },
    async readInto(offset, target) {
      if (offset < 0 || offset + target.byteLength > bytes.byteLength) {
        throw new RangeError(`${name}: read of ${target.byteLength} bytes at ${offset} runs past the end (${bytes.byteLength} bytes)`);
      }
      target.set(bytes.subarray(offset, offset + target.byteLength));
    },
  };
}

/**
 * How a Blob source fills memory the caller holds (ByteSource.readInto): 'slices' reads pieces of the range with
 * parallel Blob.slice().arrayBuffer() calls; 'stream' reads the range's Blob.stream() from start to end. Both copy
 * each piece into the target; bench/core/io.ts measures them against each other in the page. 'stream' is the default:
 * in Chromium on the bench machine it read a 18 MB layer at 382 MB/s against 70 MB/s for 'slices' (same run), since
 * its BYOB reads fill a reused scratch buffer while each slice's arrayBuffer() is new memory, faulted in page by page.
 */
export type BlobReadMode = 'slices' | 'stream';

/** Bytes per Blob.slice read, and how many are in flight at once. */
const BLOB_PIECE_BYTES = 8 << 20;
const BLOB_PIECES_IN_FLIGHT = 4;

/** A ByteSource over a browser Blob or File: each read slices the blob, so only that slice is loaded. */
export function makeBlobSource(blob: Blob, name = (blob as File).name ?? 'blob', readMode: BlobReadMode = 'stream'): ByteSource {
  const checkRange = (offset: number, length: number) => {
    if (offset < 0 || length < 0 || offset + length > blob.size) {
      throw new RangeError(`${name}: read of ${length} bytes at ${offset} runs past the end (${blob.size} bytes)`);
    }
  };
  return {
    name,
    byteLength: blob.size,
    async read(offset, length) {
      checkRange(offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
    async readInto(offset, target) {
      checkRange(offset, target.byteLength);
      if (readMode === 'stream') await streamInto(blob.slice(offset, offset + target.byteLength), target, name);
      else await slicesInto(blob, offset, target);
    },
  };
}

/** Fills `target` from blob[offset..] with up to BLOB_PIECES_IN_FLIGHT slice reads at a time. */
async function slicesInto(blob: Blob, offset: number, target: Uint8Array): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < target.byteLength) {
      const start = next;
      const end = Math.min(target.byteLength, start + BLOB_PIECE_BYTES);
      next = end;
      target.set(new Uint8Array(await blob.slice(offset + start, offset + end).arrayBuffer()), start);
    }
  };
  await Promise.all(Array.from({ length: BLOB_PIECES_IN_FLIGHT }, worker));
}

/** Bytes of the scratch buffer a BYOB stream read fills before each copy into the target. */
const STREAM_SCRATCH_BYTES = 1 << 20;
/** Scratch buffers of finished stream reads, kept so that the next read fills memory already touched. */
const streamScratch: ArrayBuffer[] = [];

/**
 * Fills `target` (exactly the blob's size) from the blob's stream. With a BYOB reader (Blob streams are byte streams)
 * each chunk lands in a reused scratch buffer, so no new memory is touched per chunk; otherwise the stream's own chunks
 * are copied.
 */
async function streamInto(blob: Blob, target: Uint8Array, name: string): Promise<void> {
  const stream = blob.stream();
  let filled = 0;
  const take = (chunk: Uint8Array) => {
    if (filled + chunk.byteLength > target.byteLength) throw new RangeError(`${name}: the stream gave more bytes than its slice holds`);
    target.set(chunk, filled);
    filled += chunk.byteLength;
  };
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: 'byob' });
  } catch {
    byob = undefined; // not a byte stream here: read its chunks as they come
  }
  if (byob) {
    let scratch = streamScratch.pop() ?? new ArrayBuffer(STREAM_SCRATCH_BYTES);
    try {
      for (;;) {
        const { done, value } = await byob.read(new Uint8Array(scratch, 0, Math.min(scratch.byteLength, Math.max(1, target.byteLength - filled))));
        if (value) scratch = value.buffer as ArrayBuffer; // the read moved the scratch memory into `value`
        if (done || !value) break;
        take(value);
      }
    } finally {
      if (scratch.byteLength === STREAM_SCRATCH_BYTES && streamScratch.length < 4) streamScratch.push(scratch);
    }
  } else {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      take(value);
    }
  }
  if (filled !== target.byteLength) throw new RangeError(`${name}: the stream ended after ${filled} of ${target.byteLength} bytes`);
}

/**
 * Wraps a source so that `onRead(bytesRead, byteLength, name)` hears every read: the viewer's progress bar for large
 * files, which are read a layer (or head) at a time as maps are asked for, never all at once.
 */
export function withReadProgress(
  source: ByteSource,
  onRead: (bytesRead: number, byteLength: number, name: string) => void,
): ByteSource {
  let bytesRead = 0;
  const heard = (count: number) => {
    bytesRead += count;
    onRead(bytesRead, source.byteLength, source.name);
  };
  return {
    name: source.name,
    byteLength: source.byteLength,
    async read(offset, length) {
      const bytes = await source.read(offset, length);
      heard(bytes.byteLength);
      return bytes;
    },
    ...(source.readInto && {
      readInto: async (offset: number, target: Uint8Array) => {
        await source.readInto!(offset, target);
        heard(target.byteLength);
      },
    }),
  };
}
