/**
 * Plain-JS peers written as one would by hand, beside the float64 references in src/compute/*.cpu.ts: tight loops
 * over Float32Arrays without the references' non-finite bookkeeping, so the comparison is with fast JS too.
 */

/** Softmax over each row as one would write it by hand: max, sum of exp, scale; Float32Array in and out. */
export function softmaxLoop(map: Float32Array, rows: number, cols: number, out: Float32Array): Float32Array {
  for (let row = 0; row < rows; row++) {
    const base = row * cols;
    let max = -Infinity;
    for (let col = 0; col < cols; col++) if (map[base + col] > max) max = map[base + col];
    let sum = 0;
    for (let col = 0; col < cols; col++) {
      const e = Math.exp(map[base + col] - max);
      out[base + col] = e;
      sum += e;
    }
    const scale = 1 / sum;
    for (let col = 0; col < cols; col++) out[base + col] *= scale;
  }
  return out;
}

/** Min and max of a map in one plain loop (no non-finite bookkeeping). */
export function minMaxLoop(map: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let index = 0; index < map.length; index++) {
    const value = map[index];
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return [min, max];
}

/**
 * Histogram of a map's finite values in `bins` bins between low and high, as one would write it by hand: one
 * subtraction and one multiplication per value, no clamping below (every value of the map lies in [low, high]).
 */
export function histogramLoop(map: Float32Array, low: number, high: number, bins: number): Uint32Array {
  const counts = new Uint32Array(bins);
  const scale = high > low ? bins / (high - low) : 0;
  const last = bins - 1;
  for (let index = 0; index < map.length; index++) {
    const value = map[index];
    if (value - value !== 0) continue; // NaN or an infinity
    const bin = ((value - low) * scale) | 0;
    counts[bin < last ? bin : last]++;
  }
  return counts;
}
