/**
 * Plain TypeScript reference for segment pooling (src/compute/segmentPool.ts), computed in float64 and rounded to
 * float32 once. Used by tests and as a no-GPU fallback.
 */

/**
 * A segment as a half-open range of frame indices [start, end). STEVE stores phones and words as
 * [startFrame, stopFrame]; the caller decides whether stopFrame is included (pass end = stopFrame + 1) or not.
 * start == end is an empty segment.
 */
export interface FrameRange {
  readonly start: number;
  readonly end: number;
}

/** Mean and max matrices, each maps x rowSegments x colSegments, row-major. */
export interface PooledMaps {
  readonly mean: Float32Array;
  readonly max: Float32Array;
}

/**
 * Mean and max of `maps` maps (rows x cols each, back to back in `values`) over every (row segment, column segment)
 * block. Non-finite values are skipped; a block with no finite value (empty segment included) gives NaN.
 * Segment bounds past the map are clamped to it, as the GPU kernel does.
 */
export function segmentPoolCpu(
  values: Float32Array,
  rows: number,
  cols: number,
  rowSegments: readonly FrameRange[],
  colSegments: readonly FrameRange[],
  maps = 1,
): PooledMaps {
  const cells = rowSegments.length * colSegments.length;
  const mean = new Float32Array(maps * cells);
  const max = new Float32Array(maps * cells);
  for (let map = 0; map < maps; map++) {
    const mapStart = map * rows * cols;
    for (let r = 0; r < rowSegments.length; r++) {
      const rowEnd = Math.min(rowSegments[r].end, rows);
      const rowStart = Math.min(rowSegments[r].start, rowEnd);
      for (let c = 0; c < colSegments.length; c++) {
        const colEnd = Math.min(colSegments[c].end, cols);
        const colStart = Math.min(colSegments[c].start, colEnd);
        let sum = 0;
        let count = 0;
        let maximum = -Infinity;
        for (let row = rowStart; row < rowEnd; row++) {
          for (let col = colStart; col < colEnd; col++) {
            const value = values[mapStart + row * cols + col];
            if (!Number.isFinite(value)) continue;
            sum += value;
            count++;
            if (value > maximum) maximum = value;
          }
        }
        const out = map * cells + r * colSegments.length + c;
        mean[out] = count === 0 ? NaN : sum / count;
        max[out] = count === 0 ? NaN : maximum;
      }
    }
  }
  return { mean, max };
}
