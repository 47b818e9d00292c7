/**
 * NormalizePass: layer norm (each frame over its features) and wav2vec 2.0's group norm (each channel over time),
 * both on frames-first data, with an optional GELU (shaders/model/normalize.wgsl; CPU reference in
 * normalize.cpu.ts).
 */
import type { ShaderSources } from '../../gpu/pipeline.ts';
import { ACTIVATION_CODE, checkElements, checkWords, float32Word, ModelKernel, type Activation } from './modelKernel.ts';

export interface NormalizeJob {
  /** frames x channels, frames first. */
  readonly input: GPUBuffer;
  readonly frames: number;
  readonly channels: number;
  readonly gamma?: GPUBuffer;
  readonly beta?: GPUBuffer;
  readonly eps: number;
  readonly output: GPUBuffer;
  readonly activation?: Activation;
}

/** AFFINE_* in normalize.wgsl. */
const AFFINE = { none: 0, perElement: 1, perGroup: 2 } as const;

export class NormalizePass {
  readonly #kernel: ModelKernel;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#kernel = new ModelKernel(device, shaders, 'NormalizePass', 'model/normalize.wgsl');
  }

  ready(): Promise<void> {
    return this.#kernel.ready();
  }

  /** torch's nn.LayerNorm(channels) on each frame. */
  encodeLayerNorm(encoder: GPUCommandEncoder, job: NormalizeJob): void {
    this.#encode(encoder, job, job.frames, job.channels, job.channels, 1, 'perElement');
  }

  /** torch's nn.GroupNorm(channels, channels): each channel normalised over all frames. */
  encodeChannelNorm(encoder: GPUCommandEncoder, job: NormalizeJob): void {
    this.#encode(encoder, job, job.channels, 1, job.frames, job.channels, 'perGroup');
  }

  #encode(
    encoder: GPUCommandEncoder,
    job: NormalizeJob,
    groupCount: number,
    groupStride: number,
    elementCount: number,
    elementStride: number,
    affine: 'perElement' | 'perGroup',
  ): void {
    if ((job.gamma === undefined) !== (job.beta === undefined)) throw new RangeError('NormalizePass: gamma and beta go together');
    const words = {
      groupCount,
      groupStride,
      elementCount,
      elementStride,
      affine: job.gamma ? AFFINE[affine] : AFFINE.none,
      activation: ACTIVATION_CODE[job.activation ?? 'none'],
    };
    checkWords('NormalizePass', words);
    if (job.input === job.output) throw new RangeError('NormalizePass: input and output must be different buffers');
    checkElements('NormalizePass', 'input', job.input, job.frames * job.channels);
    checkElements('NormalizePass', 'output', job.output, job.frames * job.channels);
    const affineLength = affine === 'perElement' ? elementCount : groupCount;
    if (job.gamma) checkElements('NormalizePass', 'gamma', job.gamma, affineLength);
    if (job.beta) checkElements('NormalizePass', 'beta', job.beta, affineLength);
    this.#kernel.dispatch(
      encoder,
      [job.input, job.gamma ?? this.#kernel.placeholder, job.beta ?? this.#kernel.placeholder, job.output],
      new Uint32Array([...Object.values(words), float32Word(job.eps)]),
      [groupCount, 1, 1],
    );
  }

  destroy(): void {
    this.#kernel.destroy();
  }
}
