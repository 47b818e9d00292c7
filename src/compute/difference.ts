/**
 * DifferencePass: minuend - subtrahend, value by value, for two maps of the same size: head vs head, layer vs
 * layer, tensor vs tensor (shaders/compute/difference.wgsl; CPU reference in difference.cpu.ts).
 *
 * Non-finite values follow IEEE 754: NaN in either map gives NaN, inf - inf (same sign) gives NaN, otherwise an
 * infinity wins. The kernel decides this from the bits, so it holds whatever the shader compiler assumes.
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import { KernelPipelines } from './kernelPipelines.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { bindAttentionView, checkOutputSize, foldWorkgroups, PassDestroyedError, UniformCache } from './passSupport.ts';

/** WGSL files after the load prefix, in order. */
export const DIFFERENCE_SHADERS = ['common/finite.wgsl', 'compute/difference.wgsl'];

const WORKGROUP_SIZE = 256;

/** What DifferencePass.encode computes. */
export interface DifferenceJob {
  /** `count` values from minuend.elementOffset (stored attention or an f32 intermediate). */
  readonly minuend: AttentionView;
  /** `count` f32 values from element 0. */
  readonly subtrahend: GPUBuffer;
  readonly count: number;
  /** Receives `count` f32 values; must not be one of the inputs. */
  readonly output: GPUBuffer;
}

/** Records the difference of two maps into an f32 buffer. */
export class DifferencePass {
  readonly #device: GPUDevice;
  readonly #pipelines: KernelPipelines;
  readonly #uniforms: UniformCache;
  #destroyed = false;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#device = device;
    this.#pipelines = new KernelPipelines(device, shaders, 'DifferencePass.pipeline', DIFFERENCE_SHADERS, {
      constants: { WorkgroupSize: WORKGROUP_SIZE },
    });
    this.#uniforms = new UniformCache(device, 'DifferencePass.params');
  }

  /** Compiles the pipeline for `format`; await it once before encode() with that format. */
  async ready(format: StorageFormat): Promise<void> {
    await this.#pipelines.ready(format);
  }

  /** Records the pass into `encoder` (no submit). Precondition: ready(job.minuend.format) resolved. */
  encode(encoder: GPUCommandEncoder, job: DifferenceJob): void {
    if (this.#destroyed) throw new PassDestroyedError('DifferencePass');
    checkOutputSize('DifferencePass', 'subtrahend', job.subtrahend, job.count * 4);
    checkOutputSize('DifferencePass', 'output', job.output, job.count * 4);
    const binding = bindAttentionView(this.#device, job.minuend, job.count, 'DifferencePass');
    const pipeline = this.#pipelines.get(job.minuend.format);
    const words = new Uint32Array([
      binding.elementOffset, // minuendOffset
      0, // subtrahendOffset
      job.count, // count
    ]);
    const pass = encoder.beginComputePass({ label: 'DifferencePass.computePass' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'DifferencePass.bindGroup',
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: binding.resource },
          { binding: 1, resource: { buffer: this.#uniforms.get(words) } },
          { binding: 2, resource: { buffer: job.subtrahend, size: job.count * 4 } },
          { binding: 3, resource: { buffer: job.output, size: job.count * 4 } },
        ],
      }),
    );
    pass.dispatchWorkgroups(...foldWorkgroups(this.#device, Math.ceil(job.count / WORKGROUP_SIZE)));
    countDispatch(this.#device, storageBytes(job.minuend.format, job.count) + 2 * job.count * 4);
    pass.end();
  }

  /** Frees the pass's uniform buffers. Safe to call twice; encode() afterwards throws. */
  destroy(): void {
    this.#destroyed = true;
    this.#uniforms.destroy();
  }
}
