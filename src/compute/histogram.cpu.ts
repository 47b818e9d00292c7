/**
 * Reference for HistogramPass, written for clarity: the bin of each finite value, computed in float64.
 */
import { checkCrop, type Crop } from './region.ts';

/**
 * Bin of a finite value v in `bins` bins between low and high: floor((v - low) / (high - low) * bins), clamped to
 * [0, bins - 1]; 0 when high <= low. The halves keep high - low from overflowing, as in histogram.wgsl.
 */
export function histogramBin(value: number, low: number, high: number, bins: number): number {
  const halfRange = high * 0.5 - low * 0.5;
  if (!(halfRange > 0)) return 0;
  const position = Math.min(Math.max((value * 0.5 - low * 0.5) / halfRange, 0), 1) * bins;
  return Math.min(Math.floor(position), bins - 1);
}

/** Counts of the finite values of `region` of a rows x cols map (row-major) per bin between low and high. */
export function histogramCpu(
  map: ArrayLike<number>,
  rows: number,
  cols: number,
  region: Crop,
  low: number,
  high: number,
  bins: number,
): Uint32Array {
  checkCrop('histogramCpu', region, rows, cols);
  const counts = new Uint32Array(bins);
  for (let row = region.rowStart; row < region.rowEnd; row++) {
    for (let col = region.colStart; col < region.colEnd; col++) {
      const value = map[row * cols + col];
      if (Number.isFinite(value)) counts[histogramBin(value, low, high, bins)]++;
    }
  }
  return counts;
}
