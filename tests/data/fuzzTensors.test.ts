/**
 * Property-based fuzzing of the attention readers: whatever the bytes, opening a file and reading from it either
 * succeeds or fails with an InputError, never another exception, and never hangs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { InputError } from '../../src/data/inputError.ts';
import { openAttention } from '../../src/data/openAttention.ts';
import { fixtureBytes, makeNpy, makeSafetensors } from '../helpers/tensorFixtures.ts';

const FIXTURES = [
  'steve5d_f4_le.npy',
  'steve5d_f2_be.npy',
  'v3_f4.npy',
  'npz_stacked.npz',
  'npz_stacked_compressed.npz',
  'npz_layers.npz',
  'npz_layers12_compressed.npz',
  'npz_zip64.npz',
  'npz_comment.npz',
  'st_stacked_bf16.safetensors',
  'st_layers12_f16.safetensors',
];
const FIXTURE_BYTES = new Map(FIXTURES.map((name) => [name, fixtureBytes(name)]));

// A run that takes longer than this is a hang for files of a few KB.
const RUN_TIMEOUT_MS = 2000;

type Outcome = 'ok' | 'input-error';

/** Opens `bytes`, reads the first head and the last layer; returns how it ended, or rethrows a non-InputError. */
async function outcome(name: string, bytes: Uint8Array): Promise<Outcome> {
  const attempt = (async (): Promise<Outcome> => {
    try {
      const attention = await openAttention(makeMemorySource(name, bytes));
      await attention.readHead(0, 0);
      await attention.readLayer(attention.shape.layers - 1);
      return 'ok';
    } catch (error) {
      if (error instanceof InputError) {
        expect(error.message.startsWith(name)).toBe(true);
        return 'input-error';
      }
      throw error;
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no result after ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Applies byte edits (positions taken modulo the length) and an optional truncation. */
function corrupt(bytes: Uint8Array, edits: readonly { at: number; value: number }[], keep: number | null): Uint8Array {
  const out = bytes.slice();
  for (const { at, value } of edits) if (out.length > 0) out[at % out.length] = value;
  return keep === null ? out : out.subarray(0, keep % (out.length + 1));
}

const MAGICS = [
  Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0),
  Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 3, 0),
  Uint8Array.of(0x50, 0x4b, 0x03, 0x04),
  Uint8Array.of(0x50, 0x4b, 0x05, 0x06),
];

describe('fuzzing the attention readers', () => {
  it('random bytes give success or an InputError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
        await outcome('random.bin', bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes behind a real magic number give success or an InputError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...MAGICS), fc.uint8Array({ maxLength: 400 }), async (magic, tail) => {
        const bytes = new Uint8Array(magic.length + tail.length);
        bytes.set(magic);
        bytes.set(tail, magic.length);
        await outcome('magic.bin', bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('corrupted and truncated fixtures give success or an InputError', async () => {
    const edit = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIXTURES), fc.array(edit, { maxLength: 6 }), fc.option(fc.nat(), { nil: null }), async (name, edits, keep) => {
        await outcome(name, corrupt(FIXTURE_BYTES.get(name) as Uint8Array, edits, keep));
      }),
      { numRuns: 500 },
    );
  });

  it('corruptions aimed at the headers give success or an InputError', async () => {
    // Most random edits land in the data; these hit the first 160 bytes (npy/safetensors headers, the first
    // zip local header) and the last 200 (the zip directory), where the parsing happens.
    const edit = fc.record({ at: fc.integer({ min: -200, max: 159 }), value: fc.integer({ min: 0, max: 255 }) });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIXTURES), fc.array(edit, { minLength: 1, maxLength: 4 }), async (name, edits) => {
        const bytes = FIXTURE_BYTES.get(name) as Uint8Array;
        await outcome(name, corrupt(bytes, edits.map(({ at, value }) => ({ at: at < 0 ? bytes.length + at : at, value })), null));
      }),
      { numRuns: 500 },
    );
  });

  it('random .npy headers and safetensors headers give success or an InputError', async () => {
    const dims = fc.array(fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constant(2 ** 40), fc.constant(1500)), { maxLength: 6 });
    const descr = fc.constantFrom('<f4', '>f2', '=f8', '<i4', '|b1', '<U3', '<f16', 'float32', '');
    await fc.assert(
      fc.asyncProperty(dims, descr, fc.boolean(), fc.nat({ max: 2000 }), async (shape, type, fortran, dataBytes) => {
        const dict = `{'descr': '${type}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
        await outcome('gen.npy', makeNpy(dict, new Uint8Array(dataBytes)));
        const header = { attention: { dtype: type.includes('2') ? 'F16' : 'F32', shape, data_offsets: [0, dataBytes] } };
        await outcome('gen.safetensors', makeSafetensors(header, new Uint8Array(dataBytes)));
      }),
      { numRuns: 300 },
    );
  });

  it('every fixture used above opens cleanly when intact', async () => {
    for (const name of FIXTURES) expect(await outcome(name, FIXTURE_BYTES.get(name) as Uint8Array)).toBe('ok');
  });
});
