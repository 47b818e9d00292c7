/**
 * Attention that is computed on the GPU rather than read from a file (a model run by our own kernels): the engine
 * asks such a source to fill a chunk's storage buffer directly, so the scores never leave the GPU. Evicting the
 * chunk frees the buffer as usual; the next request asks the source to compute it again. What the source keeps on the
 * GPU to do so (keptMemory) the engine counts against its budget for as long as the tensor is added.
 */
import type { AttentionSource } from '../data/tensor.ts';
import { createBufferWithRetry } from './allocate.ts';
import type { StorageFormat } from './storageFormat.ts';
import type { UploadChunk } from './upload.ts';

/** GPU memory a source keeps outside the chunks, and what it is (for the engine's memory report and errors). */
export interface KeptMemory {
  readonly bytes: number;
  readonly holds: string;
}

/** An AttentionSource whose chunks are written by GPU work on the engine's device. */
export interface GpuProducedSource extends AttentionSource {
  /** What the source keeps on the GPU while it lives, when chunks are stored in `format`. */
  keptMemory(format: StorageFormat): KeptMemory;
  /**
   * Records and submits the work that writes `chunk`'s maps (chunk.headCount heads of chunk.layer, from
   * chunk.firstHead) into `output` in `format`, on `device`; resolves once submitted. On a device other than the
   * one the source was built on (the engine's replacement after a loss) the source first rebuilds its state there;
   * rejects when it cannot.
   */
  writeChunk(device: GPUDevice, chunk: UploadChunk, format: StorageFormat, output: GPUBuffer): Promise<void>;
}

export function isGpuProducedSource(source: AttentionSource): source is GpuProducedSource {
  return typeof (source as Partial<GpuProducedSource>).writeChunk === 'function';
}

/** Creates the chunk's storage buffer (evicting on out-of-memory, as uploads do) and has the source fill it. */
export async function createProducedChunkBuffer(
  device: GPUDevice,
  label: string,
  chunk: UploadChunk,
  source: GpuProducedSource,
  format: StorageFormat,
  freeSomething: () => boolean,
): Promise<GPUBuffer> {
  const buffer = await createBufferWithRetry(
    device,
    { label, size: chunk.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC },
    freeSomething,
  );
  try {
    await source.writeChunk(device, chunk, format, buffer);
  } catch (error) {
    buffer.destroy();
    throw error;
  }
  return buffer;
}
