/**
 * Plain TypeScript reference for attention rollout (src/compute/rollout.ts), computed in float64 and rounded to
 * float32 once. Used by tests and as a no-GPU fallback (slow for 1500 frames: about 3.4e9 multiply-adds per layer).
 */

/**
 * Â = 0.5 A + 0.5 I with rows renormalised to sum 1, i.e. Â[i][j] = (A[i][j] + δij) / (Σ_j A[i][j] + 1), for the
 * size x size map starting at `offset` in `values`. Non-finite values count as 0, so a row with no mass becomes e_i.
 */
export function prepareRolloutLayerCpu(values: Float32Array, offset: number, size: number): Float64Array {
  const prepared = new Float64Array(size * size);
  for (let row = 0; row < size; row++) {
    let sum = 0;
    for (let col = 0; col < size; col++) {
      const value = values[offset + row * size + col];
      if (Number.isFinite(value)) sum += value;
    }
    for (let col = 0; col < size; col++) {
      const value = values[offset + row * size + col];
      prepared[row * size + col] = ((Number.isFinite(value) ? value : 0) + (row === col ? 1 : 0)) / (sum + 1);
    }
  }
  return prepared;
}

/**
 * Rollout of layers [layerStart, layerEnd) of `layers` (head-averaged maps, size x size each, back to back):
 * R = Â_(end-1) · ... · Â_(start+1) · Â_start, size x size, row-major. Row i of R is how much frame i's
 * representation after the last layer draws on each input frame of the first.
 */
export function rolloutCpu(layers: Float32Array, size: number, layerStart: number, layerEnd: number): Float32Array {
  if (!(layerStart < layerEnd)) throw new RangeError(`rolloutCpu: empty layer range [${layerStart}, ${layerEnd})`);
  let rollout = prepareRolloutLayerCpu(layers, layerStart * size * size, size);
  for (let layer = layerStart + 1; layer < layerEnd; layer++) {
    const left = prepareRolloutLayerCpu(layers, layer * size * size, size);
    const product = new Float64Array(size * size);
    for (let row = 0; row < size; row++) {
      for (let k = 0; k < size; k++) {
        const a = left[row * size + k];
        if (a === 0) continue;
        for (let col = 0; col < size; col++) product[row * size + col] += a * rollout[k * size + col];
      }
    }
    rollout = product;
  }
  return Float32Array.from(rollout);
}
