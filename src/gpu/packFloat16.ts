/**
 * float32 values -> float16 storage on the GPU (shaders/compute/packFloat16.wgsl), the one packing kernel: an upload
 * (packFloat16OnGpu) writes the values as they were read into a staging buffer and the kernel narrows them into the
 * chunk's buffer; values already on the GPU (a model's scores, src/model) are narrowed by PackFloat16Pass.encode. Narrowing in JS
 * (packFloat16Pairs) ran at about 200 MB/s and held the upload of a float16 engine back; on the GPU it is one more
 * read and write of the layer at memory speed. Bit for bit the same words as packFloat16Pairs.
 *
 * Large chunks go through in slices, so the staging buffer stays small and within the binding limits; the queue
 * keeps each slice's write, dispatch and the next write in order.
 */
import { createComputePipelineFromFiles, type ShaderSources } from './pipeline.ts';
import { countDispatch, submitCounted } from './workCounters.ts';

const KERNEL = 'compute/packFloat16.wgsl';
const WORKGROUP_SIZE = 256;
/** Values per slice at most: 64 MiB of float32 staging (an even number, so slices start on whole words). */
const MAX_SLICE_VALUES = 16 * 1024 * 1024;

const pipelines = new WeakMap<GPUDevice, Promise<GPUComputePipeline>>();
/** Distinct parameter blocks a pass keeps (a model writes chunks of a few sizes). */
const PARAMS_KEPT = 16;

function pipelineFor(device: GPUDevice, shaders: ShaderSources): Promise<GPUComputePipeline> {
  let pipeline = pipelines.get(device);
  if (!pipeline) {
    pipeline = createComputePipelineFromFiles(device, shaders, 'PackFloat16.pipeline', ['common/float16Bits.wgsl', KERNEL], { WorkgroupSize: WORKGROUP_SIZE });
    pipeline.catch(() => pipelines.delete(device));
    pipelines.set(device, pipeline);
  }
  return pipeline;
}

/**
 * Writes `values` as float16 pairs into `target` from byte 0 (at least ceil(values.length / 2) * 4 bytes, STORAGE).
 * Submits its own command buffers; resolves once they are submitted (not done: later commands are ordered after).
 * `maxSliceValues` (at least 512) bounds the staging buffer; tests make it small to run several slices.
 */
