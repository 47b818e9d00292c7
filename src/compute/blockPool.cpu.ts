/**
 * Plain TypeScript reference for k x k block pooling (src/compute/blockPool.ts), computed in float64 and rounded to
 * float32 once. Used by tests and as a no-GPU fallback.
 */

/** Output size of k x k block pooling of a rows x cols map: the last block of a row or column covers what remains. */
export function blockPoolShape(rows: number, cols: number, blockSize: number): { rows: number; cols: number } {
  return { rows: Math.ceil(rows / blockSize), cols: Math.ceil(cols / blockSize) };
}

/**
 * Mean and max over each blockSize x blockSize block of `maps` maps (rows x cols each, back to back in `values`).
 * Output: maps x ceil(rows / k) x ceil(cols / k), row-major. Non-finite values are skipped; a block with no finite
 * value gives NaN.
 */
export function blockPoolCpu(
  values: Float32Array,
  rows: number,
  cols: number,
  blockSize: number,
  maps = 1,
): { mean: Float32Array; max: Float32Array } {
  const shape = blockPoolShape(rows, cols, blockSize);
  const cells = shape.rows * shape.cols;
  const mean = new Float32Array(maps * cells);
  const max = new Float32Array(maps * cells);
  for (let map = 0; map < maps; map++) {
    for (let outputRow = 0; outputRow < shape.rows; outputRow++) {
      for (let outputCol = 0; outputCol < shape.cols; outputCol++) {
        let sum = 0;
        let count = 0;
        let maximum = -Infinity;
        const rowEnd = Math.min((outputRow + 1) * blockSize, rows);
        const colEnd = Math.min((outputCol + 1) * blockSize, cols);
        for (let row = outputRow * blockSize; row < rowEnd; row++) {
          for (let col = outputCol * blockSize; col < colEnd; col++) {
            const value = values[(map * rows + row) * cols + col];
            if (!Number.isFinite(value)) continue;
            sum += value;
            count++;
            if (value > maximum) maximum = value;
          }
        }
        const out = map * cells + outputRow * shape.cols + outputCol;
        mean[out] = count === 0 ? NaN : sum / count;
        max[out] = count === 0 ? NaN : maximum;
      }
    }
  }
  return { mean, max };
}
