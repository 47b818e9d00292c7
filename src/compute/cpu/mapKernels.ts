/**
 * The map kernels of the host path (src/compute/cpu/hostKinds.ts), on Float32Arrays: the `.cpu.ts` references'
 * arithmetic (softmax.cpu.ts, headMean.cpu.ts, layerMean.cpu.ts, difference.cpu.ts, minMax.cpu.ts,
 * histogram.cpu.ts), tightened into single passes without per-value allocation or float64 output arrays, so that a
 * CPU-only machine computes a map faster than its software adapter does. tests/compute/mapKernels.test.ts holds them
 * to the references.
 */
import { histogramBin } from '../histogram.cpu.ts';
import type { MapStats } from '../minMax.ts';
import { cropCols, cropRows, normalisedColumns, type Crop, type SoftmaxScope } from '../region.ts';

/**
 * Adds `weight` x (the crop of a rows x cols map, softmaxed over `scope`) into `sum` (cropRows x cropCols), or
 * writes it there when `accumulate` is false. Non-finite values follow softmaxCpu (torch's rules): a NaN or +inf in
 * the normalised columns makes the row NaN, -inf gives 0, a row without finite values is NaN.
 */
export function addSoftmaxedCrop(
  map: Float32Array,
  cols: number,
  crop: Crop,
  scope: SoftmaxScope,
  weight: number,
  sum: Float32Array | Float64Array,
  accumulate: boolean,
): void {
  const outCols = cropCols(crop);
  const [normStart, normEnd] = normalisedColumns(scope, crop, cols);
  // exp(x - max) of the normalised columns of one row, reused for the crop's columns (always inside them).
  const exps = new Float64Array(normEnd - normStart);
  for (let row = crop.rowStart; row < crop.rowEnd; row++) {
    const rowBase = row * cols;
    const outBase = (row - crop.rowStart) * outCols - crop.colStart;
    if (scope === 'none') {
      for (let col = crop.colStart; col < crop.colEnd; col++) {
        const value = weight * map[rowBase + col];
        sum[outBase + col] = accumulate ? sum[outBase + col] + value : value;
      }
      continue;
    }
    let max = -Infinity;
    let rowIsNaN = false;
    for (let col = normStart; col < normEnd; col++) {
      const value = map[rowBase + col];
      if (value > max) max = value;
      else if (value !== value) rowIsNaN = true;
    }
    // +inf (max is +inf) makes the row NaN; so does a row with no finite value (max stays -inf).
    if (max === Infinity || max === -Infinity) rowIsNaN = true;
    if (rowIsNaN) {
      for (let col = crop.colStart; col < crop.colEnd; col++) sum[outBase + col] = NaN;
      continue;
    }
    let total = 0;
    for (let col = normStart; col < normEnd; col++) {
      const e = Math.exp(map[rowBase + col] - max);
      exps[col - normStart] = e;
      total += e;
    }
    const scale = weight / total;
    for (let col = crop.colStart; col < crop.colEnd; col++) {
      const value = exps[col - normStart] * scale;
      sum[outBase + col] = accumulate ? sum[outBase + col] + value : value;
    }
  }
}

/**
 * The mean over `maps` (each a whole rows x cols map, in the order given) of their crops softmaxed over `scope`,
 * as float32: one map is written straight, several are summed in float64 and rounded once (layerMeanCpu's mean of
 * head means is the same mean when every layer has the same heads).
 */
export async function meanOfSoftmaxedCrops(
  maps: AsyncIterable<Float32Array> | Iterable<Float32Array>,
  count: number,
  cols: number,
  crop: Crop,
  scope: SoftmaxScope,
): Promise<Float32Array> {
  const out = new Float32Array(cropRows(crop) * cropCols(crop));
  if (count === 1) {
    for await (const map of maps) addSoftmaxedCrop(map, cols, crop, scope, 1, out, false);
    return out;
  }
  const sum = new Float64Array(out.length);
  let first = true;
  for await (const map of maps) {
    addSoftmaxedCrop(map, cols, crop, scope, 1, sum, !first);
    first = false;
  }
  for (let index = 0; index < out.length; index++) out[index] = sum[index] / count;
  return out;
}

/** minuend - subtrahend value by value, in float32 (an f32 difference rounded from float64 is the f32 difference). */
export function differenceOf(minuend: Float32Array, subtrahend: Float32Array): Float32Array {
  if (minuend.length !== subtrahend.length) throw new RangeError(`differenceOf: ${minuend.length} values minus ${subtrahend.length} values`);
  const out = new Float32Array(minuend.length);
  for (let index = 0; index < out.length; index++) out[index] = minuend[index] - subtrahend[index];
  return out;
}

/** Min/max of the finite values of `region` of a rows x cols map and the counts of each kind of value (minMaxCpu). */
export function regionStats(map: Float32Array, cols: number, region: Crop): MapStats {
  let min = Infinity;
  let max = -Infinity;
  let nanCount = 0;
  let posInfCount = 0;
  let negInfCount = 0;
  for (let row = region.rowStart; row < region.rowEnd; row++) {
    const end = row * cols + region.colEnd;
    for (let index = row * cols + region.colStart; index < end; index++) {
      const value = map[index];
      if (value < min) min = value;
      if (value > max) max = value;
      if (value !== value) nanCount++;
    }
  }
  // -inf and +inf took part in min and max above: count them, and find the finite extremes again only if they did.
  if (min === -Infinity || max === Infinity) {
    min = Infinity;
    max = -Infinity;
    for (let row = region.rowStart; row < region.rowEnd; row++) {
      const end = row * cols + region.colEnd;
      for (let index = row * cols + region.colStart; index < end; index++) {
        const value = map[index];
        if (value === Infinity) posInfCount++;
        else if (value === -Infinity) negInfCount++;
        else {
          if (value < min) min = value;
          if (value > max) max = value;
        }
      }
    }
  }
  const finiteCount = cropRows(region) * cropCols(region) - nanCount - posInfCount - negInfCount;
  if (finiteCount === 0) return { min: NaN, max: NaN, finiteCount, nanCount, posInfCount, negInfCount };
  return { min, max, finiteCount, nanCount, posInfCount, negInfCount };
}

/** Counts of the finite values of `region` per bin between low and high (histogramCpu, same bins). */
export function regionHistogram(map: Float32Array, cols: number, region: Crop, low: number, high: number, bins: number): Uint32Array {
  const counts = new Uint32Array(bins);
  const halfRange = high * 0.5 - low * 0.5;
  if (!(halfRange > 0)) {
    // One bin takes every finite value (histogramBin gives 0 when high <= low).
    for (let row = region.rowStart; row < region.rowEnd; row++) {
      const end = row * cols + region.colEnd;
      for (let index = row * cols + region.colStart; index < end; index++) if (Number.isFinite(map[index])) counts[0]++;
    }
    return counts;
  }
  for (let row = region.rowStart; row < region.rowEnd; row++) {
    const end = row * cols + region.colEnd;
    for (let index = row * cols + region.colStart; index < end; index++) {
      const value = map[index];
      if (value - value === 0) counts[histogramBin(value, low, high, bins)]++;
    }
  }
  return counts;
}