export async function packFloat16OnGpu(
  device: GPUDevice,
  shaders: ShaderSources,
  values: Float32Array,
  target: GPUBuffer,
  maxSliceValues = MAX_SLICE_VALUES,
): Promise<void> {
  const pipeline = await pipelineFor(device, shaders);
  const bindingLimit = Math.min(maxSliceValues, Math.floor(device.limits.maxStorageBufferBindingSize / 8) * 2);
  // Slices after the first start at a multiple of 512 values: 1 KiB of output, a legal storage binding offset.
  const whole = values.length + (values.length % 2);
  const sliceValues = whole <= Math.min(MAX_SLICE_VALUES, bindingLimit) ? Math.max(2, whole) : Math.floor(Math.min(MAX_SLICE_VALUES, bindingLimit) / 512) * 512;
  const staging = device.createBuffer({ label: 'PackFloat16.staging', size: sliceValues * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const params = device.createBuffer({ label: 'PackFloat16.params', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  try {
    for (let first = 0; first < values.length; first += sliceValues) {
      const count = Math.min(sliceValues, values.length - first);
      const pairs = Math.ceil(count / 2);
      device.queue.writeBuffer(staging, 0, values.buffer, values.byteOffset + first * 4, count * 4);
      device.queue.writeBuffer(params, 0, new Uint32Array([pairs, count, 0, 0]));  // offsets: the bindings carry them
      const encoder = device.createCommandEncoder({ label: 'PackFloat16.encoder' });
      const pass = encoder.beginComputePass({ label: 'PackFloat16.computePass' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          label: 'PackFloat16.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: staging, size: count * 4 + (count % 2) * 4 } },
            { binding: 1, resource: { buffer: params } },
            { binding: 2, resource: { buffer: target, offset: (first / 2) * 4, size: pairs * 4 } },
          ],
        }),
      );
      const workgroups = Math.ceil(pairs / WORKGROUP_SIZE);
      const x = Math.min(workgroups, device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(x, Math.ceil(workgroups / x));
      pass.end();
      countDispatch(device, count * 4 + pairs * 4);
      submitCounted(device, [encoder.finish()]);
    }
  } finally {
    // Safe right after the submits: WebGPU keeps what submitted work uses alive.
    staging.destroy();
    params.destroy();
  }
}

/** Values on the GPU to narrow: `count` f32 values of `input` from value `inputOffset` into `output` from word `outputOffset`. */
export interface PackFloat16Job {
  readonly input: GPUBuffer;
  readonly inputOffset?: number;
  readonly count: number;
  readonly output: GPUBuffer;
  /** In 32-bit words. */
  readonly outputOffset?: number;
}

/** The packing kernel recorded into a caller's command encoder, for f32 values already on the GPU. */
export class PackFloat16Pass {
  readonly #device: GPUDevice;
  readonly #pipeline: GPUComputePipeline;
  readonly #params = new Map<string, GPUBuffer>();
  #destroyed = false;

  private constructor(device: GPUDevice, pipeline: GPUComputePipeline) {
    this.#device = device;
    this.#pipeline = pipeline;
  }

  static async create(device: GPUDevice, shaders: ShaderSources): Promise<PackFloat16Pass> {
    return new PackFloat16Pass(device, await pipelineFor(device, shaders));
  }

  get device(): GPUDevice {
    return this.#device;
  }

  /** Records the narrowing of job.count values; bit for bit packFloat16Pairs of them. */
  encode(encoder: GPUCommandEncoder, job: PackFloat16Job): void {
    if (this.#destroyed) throw new Error('PackFloat16Pass: used after destroy()');
    const inputOffset = job.inputOffset ?? 0;
    const outputOffset = job.outputOffset ?? 0;
    for (const [name, value] of Object.entries({ count: job.count, inputOffset, outputOffset })) {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`PackFloat16Pass: ${name} must be a non-negative integer, got ${value}`);
    }
    const pairs = Math.ceil(job.count / 2);
    if ((inputOffset + job.count) * 4 > job.input.size) throw new RangeError(`PackFloat16Pass: input needs ${inputOffset + job.count} values, ${job.input.label || 'the buffer'} has ${job.input.size} bytes`);
    if ((outputOffset + pairs) * 4 > job.output.size) throw new RangeError(`PackFloat16Pass: output needs ${outputOffset + pairs} words, ${job.output.label || 'the buffer'} has ${job.output.size} bytes`);
    if (pairs === 0) return;
    const device = this.#device;
    const pass = encoder.beginComputePass({ label: 'PackFloat16Pass.computePass' });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        label: 'PackFloat16Pass.bindGroup',
        layout: this.#pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: job.input } },
          { binding: 1, resource: { buffer: this.#paramsFor([pairs, job.count, inputOffset, outputOffset]) } },
          { binding: 2, resource: { buffer: job.output } },
        ],
      }),
    );
    const workgroups = Math.ceil(pairs / WORKGROUP_SIZE);
    const x = Math.min(workgroups, device.limits.maxComputeWorkgroupsPerDimension);
    pass.dispatchWorkgroups(x, Math.ceil(workgroups / x));
    pass.end();
    countDispatch(device, job.count * 4 + pairs * 4);
  }

  /** A uniform block holding `words`, kept for reuse (a dropped one is left to the garbage collector, not destroyed:
   * an encoder not yet submitted may still use it). */
  #paramsFor(words: number[]): GPUBuffer {
    const key = words.join(',');
    let buffer = this.#params.get(key);
    if (buffer) return buffer;
    buffer = this.#device.createBuffer({ label: 'PackFloat16Pass.params', size: 16, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
    new Uint32Array(buffer.getMappedRange()).set(words);
    buffer.unmap();
    if (this.#params.size >= PARAMS_KEPT) this.#params.delete(this.#params.keys().next().value as string);
    this.#params.set(key, buffer);
    return buffer;
  }

  destroy(): void {
    this.#destroyed = true;
    for (const buffer of this.#params.values()) buffer.destroy();
    this.#params.clear();
  }
}
