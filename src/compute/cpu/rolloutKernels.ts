/**
 * Attention rollout on the host (src/compute/cpu/hostRollout.ts): rollout.cpu.ts's arithmetic as a real kernel for a
 * CPU-only machine, where a JS matrix product beats the software adapter's WGSL one (bench/README.md "Rollout").
 *
 * Matrices are float64, `stride` x `stride` with stride = size rounded up to a multiple of 4 and zeros outside the
 * size x size matrix (the padded layout of rolloutRegisterTile.wgsl), so that the product runs on whole 4 x 4 blocks
 * with no edge cases: a padded column of Â meets a padded (zero) row of R. The left factor is kept transposed, so that
 * the four values of Â a step needs (rows i .. i + 3 of column k) are adjacent, like the four of R (row k, columns
 * j .. j + 3). tests/compute/rolloutKernels.test.ts holds it to rolloutCpu.
 */

import { cropCols, cropRows, fullCrop, type Crop } from '../region.ts';

/** Rows and columns of the 4 x 4 block of the product kept in 16 local variables (registers) by multiplyPadded. */
const BLOCK = 4;
/**
 * Depth of the shared dimension walked per pass over the product: a KDEPTH x stride slab of R (1 MiB at 1500
 * frames) stays in the CPU's cache while every block of the product takes its share of it.
 */
const KDEPTH = 96;

/** The padded size for `size` frames: a multiple of 4. */
export function paddedStride(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/**
 * Âᵀ for one layer's head-averaged map (size x size at `offset` in `values`): Â[i][j] = (A[i][j] + δij) / (Σ_j A[i][j]
 * + 1), non-finite values counted as 0 (prepareRolloutLayerCpu), written transposed (Âᵀ[j][i] at j * stride + i)
 * into a zero-padded stride x stride matrix.
 */
export function preparedTransposed(values: Float32Array, offset: number, size: number, stride = paddedStride(size)): Float64Array {
  return prepared(values, offset, size, stride, 1, stride);
}

/** Â itself (not transposed), padded: the first step of a rollout, R = Â of its first layer. */
export function preparedPadded(values: Float32Array, offset: number, size: number, stride = paddedStride(size)): Float64Array {
  return prepared(values, offset, size, stride, stride, 1);
}

/** Â of the map at `offset`, zero-padded to stride x stride, Â[i][j] written at i * rowStep + j * colStep. */
function prepared(values: Float32Array, offset: number, size: number, stride: number, rowStep: number, colStep: number): Float64Array {
  const out = new Float64Array(stride * stride);
  for (let row = 0; row < size; row++) {
    const rowStart = offset + row * size;
    let sum = 0;
    for (let col = 0; col < size; col++) {
      const value = values[rowStart + col];
      if (value - value === 0) sum += value; // finite (inf - inf and NaN - NaN are NaN)
    }
    const scale = 1 / (sum + 1);
    for (let col = 0; col < size; col++) {
      const value = values[rowStart + col];
      out[row * rowStep + col * colStep] = ((value - value === 0 ? value : 0) + (row === col ? 1 : 0)) * scale;
    }
  }
  return out;
}

/**
 * leftᵀ's transpose times right: product[i][j] = Σ_k leftTransposed[k][i] · right[k][j], all stride x stride
 * (stride a multiple of 4), zeros in the padding in, zeros in the padding out. Each 4 x 4 block of the product is
 * summed in 16 locals over KDEPTH values of k at a time (8 loads per 16 multiply-adds), then added into `product`.
 */
export function multiplyPadded(leftTransposed: Float64Array, right: Float64Array, stride: number): Float64Array {
  if (stride % BLOCK !== 0) throw new RangeError(`multiplyPadded: stride ${stride} is not a multiple of ${BLOCK}`);
  const product = new Float64Array(stride * stride);
  for (let k0 = 0; k0 < stride; k0 += KDEPTH) {
    const k1 = Math.min(stride, k0 + KDEPTH);
    for (let i = 0; i < stride; i += BLOCK) {
      for (let j = 0; j < stride; j += BLOCK) {
        let p00 = 0, p01 = 0, p02 = 0, p03 = 0, p10 = 0, p11 = 0, p12 = 0, p13 = 0;
        let p20 = 0, p21 = 0, p22 = 0, p23 = 0, p30 = 0, p31 = 0, p32 = 0, p33 = 0;
        for (let k = k0; k < k1; k++) {
          const a = k * stride + i;
          const b = k * stride + j;
          const a0 = leftTransposed[a], a1 = leftTransposed[a + 1], a2 = leftTransposed[a + 2], a3 = leftTransposed[a + 3];
          const b0 = right[b], b1 = right[b + 1], b2 = right[b + 2], b3 = right[b + 3];
          p00 += a0 * b0; p01 += a0 * b1; p02 += a0 * b2; p03 += a0 * b3;
          p10 += a1 * b0; p11 += a1 * b1; p12 += a1 * b2; p13 += a1 * b3;
          p20 += a2 * b0; p21 += a2 * b1; p22 += a2 * b2; p23 += a2 * b3;
          p30 += a3 * b0; p31 += a3 * b1; p32 += a3 * b2; p33 += a3 * b3;
        }
        let c = i * stride + j;
        product[c] += p00; product[c + 1] += p01; product[c + 2] += p02; product[c + 3] += p03;
        c += stride;
        product[c] += p10; product[c + 1] += p11; product[c + 2] += p12; product[c + 3] += p13;
        c += stride;
        product[c] += p20; product[c + 1] += p21; product[c + 2] += p22; product[c + 3] += p23;
        c += stride;
        product[c] += p30; product[c + 1] += p31; product[c + 2] += p32; product[c + 3] += p33;
      }
    }
  }
  return product;
}

/** The `region` of a padded matrix of row stride `stride`, rounded to float32 (row-major). */
export function paddedRegion(padded: Float64Array, stride: number, region: Crop): Float32Array {
  const rows = cropRows(region);
  const cols = cropCols(region);
  const out = new Float32Array(rows * cols);
  for (let row = 0; row < rows; row++) {
    const from = (region.rowStart + row) * stride + region.colStart;
    for (let col = 0; col < cols; col++) out[row * cols + col] = padded[from + col];
  }
  return out;
}

/**
 * Rollout of layers [layerStart, layerEnd) of `layers` (size x size maps back to back), as rolloutCpu gives it, by
 * these kernels: R_start = Â_start, R_l = Â_l · R_(l-1), in float64, rounded to float32 once.
 */
export function rolloutOnHost(layers: Float32Array, size: number, layerStart: number, layerEnd: number): Float32Array {
  if (!(layerStart < layerEnd)) throw new RangeError(`rolloutOnHost: empty layer range [${layerStart}, ${layerEnd})`);
  const stride = paddedStride(size);
  let rollout = preparedPadded(layers, layerStart * size * size, size, stride);
  for (let layer = layerStart + 1; layer < layerEnd; layer++) {
    rollout = multiplyPadded(preparedTransposed(layers, layer * size * size, size, stride), rollout, stride);
  }
  return paddedRegion(rollout, stride, fullCrop(size, size));
}
