/**
 * Reference for HeadMeanPass, written for clarity: each map through softmaxCpu, then the mean in float64 with
 * IEEE 754 arithmetic (NaN propagates, +inf + -inf = NaN).
 */
import { softmaxCpu } from './softmax.cpu.ts';
import type { Crop, SoftmaxScope } from './region.ts';

/**
 * Mean over `heads` of a layer's maps (layer: heads x rows x cols, row-major), each cropped and softmaxed over
 * `scope` first. Precondition: heads is non-empty.
 */
export function headMeanCpu(
  layer: Float32Array,
  heads: readonly number[],
  rows: number,
  cols: number,
  crop: Crop,
  scope: SoftmaxScope,
): Float64Array {
  const mapSize = rows * cols;
  let sum: Float64Array | undefined;
  for (const head of heads) {
    const map = softmaxCpu(layer.subarray(head * mapSize, (head + 1) * mapSize), rows, cols, crop, scope);
    if (!sum) sum = new Float64Array(map.length);
    for (let index = 0; index < map.length; index++) sum[index] += map[index];
  }
  if (!sum) throw new RangeError('headMeanCpu: no heads');
  for (let index = 0; index < sum.length; index++) sum[index] /= heads.length;
  return sum;
}
