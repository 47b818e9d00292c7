/**
 * ElementwisePass: output = activation(input * scale + addend), the addend repeating with a period (Whisper's
 * embed_positions added to every frame), or just a GELU (shaders/model/elementwise.wgsl; CPU reference in
 * elementwise.cpu.ts).
 */
import type { ShaderSources } from '../../gpu/pipeline.ts';
import { ACTIVATION_CODE, checkElements, checkWords, float32Word, ModelKernel, type Activation } from './modelKernel.ts';

export interface ElementwiseJob {
  readonly input: GPUBuffer;
  readonly count: number;
  readonly scale?: number;
  /** Value i gets addend[offset + i % period] added (after scaling). */
  readonly addend?: { readonly buffer: GPUBuffer; readonly offset?: number; readonly period: number };
  readonly activation?: Activation;
  /** Must not be `input`. */
  readonly output: GPUBuffer;
}

export class ElementwisePass {
  readonly #kernel: ModelKernel;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#kernel = new ModelKernel(device, shaders, 'ElementwisePass', 'model/elementwise.wgsl');
  }

  ready(): Promise<void> {
    return this.#kernel.ready();
  }

  encode(encoder: GPUCommandEncoder, job: ElementwiseJob): void {
    const words = {
      count: job.count,
      hasAddend: job.addend ? 1 : 0,
      addendOffset: job.addend?.offset ?? 0,
      addendPeriod: job.addend?.period ?? 1,
      activation: ACTIVATION_CODE[job.activation ?? 'none'],
    };
    checkWords('ElementwisePass', words);
    if (job.addend && job.addend.period < 1) throw new RangeError('ElementwisePass: the addend period must be at least 1');
    if (job.input === job.output) throw new RangeError('ElementwisePass: input and output must be different buffers');
    checkElements('ElementwisePass', 'input', job.input, job.count);
    checkElements('ElementwisePass', 'output', job.output, job.count);
    if (job.addend) checkElements('ElementwisePass', 'addend', job.addend.buffer, words.addendOffset + Math.min(job.addend.period, job.count));
    this.#kernel.dispatch(
      encoder,
      [job.input, job.addend?.buffer ?? this.#kernel.placeholder, job.output],
      new Uint32Array([...Object.values(words), float32Word(job.scale ?? 1)]),
      [Math.ceil(job.count / 256), 1, 1],
    );
  }

  destroy(): void {
    this.#kernel.destroy();
  }
}
