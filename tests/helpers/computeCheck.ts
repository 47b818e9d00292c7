/**
 * Helpers for the GPU-vs-reference tests of the compute passes: seeded random maps, float16 packing, uploads in
 * either storage format, and a tolerance check that treats NaN as equal to NaN.
 */
import { expect } from 'vitest';
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

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** IEEE binary16 bits of `value`, rounded to nearest even (inf and NaN kept). */
export function float16Bits(value: number): number {
  F32[0] = value;
  const bits = U32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** Two float16 values per u32 word, element 2k in the low half (the layout of loadFloat16Packed.wgsl). */
export function packFloat16PairsForTest(values: Float32Array): Uint32Array {
  const words = new Uint32Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) words[i >> 1] |= float16Bits(values[i]) << ((i & 1) * 16);
  return words;
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
  const data = format === 'float32' ? padded : packFloat16PairsForTest(padded);
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
