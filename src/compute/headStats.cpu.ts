/**
 * Plain TypeScript reference for per-head statistics (src/compute/headStats.ts), computed in float64 and rounded to
 * float32 once. Used by tests and as a no-GPU fallback.
 */

/** The four values per map, in output order. */
export const HEAD_STATS_FIELDS = ['entropy', 'distanceFrames', 'distanceMs', 'nearDiagonalShare'] as const;
/** f32 values per map in the output. */
export const HEAD_STATS_VALUES = HEAD_STATS_FIELDS.length;
/** Default half-width of the diagonal band, in frames. */
export const DEFAULT_NEAR_FRAMES = 2;

/** Milliseconds per model frame: samples per frame / sample rate * 1000 (Whisper: 320 / 16000 * 1000 = 20 ms). */
export function msPerFrameFromSpf(samplesPerFrame: number, sampleRate = 16000): number {
  return (samplesPerFrame / sampleRate) * 1000;
}

export interface HeadStatsOptions {
  /** Milliseconds per frame, for the distance in ms (msPerFrameFromSpf). */
  readonly msPerFrame: number;
  /** Half-width w of the diagonal band: |i - j| <= w frames counts as near. Default 2. */
  readonly nearFrames?: number;
}

/**
 * Statistics of `maps` maps (rows x cols each, back to back in `values`), each row i taken as a distribution over
 * the columns j after dividing by its sum: per map, the averages over rows of the entropy (nats), the attention
 * distance Σ_j p_ij |i - j| (frames, then ms) and the mass within nearFrames of the diagonal.
 * Output: maps x 4 f32 in HEAD_STATS_FIELDS order. Negative and non-finite values count as 0; rows with no mass
 * left are excluded from the averages; a map with no such row gives NaN.
 */
export function headStatsCpu(
  values: Float32Array,
  maps: number,
  rows: number,
  cols: number,
  options: HeadStatsOptions,
): Float32Array {
  const nearFrames = options.nearFrames ?? DEFAULT_NEAR_FRAMES;
  const output = new Float32Array(maps * HEAD_STATS_VALUES);
  for (let map = 0; map < maps; map++) {
    let entropySum = 0;
    let distanceSum = 0;
    let nearSum = 0;
    let validRows = 0;
    for (let row = 0; row < rows; row++) {
      const start = (map * rows + row) * cols;
      const weight = (col: number) => {
        const value = values[start + col];
        return Number.isFinite(value) && value > 0 ? value : 0;
      };
      let mass = 0;
      for (let col = 0; col < cols; col++) mass += weight(col);
      if (!(mass > 0) || !Number.isFinite(mass)) continue;
      let entropy = 0;
      let distance = 0;
      let near = 0;
      for (let col = 0; col < cols; col++) {
        const p = weight(col) / mass;
        if (p === 0) continue;
        entropy -= p * Math.log(p);
        distance += p * Math.abs(row - col);
        if (Math.abs(row - col) <= nearFrames) near += p;
      }
      entropySum += entropy;
      distanceSum += distance;
      nearSum += near;
      validRows++;
    }
    const out = map * HEAD_STATS_VALUES;
    if (validRows === 0) {
      output.fill(NaN, out, out + HEAD_STATS_VALUES);
    } else {
      output[out] = entropySum / validRows;
      output[out + 1] = distanceSum / validRows;
      output[out + 2] = (distanceSum / validRows) * options.msPerFrame;
      output[out + 3] = nearSum / validRows;
    }
  }
  return output;
}
