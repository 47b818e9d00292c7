/**
 * Plain TypeScript reference for a pyramid level (src/compute/pyramid.ts): level f of a map is the map's mean (or
 * max) over f x f blocks of frames, computed from the full map, so it is blockPoolCpu with k = f. Non-finite values
 * are skipped; a block with none finite is NaN; the last block of a row or column covers what remains.
 */
import { blockPoolCpu, blockPoolShape } from './blockPool.cpu.ts';
import type { PoolStatistic } from './segmentPoolMap.ts';

/** Rows and columns of level `factor` of a rows x cols map. */
export function pyramidLevelShape(rows: number, cols: number, factor: number): { rows: number; cols: number } {
  return blockPoolShape(rows, cols, factor);
}

/** Level `factor` of one rows x cols map (factor 1: a copy of the map). */
export function pyramidLevelCpu(values: Float32Array, rows: number, cols: number, factor: number, stat: PoolStatistic): Float32Array {
  if (factor === 1) return Float32Array.from(values.subarray(0, rows * cols));
  const pooled = blockPoolCpu(values, rows, cols, factor);
  return stat === 'mean' ? pooled.mean : pooled.max;
}
