/**
 * Raw-bytes reads (AttentionSource.stored, ByteSource.readInto): the stored bytes of any run of values, decoded in JS,
 * are the values readLayer gives, for every fixture layout, dtype, byte order and container; file, memory and Blob
 * sources fill the caller's memory alike; bad ranges fail with the file's name.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeBlobSource, makeMemorySource, withReadProgress } from '../../src/data/byteSource.ts';
import { ELEMENT_BYTES, decodeElements } from '../../src/data/elements.ts';
import { openAttention } from '../../src/data/openAttention.ts';
import { makeFileSource } from '../../src/node/fileSource.ts';
import { expectInputError } from '../helpers/inputErrors.ts';
import { fixtureBytes, fixtureSource, makeSafetensors } from '../helpers/tensorFixtures.ts';

const FIXTURES = [
  'steve5d_f2_le.npy',
  'steve5d_f2_be.npy',
  'steve5d_f4_le.npy',
  'steve5d_f4_be.npy',
  'steve5d_f8_le.npy',
  'layout2d_f4.npy',
  'layout3d_f4.npy',
  'layout4d_f4.npy',
  'v2_f4.npy',
  'v3_f4.npy',
  'random_f2.npy',
  'npz_stacked.npz',
  'npz_layers.npz',
  'npz_stacked_compressed.npz',
  'npz_layers12_compressed.npz',
  'npz_zip64.npz',
  'st_stacked_bf16.safetensors',
  'st_stacked_f16.safetensors',
  'st_stacked_f32.safetensors',
  'st_stacked_f64.safetensors',
  'st_layers12_f16.safetensors',
];

describe('AttentionSource.stored', () => {
  it.each(FIXTURES)('%s: stored bytes of every layer, whole and in odd pieces, decode to readLayer', async (name) => {
    const attention = await openAttention(fixtureSource(name));
    const stored = attention.stored!;
    expect(stored.dtype).toBe(attention.dtype);
    const elementBytes = ELEMENT_BYTES[stored.dtype];
    const layerValues = attention.shape.heads * attention.shape.rows * attention.shape.cols;
    for (let layer = 0; layer < attention.shape.layers; layer++) {
      const expected = await attention.readLayer(layer);
      const whole = new Uint8Array(layerValues * elementBytes);
      await stored.readInto(layer, 0, whole);
      expect(decodeElements(whole, stored)).toEqual(expected);
      // Pieces of 3 values at odd byte offsets of the target, as an upload's pieces would be.
      const backing = new Uint8Array(layerValues * elementBytes + 1);
      for (let first = 0; first < layerValues; first += 3) {
        const count = Math.min(3, layerValues - first);
        await stored.readInto(layer, first, backing.subarray(1 + first * elementBytes, 1 + (first + count) * elementBytes));
      }
      expect(decodeElements(backing.subarray(1), stored)).toEqual(expected);
    }
  });

  it('refuses values outside the layer and layers that do not exist, naming the file', async () => {
    const attention = await openAttention(fixtureSource('steve5d_f4_le.npy'));
    const layerValues = attention.shape.heads * attention.shape.rows * attention.shape.cols;
    await expectInputError(attention.stored!.readInto(0, layerValues - 1, new Uint8Array(8)), 'out-of-range', /steve5d_f4_le\.npy.*do not exist/);
    await expectInputError(attention.stored!.readInto(0, 0, new Uint8Array(6)), 'out-of-range', /do not exist/);
    await expectInputError(attention.stored!.readInto(2, 0, new Uint8Array(4)), 'out-of-range', /layer 2 does not exist/);
  });

  it('safetensors layers at data offsets that are not 4-byte aligned read into aligned memory', async () => {
    // Two per-layer float16 tensors of 3 values: layer 1 starts 6 bytes into the data, 2 bytes past a 4-byte boundary.
    const halves = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000]);
    const values = [1, -2, 0.5, 65504, 2 ** -24, -0];
    const bytes = makeSafetensors(
      { layer_0: { dtype: 'F16', shape: [1, 3], data_offsets: [0, 6] }, layer_1: { dtype: 'F16', shape: [1, 3], data_offsets: [6, 12] } },
      new Uint8Array(halves.buffer),
    );
    const attention = await openAttention(makeMemorySource('odd.safetensors', bytes));
    for (const layer of [0, 1]) {
      const target = new Uint8Array(6);
      await attention.stored!.readInto(layer, 0, target);
      expect([...new Uint16Array(target.buffer)]).toEqual([...halves.subarray(3 * layer, 3 * layer + 3)]);
      expect([...(await attention.readLayer(layer))]).toEqual(values.slice(3 * layer, 3 * layer + 3));
    }
  });
});

describe('ByteSource.readInto', () => {
  const bytes = fixtureBytes('steve5d_f4_le.npy') as Uint8Array<ArrayBuffer>;

  it('file, memory and Blob sources (both read modes) fill the target with the bytes read() gives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steve-readinto-'));
    writeFileSync(join(dir, 'a.npy'), bytes);
    const file = await makeFileSource(join(dir, 'a.npy'));
    try {
      const sources = [file, makeMemorySource('m', bytes), makeBlobSource(new Blob([bytes]), 'b'), makeBlobSource(new Blob([bytes]), 's', 'stream')];
      for (const source of sources) {
        for (const [offset, length] of [[0, bytes.length], [3, 101], [bytes.length - 7, 7], [5, 0]]) {
          const target = new Uint8Array(length);
          await source.readInto!(offset, target);
          expect(target).toEqual(bytes.subarray(offset, offset + length));
        }
        await expect(source.readInto!(bytes.length - 3, new Uint8Array(4))).rejects.toThrow(/runs past the end/);
      }
    } finally {
      await file.close();
    }
  });

  it('a file read larger than one parallel piece comes back whole and in order', async () => {
    const big = new Uint8Array((8 << 20) + 12345).map((_, index) => (index * 7919) >>> 5);
    const dir = mkdtempSync(join(tmpdir(), 'steve-readinto-'));
    writeFileSync(join(dir, 'big.bin'), big);
    const file = await makeFileSource(join(dir, 'big.bin'));
    try {
      const target = new Uint8Array(big.length - 11);
      await file.readInto!(11, target);
      expect(Buffer.compare(target, big.subarray(11))).toBe(0);
    } finally {
      await file.close();
    }
  });

  it('withReadProgress hears readInto reads', async () => {
    const heard: number[] = [];
    const source = withReadProgress(makeMemorySource('m', bytes), (read) => heard.push(read));
    await source.readInto!(0, new Uint8Array(10));
    await source.readInto!(10, new Uint8Array(5));
    expect(heard).toEqual([10, 15]);
  });
});
