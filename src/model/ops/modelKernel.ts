/**
 * What every model kernel pass shares: its pipeline (from shaders/model/*.wgsl after model/gelu.wgsl), parameter
 * blocks in uniform buffers, and a dispatch that binds whole buffers in binding order with the parameters last.
 * Offsets into those buffers travel as element counts in the parameters, so one buffer can hold many tensors.
 */
import { createComputePipelineFromFiles, type ShaderSources } from '../../gpu/pipeline.ts';
import { foldWorkgroups, PassDestroyedError, UniformCache } from '../../compute/passSupport.ts';

/**
 * The activation a kernel applies last; the values match ACTIVATION_* in shaders/model/gelu.wgsl. 'gelu' is the
 * exact erf form every supported model uses; 'gelu-tanh' exists so tests can show a wrong GELU would be caught.
 */
export type Activation = 'none' | 'gelu' | 'gelu-tanh';
export const ACTIVATION_CODE: Record<Activation, number> = { none: 0, gelu: 1, 'gelu-tanh': 2 };

/** One compute kernel of the model: compile once with ready(), then dispatch() inside an encoder. */
export class ModelKernel {
  readonly #device: GPUDevice;
  readonly #shaders: ShaderSources;
  readonly #label: string;
  readonly #paths: string[];
  readonly #uniforms: UniformCache;
  #pipeline: GPUComputePipeline | undefined;
  #pending: Promise<GPUComputePipeline> | undefined;
  #placeholder: GPUBuffer | undefined;
  #destroyed = false;

  /** `path` is the kernel's file under shaders/ ('model/matmul.wgsl'); model/gelu.wgsl is put before it. */
  constructor(device: GPUDevice, shaders: ShaderSources, label: string, path: string) {
    this.#device = device;
    this.#shaders = shaders;
    this.#label = label;
    this.#paths = ['model/gelu.wgsl', path];
    // A forward pass records hundreds of distinct parameter blocks before it is submitted.
    this.#uniforms = new UniformCache(device, `${label}.params`, 1024);
  }

  get device(): GPUDevice {
    return this.#device;
  }

  /** Compiles the pipeline (once); rejects with the compiler's messages. */
  async ready(): Promise<void> {
    this.#pending ??= createComputePipelineFromFiles(this.#device, this.#shaders, `${this.#label}.pipeline`, this.#paths);
    this.#pipeline = await this.#pending;
  }

  /** A 4-byte buffer to bind where an optional input (a bias) is absent. */
  get placeholder(): GPUBuffer {
    this.#placeholder ??= this.#device.createBuffer({ label: `${this.#label}.placeholder`, size: 16, usage: GPUBufferUsage.STORAGE });
    return this.#placeholder;
  }

  /**
   * Records one dispatch: `buffers` at bindings 0.., then a uniform holding `params` (u32 words; f32 fields as
   * bit patterns). `workgroups` is [x, y, z]; an x above the device's limit is folded into y (kernels that accept
   * that fold say so) when y is 1.
   */
  dispatch(encoder: GPUCommandEncoder, buffers: GPUBuffer[], params: Uint32Array, workgroups: [number, number, number]): void {
    if (this.#destroyed) throw new PassDestroyedError(this.#label);
    if (!this.#pipeline) throw new Error(`${this.#label}: await ready() before encoding`);
    const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    entries.push({ binding: buffers.length, resource: { buffer: this.#uniforms.get(params) } });
    const bindGroup = this.#device.createBindGroup({
      label: `${this.#label}.bindGroup`,
      layout: this.#pipeline.getBindGroupLayout(0),
      entries,
    });
    const [x, y, z] = workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const [foldedX, foldedY] = y === 1 ? foldWorkgroups(this.#device, x) : [x, y];
    const pass = encoder.beginComputePass({ label: `${this.#label}.computePass` });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(foldedX, foldedY, z);
    pass.end();
  }

  destroy(): void {
    this.#destroyed = true;
    this.#uniforms.destroy();
    this.#placeholder?.destroy();
  }
}

/** The u32 word holding the bits of f32 `value` (for f32 fields of a parameter block). */
export function float32Word(value: number): number {
  return new Uint32Array(new Float32Array([value]).buffer)[0];
}

/** Throws a RangeError unless every value is a non-negative integer below 2^32. */
export function checkWords(owner: string, fields: Record<string, number>): void {
  for (const [name, value] of Object.entries(fields)) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`${owner}: ${name} must be a non-negative integer, got ${value}`);
    }
  }
}

/** Throws a RangeError when `buffer` cannot hold `elements` f32 values. */
export function checkElements(owner: string, name: string, buffer: GPUBuffer, elements: number): void {
  if (elements * 4 > buffer.size) {
    throw new RangeError(`${owner}: ${name} needs ${elements} f32 values (${elements * 4} bytes), ${buffer.label || 'the buffer'} has ${buffer.size}`);
  }
}
