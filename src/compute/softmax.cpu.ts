/**
 * Reference for SoftmaxPass, written for clarity: plain loops in float64, torch's rules for non-finite values.
 */
import { checkCrop, normalisedColumns, type Crop, type SoftmaxScope } from './region.ts';

/**
 * The crop of a rows x cols map (row-major), softmaxed over `scope`'s columns unless scope is 'none'.
 * Row softmax: m = max of the finite values, p = exp(x - m) / sum(exp(x - m)); a NaN or +inf in the normalised
 * columns makes the row NaN, -inf gets 0, a row without finite values is NaN (what torch.softmax gives).
 */
export function softmaxCpu(map: Float32Array, rows: number, cols: number, crop: Crop, scope: SoftmaxScope): Float64Array {
  checkCrop('softmaxCpu', crop, rows, cols);
  const outCols = crop.colEnd - crop.colStart;
  const output = new Float64Array((crop.rowEnd - crop.rowStart) * outCols);
  const [normStart, normEnd] = normalisedColumns(scope, crop, cols);
  for (let row = crop.rowStart; row < crop.rowEnd; row++) {
    const rowBase = row * cols;
    const outBase = (row - crop.rowStart) * outCols;
    if (scope === 'none') {
      for (let col = crop.colStart; col < crop.colEnd; col++) output[outBase + col - crop.colStart] = map[rowBase + col];
      continue;
    }
    let rowIsNaN = false;
    let maxValue = -Infinity;
    for (let col = normStart; col < normEnd; col++) {
      const value = map[rowBase + col];
      if (Number.isNaN(value) || value === Infinity) rowIsNaN = true;
      else if (value > maxValue) maxValue = value;
    }
    if (maxValue === -Infinity) rowIsNaN = true;
    let sum = 0;
    for (let col = normStart; col < normEnd; col++) {
      const value = map[rowBase + col];
      if (Number.isFinite(value)) sum += Math.exp(value - maxValue);
    }
    for (let col = crop.colStart; col < crop.colEnd; col++) {
      const value = map[rowBase + col];
      output[outBase + col - crop.colStart] = rowIsNaN ? NaN : value === -Infinity ? 0 : Math.exp(value - maxValue) / sum;
    }
  }
  return output;
}
