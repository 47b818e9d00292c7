/** gemmTransposed split over worker threads (src/node/gemmThreads.ts): the same values as on one thread, bit for bit. */
import { afterAll, describe, expect, it } from 'vitest';
import { gemmRows, gemmTransposed } from '../../src/model/host/gemm.ts';
import { useGemmThreads } from '../../src/node/gemmThreads.ts';
import { makeRandom } from '../helpers/computeCheck.ts';

afterAll(() => useGemmThreads(1));

describe(useGemmThreads.name, () => {
  it('splits large products by rows over 3 threads with the same result as one thread, into strided float64 and float32 outputs', () => {
    useGemmThreads(3);
    const random = makeRandom(3);
    // Both are over the threaded minimum (5e7 FLOP); 203 rows are not a whole number of 4-row bands.
    for (const [m, n, k] of [[203, 190, 700], [64, 300, 1500]]) {
      const a = Float64Array.from({ length: 5 + m * (k + 1) }, () => random() - 0.5);
      const b = Float64Array.from({ length: 2 + n * k }, () => random() - 0.5);
      const bias = Float32Array.from({ length: n }, () => random());
      for (const output of [new Float64Array(3 + m * (n + 2)), new Float32Array(3 + m * (n + 2))]) {
        const threaded = output.fill(9);
        const single = threaded.slice();
        const views = { a: { data: a, offset: 5, rowStride: k + 1 }, b: { data: b, offset: 2, rowStride: k } };
        gemmTransposed(m, n, k, views.a, views.b, { data: threaded, offset: 3, rowStride: n + 2 }, bias);
        gemmRows(m, n, k, views.a, views.b, { data: single, offset: 3, rowStride: n + 2 }, bias);
        expect(threaded.some((value, i) => !Object.is(value, single[i]))).toBe(false);
        expect(threaded[3 + (m - 1) * (n + 2) + n - 1]).not.toBe(9);
      }
    }
  });
});
