/**
 * Zip bombs and crafted .npz directories (issue 11, item 3): a member that inflates far past its declared size, one
 * declared larger than the inflate budget, members that overlap, and huge declared sizes, each refused with an
 * InputError while the process's memory stays under a ceiling. The bombs are real: gigabytes of zeros in about a
 * megabyte of deflate data.
 */
import fc from 'fast-check';
import { constants, deflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { InputError } from '../../src/data/inputError.ts';
import { openNpz } from '../../src/data/npz.ts';
import { INFLATE_BUDGET_BYTES, listZipEntries } from '../../src/data/zip.ts';
import { expectInputError } from '../helpers/inputErrors.ts';
import { buildZip, crc32, deflatedZeros, npyOfZeros, zerosInflatedSize } from './zipFixtures.ts';

/** What refusing a bomb may cost: the ceiling, well above a test worker's own few hundred MB. */
const RSS_CEILING_BYTES = 512 << 20;
let peakRss = 0;
let sampler: ReturnType<typeof setInterval> | undefined;

beforeEach(() => {
  peakRss = process.memoryUsage().rss;
  sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 2);
});
afterEach(() => {
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  expect(peakRss, 'peak resident memory').toBeLessThan(RSS_CEILING_BYTES);
});

/** Opens the .npz and reads its first and last layers: how far a viewer or the CLI would go. */
async function openAndRead(name: string, zip: Uint8Array): Promise<void> {
  const attention = await openNpz(makeMemorySource(name, zip));
  await attention.readLayer(0);
  await attention.readLayer(attention.shape.layers - 1);
}

describe('zip bombs', () => {
  it('stops inflating the moment a member passes its declared size (1 GiB of zeros declared as 1000 bytes)', async () => {
    const blocks = 128;
    const data = deflatedZeros(blocks);
    expect(data.length).toBeLessThan(1.1e6);
    expect(zerosInflatedSize(blocks)).toBe(1 << 30);
    const zip = buildZip([{ name: 'attention.npy', method: 8, data, declaredSize: 1000, crc32: 0 }]);
    await expectInputError(openAndRead('bomb.npz', zip), 'bad-header', /^bomb\.npz \(entry attention\.npy\): inflates to more than the 1000 bytes the zip directory declares$/);
  });

  it('says so, and inflates nothing past the header, for a member declared larger than the inflate budget', async () => {
    const header = npyOfZeros([2, 1, 1, 1 << 13, 1 << 14], 0);
    // A full flush ends the header's block on a byte boundary, so the zero blocks may follow it.
    const data = new Uint8Array([...deflateRawSync(header, { finishFlush: constants.Z_FULL_FLUSH }), ...deflatedZeros(129)]);
    const declared = header.length + 2 * (1 << 27) * 4;
    expect(declared).toBeGreaterThan(INFLATE_BUDGET_BYTES);
    const zip = buildZip([{ name: 'attention.npy', method: 8, data, declaredSize: declared, crc32: 0 }]);
    const attention = await openNpz(makeMemorySource('big.npz', zip));
    expect(attention.shape).toMatchObject({ layers: 2, rows: 1 << 13, cols: 1 << 14 });
    await expectInputError(attention.readLayer(0), 'unsupported-layout', new RegExp(`^big\\.npz \\(entry attention\\.npy\\): compressed entry declares ${declared} bytes, more than the ${INFLATE_BUDGET_BYTES} bytes STEVE inflates in memory; save with np\\.savez`));
  });

  it('refuses a member declared larger than deflate can make of its data', async () => {
    const zip = buildZip([{ name: 'attention.npy', method: 8, data: deflatedZeros(1), declaredSize: 0xfffffff0, crc32: 0 }]);
    await expectInputError(openAndRead('huge.npz', zip), 'bad-header', /more than deflate can produce$/);
  });

  it('refuses members that overlap: 200 entries over one member are not inflated 200 times', async () => {
    const member = { name: 'layer_0.npy', method: 8 as const, data: deflatedZeros(1), declaredSize: zerosInflatedSize(1), crc32: 0 };
    const zip = buildZip([member, ...Array.from({ length: 199 }, (_, i) => ({ ...member, name: `layer_${i + 1}.npy`, at: 0 }))]);
    await expectInputError(listZipEntries(makeMemorySource('layers.npz', zip)), 'bad-header', /^layers\.npz: zip entries 'layer_0\.npy' and 'layer_1\.npy' overlap/);
  });

  it('checks the CRC-32 of stored members', async () => {
    const npy = npyOfZeros([3, 4], 48);
    const good = buildZip([{ name: 'attention.npy', method: 0, data: npy, declaredSize: npy.length, crc32: crc32(npy) }]);
    expect((await openNpz(makeMemorySource('good.npz', good))).shape).toMatchObject({ rows: 3, cols: 4 });
    const bad = buildZip([{ name: 'attention.npy', method: 0, data: npy, declaredSize: npy.length, crc32: crc32(npy) ^ 1 }]);
    await expectInputError(openNpz(makeMemorySource('bad.npz', bad)), 'bad-header', /^bad\.npz \(entry attention\.npy\): data fails its CRC-32 check/);
    // A larger member opens on its header alone; its CRC is checked before its data is first used.
    const layer = npyOfZeros([1, 1, 1, 128, 256], 128 * 256 * 4);
    const large = buildZip([{ name: 'attention.npy', method: 0, data: layer, declaredSize: layer.length, crc32: crc32(layer) ^ 1 }]);
    const attention = await openNpz(makeMemorySource('large.npz', large));
    await expectInputError(attention.readLayer(0), 'bad-header', /^large\.npz \(entry attention\.npy\): data fails its CRC-32 check/);
    // The raw-bytes read the GPU upload uses is checked too.
    const again = await openNpz(makeMemorySource('large.npz', large));
    await expectInputError(again.stored!.readInto(0, 0, new Uint8Array(1024)), 'bad-header', /^large\.npz \(entry attention\.npy\): data fails its CRC-32 check/);
  });
});

