/**
 * SoftmaxRowsPass: in-place softmax over each row, the attention probabilities inside the encoder
 * (shaders/model/softmaxRows.wgsl; CPU reference in softmaxRows.cpu.ts).
 */
import type { ShaderSources } from '../../gpu/pipeline.ts';
import { checkElements, checkWords, ModelKernel } from './modelKernel.ts';

export interface SoftmaxRowsJob {
  readonly values: GPUBuffer;
  readonly offset?: number;
  readonly rows: number;
  readonly cols: number;
}

export class SoftmaxRowsPass {
  readonly #kernel: ModelKernel;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#kernel = new ModelKernel(device, shaders, 'SoftmaxRowsPass', 'model/softmaxRows.wgsl');
  }

  ready(): Promise<void> {
    return this.#kernel.ready();
  }

  encode(encoder: GPUCommandEncoder, job: SoftmaxRowsJob): void {
    const words = { rows: job.rows, cols: job.cols, offset: job.offset ?? 0 };
    checkWords('SoftmaxRowsPass', words);
    checkElements('SoftmaxRowsPass', 'values', job.values, words.offset + job.rows * job.cols);
    this.#kernel.dispatch(encoder, [job.values], new Uint32Array(Object.values(words)), [job.rows, 1, 1]);
  }

  destroy(): void {
    this.#kernel.destroy();
  }
}
