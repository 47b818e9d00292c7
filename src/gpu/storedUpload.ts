/**
 * Attention uploaded as the file stores it. When the stored type is the storage format (float32 into float32, float16
 * into float16) the bytes are the storage words, and go one of two ways (StoredWordsPath, chosen by the caller):
 *   'staging'      each piece is read straight into a mapped staging slab (reused: memory already touched) and copied
 *                  into the chunk's buffer on the GPU, one submit per piece: two copies of each byte;
 *   'writeBuffer'  each piece is read into a host buffer kept for reuse and given to queue.writeBuffer, which copies it
 *                  into upload memory of Dawn's before its own GPU copy: three copies, but no command buffer of ours,
 *                  so a layer loaded inside a control change adds no submit to it.
 * The engine stages its prefetches and writes a map's own loads (src/engine.ts #acquireChunk). Measured on SwiftShader
 * (bench/README.md "Load at memory speed", fourth round), into a buffer already written, same run: staging at
 * 1.4-2.0x writeBuffer's rate in Node (float32 layers, five runs; 2.7x float16; slower in one of five shorter runs at
 * a load average of ~9), and 1.5-2.2x in the page (1.9-4.6x before writeBuffer read 4 MiB at a time), where
 * writeBuffer ran at or below the first-touch rate.
 * Otherwise each piece is read into a mapped staging slab, copied into the slab's decode input and decoded into the
 * chunk's storage buffer by a kernel (shaders/compute/unpackStored.wgsl: float16 or bfloat16 -> float32, float32 or
 * bfloat16 -> float16 pairs); a chunk's pieces share one command encoder while slabs last.
 *
 * Why buffers kept for reuse, instead of fresh memory per read: memory touched for the first time costs a page fault
 * per 4 KiB, and on the bench machine's VM that alone runs at ~50-170 MB/s, slower than the read. The chunk buffers
 * themselves are recycled by the residency cache (src/gpu/residency.ts) for the same reason.
 * Several pieces of a chunk are in flight at once, so one piece's read overlaps the previous piece's copy or decode.
 *
 * The slabs (at most MAX_SLABS x 16 MiB, plus as much again as decode input) live as long as the device and are not
 * counted in the engine's budget (see the note in bench/README.md "Load at memory speed"); the host buffers are CPU
 * memory (at most 2 x 4 MiB).
 */
import { ELEMENT_BYTES } from '../data/elements.ts';
import type { AttentionShape, StoredDType, StoredValues } from '../data/tensor.ts';
import { chunkBuffer } from './allocate.ts';
import { createComputePipelineFromFiles, type ShaderSources } from './pipeline.ts';
import type { StorageFormat } from './storageFormat.ts';
import type { UploadChunk } from './upload.ts';
import { countDispatch, submitCounted } from './workCounters.ts';

const KERNEL = 'compute/unpackStored.wgsl';
const WORKGROUP_SIZE = 256;
/** The kernel's StoredKind for each stored type it decodes. */
const STORED_KIND: Partial<Record<StoredDType, number>> = { float16: 0, bfloat16: 1, float32: 2 };
const STORAGE_KIND: Record<StorageFormat, number> = { float32: 0, float16: 1 };
/** Largest staging slab: a multiple of 1024 bytes, so that every piece but a chunk's last starts on a 512-value boundary. */
export const MAX_SLAB_BYTES = 16 << 20;
/** Smallest slab made: small chunks (tests, short files) do not fault in 16 MiB. */
const MIN_SLAB_BYTES = 64 << 10;
const MAX_SLABS = 4;
/**
 * Largest piece given to queue.writeBuffer. Measured on SwiftShader (bench/README.md "Load at memory speed"), reloading
 * float32 layers into recycled buffers ran at 384-399 MB/s in 16 MiB pieces, 1252 in 4 MiB, 3008 in 1 MiB. Our reading,
 * not verified in Dawn's source here: Dawn copies small writes into upload memory it reuses, and gives a large write
 * staging memory of its own, which is new memory (a page fault per 4 KiB).
 */
