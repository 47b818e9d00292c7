/**
 * The model fixtures of tests/fixtures/model (written by make_model_fixtures.py and make_audio_expected.py): model
 * folders as ByteSources, and the reference outputs in each folder's expected.safetensors.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { makeMemorySource, type ByteSource } from '../../src/data/byteSource.ts';
import { readSafetensorsHeader } from '../../src/data/safetensors.ts';
import { parseWav } from '../../src/data/wav.ts';

export const MODEL_FIXTURES = resolve(import.meta.dirname, '../fixtures/model');

export const MODEL_FOLDERS = ['whisper_f32', 'whisper_f16', 'whisper_sharded', 'wav2vec2_base', 'wav2vec2_large', 'hubert', 'hubert_bin'] as const;
export type ModelFolder = (typeof MODEL_FOLDERS)[number];

/** Every file of a fixture folder as an in-memory ByteSource named by its path. */
export function folderSources(folder: ModelFolder): ByteSource[] {
  const dir = resolve(MODEL_FIXTURES, folder);
  return readdirSync(dir)
    .filter((name) => name !== 'expected.safetensors')
    .map((name) => makeMemorySource(`${dir}/${name}`, readFileSync(`${dir}/${name}`)));
}

/** One reference array: its shape and float32 values. */
export interface ExpectedArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The arrays of a folder's expected.safetensors (all F32), by name. */
export async function readExpected(folder: ModelFolder): Promise<Map<string, ExpectedArray>> {
  const path = resolve(MODEL_FIXTURES, folder, 'expected.safetensors');
  const bytes = readFileSync(path);
  const header = await readSafetensorsHeader(makeMemorySource(path, bytes));
  const arrays = new Map<string, ExpectedArray>();
  for (const tensor of header.tensors) {
    const copy = bytes.buffer.slice(bytes.byteOffset + tensor.begin, bytes.byteOffset + tensor.end);
    arrays.set(tensor.name, { shape: tensor.shape, data: new Float32Array(copy) });
  }
  return arrays;
}

/** The input WAV of the Whisper or wav2vec 2.0 fixtures, decoded by our reader (16 kHz mono). */
export function fixtureAudio(kind: 'whisper' | 'wav2vec2'): { samples: Float32Array; sampleRate: number } {
  const path = resolve(MODEL_FIXTURES, `${kind}_input.wav`);
  const wav = parseWav(readFileSync(path), path);
  return { samples: wav.samples, sampleRate: wav.sampleRate };
}

/** Largest |a[i] - b[i]|; the lengths must agree. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
