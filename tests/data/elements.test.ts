import { describe, expect, it } from 'vitest';
import { decodeElements, ELEMENT_BYTES } from '../../src/data/elements.ts';
import { float32ToFloat16Bits } from '../../src/data/float16.ts';
import type { StoredDType } from '../../src/data/tensor.ts';
import { formulaRange } from '../helpers/tensorFixtures.ts';

/** `values` encoded as `dtype` in the given byte order, starting `shift` bytes into a fresh buffer. */
function encode(values: Float32Array, dtype: StoredDType, littleEndian: boolean, shift: number): Uint8Array {
  const size = ELEMENT_BYTES[dtype];
  const bytes = new Uint8Array(shift + values.length * size).subarray(shift);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  values.forEach((v, i) => {
    if (dtype === 'float16') view.setUint16(i * size, float32ToFloat16Bits(v), littleEndian);
    else if (dtype === 'bfloat16') view.setUint16(i * size, new Uint32Array(Float32Array.of(v).buffer)[0] >>> 16, littleEndian);
    else if (dtype === 'float32') view.setFloat32(i * size, v, littleEndian);
    else view.setFloat64(i * size, v, littleEndian);
  });
  return bytes;
}

describe('decodeElements', () => {
  const values = formulaRange(0, 61);
  for (const dtype of ['float16', 'bfloat16', 'float32', 'float64'] as const) {
    for (const littleEndian of [true, false]) {
      it(`decodes ${dtype} ${littleEndian ? 'little' : 'big'}-endian, aligned or not`, () => {
        for (const shift of [0, 1, 2, 3, 4]) {
          expect(decodeElements(encode(values, dtype, littleEndian, shift), { dtype, littleEndian })).toEqual(values);
        }
      });
    }
  }

  it('rounds float64 to the nearest float32 on both paths', () => {
    const doubles = Float64Array.of(0.1, 1 / 3, 1e-40, 3.4028235677973366e38, -(2 ** -149) * 0.5000001);
    const expected = Float32Array.from(doubles);
    for (const shift of [0, 4]) {
      const bytes = new Uint8Array(shift + 40).subarray(shift);
      doubles.forEach((d, i) => new DataView(bytes.buffer, bytes.byteOffset).setFloat64(8 * i, d, true));
      expect(decodeElements(bytes, { dtype: 'float64', littleEndian: true })).toEqual(expected);
    }
  });
});
