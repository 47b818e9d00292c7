import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { InputError } from '../../src/data/inputError.ts';
import { openNpy, parseNpyDescr, parseNpyHeader, readNpyScalar } from '../../src/data/npy.ts';
import {
  countingSource,
  fixtureBytes,
  fixtureReference,
  fixtureSource,
  formulaRange,
  makeNpy,
} from '../helpers/tensorFixtures.ts';
import { expectInputError } from '../helpers/inputErrors.ts';

const STEVE_SHAPE = { layers: 2, heads: 3, rows: 7, cols: 5 };
const MAP = 7 * 5;

/** Expects `promise` to reject with an InputError of `kind` whose message matches `message`. */

describe('parseNpyHeader', () => {
  it('parses the header numpy writes for a 5-d float32 array', () => {
    const header = parseNpyHeader(fixtureBytes('steve5d_f4_le.npy'), 'steve5d_f4_le.npy');
    expect(header).toEqual({ version: [1, 0], descr: '<f4', fortranOrder: false, shape: [2, 1, 3, 7, 5], dataOffset: 128 });
  });

  it.each([
    ['v2_f4.npy', 2],
    ['v3_f4.npy', 3],
  ])('reads format version %s', (name, major) => {
    const header = parseNpyHeader(fixtureBytes(name), name);
    expect(header.version).toEqual([major, 0]);
    expect(header.shape).toEqual([2, 1, 3, 7, 5]);
    expect(header.dataOffset % 64).toBe(0);
  });

  it('decodes a version 3.0 header as UTF-8 (a non-latin-1 field name reaches the dtype check)', () => {
    const bytes = makeNpy("{'descr': [('注意', '<f4')], 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8), 3);
    expect(() => parseNpyHeader(bytes, 'utf8.npy')).toThrow(/utf8\.npy: .*structured/);
  });

  it('refuses invalid UTF-8 in a version 3.0 header', () => {
    const bytes = makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8), 3);
    bytes[14] = 0xff;
    expect(() => parseNpyHeader(bytes, 'bad3.npy')).toThrow(/bad3\.npy: .*not valid UTF-8/);
  });

  it.each([
    ['bad magic', Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58, 1, 0, 0, 0), 'bad-header', /x\.npy: not a \.npy file: expected the magic bytes \\x93NUMPY, found \\x93\\x4e\\x55\\x4d\\x50\\x58/],
    ['version 4.0', makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4), 4), 'bad-header', /x\.npy: unsupported \.npy format version 4\.0; expected 1\.0, 2\.0 or 3\.0/],
    ['a header longer than the bytes', makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }").subarray(0, 40), 'truncated', /x\.npy: file ends inside the \.npy header: the header needs 128 bytes, the file has 40/],
    ['a preamble cut short', Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1), 'truncated', /x\.npy: file ends inside the \.npy preamble/],
    ['a malformed dict', makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1}"), 'bad-header', /x\.npy: \.npy header is not a valid Python literal: expected ',' or '\)' at character 52, found "}/],
    ['a float in the shape', makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }"), 'bad-header', /x\.npy: \.npy header is not a valid Python literal/],
    ['a missing key', makeNpy("{'descr': '<f4', 'shape': (1,), }"), 'bad-header', /x\.npy: \.npy header must have exactly the keys descr, fortran_order, shape; found 'descr', 'shape'/],
    ['a negative dimension', makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }"), 'bad-header', /x\.npy: shape \(-1, 3\) has a dimension that is not a non-negative integer/],
    ['deep nesting', makeNpy(`{'descr': ${'('.repeat(200)}`), 'bad-header', /x\.npy: .*nests more than 32 levels of brackets at character \d+/],
  ] as const)('refuses %s', (_, bytes, kind, message) => {
    let error: unknown;
    try {
      parseNpyHeader(bytes, 'x.npy');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).kind).toBe(kind);
    expect((error as InputError).message).toMatch(message);
  });
});

describe('parseNpyDescr', () => {
  it.each([
    ['<f4', { kind: 'float', itemSize: 4, littleEndian: true }],
    ['>f2', { kind: 'float', itemSize: 2, littleEndian: false }],
    ['=f8', { kind: 'float', itemSize: 8, littleEndian: true }],
    ['<U12', { kind: 'unicode', itemSize: 48, littleEndian: true }],
    ['|S5', { kind: 'bytes', itemSize: 5, littleEndian: true }],
  ])('reads %s', (descr, expected) => {
    expect(parseNpyDescr(descr, 'x.npy')).toEqual(expected);
  });

  it('names an unknown dtype', () => {
    expect(() => parseNpyDescr('<c8', 'x.npy')).toThrow(/x\.npy: unsupported dtype '<c8'; expected float16, float32 or float64/);
  });
});

