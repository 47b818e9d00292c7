/**
 * The host path's rollout kernels (src/compute/cpu/rolloutKernels.ts) against rolloutCpu: hand-made layers with a
 * zero row, NaN and inf, random maps of sizes the 4 x 4 blocks and the 96-deep slabs do not divide (1, 2, 7, 65,
 * 101), layer sub-ranges, and zeros kept in the padding of every product.
 */
import { describe, expect, it } from 'vitest';
import { multiplyPadded, paddedStride, preparedPadded, preparedTransposed, rolloutOnHost } from '../../src/compute/cpu/rolloutKernels.ts';
import { prepareRolloutLayerCpu, rolloutCpu } from '../../src/compute/rollout.cpu.ts';
import { expectClose, makeRandom, randomValues } from '../gpu/support.ts';

/** `layers` maps of size x size, each row a random distribution (head-averaged softmax output). */
function attentionLayers(seed: number, layers: number, size: number): Float32Array {
  const values = randomValues(layers * size * size, makeRandom(seed), 0, 1);
  for (let row = 0; row < layers * size; row++) {
    const slice = values.subarray(row * size, (row + 1) * size);
    const sum = slice.reduce((a, b) => a + b, 0);
    for (let col = 0; col < size; col++) slice[col] /= sum;
  }
  return values;
}

describe('host rollout kernels', () => {
  it('prepares Â as the reference does, non-finite values as 0, transposed and zero-padded', () => {
    const size = 3;
    const map = new Float32Array([0.2, NaN, 0.8, 0, 0, 0, Infinity, 0.5, -Infinity]);
    const reference = prepareRolloutLayerCpu(map, 0, size);
    const stride = paddedStride(size);
    expect(stride).toBe(4);
    const transposed = preparedTransposed(map, 0, size, stride);
    const padded = preparedPadded(map, 0, size, stride);
    for (let row = 0; row < stride; row++) {
      for (let col = 0; col < stride; col++) {
        const want = row < size && col < size ? reference[row * size + col] : 0;
        expect(padded[row * stride + col], `Â (${row}, ${col})`).toBe(want);
        expect(transposed[col * stride + row], `Âᵀ (${col}, ${row})`).toBe(want);
      }
    }
    // Row 1 has no mass: the identity row. Row 2 keeps only its finite 0.5 (and the residual).
    expect(Array.from(padded.subarray(stride, stride + size))).toEqual([0, 1, 0]);
    expect(Array.from(padded.subarray(2 * stride, 2 * stride + size))).toEqual([0, 0.5 / 1.5, 1 / 1.5]);
  });

  for (const size of [1, 2, 7, 65, 101]) {
    it(`matches rolloutCpu for ${size} frames, all layers and a sub-range`, () => {
      const layers = attentionLayers(size, 4, size);
      expectClose(rolloutOnHost(layers, size, 0, 4), rolloutCpu(layers, size, 0, 4), 1e-6, 1e-12);
      expectClose(rolloutOnHost(layers, size, 1, 3), rolloutCpu(layers, size, 1, 3), 1e-6, 1e-12);
      expectClose(rolloutOnHost(layers, size, 2, 3), rolloutCpu(layers, size, 2, 3), 0, 0);
    });
  }

  it('multiplies in order (R = Â1 · Â0, not Â0 · Â1) and keeps the padding of a product 0', () => {
    // Â0 = [[1, 0], [.25, .75]], Â1 = [[.5, .5], [.5, .5]]: Â1 · Â0 = [[.625, .375], [.625, .375]].
    const layers = new Float32Array([NaN, 0, 0.5, 0.5, 0, 1, 1, 0]);
    expect(Array.from(rolloutOnHost(layers, 2, 0, 2))).toEqual([0.625, 0.375, 0.625, 0.375]);
    const size = 6;
    const stride = paddedStride(size);
    const random = attentionLayers(3, 2, size);
    const product = multiplyPadded(preparedTransposed(random, size * size, size, stride), preparedPadded(random, 0, size, stride), stride);
    for (let row = 0; row < stride; row++) {
      for (let col = 0; col < stride; col++) if (row >= size || col >= size) expect(product[row * stride + col]).toBe(0);
    }
    expect(() => multiplyPadded(new Float64Array(36), new Float64Array(36), 6)).toThrow(/not a multiple of 4/);
  });
});