const WRITE_PIECE_BYTES = 1 << 20;
/**
 * Largest read of the writeBuffer path, handed to queue.writeBuffer in WRITE_PIECE_BYTES pieces: fewer reads (in the
 * page each is a File.stream() of its own). Measured against 1 MiB reads in the same run (bench/README.md "Load at
 * memory speed", fourth round, the 'stored-writeBuffer-1MiB' step): 1.1-1.7x in the page (three runs), 1.1x in Node
 * (one run); 6 MiB more host memory.
 */
const WRITE_READ_BYTES = 4 << 20;
const PIECES_IN_FLIGHT = 2;
/**
 * Piece size of the staging path for stored words: measured on SwiftShader (bench/node/uploadPaths.ts, bench/README.md
 * "Load at memory speed", fourth round), 4 MiB pieces with four slabs in flight were best or near best in three sweeps
 * of 1-16 MiB pieces and 2-8 slabs; 16 MiB pieces were among the slowest.
 */
const STAGE_PIECE_BYTES = 4 << 20;

/**
 * How stored bytes that are the storage words reach the chunk's buffer: 'staging' reads each piece straight into a
 * mapped staging slab and copies it on the GPU (two copies of each byte, a submit per piece); 'writeBuffer' reads it
 * into a host buffer and hands that to queue.writeBuffer (three copies: Dawn copies it into upload memory of its own
 * before its GPU copy; no submit of ours).
 */
export type StoredWordsPath = 'staging' | 'writeBuffer';

/**
 * Whether uploadStoredChunk should upload `stored` into `format`: little-endian float16, bfloat16 or float32, and a
 * kernel available (`hasShaders`) unless the stored type is the storage format. float64 and big-endian files are
 * decoded in JS (src/data/elements.ts) instead, and so, on a software adapter (`software`), is widening float16 or
 * bfloat16 to float32 storage: measured on SwiftShader (bench/README.md, two runs) the kernel loaded those files at
 * 0.5-1.3x the JS path's rate, while the paths without a kernel, and narrowing to float16, were as fast or faster.
 */
export function canUploadStored(stored: StoredValues | undefined, format: StorageFormat, hasShaders: boolean, software = false): stored is StoredValues {
  if (!stored || !stored.littleEndian || STORED_KIND[stored.dtype] === undefined) return false;
  if ((stored.dtype as string) === format) return true;
  if (software && format === 'float32') return false;
  return hasShaders;
}

/**
 * Fills the storage buffer for `chunk` (`recycled`, or a new one: see chunkBuffer in allocate.ts) from the file's
 * stored bytes (see the file comment). Resolves once every piece is written or submitted; later commands on the queue
 * see the whole chunk. Precondition: canUploadStored(stored, format, !!shaders). `maxPieceBytes` (at least 2048)
 * bounds each piece; tests make it small to run many pieces.
 */
export async function uploadStoredChunk(
  device: GPUDevice,
  label: string,
  chunk: UploadChunk,
  shape: AttentionShape,
  stored: StoredValues,
  format: StorageFormat,
  freeSomething: () => boolean,
  shaders?: ShaderSources,
  maxPieceBytes = MAX_SLAB_BYTES,
  recycled?: GPUBuffer,
  words: StoredWordsPath = 'staging',
): Promise<GPUBuffer> {
  const decode = (stored.dtype as string) !== format;
  let pipeline: GPUComputePipeline | undefined;
  let buffer: GPUBuffer | undefined;
  try {
    if (decode && !shaders) throw new Error(`${label}: ${stored.dtype} values need the unpack kernel for ${format} storage`);
    pipeline = decode ? await pipelineFor(device, shaders!, stored.dtype, format) : undefined;
    buffer = await chunkBuffer(device, label, chunk.byteLength, freeSomething, recycled);
    const elementBytes = ELEMENT_BYTES[stored.dtype];
    const target = buffer;
    if (pipeline) {
      // Decoded pieces share an encoder: one submit per chunk of up to MAX_SLABS pieces.
      const storageValueBytes = format === 'float32' ? 4 : 2;
      const pieces = piecesOf(chunk, shape, elementBytes, maxPieceBytes);
      await stagePieces(device, label, chunk, stored, pieces, (encoder, slab, paddedBytes, start, count) => {
        encodeDecode(device, encoder, pipeline!, slab, paddedBytes, count, target, start * storageValueBytes, format);
      }, PIECES_IN_FLIGHT, false);
    } else if (words === 'staging') {
      const pieces = piecesOf(chunk, shape, elementBytes, Math.min(maxPieceBytes, STAGE_PIECE_BYTES));
      await stagePieces(device, label, chunk, stored, pieces, (encoder, slab, paddedBytes, start) => {
        encoder.copyBufferToBuffer(slab.staging, 0, target, start * elementBytes, paddedBytes);
      }, MAX_SLABS, true);
    } else await writePieces(device, chunk, stored, piecesOf(chunk, shape, elementBytes, maxPieceBytes), buffer);
  } catch (error) {
    (buffer ?? recycled)?.destroy();
    throw error;
  }
  return buffer;
}

