/** Reference for ElementwisePass in float64. */
import { activateCpu, type ActivationCpu } from './gelu.cpu.ts';

export function elementwiseCpu(
  input: ArrayLike<number>,
  scale = 1,
  addend?: { readonly data: ArrayLike<number>; readonly offset?: number; readonly period: number },
  activation: ActivationCpu = 'none',
): Float64Array {
  const output = new Float64Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const added = addend ? addend.data[(addend.offset ?? 0) + (i % addend.period)] : 0;
    output[i] = activateCpu(input[i] * scale + added, activation);
  }
  return output;
}
