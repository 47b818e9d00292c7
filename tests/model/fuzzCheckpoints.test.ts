/**
 * Property-based fuzzing of the checkpoint readers: whatever the bytes of data.pkl, config.json or a safetensors
 * header, loading either succeeds or fails with an InputError naming a file, never another exception.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { InputError } from '../../src/data/inputError.ts';
import { openEncoderCheckpoint, selectModelFiles } from '../../src/model/checkpoint.ts';
import { unpickle } from '../../src/model/pytorchBin.ts';
import { MODEL_FIXTURES, folderSources } from './modelFixtures.ts';

const BIN = readFileSync(resolve(MODEL_FIXTURES, 'hubert_bin/pytorch_model.bin'));
const ARCHIVE = unzipSync(BIN);
const DATA_PKL = ARCHIVE['pytorch_model/data.pkl'];
const WEIGHTS = readFileSync(resolve(MODEL_FIXTURES, 'wav2vec2_base/model.safetensors'));

/** Runs `action`; a non-InputError fails the property. */
async function onlyInputErrors(action: () => unknown): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    expect(error.message).not.toMatch(/[\x00-\x1f]/);
  }
}

const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });

function mutate(bytes: Uint8Array, edits: [number, number][], limit = bytes.length): Uint8Array {
  const copy = bytes.slice();
  for (const [position, value] of edits) copy[position % limit] = value;
  return copy;
}

describe('fuzzed checkpoints', () => {
  it('unpickle: random bytes and mutated state dicts give a value or an InputError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => onlyInputErrors(() => unpickle(bytes, 'random.pkl'))),
      { numRuns: 300, seed: 1 },
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (edits) => onlyInputErrors(() => unpickle(mutate(DATA_PKL, edits), 'mutated.pkl'))),
      { numRuns: 300, seed: 2 },
    );
  });

  it('a mutated pytorch_model.bin or safetensors header fails only with InputErrors', async () => {
    const others = folderSources('hubert_bin').filter((s) => !s.name.endsWith('.bin'));
    await fc.assert(
      fc.asyncProperty(mutation, async (edits) => {
        const pkl = mutate(DATA_PKL, edits);
        const zip = zipSync({ ...Object.fromEntries(Object.entries(ARCHIVE).map(([k, v]) => [k, [v, { level: 0 }]])), 'pytorch_model/data.pkl': [pkl, { level: 0 }] });
        const files = selectModelFiles([...others, makeMemorySource('m/pytorch_model.bin', zip)], 'm');
        await onlyInputErrors(async () => {
          const checkpoint = await openEncoderCheckpoint(files);
          for (const { name } of checkpoint.tensors) await checkpoint.readTensor(name);
        });
      }),
      { numRuns: 60, seed: 3 },
    );
    const headerLength = Number(new DataView(WEIGHTS.buffer, WEIGHTS.byteOffset, 8).getBigUint64(0, true));
    const configFiles = folderSources('wav2vec2_base').filter((s) => !s.name.endsWith('.safetensors'));
    await fc.assert(
      fc.asyncProperty(mutation, async (edits) => {
        const weights = makeMemorySource('m/model.safetensors', mutate(WEIGHTS, edits, 8 + headerLength));
        await onlyInputErrors(() => openEncoderCheckpoint(selectModelFiles([...configFiles, weights], 'm')));
      }),
      { numRuns: 60, seed: 4 },
    );
  });

  it('a mutated config.json fails only with InputErrors', async () => {
    const sources = folderSources('whisper_f32');
    const configBytes = readFileSync(resolve(MODEL_FIXTURES, 'whisper_f32/config.json'));
    await fc.assert(
      fc.asyncProperty(mutation, async (edits) => {
        const config = makeMemorySource('m/config.json', mutate(configBytes, edits));
        const files = selectModelFiles([config, ...sources.filter((s) => !s.name.endsWith('/config.json'))], 'm');
        await onlyInputErrors(() => openEncoderCheckpoint(files));
      }),
      { numRuns: 100, seed: 5 },
    );
  });
});
