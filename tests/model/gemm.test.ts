/** gemmTransposed (src/model/host/gemm.ts) against the plain triple loop of matmulCpu, on ragged sizes and strided views. */
import { describe, expect, it } from 'vitest';
import { gemmTransposed } from '../../src/model/host/gemm.ts';
import { matmulCpu } from '../../src/model/ops/matmul.cpu.ts';
import { conv1d } from '../../src/model/encoder.cpu.ts';
import { conv1dCpu } from '../../src/model/ops/conv1d.cpu.ts';
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

describe('conv1d of the encoder reference', () => {
  it('equals the plain convolution over an input long enough to be taken a span of windows at a time, with groups and stride', () => {
    // 2 groups of 64 channels, kernel 3, stride 2: 23 000 windows of 192 taps per group, 35 MB: two spans of 32 MiB.
    const random = makeRandom(11);
    const [channels, length, kernel, groups, stride, padding] = [128, 46_000, 3, 2, 2, 1];
    const x = Float64Array.from({ length: channels * length }, () => random() - 0.5);
    const weight = { shape: [64, channels / groups, kernel], data: Float32Array.from({ length: 64 * (channels / groups) * kernel }, () => random() - 0.5) };
    const bias = { shape: [64], data: Float32Array.from({ length: 64 }, () => random()) };
    const ours = conv1d(x, channels, length, weight, bias, stride, padding, groups);
    const plain = conv1dCpu({ input: x, inChannels: channels, inLength: length, weight: weight.data, bias: bias.data, outChannels: 64, kernelSize: kernel, stride, padding, groups });
    expect(ours.length).toBe(23_000);
    expect(ours.data.length).toBe(plain.length);
    let worst = 0;
    for (let i = 0; i < plain.length; i++) worst = Math.max(worst, Math.abs(ours.data[i] - plain[i]));
    expect(worst).toBeLessThan(1e-12);
  });
});
