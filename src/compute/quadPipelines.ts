/**
 * The two pipeline sets of a kernel that reads runs of neighbouring values either four at a time
 * (shaders/compute/quadLoads.wgsl: one 16-byte load per thread) or one at a time (singleLoads.wgsl). Quads need
 * float32 storage, a binding of at least 16 bytes, and whatever alignment the kernel asks of its maps; the pass
 * says when to use them. Used by min/max, histogram and head mean.
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { StorageFormat } from '../gpu/storageFormat.ts';
import { KernelPipelines } from './kernelPipelines.ts';

/** The file that a kernel's list names where quadLoads.wgsl or singleLoads.wgsl goes. */
export const QUAD_LOADS_SHADER = 'compute/quadLoads.wgsl';
const SINGLE_LOADS_SHADER = 'compute/singleLoads.wgsl';
/** Binding of `attentionQuads` (quadLoads.wgsl). */
const QUADS_BINDING = 4;

/** A kernel's pipelines with quad loads and with single loads, per storage format. */
export class QuadPipelines {
  readonly #quads: KernelPipelines;
  readonly #singles: KernelPipelines;

  /** `paths` as for KernelPipelines, with QUAD_LOADS_SHADER among them. */
  constructor(device: GPUDevice, shaders: ShaderSources, label: string, paths: string[], constants: Record<string, number>) {
    if (!paths.includes(QUAD_LOADS_SHADER)) throw new Error(`${label}: the shader list names no ${QUAD_LOADS_SHADER}`);
    this.#quads = new KernelPipelines(device, shaders, `${label}.quads`, paths, { constants });
    const singles = paths.map((path) => (path === QUAD_LOADS_SHADER ? SINGLE_LOADS_SHADER : path));
    this.#singles = new KernelPipelines(device, shaders, `${label}.singles`, singles, { constants });
  }

  /** Compiles the pipelines for `format`; await it once before select() with that format. */
  async ready(format: StorageFormat): Promise<void> {
    await Promise.all(format === 'float32' ? [this.#quads.ready(format), this.#singles.ready(format)] : [this.#singles.ready(format)]);
  }

  /**
   * The pipeline for a map bound as `binding`, and the bind group entries for it: `attention` and, with quad loads,
   * `attentionQuads` over the same bytes (whole quads only). Quads when the format is float32, the binding holds one
   * and the kernel's own condition `quadsAligned` holds.
   */
  select(format: StorageFormat, binding: GPUBufferBinding, quadsAligned = true): { pipeline: GPUComputePipeline; entries: GPUBindGroupEntry[] } {
    const quadBytes = Math.floor((binding.size ?? 0) / 16) * 16;
    if (format !== 'float32' || quadBytes === 0 || !quadsAligned) {
      return { pipeline: this.#singles.get(format), entries: [{ binding: 0, resource: binding }] };
    }
    return {
      pipeline: this.#quads.get(format),
      entries: [
        { binding: 0, resource: binding },
        { binding: QUADS_BINDING, resource: { buffer: binding.buffer, offset: binding.offset, size: quadBytes } },
      ],
    };
  }
}