/** Hands out a chunk's pieces in order, each starting on a 512-value boundary (legal copy and binding offsets). */
interface Pieces {
  readonly firstValue: number;
  readonly values: number;
  readonly elementBytes: number;
  readonly maxPieceBytes: number;
  /** The next piece's first value (relative to the chunk). */
  next: number;
}

function piecesOf(chunk: UploadChunk, shape: AttentionShape, elementBytes: number, maxPieceBytes: number): Pieces {
  const mapValues = shape.rows * shape.cols;
  return { firstValue: chunk.firstHead * mapValues, values: chunk.headCount * mapValues, elementBytes, maxPieceBytes, next: 0 };
}

/** Takes the next piece of at most `roomBytes` (a whole number of 512-value blocks, at least one): its first value and count. */
function takePiece(pieces: Pieces, roomBytes: number): { start: number; count: number } {
  const start = pieces.next;
  const blockValues = Math.floor(Math.min(roomBytes, pieces.maxPieceBytes) / pieces.elementBytes / 512) * 512;
  const count = Math.min(pieces.values - start, Math.max(512, blockValues));
  pieces.next = start + count;
  return { start, count };
}

/**
 * Stored bytes that are the storage words (float32 into float32, float16 into float16): each piece is read into a
 * host buffer kept for reuse (memory already touched) and given to queue.writeBuffer, which copies it at the call.
 * No command buffer is submitted, so a layer loaded inside a batch adds no submit of its own.
 */
async function writePieces(device: GPUDevice, chunk: UploadChunk, stored: StoredValues, pieces: Pieces, target: GPUBuffer): Promise<void> {
  const writeOne = async () => {
    while (pieces.next < pieces.values) {
      const host = takeHostBuffer(Math.min(WRITE_READ_BYTES, pieces.maxPieceBytes, (pieces.values - pieces.next) * pieces.elementBytes));
      try {
        if (pieces.next >= pieces.values) return;
        const { start, count } = takePiece(pieces, Math.min(WRITE_READ_BYTES, host.byteLength));
        const bytes = count * pieces.elementBytes;
        const padded = roundUp4(bytes);
        await stored.readInto(chunk.layer, pieces.firstValue + start, host.subarray(0, bytes));
        // An odd float16 count leaves half a word: zero, as packFloat16Pairs leaves it.
        host.fill(0, bytes, padded);
        // writeBuffer copies at the call, so the host buffer is free again once these return.
        for (let offset = 0; offset < padded; offset += WRITE_PIECE_BYTES) {
          const length = Math.min(WRITE_PIECE_BYTES, padded - offset);
          device.queue.writeBuffer(target, start * pieces.elementBytes + offset, host.buffer, host.byteOffset + offset, length);
        }
      } finally {
        returnHostBuffer(host);
      }
    }
  };
  await Promise.all(Array.from({ length: PIECES_IN_FLIGHT }, writeOne));
}

/**
 * Reads each piece into a mapped staging slab and records `encodePiece` (the slab's bytes into the chunk's buffer),
 * `workers` pieces in flight. With `submitEachPiece` every piece is its own submit, so its slab is mapped again as soon
 * as its copy is done; otherwise pieces share one command encoder, submitted when a piece (of this chunk or another)
 * would wait for a slab that only a submit can give back, and at the end: one submit for a chunk of up to MAX_SLABS
 * pieces when nothing else is loading.
 */
