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
  };
}

/** A ByteSource over a browser Blob or File: each read slices the blob, so only that slice is loaded. */
export function makeBlobSource(blob: Blob, name = (blob as File).name ?? 'blob'): ByteSource {
  return {
    name,
    byteLength: blob.size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > blob.size) {
        throw new RangeError(`${name}: read of ${length} bytes at ${offset} runs past the end (${blob.size} bytes)`);
      }
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
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
  return {
    name: source.name,
    byteLength: source.byteLength,
    async read(offset, length) {
      const bytes = await source.read(offset, length);
      bytesRead += bytes.byteLength;
      onRead(bytesRead, source.byteLength, source.name);
      return bytes;
    },
  };
}