describe('zip directories, fuzzed', () => {
  /** Whatever happens must be success or an InputError naming the file. */
  async function survives(name: string, run: () => Promise<unknown>): Promise<'ok' | 'refused'> {
    try {
      await run();
      return 'ok';
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      expect(error.message.startsWith(name)).toBe(true);
      expect(error.message.length).toBeLessThan(1600);
      return 'refused';
    }
  }

  it('huge declared sizes over real deflate bombs: success or an InputError, memory bounded', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 16 }), fc.nat({ max: 0xffffffff }), fc.boolean(), async (blocks, declaredSize, npyHeader) => {
        const body = deflatedZeros(blocks);
        const data = npyHeader ? new Uint8Array([...deflateRawSync(npyOfZeros([4, 1 << 10, 1 << 10], 0), { finishFlush: constants.Z_FULL_FLUSH }), ...body]) : body;
        const zip = buildZip([{ name: 'attention.npy', method: 8, data, declaredSize, crc32: 0 }]);
        await survives('fuzz.npz', () => openAndRead('fuzz.npz', zip));
      }),
      { numRuns: 40 },
    );
  });

  it('members sharing bytes in any arrangement are refused, never inflated once per entry', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.nat({ max: 50 }), { nil: undefined }), { minLength: 2, maxLength: 60 }), async (pointers) => {
        const members = pointers.map((pointer, i) => ({
          name: `layer_${i}.npy`,
          method: 8 as const,
          data: deflatedZeros(1),
          declaredSize: zerosInflatedSize(1),
          crc32: 0,
          at: i > 0 && pointer !== undefined ? pointer % i : undefined,
        }));
        // Pointers must name a member with data of its own.
        const fixed = members.map((m) => (m.at !== undefined && members[m.at].at !== undefined ? { ...m, at: undefined } : m));
        const shares = fixed.some((m) => m.at !== undefined);
        const outcome = await survives('shared.npz', () => listZipEntries(makeMemorySource('shared.npz', buildZip(fixed))));
        expect(outcome).toBe(shares ? 'refused' : 'ok');
      }),
      { numRuns: 60 },
    );
  });
});