async function stagePieces(
  device: GPUDevice,
  label: string,
  chunk: UploadChunk,
  stored: StoredValues,
  pieces: Pieces,
  encodePiece: (encoder: GPUCommandEncoder, slab: Slab, paddedBytes: number, start: number, count: number) => void,
  workers: number,
  submitEachPiece: boolean,
): Promise<void> {
  const pool = poolFor(device);
  let encoder: GPUCommandEncoder | undefined;
  let recorded: Slab[] = [];
  const submit = () => {
    if (!encoder) return;
    const slabs = recorded;
    submitCounted(device, [encoder.finish()]);
    encoder = undefined;
    recorded = [];
    for (const slab of slabs) pool.release(slab, false);
  };
  const stageOne = async () => {
    while (pieces.next < pieces.values) {
      if (!pool.hasFree()) submit();
      const slab = await pool.acquire(Math.min(pieces.maxPieceBytes, (pieces.values - pieces.next) * pieces.elementBytes));
      // Another piece in flight may have taken the rest while this one waited for a slab.
      if (pieces.next >= pieces.values) {
        pool.release(slab, true);
        return;
      }
      const { start, count } = takePiece(pieces, slab.byteLength);
      const bytes = count * pieces.elementBytes;
      const paddedBytes = roundUp4(bytes);
      try {
        const range = new Uint8Array(slab.staging.getMappedRange(0, paddedBytes));
        await stored.readInto(chunk.layer, pieces.firstValue + start, range.subarray(0, bytes));
        // An odd float16 count leaves half a word: zero, as packFloat16Pairs leaves it.
        range.fill(0, bytes);
      } catch (error) {
        // A range got from a mapped buffer cannot be got again: a failed piece's slab is unmapped and mapped anew.
        slab.staging.unmap();
        pool.release(slab, false);
        throw error;
      }
      slab.staging.unmap();
      encoder ??= device.createCommandEncoder({ label: `${label}.pieces` });
      encodePiece(encoder, slab, paddedBytes, start, count);
      recorded.push(slab);
      // A piece of this or another chunk waits for a slab: ours come back only through a submit.
      if (submitEachPiece || pool.hasWaiting()) submit();
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, stageOne));
  } finally {
    // On failure too: the recorded slabs go back to the pool (the target is destroyed by the caller).
    submit();
  }
}

/** Records the copy of a piece into the slab's decode input and the kernel that writes it into `target`. */
function encodeDecode(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  pipeline: GPUComputePipeline,
  slab: Slab,
  inputBytes: number,
  count: number,
  target: GPUBuffer,
  targetOffset: number,
  format: StorageFormat,
): void {
  slab.input ??= device.createBuffer({ label: 'StoredUpload.input', size: slab.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  slab.params ??= device.createBuffer({ label: 'StoredUpload.params', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const words = format === 'float32' ? count : Math.ceil(count / 2);
  // Written before this piece's submit and after the previous submit that used the slab: the queue keeps them apart.
  device.queue.writeBuffer(slab.params, 0, new Uint32Array([words, count, 0, 0]));
  encoder.copyBufferToBuffer(slab.staging, 0, slab.input, 0, inputBytes);
  const pass = encoder.beginComputePass({ label: 'StoredUpload.computePass' });
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      label: 'StoredUpload.bindGroup',
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: slab.input, size: inputBytes } },
        { binding: 1, resource: { buffer: slab.params } },
        { binding: 2, resource: { buffer: target, offset: targetOffset, size: words * 4 } },
      ],
    }),
  );
  const workgroups = Math.ceil(words / WORKGROUP_SIZE);
  const x = Math.min(workgroups, device.limits.maxComputeWorkgroupsPerDimension);
  pass.dispatchWorkgroups(x, Math.ceil(workgroups / x));
  pass.end();
  countDispatch(device, inputBytes + words * 4);
}

function roundUp4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

// ---- pipelines and staging slabs, one set per device ----------------------------------------------------------

const pipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

