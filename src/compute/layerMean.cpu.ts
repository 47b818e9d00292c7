/**
 * Reference for LayerMeanPass, written for clarity: the float64 mean over layers of headMeanCpu.
 */
import { headMeanCpu } from './headMean.cpu.ts';
import type { Crop, SoftmaxScope } from './region.ts';

/**
 * Mean over `layers` (each heads x rows x cols, row-major) of the mean over `heads` (one head: [head]), each map
 * cropped and softmaxed over `scope` first. Preconditions: layers and heads are non-empty.
 */
export function layerMeanCpu(
  layers: readonly Float32Array[],
  heads: readonly number[],
  rows: number,
  cols: number,
  crop: Crop,
  scope: SoftmaxScope,
): Float64Array {
  let sum: Float64Array | undefined;
  for (const layer of layers) {
    const mean = headMeanCpu(layer, heads, rows, cols, crop, scope);
    if (!sum) sum = new Float64Array(mean.length);
    for (let index = 0; index < mean.length; index++) sum[index] += mean[index];
  }
  if (!sum) throw new RangeError('layerMeanCpu: no layers');
  for (let index = 0; index < sum.length; index++) sum[index] /= layers.length;
  return sum;
}
