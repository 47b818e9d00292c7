/**
 * How attention values are laid out in GPU storage buffers.
 * 'float32': one f32 per u32 word. 'float16': two f16 per u32 word (low half first), half the memory,
 * about 1e-3 relative precision. Kernels read either through loadAttention() (shaders/common/load*.wgsl).
 */
export type StorageFormat = 'float32' | 'float16';

/** Shader file that defines `attention` (binding 0 of group 0) and loadAttention() for a format. */
export const LOAD_PREFIX: Record<StorageFormat, string> = {
  float32: 'common/loadFloat32.wgsl',
  float16: 'common/loadFloat16Packed.wgsl',
};

/** Bytes needed to store `elements` values, rounded up to whole 4-byte words (WebGPU buffers are 4-byte aligned). */
export function storageBytes(format: StorageFormat, elements: number): number {
  return format === 'float32' ? elements * 4 : Math.ceil(elements / 2) * 4;
}

/**
 * A span of attention values on the GPU: `buffer` holds values in `format`, starting at element `elementOffset`.
 * Kernels take their input as an AttentionView so a map can be one head inside a whole-layer buffer.
 */
export interface AttentionView {
  readonly buffer: GPUBuffer;
  readonly format: StorageFormat;
  /** Index of the first value, in elements (not bytes): an odd offset is fine for float16. */
  readonly elementOffset: number;
}
