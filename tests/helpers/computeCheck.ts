/**
 * Helpers for the GPU-vs-reference tests of the pooling, rollout and head-statistics passes: seeded random maps,
 * uploads in either storage format (float16 packed by src/data/float16.ts), and a tolerance check that treats NaN
 * as equal to NaN.
 */
import { expect } from 'vitest';
import { packFloat16Pairs } from '../../src/data/float16.ts';
import { createStorageBufferFrom } from '../../src/gpu/buffers.ts';
import type { AttentionView, StorageFormat } from '../../src/gpu/storageFormat.ts';

/** Deterministic uniform [0, 1) numbers (mulberry32), so a failing case can be rerun. */
export function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `maps` softmax-like maps of rows x cols: positive values, each row summing to 1, with a few sharp peaks. */
export function makeAttentionMaps(random: () => number, maps: number, rows: number, cols: number): Float32Array {
  const values = new Float32Array(maps * rows * cols);
  for (let row = 0; row < maps * rows; row++) {
    let sum = 0;
    for (let col = 0; col < cols; col++) {
      const x = random();
      const value = Math.exp(6 * x * x * x);
      values[row * cols + col] = value;
      sum += value;
    }
    for (let col = 0; col < cols; col++) values[row * cols + col] /= sum;
  }
  return values;
}

/**
 * Uploads `values` in `format` after `padElements` filler values (so the view's elementOffset is exercised) and
 * returns the view. The filler is 1e6, which would show up in any result that read it.
 */
export function uploadAttention(
  device: GPUDevice,
  label: string,
  values: Float32Array,
  format: StorageFormat,
  padElements = 0,
): AttentionView {
  const padded = new Float32Array(padElements + values.length);
  padded.fill(1e6, 0, padElements);
  padded.set(values, padElements);
  const data = format === 'float32' ? padded : packFloat16Pairs(padded);
  return { buffer: createStorageBufferFrom(device, label, data), format, elementOffset: padElements };
}

/** Relative tolerance per storage format, as the brief states; the absolute floor applies near zero. */
export const TOLERANCE: Record<StorageFormat, { relative: number; absolute: number }> = {
  float32: { relative: 1e-5, absolute: 1e-7 },
  float16: { relative: 1e-3, absolute: 1e-6 },
};

/**
 * Fails with the first few mismatches unless |actual - expected| <= absolute + relative * |expected| everywhere.
 * NaN must meet NaN.
 */
export function expectClose(
  actual: Float32Array,
  expected: Float32Array,
  tolerance: { relative: number; absolute: number },
  what: string,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const bad: string[] = [];
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) bad.push(`[${i}] got ${a}, expected ${e}`);
      continue;
    }
    const error = Math.abs(a - e);
    const allowed = tolerance.absolute + tolerance.relative * Math.abs(e);
    worst = Math.max(worst, error / allowed);
    if (!(error <= allowed)) bad.push(`[${i}] got ${a}, expected ${e} (error ${error.toExponential(2)})`);
  }
  expect(bad.slice(0, 8), `${what}: ${bad.length} of ${expected.length} values off (worst ${worst.toFixed(2)}x allowed)`).toEqual([]);
}