describe('openNpy', () => {
  it.each(['steve5d_f2_le.npy', 'steve5d_f2_be.npy', 'steve5d_f4_le.npy', 'steve5d_f4_be.npy', 'steve5d_f8_le.npy', 'steve5d_f8_be.npy', 'v2_f4.npy', 'v3_f4.npy'])(
    'reads every head and layer of %s exactly',
    async (name) => {
      const attention = await openNpy(fixtureSource(name));
      expect(attention.fileName).toBe(name);
      expect(attention.shape).toEqual(STEVE_SHAPE);
      expect(attention.dtype).toBe({ f2: 'float16', f4: 'float32', f8: 'float64' }[/_(f\d)/.exec(name.replace('steve5d', ''))?.[1] ?? 'f4']);
      expect(attention.metadata).toEqual({});
      for (let layer = 0; layer < 2; layer++) {
        for (let head = 0; head < 3; head++) {
          expect(await attention.readHead(layer, head)).toEqual(formulaRange((layer * 3 + head) * MAP, MAP));
        }
        expect(await attention.readLayer(layer)).toEqual(formulaRange(layer * 3 * MAP, 3 * MAP));
      }
    },
  );

  it.each([
    ['layout4d_f4.npy', { layers: 2, heads: 3, rows: 7, cols: 5 }],
    ['layout3d_f4.npy', { layers: 1, heads: 3, rows: 7, cols: 5 }],
    ['layout2d_f4.npy', { layers: 1, heads: 1, rows: 7, cols: 5 }],
    ['native_f4.npy', { layers: 1, heads: 3, rows: 7, cols: 5 }],
  ])('normalises the layout of %s', async (name, shape) => {
    const attention = await openNpy(fixtureSource(name));
    expect(attention.shape).toEqual(shape);
    const last = shape.layers * shape.heads - 1;
    expect(await attention.readHead(shape.layers - 1, shape.heads - 1)).toEqual(formulaRange(last * MAP, MAP));
  });

  it('rounds float64 to float32 as numpy does, and widens float16 exactly', async () => {
    const f8 = await openNpy(fixtureSource('random_f8.npy'));
    const f4 = await openNpy(fixtureSource('random_f4.npy'));
    const f2 = await openNpy(fixtureSource('random_f2.npy'));
    const f2be = await openNpy(fixtureSource('random_f2_be.npy'));
    const widened = await openNpy(fixtureSource('random_f2_as_f4.npy'));
    const sums = fixtureReference().random_head_sums;
    for (let layer = 0; layer < 2; layer++) {
      const expected32 = await f4.readLayer(layer);
      expect(await f8.readLayer(layer)).toEqual(expected32);
      expect(await f2.readLayer(layer)).toEqual(await widened.readLayer(layer));
      expect(await f2be.readLayer(layer)).toEqual(await widened.readLayer(layer));
      for (let head = 0; head < 3; head++) {
        const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);
        expect(sum(await f4.readHead(layer, head))).toBeCloseTo(sums['random_f4.npy'][layer * 3 + head], 10);
        expect(sum(await f2.readHead(layer, head))).toBeCloseTo(sums['random_f2.npy'][layer * 3 + head], 10);
      }
    }
  });

  it('returns a zero-copy view for aligned little-endian float32', async () => {
    const bytes = fixtureBytes('steve5d_f4_le.npy');
    const attention = await openNpy(makeMemorySource('steve5d_f4_le.npy', bytes));
    const head = await attention.readHead(1, 2);
    expect(head.buffer).toBe(bytes.buffer);
    expect(head.byteOffset).toBe(bytes.byteOffset + 128 + (1 * 3 + 2) * MAP * 4);
    expect(head).toEqual(formulaRange(5 * MAP, MAP));
  });

  it('copies when the bytes are not 4-byte aligned, and converts big-endian data', async () => {
    const file = fixtureBytes('steve5d_f4_le.npy');
    const shifted = new Uint8Array(file.length + 1).subarray(1);
    shifted.set(file);
    const unaligned = await (await openNpy(makeMemorySource('u.npy', shifted))).readHead(0, 1);
    expect(unaligned.buffer).not.toBe(shifted.buffer);
    expect(unaligned).toEqual(formulaRange(MAP, MAP));
    const bigEndian = fixtureBytes('steve5d_f4_be.npy');
    const converted = await (await openNpy(makeMemorySource('be.npy', bigEndian))).readHead(0, 1);
    expect(converted.buffer).not.toBe(bigEndian.buffer);
  });

  it('reads the header and then only the requested map', async () => {
    const [layers, heads, rows, cols] = [4, 4, 64, 64];
    const data = new Float32Array(layers * heads * rows * cols).map((_, i) => i);
    const bytes = makeNpy(`{'descr': '<f4', 'fortran_order': False, 'shape': (${layers}, 1, ${heads}, ${rows}, ${cols}), }`, new Uint8Array(data.buffer));
    const source = countingSource(makeMemorySource('big.npy', bytes));
    const attention = await openNpy(source);
    const headerBytes = source.bytesRead();
    expect(headerBytes).toBeLessThanOrEqual(12 + 128);
    const map = await attention.readHead(2, 3);
    expect(source.bytesRead() - headerBytes).toBe(rows * cols * 4);
    expect(source.reads.at(-1)).toEqual({ offset: 128 + (2 * heads + 3) * rows * cols * 4, length: rows * cols * 4 });
    expect(map[0]).toBe((2 * heads + 3) * rows * cols);
    expect(source.bytesRead()).toBeLessThan(bytes.length / 10);
  });

  it('refuses a header that claims a 5.8 GB tensor on a small file before allocating anything', async () => {
    const bytes = makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (32, 1, 20, 1500, 1500), }", new Uint8Array(1024));
    const source = countingSource(makeMemorySource('whisper_large.npy', bytes));
    await expectInputError(openNpy(source), 'truncated', /^whisper_large\.npy: header declares 5760000000 bytes of data \(shape \(32, 1, 20, 1500, 1500\), dtype '<f4'\) but the file has 1024 after the header$/);
    expect(Math.max(...source.reads.map((r) => r.length))).toBeLessThanOrEqual(128);
  });

  it('refuses 10^12 elements and counts that overflow', async () => {
    const huge = makeNpy("{'descr': '<f2', 'fortran_order': False, 'shape': (1000000, 1000000), }", new Uint8Array(64));
    await expectInputError(openNpy(makeMemorySource('huge.npy', huge)), 'truncated', /huge\.npy: header declares 2000000000000 bytes of data/);
    const overflow = makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }");
    await expectInputError(openNpy(makeMemorySource('overflow.npy', overflow)), 'unsupported-layout', /overflow\.npy: shape \(4294967296, 4294967296\) has more than 9007199254740991 elements/);
  });

  it('refuses truncated data, naming what was declared and what is there', async () => {
    const bytes = fixtureBytes('steve5d_f4_le.npy').subarray(0, 900);
    await expectInputError(openNpy(makeMemorySource('cut.npy', bytes)), 'truncated', /cut\.npy: header declares 840 bytes of data .* but the file has 772 after the header/);
  });

  it('refuses Fortran order and says to save with np.ascontiguousarray', async () => {
    await expectInputError(openNpy(fixtureSource('fortran_f4.npy')), 'unsupported-layout', /fortran_f4\.npy: .*Fortran \(column-major\) order; .*np\.ascontiguousarray/);
  });

  it('refuses integer data, naming the dtype', async () => {
    await expectInputError(openNpy(fixtureSource('int32.npy')), 'unsupported-dtype', /int32\.npy: unsupported dtype '<i4' \(int32\); attention must be float16, float32 or float64/);
  });

  it('refuses a batch of more than one utterance and a rank-6 array', async () => {
    await expectInputError(openNpy(fixtureSource('batch2_f4.npy')), 'unsupported-layout', /batch2_f4\.npy: shape \(2, 2, 3, 7, 5\) has batch size 2 .*one utterance/);
    await expectInputError(openNpy(fixtureSource('rank6_f4.npy')), 'unsupported-layout', /rank6_f4\.npy: expected an attention tensor shaped .*; found shape \(1, 1, 1, 2, 7, 5\) of rank 6/);
  });

  it('refuses heads and layers outside the tensor', async () => {
    const attention = await openNpy(fixtureSource('steve5d_f4_le.npy'));
    await expectInputError(attention.readHead(2, 0), 'out-of-range', /steve5d_f4_le\.npy: layer 2 does not exist: the tensor has 2 layers/);
    await expectInputError(attention.readHead(0, 3), 'out-of-range', /head 3 does not exist: the tensor has 3 heads/);
    await expectInputError(attention.readLayer(-1), 'out-of-range', /layer -1 does not exist/);
  });

  it('turns a failing source read into an InputError', async () => {
    const inner = fixtureSource('steve5d_f4_le.npy');
    // Header reads (at offset 0) work; the data read fails as a disk error would.
    const flaky = { ...inner, read: (offset: number, length: number) => (offset === 0 ? inner.read(offset, length) : Promise.reject(new Error('EIO: disk gone'))) };
    const attention = await openNpy(flaky);
    await expectInputError(attention.readHead(0, 0), 'truncated', /^steve5d_f4_le\.npy: layer 0 head 0: reading 140 bytes at offset 128 failed \(EIO: disk gone\)$/);
  });
});

describe('readNpyScalar', () => {
  it('reads numbers and strings', async () => {
    const f8 = new Uint8Array(new Float64Array([320.5]).buffer);
    expect(await readNpyScalar(makeMemorySource('s.npy', makeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", f8)))).toBe(320.5);
    const i8 = new Uint8Array(new BigInt64Array([16000n]).buffer);
    expect(await readNpyScalar(makeMemorySource('s.npy', makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", i8)))).toBe(16000);
    const u = new Uint8Array(new Uint32Array([...'tiny'].map((c) => c.codePointAt(0) as number).concat([0, 0])).buffer);
    expect(await readNpyScalar(makeMemorySource('s.npy', makeNpy("{'descr': '<U6', 'fortran_order': False, 'shape': (), }", u)))).toBe('tiny');
  });

  it('refuses arrays of more than one value', async () => {
    await expectInputError(readNpyScalar(fixtureSource('layout2d_f4.npy')), 'bad-header', /layout2d_f4\.npy: expected a single value, found an array of shape \(7, 5\)/);
  });
});
