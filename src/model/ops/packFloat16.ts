/**
 * PackFloat16Pass: f32 values -> the engine's float16 storage words, on the GPU (shaders/model/packFloat16.wgsl).
 * The reference is packFloat16Pairs in src/data/float16.ts, the packing every CPU upload uses.
 */
import type { ShaderSources } from '../../gpu/pipeline.ts';
import { checkElements, checkWords, ModelKernel } from './modelKernel.ts';

export interface PackFloat16Job {
  readonly input: GPUBuffer;
  readonly inputOffset?: number;
  readonly count: number;
  readonly output: GPUBuffer;
  /** In 32-bit words. */
  readonly outputOffset?: number;
}

export class PackFloat16Pass {
  readonly #kernel: ModelKernel;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#kernel = new ModelKernel(device, shaders, 'PackFloat16Pass', 'model/packFloat16.wgsl');
  }

  ready(): Promise<void> {
    return this.#kernel.ready();
  }

  encode(encoder: GPUCommandEncoder, job: PackFloat16Job): void {
    const words = { count: job.count, inputOffset: job.inputOffset ?? 0, outputOffset: job.outputOffset ?? 0 };
    checkWords('PackFloat16Pass', words);
    const outputWords = Math.ceil(job.count / 2);
    checkElements('PackFloat16Pass', 'input', job.input, words.inputOffset + job.count);
    checkElements('PackFloat16Pass', 'output', job.output, words.outputOffset + outputWords);
    this.#kernel.dispatch(encoder, [job.input, job.output], new Uint32Array(Object.values(words)), [Math.ceil(outputWords / 256), 1, 1]);
  }

  destroy(): void {
    this.#kernel.destroy();
  }
}
