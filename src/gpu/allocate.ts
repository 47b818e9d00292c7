/**
 * Big allocations that can fail for lack of GPU memory. WebGPU reports that through an 'out-of-memory' error
 * scope, not an exception, so each big createBuffer is wrapped in one; on failure the caller frees memory
 * (evicts least-recently-used uploads) and we try again, and when nothing is left to free the user gets a sentence.
 */

/** Thrown when a buffer cannot be allocated even after everything evictable was freed. */
export class GpuMemoryError extends Error {
  override readonly name = 'GpuMemoryError';
  constructor(
    readonly label: string,
    readonly byteLength: number,
  ) {
    super(
      `Not enough GPU memory for ${label} (${formatBytes(byteLength)}), even after freeing every cached upload. ` +
        'Use float16 storage, a smaller crop, or close other GPU-heavy tabs and programs.',
    );
  }
}

/**
 * Creates a buffer inside an 'out-of-memory' error scope. When the allocation fails, calls `freeSomething()`
 * and retries; `freeSomething` returns false when there is nothing left to free, and then GpuMemoryError is thrown.
 */
export async function createBufferWithRetry(
  device: GPUDevice,
  descriptor: GPUBufferDescriptor,
  freeSomething: () => boolean,
): Promise<GPUBuffer> {
  for (;;) {
    device.pushErrorScope('out-of-memory');
    const buffer = device.createBuffer(descriptor);
    const error = await device.popErrorScope();
    if (!error) return buffer;
    buffer.destroy();
    if (!freeSomething()) throw new GpuMemoryError(descriptor.label ?? 'a buffer', descriptor.size);
  }
}

/** Usage of every uploaded chunk's buffer: read by kernels, written by uploads, copied out by readbacks. */
export function chunkBufferUsage(): GPUBufferUsageFlags {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
}

/**
 * The storage buffer an uploaded chunk of `byteLength` bytes is written into: `recycled` (a pooled buffer of an
 * evicted chunk of the same size and usage, src/gpu/residency.ts) when given, else a new one from
 * createBufferWithRetry.
 */
export async function chunkBuffer(
  device: GPUDevice,
  label: string,
  byteLength: number,
  freeSomething: () => boolean,
  recycled?: GPUBuffer,
): Promise<GPUBuffer> {
  if (!recycled) return createBufferWithRetry(device, { label, size: byteLength, usage: chunkBufferUsage() }, freeSomething);
  if (recycled.size !== byteLength || recycled.usage !== chunkBufferUsage()) {
    throw new Error(`${label}: a recycled buffer of ${recycled.size} bytes (usage ${recycled.usage}) for a chunk of ${byteLength}`);
  }
  recycled.label = label;
  return recycled;
}

/** "72.0 MiB", "512 B": sizes for messages. */
export function formatBytes(byteLength: number): string {
  if (byteLength < 1024) return `${byteLength} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = byteLength / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
