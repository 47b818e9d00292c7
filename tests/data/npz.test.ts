import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { openNpz } from '../../src/data/npz.ts';
import { crc32, listZipEntries } from '../../src/data/zip.ts';
import { countingSource, fixtureBytes, fixtureSource, formulaRange, makeNpy } from '../helpers/tensorFixtures.ts';
import { expectInputError } from '../helpers/inputErrors.ts';

const MAP = 7 * 5;
const STEVE_SHAPE = { layers: 2, heads: 3, rows: 7, cols: 5 };
const STEVE_METADATA = { spf: 320, sampleRate: 16000, model: 'whisper-tiny' };

async function expectSteveValues(name: string): Promise<void> {
  const attention = await openNpz(fixtureSource(name));
  expect(attention.fileName).toBe(name);
  expect(attention.shape).toEqual(STEVE_SHAPE);
  expect(attention.dtype).toBe('float32');
  for (let layer = 0; layer < 2; layer++) {
    for (let head = 0; head < 3; head++) expect(await attention.readHead(layer, head)).toEqual(formulaRange((layer * 3 + head) * MAP, MAP));
    expect(await attention.readLayer(layer)).toEqual(formulaRange(layer * 3 * MAP, 3 * MAP));
  }
}

/** A little-endian float32 .npy of the formula values, for hand-built zips. */
function formulaNpy(dims: number[], start = 0): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  return makeNpy(`{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}), }`, new Uint8Array(formulaRange(start, count).buffer));
}

