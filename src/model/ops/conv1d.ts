/**
 * Conv1dPass: torch's F.conv1d with kernel, stride, padding and groups, an optional bias, GELU and residual add,
 * reading and writing either channels-first or frames-first layouts (shaders/model/conv1d.wgsl; CPU reference in
 * conv1d.cpu.ts).
 */
import type { ShaderSources } from '../../gpu/pipeline.ts';
import { ACTIVATION_CODE, checkElements, checkWords, ModelKernel, type Activation } from './modelKernel.ts';

/** Where value (channel, time) lives: channelsFirst [C][T] or framesFirst [T][C]. */
export type SequenceLayout = 'channelsFirst' | 'framesFirst';

export interface Conv1dJob {
  readonly input: GPUBuffer;
  readonly inputLayout: SequenceLayout;
  readonly inChannels: number;
  readonly inLength: number;
  /** outChannels x (inChannels / groups) x kernelSize, torch's layout. */
  readonly weight: GPUBuffer;
  readonly bias?: GPUBuffer;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride?: number;
  readonly padding?: number;
  readonly groups?: number;
  /** Frames to write; by default torch's floor((inLength + 2 padding - kernelSize) / stride) + 1. Fewer drops the last. */
  readonly outLength?: number;
  readonly output: GPUBuffer;
  readonly outputLayout: SequenceLayout;
  readonly activation?: Activation;
  readonly accumulate?: boolean;
}

/** torch's output length of a conv1d: floor((length + 2 padding - kernel) / stride) + 1. */
export function conv1dOutputLength(inLength: number, kernelSize: number, stride = 1, padding = 0): number {
  return Math.floor((inLength + 2 * padding - kernelSize) / stride) + 1;
}

function strides(layout: SequenceLayout, channels: number, length: number): [channelStride: number, timeStride: number] {
  return layout === 'channelsFirst' ? [length, 1] : [1, channels];
}

export class Conv1dPass {
  readonly #kernel: ModelKernel;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#kernel = new ModelKernel(device, shaders, 'Conv1dPass', 'model/conv1d.wgsl');
  }

  ready(): Promise<void> {
    return this.#kernel.ready();
  }

  encode(encoder: GPUCommandEncoder, job: Conv1dJob): void {
    const stride = job.stride ?? 1;
    const padding = job.padding ?? 0;
    const groups = job.groups ?? 1;
    const fullLength = conv1dOutputLength(job.inLength, job.kernelSize, stride, padding);
    const outLength = job.outLength ?? fullLength;
    if (outLength < 1 || outLength > fullLength) {
      throw new RangeError(`Conv1dPass: ${job.inLength} frames with kernel ${job.kernelSize}, stride ${stride}, padding ${padding} give ${fullLength} outputs; ${outLength} asked`);
    }
    if (job.inChannels % groups !== 0 || job.outChannels % groups !== 0) {
      throw new RangeError(`Conv1dPass: ${job.inChannels} -> ${job.outChannels} channels do not split into ${groups} groups`);
    }
    const [inChannelStride, inTimeStride] = strides(job.inputLayout, job.inChannels, job.inLength);
    const [outChannelStride, outTimeStride] = strides(job.outputLayout, job.outChannels, outLength);
    const words = {
      inChannels: job.inChannels,
      outChannels: job.outChannels,
      inLength: job.inLength,
      outLength,
      kernelSize: job.kernelSize,
      stride,
      padding,
      groups,
      inChannelStride,
      inTimeStride,
      outChannelStride,
      outTimeStride,
      hasBias: job.bias ? 1 : 0,
      activation: ACTIVATION_CODE[job.activation ?? 'none'],
      accumulate: job.accumulate ? 1 : 0,
    };
    checkWords('Conv1dPass', words);
    checkElements('Conv1dPass', 'input', job.input, job.inChannels * job.inLength);
    checkElements('Conv1dPass', 'weight', job.weight, (job.outChannels * job.inChannels * job.kernelSize) / groups);
    checkElements('Conv1dPass', 'output', job.output, job.outChannels * outLength);
    if (job.bias) checkElements('Conv1dPass', 'bias', job.bias, job.outChannels);
    this.#kernel.dispatch(
      encoder,
      [job.input, job.weight, job.bias ?? this.#kernel.placeholder, job.output],
      new Uint32Array(Object.values(words)),
      [Math.ceil(outLength / 64), job.outChannels, 1],
    );
  }

  destroy(): void {
    this.#kernel.destroy();
  }
}
