/**
 * References for NormalizePass in float64: torch's LayerNorm over each frame and GroupNorm(C, C) over each channel,
 * on frames x channels data (biased variance, eps inside the square root).
 */
import { activateCpu, type ActivationCpu } from './gelu.cpu.ts';

function normalizeGroups(
  input: ArrayLike<number>,
  output: Float64Array,
  groups: number,
  groupStride: number,
  count: number,
  elementStride: number,
  eps: number,
  affine: (group: number, element: number, value: number) => number,
  activation: ActivationCpu,
): void {
  for (let group = 0; group < groups; group++) {
    let mean = 0;
    for (let e = 0; e < count; e++) mean += input[group * groupStride + e * elementStride];
    mean /= count;
    let variance = 0;
    for (let e = 0; e < count; e++) variance += (input[group * groupStride + e * elementStride] - mean) ** 2;
    variance /= count;
    const scale = 1 / Math.sqrt(variance + eps);
    for (let e = 0; e < count; e++) {
      const index = group * groupStride + e * elementStride;
      output[index] = activateCpu(affine(group, e, (input[index] - mean) * scale), activation);
    }
  }
}

export function layerNormCpu(
  input: ArrayLike<number>,
  frames: number,
  channels: number,
  gamma: ArrayLike<number> | undefined,
  beta: ArrayLike<number> | undefined,
  eps: number,
  activation: ActivationCpu = 'none',
): Float64Array {
  const output = new Float64Array(frames * channels);
  const affine = (_group: number, e: number, value: number) => (gamma && beta ? value * gamma[e] + beta[e] : value);
  normalizeGroups(input, output, frames, channels, channels, 1, eps, affine, activation);
  return output;
}

export function channelNormCpu(
  input: ArrayLike<number>,
  frames: number,
  channels: number,
  gamma: ArrayLike<number> | undefined,
  beta: ArrayLike<number> | undefined,
  eps: number,
  activation: ActivationCpu = 'none',
): Float64Array {
  const output = new Float64Array(frames * channels);
  const affine = (group: number, _e: number, value: number) => (gamma && beta ? value * gamma[group] + beta[group] : value);
  normalizeGroups(input, output, channels, 1, frames, channels, eps, affine, activation);
  return output;
}
