/**
 * Small pieces shared by the pooling, rollout and head-statistics passes: binding an AttentionView within the
 * device's limits, per-encode uniform parameters, and the error thrown when a destroyed pass is used.
 */
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';

/** Thrown when encode() is called on a pass after destroy(). */
export class PassDestroyedError extends Error {
  constructor(passName: string) {
    super(`${passName} was used after destroy()`);
    this.name = 'PassDestroyedError';
  }
}

/** Values per 32-bit storage word in each storage format. */
const ELEMENTS_PER_WORD: Record<StorageFormat, number> = { float32: 1, float16: 2 };

/** Bit pattern of the quiet NaN the kernels write for "no value" (WGSL cannot spell NaN as a constant). */
export const NAN_BITS = 0x7fc00000;

/**
 * The binding for the `elementCount` values of `view` starting at its elementOffset, and the element offset to use
 * inside that binding. The binding starts at the largest offset at or below the first value that the device's
 * minStorageBufferOffsetAlignment allows, so a view deep inside a large buffer binds only what it needs and stays
 * under maxStorageBufferBindingSize. Throws a RangeError when the values lie outside the buffer or cannot be bound.
 */
export function bindAttentionView(
  device: GPUDevice,
  view: AttentionView,
  elementCount: number,
  owner: string,
): { resource: GPUBufferBinding; elementOffset: number } {
  const perWord = ELEMENTS_PER_WORD[view.format];
  if (!Number.isInteger(view.elementOffset) || view.elementOffset < 0) {
    throw new RangeError(`${owner}: elementOffset must be a non-negative integer, got ${view.elementOffset}`);
  }
  const firstWord = Math.floor(view.elementOffset / perWord);
  const endWord = Math.floor((view.elementOffset + Math.max(elementCount, 1) - 1) / perWord) + 1;
  if (endWord * 4 > view.buffer.size) {
    throw new RangeError(
      `${owner}: ${elementCount} ${view.format} values from element ${view.elementOffset} need ${endWord * 4} bytes, ` +
        `but ${view.buffer.label || 'the buffer'} has ${view.buffer.size}`,
    );
  }
  const alignWords = device.limits.minStorageBufferOffsetAlignment / 4;
  const boundFirstWord = Math.floor(firstWord / alignWords) * alignWords;
  const size = (endWord - boundFirstWord) * 4;
  if (size > device.limits.maxStorageBufferBindingSize) {
    throw new RangeError(
      `${owner}: ${elementCount} ${view.format} values take ${size} bytes, more than this device binds at once ` +
        `(maxStorageBufferBindingSize ${device.limits.maxStorageBufferBindingSize}); split the work`,
    );
  }
  return {
    resource: { buffer: view.buffer, offset: boundFirstWord * 4, size },
    elementOffset: view.elementOffset - boundFirstWord * perWord,
  };
}

/** Throws a RangeError unless `value` is an integer in [min, max]. */
export function checkInteger(owner: string, name: string, value: number, min: number, max = 0xffffffff): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${owner}: ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/** Throws a RangeError unless `buffer` holds at least `byteLength` bytes. */
export function checkOutputSize(owner: string, name: string, buffer: GPUBuffer, byteLength: number): void {
  if (buffer.size < byteLength) {
    throw new RangeError(`${owner}: ${name} needs ${byteLength} bytes, ${buffer.label || 'the buffer'} has ${buffer.size}`);
  }
}

/**
 * Uniform buffers holding per-encode parameters, one per distinct content.
 *
 * A pass cannot rewrite one uniform buffer for every encode(): queue.writeBuffer runs before the command buffer is
 * submitted, so two encodes recorded in one encoder would both see the last write. Instead each distinct parameter
 * block gets its own buffer, written once at creation; a viewer re-encodes the same few blocks frame after frame,
 * so the cache stays small. Past `capacity` entries the oldest is dropped without destroy(), because a command buffer
 * not yet submitted may still use it; the garbage collector frees it. destroy() frees the rest.
 */
export class UniformCache {
  readonly #device: GPUDevice;
  readonly #label: string;
  readonly #capacity: number;
  readonly #buffers = new Map<string, GPUBuffer>();

  constructor(device: GPUDevice, label: string, capacity = 64) {
    this.#device = device;
    this.#label = label;
    this.#capacity = capacity;
  }

  /** A uniform buffer holding `words` (32-bit words: u32, or f32 bit patterns written through a Float32Array view). */
  get(words: Uint32Array): GPUBuffer {
    const key = words.join(',');
    const cached = this.#buffers.get(key);
    if (cached) return cached;
    const buffer = this.#device.createBuffer({
      label: `${this.#label}#${this.#buffers.size}`,
      // Uniform structs are 16-byte aligned in WGSL.
      size: Math.max(16, Math.ceil(words.byteLength / 16) * 16),
      usage: GPUBufferUsage.UNIFORM,
      mappedAtCreation: true,
    });
    new Uint32Array(buffer.getMappedRange()).set(words);
    buffer.unmap();
    if (this.#buffers.size >= this.#capacity) {
      const oldest = this.#buffers.keys().next().value as string;
      this.#buffers.delete(oldest);
    }
    this.#buffers.set(key, buffer);
    return buffer;
  }

  destroy(): void {
    for (const buffer of this.#buffers.values()) buffer.destroy();
    this.#buffers.clear();
  }
}

/** Dispatch size for `workgroups` workgroups laid out along x, folding into y past maxComputeWorkgroupsPerDimension. */
export function foldWorkgroups(device: GPUDevice, workgroups: number): [number, number] {
  const maxPerDimension = device.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups <= maxPerDimension) return [workgroups, 1];
  const rowsOfWorkgroups = Math.ceil(workgroups / maxPerDimension);
  return [Math.ceil(workgroups / rowsOfWorkgroups), rowsOfWorkgroups];
}
