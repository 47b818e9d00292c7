import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMemorySource, withReadProgress } from '../../src/data/byteSource.ts';
import {
  computeMapStats,
  detectAttentionFormat,
  isHeadSoftmaxed,
  isSoftmaxed,
  openAttention,
  softmaxTolerance,
} from '../../src/data/openAttention.ts';
import { makeFileSource } from '../../src/node/fileSource.ts';
import { countingSource, fixtureBytes, fixturePath, fixtureSource, formulaRange, makeNpy } from '../helpers/tensorFixtures.ts';
import { expectInputError } from '../helpers/inputErrors.ts';

describe('openAttention', () => {
  it.each([
    ['steve5d_f4_le.npy', 'npy'],
    ['npz_stacked.npz', 'npz'],
    ['npz_layers12_compressed.npz', 'npz'],
    ['st_stacked_bf16.safetensors', 'safetensors'],
  ])('recognises %s by its first bytes', async (name, format) => {
    const bytes = fixtureBytes(name);
    expect(detectAttentionFormat(bytes.subarray(0, 9), bytes.length)).toBe(format);
    // The name plays no part: the same bytes under another name open the same way.
    const attention = await openAttention(makeMemorySource('renamed.bin', bytes));
    expect(attention.fileName).toBe('renamed.bin');
    expect(attention.shape.layers).toBeGreaterThan(1);
  });

  it('reads the same values from every format', async () => {
    for (const name of ['steve5d_f2_be.npy', 'npz_stacked_compressed.npz', 'npz_layers.npz', 'st_stacked_f64.safetensors']) {
      const attention = await openAttention(fixtureSource(name));
      expect(attention.shape).toEqual({ layers: 2, heads: 3, rows: 7, cols: 5 });
      expect(await attention.readHead(1, 1)).toEqual(formulaRange(4 * 35, 35));
    }
  });

  it('names the file and lists the supported formats for anything else', async () => {
    const text = new TextEncoder().encode('layer,head,value\n0,0,1\n');
    await expectInputError(
      openAttention(makeMemorySource('attention.csv', text)),
      'bad-header',
      /^attention\.csv: not a supported attention file: expected \.npy \(starts with \\x93NUMPY\), \.npz \(a zip: starts with PK\\x03\\x04\) or \.safetensors \(.*\); found bytes 6c 61 79 65 72 2c 68 65 61$/,
    );
    await expectInputError(openAttention(makeMemorySource('empty.npy', new Uint8Array(0))), 'truncated', /^empty\.npy: file is empty; expected \.npy/);
  });

  it('does not take a JSON-looking file with an implausible length for safetensors', () => {
    const bytes = new Uint8Array(32);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    bytes[8] = 0x7b;
    expect(detectAttentionFormat(bytes.subarray(0, 9), bytes.length)).toBeUndefined();
  });
});

describe('makeFileSource', () => {
  it('reads a file at offsets and opens it like any source', async () => {
    const source = await makeFileSource(fixturePath('npz_layers.npz'));
    try {
      const attention = await openAttention(source);
      expect(await attention.readHead(1, 2)).toEqual(formulaRange(5 * 35, 35));
      const bytes = await source.read(10, 5);
      expect(bytes).toEqual(fixtureBytes('npz_layers.npz').subarray(10, 15));
      await expect(source.read(source.byteLength - 2, 5)).rejects.toThrow(RangeError);
    } finally {
      await source.close();
    }
  });

  it('returns a zero-copy view on each read for float32 data', async () => {
    const source = await makeFileSource(fixturePath('steve5d_f4_le.npy'));
    try {
      const head = await (await openAttention(source)).readHead(0, 2);
      expect(head.byteOffset).toBe(0);
      expect(head.byteLength).toBe(35 * 4);
      expect(head).toEqual(formulaRange(70, 35));
    } finally {
      await source.close();
    }
  });

  it('reports a missing file or a directory as not-found, naming the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steve-'));
    await expectInputError(makeFileSource(join(dir, 'missing.npy')), 'not-found', new RegExp(`^${dir}/missing\\.npy: no such file$`));
    await expectInputError(makeFileSource(dir), 'not-found', /is (a directory|not a regular file)/);
    writeFileSync(join(dir, 'junk.npy'), 'junk');
    const junk = await makeFileSource(join(dir, 'junk.npy'));
    await expectInputError(openAttention(junk), 'bad-header', /junk\.npy: not a supported attention file/);
    await junk.close();
  });
});