function pipelineFor(device: GPUDevice, shaders: ShaderSources, dtype: StoredDType, format: StorageFormat): Promise<GPUComputePipeline> {
  let byKind = pipelines.get(device);
  if (!byKind) pipelines.set(device, (byKind = new Map()));
  const key = `${dtype}->${format}`;
  let pipeline = byKind.get(key);
  if (!pipeline) {
    pipeline = createComputePipelineFromFiles(device, shaders, `StoredUpload.${key}.pipeline`, ['common/float16Bits.wgsl', KERNEL], {
      WorkgroupSize: WORKGROUP_SIZE,
      StoredKind: STORED_KIND[dtype]!,
      StorageKind: STORAGE_KIND[format],
    });
    pipeline.catch(() => byKind.delete(key));
    byKind.set(key, pipeline);
  }
  return pipeline;
}

/** A mapped-for-writing staging buffer, and the decode kernel's input and parameters beside it (made on first use). */
interface Slab {
  readonly staging: GPUBuffer;
  readonly byteLength: number;
  input?: GPUBuffer;
  params?: GPUBuffer;
}

/** Up to MAX_SLABS slabs per device: handed out mapped, mapped again after use, then handed out again. */
class SlabPool {
  readonly #device: GPUDevice;
  readonly #free: Slab[] = [];
  readonly #waiting: ((slab: Slab) => void)[] = [];
  #count = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Whether some acquire() is waiting for a slab. */
  hasWaiting(): boolean {
    return this.#waiting.length > 0;
  }

  /** Whether acquire() would answer without waiting for a slab to come back. */
  hasFree(): boolean {
    return this.#free.length > 0 || this.#count < MAX_SLABS;
  }

  /** A mapped slab; a new one (sized for `wantedBytes`, up to MAX_SLAB_BYTES) while there are fewer than MAX_SLABS. */
  async acquire(wantedBytes: number): Promise<Slab> {
    const wanted = Math.min(MAX_SLAB_BYTES, Math.max(MIN_SLAB_BYTES, Math.ceil(wantedBytes / 4096) * 4096));
    const free = this.#free.pop();
    if (free && free.byteLength >= wanted) return free;
    if (free) this.#destroy(free); // too small for this chunk: replaced by a bigger one
    if (free || this.#count < MAX_SLABS) {
      this.#count += free ? 0 : 1;
      const staging = this.#device.createBuffer({
        label: 'StoredUpload.staging',
        size: wanted,
        usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC,
        mappedAtCreation: true,
      });
      return { staging, byteLength: wanted };
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Takes a slab back: unmapped ones (their copy submitted) are mapped again first. */
  release(slab: Slab, mapped: boolean): void {
    if (mapped) {
      this.#handOut(slab);
      return;
    }
    slab.staging.mapAsync(GPUMapMode.WRITE).then(
      () => this.#handOut(slab),
      // The device was lost or destroyed: the slab is gone; a waiter gets a new one.
      () => {
        this.#destroy(slab);
        this.#count -= 1;
        const waiter = this.#waiting.shift();
        if (waiter) void this.acquire(MAX_SLAB_BYTES).then(waiter);
      },
    );
  }

  #handOut(slab: Slab): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(slab);
    else this.#free.push(slab);
  }

  #destroy(slab: Slab): void {
    slab.staging.destroy();
    slab.input?.destroy();
    slab.params?.destroy();
  }
}

const pools = new WeakMap<GPUDevice, SlabPool>();

/** Host buffers for writePieces, kept for reuse: at most PIECES_IN_FLIGHT of them, WRITE_READ_BYTES each. */
const hostBuffers: Uint8Array[] = [];

/** A free host buffer of at least `wantedBytes` (rounded as slabs are), or a new one. */
function takeHostBuffer(wantedBytes: number): Uint8Array {
  const wanted = Math.min(MAX_SLAB_BYTES, Math.max(MIN_SLAB_BYTES, Math.ceil(wantedBytes / 4096) * 4096));
  const index = hostBuffers.findIndex((buffer) => buffer.byteLength >= wanted);
  if (index >= 0) return hostBuffers.splice(index, 1)[0];
  return new Uint8Array(wanted);
}

function returnHostBuffer(buffer: Uint8Array): void {
  hostBuffers.push(buffer);
  hostBuffers.sort((a, b) => b.byteLength - a.byteLength);
  hostBuffers.length = Math.min(hostBuffers.length, PIECES_IN_FLIGHT);
}

function poolFor(device: GPUDevice): SlabPool {
  let pool = pools.get(device);
  if (!pool) pools.set(device, (pool = new SlabPool(device)));
  return pool;
}
