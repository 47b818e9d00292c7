import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bfloat16BitsToFloat32, float16BitsToFloat32, float16ToFloat32Table, float32ToFloat16Bits, packFloat16Pairs } from '../../src/data/float16.ts';
import { fixtureReference } from '../helpers/tensorFixtures.ts';

const reference = fixtureReference().float16;

function sha256(array: Uint16Array | Uint32Array): string {
  return createHash('sha256').update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength)).digest('hex');
}

function bitsToFloat32(bits: number): number {
  return new Float32Array(Uint32Array.of(bits).buffer)[0];
}

function float32Bits(value: number): number {
  return new Uint32Array(Float32Array.of(value).buffer)[0];
}

function isNaNBits(bits: number): boolean {
  return (bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0;
}

/** float32 -> float16 bits for every input bit pattern, as numpy's astype(np.float16). */
function narrowAll(inputs: Uint32Array): Uint16Array {
  return Uint16Array.from(inputs, (bits) => float32ToFloat16Bits(bitsToFloat32(bits)));
}

describe('float16 widening', () => {
  // JavaScript engines quiet signalling NaNs, so NaN results are compared as the canonical NaN (numpy's
  // reference is hashed the same way; see make_fixtures.py) and NaN-ness is checked on its own.
  const canonical = (value: number): number => (Number.isNaN(value) ? 0x7fc00000 : float32Bits(value));

  it('matches numpy for all 65536 float16 bit patterns (subnormals and Inf included)', () => {
    const widened = Uint32Array.from({ length: 1 << 16 }, (_, bits) => canonical(float16BitsToFloat32(bits)));
    expect(sha256(widened)).toBe(reference.widen_all_sha256);
    const table = Uint32Array.from(float16ToFloat32Table(), canonical);
    expect(sha256(table)).toBe(reference.widen_all_sha256);
  });

  it('widens every float16 NaN to a NaN with the same sign', () => {
    for (let bits = 0x7c01; bits <= 0x7fff; bits++) {
      expect(float16BitsToFloat32(bits)).toBeNaN();
      expect(float32Bits(float16BitsToFloat32(bits | 0x8000)) >>> 31).toBe(1);
    }
  });

  it('gets the landmarks right', () => {
    expect(float16BitsToFloat32(0x3c00)).toBe(1);
    expect(float16BitsToFloat32(0x7bff)).toBe(65504);
    expect(float16BitsToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16BitsToFloat32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
    expect(float16BitsToFloat32(0xfc00)).toBe(-Infinity);
    expect(float16BitsToFloat32(0x7e00)).toBeNaN();
  });
});

describe('float16 narrowing', () => {
  it('matches numpy on a 2^20-pattern sweep of float32 bits', () => {
    const sweep = Uint32Array.from({ length: 1 << 20 }, (_, i) => Math.imul(i, 0x9e3779b1) >>> 0).filter((bits) => !isNaNBits(bits));
    expect(sha256(narrowAll(sweep))).toBe(reference.narrow_sweep_sha256);
  });

  it('matches numpy at and around every rounding tie (round half to even, subnormals, overflow)', () => {
    const lows = [0x0000, 0x0fff, 0x1000, 0x1001, 0x7fff, 0x8000, 0x8001, 0xffff];
    const ties = new Uint32Array((1 << 16) * lows.length);
    for (let high = 0; high < 1 << 16; high++) lows.forEach((low, k) => (ties[high * lows.length + k] = ((high << 16) | low) >>> 0));
    expect(sha256(narrowAll(ties.filter((bits) => !isNaNBits(bits))))).toBe(reference.narrow_ties_sha256);
  });

  it('narrows NaN to NaN and keeps the sign', () => {
    expect(float32ToFloat16Bits(NaN)).toBe(0x7e00);
    expect(float32ToFloat16Bits(-NaN) & 0x7fff).toBe(0x7e00);
    const signalling = new Float32Array(new Uint32Array([0x7f800001, 0xff800400]).buffer);
    for (const value of signalling) {
      const bits = float32ToFloat16Bits(value);
      expect(bits & 0x7c00).toBe(0x7c00);
      expect(bits & 0x3ff).not.toBe(0);
    }
  });

  it.each(reference.narrow_cases)('float32 bits %i narrow to %i as in numpy', (input, output) => {
    expect(float32ToFloat16Bits(bitsToFloat32(input))).toBe(output);
  });

  it('round-trips every non-NaN float16', () => {
    const failures: number[] = [];
    for (let bits = 0; bits < 1 << 16; bits++) {
      if ((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0) continue;
      if (float32ToFloat16Bits(float16BitsToFloat32(bits)) !== bits) failures.push(bits);
    }
    expect(failures).toEqual([]);
  });
});

describe('bfloat16', () => {
  it('is the top half of a float32', () => {
    expect(bfloat16BitsToFloat32(0x3f80)).toBe(1);
    expect(bfloat16BitsToFloat32(0xc0a0)).toBe(-5);
    expect(bfloat16BitsToFloat32(0x0001)).toBe(bitsToFloat32(0x00010000));
    expect(bfloat16BitsToFloat32(0x7f80)).toBe(Infinity);
    expect(bfloat16BitsToFloat32(0xff80)).toBe(-Infinity);
    expect(bfloat16BitsToFloat32(0x7fc0)).toBeNaN();
    for (let bits = 0; bits < 1 << 16; bits += 7) {
      if (isNaNBits(bits << 16)) expect(bfloat16BitsToFloat32(bits)).toBeNaN();
      else expect(float32Bits(bfloat16BitsToFloat32(bits))).toBe((bits << 16) >>> 0);
    }
  });
});

describe('packFloat16Pairs', () => {
  it('packs two float16 per word, element 2k low, like numpy viewing float16 pairs as <u4', () => {
    const packed = packFloat16Pairs(Float32Array.from(reference.pack_input));
    expect(Array.from(packed)).toEqual(reference.pack_words);
  });

  it('handles empty and single-value inputs', () => {
    expect(packFloat16Pairs(new Float32Array(0)).length).toBe(0);
    expect(Array.from(packFloat16Pairs(Float32Array.of(1)))).toEqual([0x3c00]);
    expect(Array.from(packFloat16Pairs(Float32Array.of(1, -2)))).toEqual([0xc0003c00]);
  });
});