describe('isSoftmaxed', () => {
  it('accepts numpy softmax output in float32 and float16 with the tolerance for the dtype', async () => {
    for (const name of ['softmax_f4.npy', 'softmax_f2.npy']) {
      const attention = await openAttention(fixtureSource(name));
      const { rows, cols } = attention.shape;
      for (let layer = 0; layer < 2; layer++) {
        for (let head = 0; head < 2; head++) {
          expect(isSoftmaxed(await attention.readHead(layer, head), rows, cols, softmaxTolerance(attention.dtype))).toBe(true);
          expect(await isHeadSoftmaxed(attention, { layer, head })).toBe(true);
        }
      }
    }
  });

  it('reads a map of logits no further than its first row, and finds a failing row past the first block of rows', async () => {
    const [rows, cols] = [600, 3];
    const npy = (values: Float32Array, heads: number) =>
      makeNpy(`{'descr': '<f4', 'fortran_order': False, 'shape': (1, ${heads}, ${rows}, ${cols}), }`, new Uint8Array(values.buffer));
    // Head 0 softmaxed; head 1 too but for its last row.
    const probabilities = new Float32Array(2 * rows * cols).fill(1 / 3);
    probabilities[(2 * rows - 1) * cols] = 0.5;
    const softmaxed = await openAttention(makeMemorySource('p.npy', npy(probabilities, 2)));
    expect(await isHeadSoftmaxed(softmaxed, { head: 0 })).toBe(true);
    expect(await isHeadSoftmaxed(softmaxed, { head: 1 })).toBe(false);
    const logits = countingSource(makeMemorySource('l.npy', npy(new Float32Array(rows * cols).fill(-1), 1)));
    const attention = await openAttention(logits);
    const before = logits.bytesRead();
    expect(await isHeadSoftmaxed(attention)).toBe(false);
    expect(logits.bytesRead() - before).toBe(cols * 4);
    // A map that does not exist is still refused with the reader's sentence.
    await expectInputError(isHeadSoftmaxed(attention, { head: 1 }), 'out-of-range', /head 1 does not exist/);
  });

  it('rejects float16 softmax output under the float32 tolerance, and maps that are not softmaxed', async () => {
    const f2 = await openAttention(fixtureSource('softmax_f2.npy'));
    const verdicts = await Promise.all([0, 1].map((head) => isHeadSoftmaxed(f2, { layer: 0, head, tolerance: 1e-6 })));
    expect(verdicts).toContain(false);
    expect(await isHeadSoftmaxed(await openAttention(fixtureSource('steve5d_f4_le.npy')))).toBe(false);
    expect(isSoftmaxed(Float32Array.of(0.5, 0.5, 1.5, -0.5), 2, 2, 1e-4)).toBe(false); // sums to 1 but negative
    expect(isSoftmaxed(Float32Array.of(0.5, 0.5, NaN, 1), 2, 2, 1e-4)).toBe(false);
    expect(isSoftmaxed(Float32Array.of(0.5, 0.5, 0.25, 0.75), 2, 2, 1e-4)).toBe(true);
    expect(isSoftmaxed(Float32Array.of(0.5, 0.5, 0.25), 2, 2, 1e-4)).toBe(false);
  });

  it('uses 1e-4 for float32/float64, 1e-3 for float16 and 4e-3 for bfloat16', () => {
    expect([softmaxTolerance('float32'), softmaxTolerance('float64'), softmaxTolerance('float16'), softmaxTolerance('bfloat16')]).toEqual([1e-4, 1e-4, 1e-3, 4e-3]);
  });
});

describe('computeMapStats', () => {
  it('skips and counts NaN and Inf', async () => {
    const map = await (await openAttention(fixtureSource('nonfinite_f4.npy'))).readHead(0, 0);
    const finite = Array.from(formulaRange(0, 12)).filter((_, i) => ![1, 6, 11].includes(i));
    const stats = computeMapStats(map);
    expect(stats.nonFinite).toBe(3);
    expect(stats.min).toBe(Math.min(...finite));
    expect(stats.max).toBe(Math.max(...finite));
    expect(stats.mean).toBeCloseTo(finite.reduce((a, b) => a + b, 0) / finite.length, 12);
  });

  it('gives NaN statistics when nothing is finite', () => {
    expect(computeMapStats(Float32Array.of(NaN, Infinity))).toEqual({ min: NaN, max: NaN, mean: NaN, nonFinite: 2 });
    expect(computeMapStats(new Float32Array(0))).toEqual({ min: NaN, max: NaN, mean: NaN, nonFinite: 0 });
  });
});

describe(withReadProgress.name, () => {
  it('reports the bytes read so far against the file size, slice by slice', async () => {
    const seen: [number, number, string][] = [];
    const source = withReadProgress(makeMemorySource('big.npy', new Uint8Array(1000)), (read, total, name) => seen.push([read, total, name]));
    await source.read(0, 100);
    await source.read(500, 250);
    expect(seen).toEqual([
      [100, 1000, 'big.npy'],
      [350, 1000, 'big.npy'],
    ]);
  });
});
