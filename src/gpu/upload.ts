/**
 * Attention tensor -> storage buffers. The unit of upload is a chunk: a whole layer (heads x rows x cols) when it
 * fits the device's limits, otherwise a run of consecutive heads of one layer (down to one head per chunk).
 * Values are stored as float32, or as float16 packed two per u32 word (shaders/common/loadFloat16Packed.wgsl).
 */
import { packFloat16Pairs } from '../data/float16.ts';
import type { AttentionShape, AttentionSource } from '../data/tensor.ts';
import { chunkBuffer, formatBytes } from './allocate.ts';
import { packFloat16OnGpu } from './packFloat16.ts';
import type { ShaderSources } from './pipeline.ts';
import type { StorageFormat } from './storageFormat.ts';
import { storageBytes } from './storageFormat.ts';
import { canUploadStored, uploadStoredChunk, type StoredWordsPath } from './storedUpload.ts';
import { workgroupShapeOf } from './workgroupShape.ts';

/** Which heads of which layer one storage buffer holds. */
export interface UploadChunk {
  readonly layer: number;
  /** First head in the chunk. */
  readonly firstHead: number;
  /** Number of consecutive heads, firstHead .. firstHead + headCount - 1. */
  readonly headCount: number;
  /** Size of the storage buffer in bytes (whole 4-byte words). */
  readonly byteLength: number;
}

/** How a tensor is cut into chunks: every layer the same way. */
export interface ChunkPlan {
  readonly format: StorageFormat;
  /** Heads per chunk (the last chunk of a layer may hold fewer). Equal to shape.heads when a layer fits whole. */
  readonly headsPerChunk: number;
  readonly chunksPerLayer: number;
  /** The chunk holding (layer, head). Preconditions: both in range. */
  chunkOf(layer: number, head: number): UploadChunk;
  /** Every chunk of a layer, in head order. */
  chunksOfLayer(layer: number): UploadChunk[];
}

/**
 * Plans the chunks of a tensor so that each one is at most `maxChunkBytes` (normally
 * min(maxStorageBufferBindingSize, maxBufferSize)). Heads are spread evenly over a layer's chunks (20 heads that fit
 * 13 at a time become 2 chunks of 10). Throws when a single head is larger than `maxChunkBytes`.
 */
export function planChunks(shape: AttentionShape, format: StorageFormat, maxChunkBytes: number): ChunkPlan {
  const mapElements = shape.rows * shape.cols;
  let fit = 0;
  while (fit < shape.heads && storageBytes(format, (fit + 1) * mapElements) <= maxChunkBytes) fit += 1;
  if (fit === 0) {
    throw new Error(
      `One attention map (${shape.rows} x ${shape.cols}) needs ${formatBytes(storageBytes(format, mapElements))} as ` +
        `${format}, more than this GPU can bind at once (${formatBytes(maxChunkBytes)}). ` +
        (format === 'float32' ? 'Try float16 storage.' : 'This tensor is too large for this GPU.'),
    );
  }
  const chunksPerLayer = Math.ceil(shape.heads / fit);
  const headsPerChunk = Math.ceil(shape.heads / chunksPerLayer);
  const make = (layer: number, index: number): UploadChunk => {
    const firstHead = index * headsPerChunk;
    const headCount = Math.min(headsPerChunk, shape.heads - firstHead);
    return { layer, firstHead, headCount, byteLength: storageBytes(format, headCount * mapElements) };
  };
  return {
    format,
    headsPerChunk,
    chunksPerLayer,
    chunkOf: (layer, head) => make(layer, Math.floor(head / headsPerChunk)),
    chunksOfLayer: (layer) => Array.from({ length: chunksPerLayer }, (_, index) => make(layer, index)),
  };
}

/** Reads the float32 values of a chunk: readLayer for a whole layer, readHead per head otherwise. */
export async function readChunkValues(source: AttentionSource, chunk: UploadChunk): Promise<Float32Array> {
  if (chunk.firstHead === 0 && chunk.headCount === source.shape.heads) return source.readLayer(chunk.layer);
  const mapElements = source.shape.rows * source.shape.cols;
  const values = new Float32Array(chunk.headCount * mapElements);
  for (let index = 0; index < chunk.headCount; index++) {
    values.set(await source.readHead(chunk.layer, chunk.firstHead + index), index * mapElements);
  }
  return values;
}

/** The words to store for `values` in `format`: the float32 values themselves, or float16 pairs. */
export function makeStorageWords(values: Float32Array, format: StorageFormat): Float32Array | Uint32Array {
  return format === 'float32' ? values : packFloat16Pairs(values);
}

/**
 * Fills the storage buffer for `chunk` (`recycled`, or a new one: see chunkBuffer in allocate.ts) with `values` (float32,
 * chunk.headCount maps).
 * float16 storage is narrowed on the GPU when `shaders` are given (src/gpu/packFloat16.ts), in JS otherwise.
 */
export async function createChunkBuffer(
  device: GPUDevice,
  label: string,
  chunk: UploadChunk,
  values: Float32Array,
  format: StorageFormat,
  freeSomething: () => boolean,
  shaders?: ShaderSources,
  recycled?: GPUBuffer,
): Promise<GPUBuffer> {
  const wordBytes = storageBytes(format, values.length);
  if (wordBytes > chunk.byteLength) {
    throw new Error(`${label}: ${wordBytes} bytes of values for a chunk planned at ${chunk.byteLength}`);
  }
  const buffer = await chunkBuffer(device, label, chunk.byteLength, freeSomething, recycled);
  if (format === 'float16' && shaders) {
    try {
      await packFloat16OnGpu(device, shaders, values, buffer);
    } catch (error) {
      buffer.destroy();
      throw error;
    }
    return buffer;
  }
  const words = makeStorageWords(values, format);
  device.queue.writeBuffer(buffer, 0, words.buffer, words.byteOffset, words.byteLength);
  return buffer;
}

/**
 * Reads `chunk` of `source` and uploads it into a storage buffer in `format` (`recycled`, or a new one). Files of little-endian float16,
 * bfloat16 or float32 go as stored, straight from the file into staging memory and decoded on the GPU
 * (src/gpu/storedUpload.ts); other sources (float64 or big-endian files, computed sources, and float16 or bfloat16
 * into float32 storage on a software adapter: see canUploadStored) are decoded to float32 in JS and uploaded with
 * createChunkBuffer. `words`: how stored bytes that are the storage words go (StoredWordsPath; staging by default).
 */
export async function uploadChunk(
  device: GPUDevice,
  label: string,
  chunk: UploadChunk,
  source: AttentionSource,
  format: StorageFormat,
  freeSomething: () => boolean,
  shaders?: ShaderSources,
  recycled?: GPUBuffer,
  words?: StoredWordsPath,
): Promise<GPUBuffer> {
  if (canUploadStored(source.stored, format, shaders !== undefined, workgroupShapeOf(device).software)) {
    return uploadStoredChunk(device, label, chunk, source.shape, source.stored, format, freeSomething, shaders, undefined, recycled, words);
  }
  let values: Float32Array;
  try {
    values = await readChunkValues(source, chunk);
  } catch (error) {
    recycled?.destroy();
    throw error;
  }
  return createChunkBuffer(device, label, chunk, values, format, freeSomething, shaders, recycled);
}
