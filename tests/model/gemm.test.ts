/** gemmTransposed (src/model/host/gemm.ts) against the plain triple loop of matmulCpu, on ragged sizes and strided views. */
import { describe, expect, it } from 'vitest';
import { gemmTransposed } from '../../src/model/host/gemm.ts';
import { matmulCpu } from '../../src/model/ops/matmul.cpu.ts';
import { makeRandom } from '../helpers/computeCheck.ts';

describe(gemmTransposed.name, () => {
  it('equals A . B^T + bias for every size 1-9 in m and n, inside padded rows, leaving the padding and the row after alone', () => {
    const random = makeRandom(42);
    for (let m = 1; m <= 9; m++) {
      for (let n = 1; n <= 9; n++) {
        const k = 1 + ((m * n) % 7);
        // Views with 3 values of padding before each row's data and after it.
        const a = Float64Array.from({ length: 2 + m * (k + 3) }, () => random() - 0.5);
        const b = Float64Array.from({ length: 1 + n * (k + 2) }, () => random() - 0.5);
        const bias = Float32Array.from({ length: n }, () => random());
        const actual = new Float64Array((m + 1) * (n + 3)).fill(7);
        const expected = actual.slice();
        gemmTransposed(m, n, k, { data: a, offset: 2, rowStride: k + 3 }, { data: b, offset: 1, rowStride: k + 2 }, { data: actual, offset: 1, rowStride: n + 3 }, bias);
        matmulCpu({ m, n, k, a: { data: a, offset: 2, rowStride: k + 3 }, b: { data: b, offset: 1, rowStride: k + 2 }, c: { data: expected, offset: 1, rowStride: n + 3 }, bias: { data: bias } });
        for (let i = 0; i < actual.length; i++) expect(actual[i], `m ${m} n ${n} at ${i}`).toBeCloseTo(expected[i], 12);
      }
    }
  });

  it('writes float32 outputs (the host scores) without a bias', () => {
    const random = makeRandom(7);
    const [m, n, k] = [13, 10, 64];
    const a = Float64Array.from({ length: m * k }, () => random());
    const b = Float64Array.from({ length: n * k }, () => random());
    const actual = new Float32Array(m * n);
    const expected = new Float64Array(m * n);
    gemmTransposed(m, n, k, { data: a, offset: 0, rowStride: k }, { data: b, offset: 0, rowStride: k }, { data: actual, offset: 0, rowStride: n });
    matmulCpu({ m, n, k, a: { data: a, rowStride: k }, b: { data: b, rowStride: k }, c: { data: expected, rowStride: n } });
    expect(Array.from(actual)).toEqual(Array.from(Float32Array.from(expected)));
  });
});
