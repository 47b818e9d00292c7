/**
 * Reference for MinMaxPass, written for clarity: one loop over the region.
 */
import type { MapStats } from './minMax.ts';
import { checkCrop, type Crop } from './region.ts';

/** Min and max of the finite values of `region` of a rows x cols map (row-major), and counts by kind of value. */
export function minMaxCpu(map: ArrayLike<number>, rows: number, cols: number, region: Crop): MapStats {
  checkCrop('minMaxCpu', region, rows, cols);
  let min = Infinity;
  let max = -Infinity;
  let finiteCount = 0;
  let nanCount = 0;
  let posInfCount = 0;
  let negInfCount = 0;
  for (let row = region.rowStart; row < region.rowEnd; row++) {
    for (let col = region.colStart; col < region.colEnd; col++) {
      const value = map[row * cols + col];
      if (Number.isNaN(value)) nanCount++;
      else if (value === Infinity) posInfCount++;
      else if (value === -Infinity) negInfCount++;
      else {
        finiteCount++;
        min = Math.min(min, value);
        max = Math.max(max, value);
      }
    }
  }
  if (finiteCount === 0) return { min: NaN, max: NaN, finiteCount, nanCount, posInfCount, negInfCount };
  return { min, max, finiteCount, nanCount, posInfCount, negInfCount };
}