describe('openNpz', () => {
  it.each(['npz_stacked.npz', 'npz_stacked_compressed.npz', 'npz_zip64.npz', 'npz_comment.npz'])('reads the stacked array of %s', async (name) => {
    await expectSteveValues(name);
  });

  it('turns spf, sample_rate and model arrays into metadata', async () => {
    expect((await openNpz(fixtureSource('npz_stacked.npz'))).metadata).toEqual(STEVE_METADATA);
    expect((await openNpz(fixtureSource('npz_stacked_compressed.npz'))).metadata).toEqual(STEVE_METADATA);
    expect((await openNpz(fixtureSource('npz_zip64.npz'))).metadata).toEqual({ spf: 320 });
  });

  it('reads zip64 central directory records', async () => {
    const entries = await listZipEntries(fixtureSource('npz_zip64.npz'));
    expect(entries.map((e) => e.name)).toEqual(['attention.npy', 'spf.npy']);
    expect(entries[0]).toMatchObject({ method: 0, compressedSize: 968, uncompressedSize: 968, localHeaderOffset: 0 });
  });

  it('stacks per-layer arrays written by np.savez(path, *layers)', async () => {
    await expectSteveValues('npz_layers.npz');
    expect((await openNpz(fixtureSource('npz_layers.npz'))).metadata).toEqual({ spf: 320 });
  });

  it('stacks twelve compressed float16 layers in numeric order (layer_2 before layer_10)', async () => {
    const attention = await openNpz(fixtureSource('npz_layers12_compressed.npz'));
    expect(attention.shape).toEqual({ layers: 12, heads: 2, rows: 3, cols: 4 });
    expect(attention.dtype).toBe('float16');
    expect(attention.metadata).toEqual({ sampleRate: 16000 });
    for (let layer = 0; layer < 12; layer++) {
      for (let head = 0; head < 2; head++) expect(await attention.readHead(layer, head)).toEqual(formulaRange((layer * 2 + head) * 12, 12));
    }
  });

  it('reads one map of a stored entry straight from the file', async () => {
    const source = countingSource(fixtureSource('npz_layers.npz'));
    const attention = await openNpz(source);
    const before = source.bytesRead();
    await attention.readHead(1, 2);
    expect(source.bytesRead() - before).toBe(MAP * 4);
  });

  it('keeps only the most recently inflated entry of a compressed file', async () => {
    // Layers of 4 x 64 x 80 float32 (80 KB): bigger than the 64 KiB read to find each .npy header, so a
    // late head needs the whole entry inflated.
    const layerDims = [4, 64, 80];
    const layerSize = 4 * 64 * 80;
    const files = Object.fromEntries([0, 1, 2].map((l) => [`layer_${l}.npy`, formulaNpy(layerDims, l * layerSize)]));
    const source = countingSource(makeMemorySource('big.npz', zipSync(files, { level: 6 })));
    const attention = await openNpz(source);
    const reads = [source.bytesRead()];
    const readAndCount = async (layer: number): Promise<number> => {
      expect(await attention.readHead(layer, 3)).toEqual(formulaRange(layer * layerSize + 3 * 64 * 80, 64 * 80));
      reads.push(source.bytesRead());
      return reads.at(-1)! - reads.at(-2)!;
    };
    expect(await readAndCount(1)).toBeGreaterThan(0); // inflated
    expect(await readAndCount(1)).toBe(0); // same entry: from the cache
    expect(await readAndCount(2)).toBeGreaterThan(0); // another entry replaces it
    expect(await readAndCount(1)).toBeGreaterThan(0); // so layer 1 is inflated again
  });

  it('reads zips written by another writer (fflate), stored and deflated', async () => {
    for (const level of [0, 6] as const) {
      const zip = zipSync({ 'layer_0.npy': formulaNpy([3, 7, 5]), 'layer_1.npy': formulaNpy([3, 7, 5], 3 * MAP) }, { level });
      const attention = await openNpz(makeMemorySource('fflate.npz', zip));
      expect(attention.shape).toEqual(STEVE_SHAPE);
      expect(await attention.readLayer(1)).toEqual(formulaRange(3 * MAP, 3 * MAP));
    }
  });

  it('detects corrupt compressed data through the CRC-32', async () => {
    const zip = zipSync({ 'attention.npy': formulaNpy([2, 3, 7, 5]) }, { level: 6 });
    const entries = await listZipEntries(makeMemorySource('crc.npz', zip));
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    const directory = zip.length - 22 - (46 + 'attention.npy'.length);
    expect(view.getUint32(directory + 16, true)).toBe(entries[0].crc32);
    view.setUint32(directory + 16, entries[0].crc32 ^ 1, true);
    // The entry is small enough to be inflated whole (and checked) when its header is read.
    await expectInputError(openNpz(makeMemorySource('crc.npz', zip)), 'bad-header', /^crc\.npz \(entry attention\.npy\): .*fails its CRC-32 check/);
  });

  it('computes the zip CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('refuses an uncompressed size that deflate cannot produce, before inflating', async () => {
    const zip = zipSync({ 'attention.npy': formulaNpy([2, 3, 7, 5]) }, { level: 6 });
    const directory = zip.length - 22 - (46 + 'attention.npy'.length);
    new DataView(zip.buffer).setUint32(directory + 24, 0xfffffff0, true);
    await expectInputError(openNpz(makeMemorySource('bomb.npz', zip)), 'bad-header', /^bomb\.npz: zip entry 'attention\.npy' claims 4294967280 bytes uncompressed from \d+ compressed bytes, more than deflate can produce$/);
  });

  it('refuses per-layer arrays of different shapes, naming both', async () => {
    await expectInputError(openNpz(fixtureSource('npz_mismatch.npz')), 'unsupported-layout', /^npz_mismatch\.npz: per-layer arrays must all have the same shape: 'layer_0' is \(3, 7, 5\) but 'layer_1' is \(3, 7, 4\)$/);
  });

  it('refuses several arrays whose names do not end in a layer number', async () => {
    await expectInputError(openNpz(fixtureSource('npz_badnames.npz')), 'unsupported-layout', /^npz_badnames\.npz: found 2 attention arrays, .* but 'query', 'key' does not end in a layer number/);
  });

  it('refuses a zip without attention, a cut-off zip and a non-zip', async () => {
    const onlySpf = zipSync({ 'spf.npy': makeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", new Uint8Array(new Float64Array([320]).buffer)) });
    await expectInputError(openNpz(makeMemorySource('meta.npz', onlySpf)), 'unsupported-layout', /^meta\.npz: \.npz holds no attention array, only 'spf'$/);
    const cut = fixtureBytes('npz_stacked.npz').subarray(0, 1000);
    await expectInputError(openNpz(makeMemorySource('cut.npz', cut)), 'bad-header', /^cut\.npz: not a complete zip \(\.npz\) file: no end-of-central-directory record/);
  });

  it('refuses a metadata value that is not a positive number', async () => {
    const spf = makeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", new Uint8Array(new Float64Array([-1]).buffer));
    const zip = zipSync({ 'attention.npy': formulaNpy([7, 5]), 'spf.npy': spf });
    await expectInputError(openNpz(makeMemorySource('neg.npz', zip)), 'bad-header', /^neg\.npz: array 'spf' holds -1; expected a positive number$/);
  });

  it('names the entry when its .npy header is bad', async () => {
    const zip = zipSync({ 'attention.npy': makeNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (7, 5), }", new Uint8Array(140)) });
    await expectInputError(openNpz(makeMemorySource('int.npz', zip)), 'unsupported-dtype', /^int\.npz \(entry attention\.npy\): unsupported dtype '<i4' \(int32\)/);
  });
});
