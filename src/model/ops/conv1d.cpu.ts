/**
 * Reference for Conv1dPass in float64: torch's F.conv1d on channels-first [C][T] data, with bias and activation.
 */
import { activateCpu, type ActivationCpu } from './gelu.cpu.ts';

export interface Conv1dCpuJob {
  /** inChannels x inLength, channels first. */
  readonly input: ArrayLike<number>;
  readonly inChannels: number;
  readonly inLength: number;
  readonly weight: ArrayLike<number>;
  readonly bias?: ArrayLike<number>;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride?: number;
  readonly padding?: number;
  readonly groups?: number;
  readonly outLength?: number;
  readonly activation?: ActivationCpu;
}

/** outChannels x outLength, channels first. */
export function conv1dCpu(job: Conv1dCpuJob): Float64Array {
  const stride = job.stride ?? 1;
  const padding = job.padding ?? 0;
  const groups = job.groups ?? 1;
  const outLength = job.outLength ?? Math.floor((job.inLength + 2 * padding - job.kernelSize) / stride) + 1;
  const inPerGroup = job.inChannels / groups;
  const outPerGroup = job.outChannels / groups;
  const output = new Float64Array(job.outChannels * outLength);
  for (let out = 0; out < job.outChannels; out++) {
    const group = Math.floor(out / outPerGroup);
    for (let time = 0; time < outLength; time++) {
      let sum = job.bias ? job.bias[out] : 0;
      for (let channel = 0; channel < inPerGroup; channel++) {
        for (let tap = 0; tap < job.kernelSize; tap++) {
          const at = time * stride + tap - padding;
          if (at < 0 || at >= job.inLength) continue;
          sum += job.weight[(out * inPerGroup + channel) * job.kernelSize + tap] * job.input[(group * inPerGroup + channel) * job.inLength + at];
        }
      }
      output[out * outLength + time] = activateCpu(sum, job.activation ?? 'none');
    }
  }
  return output;
}

/** rows x cols -> cols x rows. */
export function transposeCpu(values: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const output = new Float64Array(rows * cols);
  for (let row = 0; row < rows; row++) for (let col = 0; col < cols; col++) output[col * rows + row] = values[row * cols + col];
  return output;
}
