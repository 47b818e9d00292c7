/**
 * `steve atlas --model DIR`: the tiny torch-built checkpoints of tests/fixtures/model (a Whisper one and a wav2vec 2.0
 * one) run on their input WAVs, with TIMIT alignments written here, must give the same atlas as the attention-file
 * path given the fixture's expected scores (torch, float64, written independently of our code) as a .npy: same
 * utterance, same alignment, to 1e-4 relative. Also: provenance names the model, sharded model runs merge to the one
 * run, and --model with --attention is refused with one line. The comparison can fail: the scores of the same model with
 * the tanh GELU (also in the fixture) give an atlas outside the tolerance. And AtlasRunner takes a GPU-produced
 * source's chunks from writeChunk, never reading them back (its read methods throw here).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ATLAS_METRICS } from '../../src/atlas/atlas.ts';
import type { AtlasJson } from '../../src/atlas/atlasFile.ts';
import type { AtlasFrameTable } from '../../src/compute/atlas.cpu.ts';
import { NO_SEGMENT } from '../../src/compute/atlas.cpu.ts';
import { AtlasRunner } from '../../src/compute/atlasUtterance.ts';
import { encodeNpy } from '../../src/data/npyWriter.ts';
import type { AttentionSource } from '../../src/data/tensor.ts';
import type { GpuProducedSource } from '../../src/gpu/producedChunks.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { ROOT, steve } from '../cli/steveProcess.ts';
import { makeRandom } from '../helpers/computeCheck.ts';
import { getTestDevice, withDevice } from '../helpers/gpuDevice.ts';

const MODELS = join(ROOT, 'tests/fixtures/model');
const work = mkdtempSync(join(tmpdir(), 'steve-atlas-model-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const readAtlas = (dir: string) => JSON.parse(readFileSync(join(dir, 'atlas.json'), 'utf8')) as AtlasJson;

/** A scores tensor of a fixture's expected.safetensors (F32, layers x heads x frames x frames) as a .npy. */
function expectedScoresNpy(model: string, path: string, tensor = 'scores'): number[] {
  const bytes = readFileSync(join(MODELS, model, 'expected.safetensors'));
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const { dtype, shape, data_offsets: [start, end] } = header[tensor];
  expect(dtype).toBe('F32');
  const data = bytes.subarray(8 + headerLength + start, 8 + headerLength + end);
  const values = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  writeFileSync(path, encodeNpy(values, shape));
  return shape;
}

/** A copy of `wav` as `dir/name.wav` with a TIMIT alignment: phones (with h# at both ends) and words, in samples. */
function utterance(dir: string, name: string, wav: string, phones: [number, number, string][], words: [number, number, string][]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.wav`);
  copyFileSync(wav, path);
  const lines = (rows: [number, number, string][]) => rows.map((row) => row.join(' ')).join('\n') + '\n';
  writeFileSync(join(dir, `${name}.phn`), lines(phones));
  writeFileSync(join(dir, `${name}.wrd`), lines(words));
  return path;
}

function relativeError(actual: number, reference: number): number {
  return Math.abs(actual - reference) / Math.max(Math.abs(reference), 1e-12);
}

/** The largest relative difference between two atlases' sums (every metric, both matrices) after checking counts. */
function worstDifference(a: AtlasJson, b: AtlasJson): number {
  expect(a.queryFrames).toBe(b.queryFrames);
  let worst = 0;
  for (const metric of ATLAS_METRICS) {
    expect(a.metrics[metric].count).toEqual(b.metrics[metric].count);
    const reference = b.metrics[metric].sum.flat();
    a.metrics[metric].sum.flat().forEach((value, i) => (worst = Math.max(worst, relativeError(value, reference[i]))));
  }
  for (const kind of ['phones', 'classes'] as const) {
    expect(a[kind].labels).toEqual(b[kind].labels);
    expect(a[kind].counts).toEqual(b[kind].counts);
    // Entries that are nearly empty (a tail of the softmax) are compared against the row's scale, not their own.
    const scale = Math.max(...b[kind].sums.map(Math.abs));
    a[kind].sums.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - b[kind].sums[i]) / Math.max(Math.abs(b[kind].sums[i]), 1e-3 * scale))));
  }
  return worst;
}

const WHISPER_WAV = join(MODELS, 'whisper_input.wav'); // 24000 samples at 16 kHz (padded by Whisper to 100 frames)
const WAV2VEC2_WAV = join(MODELS, 'wav2vec2_input.wav'); // 1600 samples (79 frames)

describe('steve atlas --model', () => {
  const whisperDir = join(work, 'whisper');
  const whisperWavs = [
    utterance(whisperDir, 'a', WHISPER_WAV, [[0, 2000, 'h#'], [2000, 6000, 'sh'], [6000, 9000, 'iy'], [9000, 11000, 'pau'], [11000, 16000, 'hh'], [16000, 21000, 'ae'], [21000, 24000, 'h#']], [[2000, 9000, 'she'], [11000, 21000, 'had']]),
    utterance(whisperDir, 'b', WHISPER_WAV, [[0, 4000, 'h#'], [4000, 8000, 'd'], [8000, 14000, 'aa'], [14000, 19000, 'r'], [19000, 24000, 'h#']], [[4000, 19000, 'dark']]),
  ];
  const whisperNpy = join(work, 'whisper_scores.npy');
  const [layers, heads] = expectedScoresNpy('whisper_f32', whisperNpy);
  const tanhNpy = join(work, 'whisper_tanh_scores.npy');
  expectedScoresNpy('whisper_f32', tanhNpy, 'scores_tanh_gelu');

  it('Whisper: the model path equals the attention-file path on the torch scores, and names the model', async () => {
    const common = ['--alignments', 'timit', '--fold', '49'];
    const [model, files, tanh] = await Promise.all([
      steve(['atlas', ...whisperWavs.flatMap((wav) => ['--wav', wav]), '--model', join(MODELS, 'whisper_f32'), ...common, '-o', join(work, 'whisper_model')]),
      steve(['atlas', ...whisperWavs.flatMap((wav) => ['--wav', wav, '--attention', whisperNpy]), '--spf', '320', ...common, '-o', join(work, 'whisper_files')]),
      steve(['atlas', ...whisperWavs.flatMap((wav) => ['--wav', wav, '--attention', tanhNpy]), '--spf', '320', ...common, '-o', join(work, 'whisper_tanh')]),
    ]);
    expect(model.code, model.stderr).toBe(0);
    expect(files.code, files.stderr).toBe(0);
    expect(model.stderr).toContain('2 utterance(s) used, 0 skipped');
    const fromModel = readAtlas(join(work, 'whisper_model'));
    const fromFiles = readAtlas(join(work, 'whisper_files'));
    expect([fromModel.settings.layers, fromModel.settings.heads]).toEqual([layers, heads]);
    expect(fromModel.spf).toEqual([320]);
    expect(fromModel.queryFrames).toBeGreaterThan(50);
    expect(worstDifference(fromModel, fromFiles)).toBeLessThan(1e-4);
    expect(tanh.code, tanh.stderr).toBe(0);
    expect(worstDifference(fromModel, readAtlas(join(work, 'whisper_tanh')))).toBeGreaterThan(1e-3);
    for (const used of fromModel.utterances.used) {
      expect(used.softmaxed).toBe(false);
      expect(used.model).toBe('steve-tests/whisper_f32');
      expect(used.modelSummary).toEqual({ name: 'steve-tests/whisper_f32', modelType: 'whisper', hiddenSize: 64, layers: 2, heads: 4, headDim: 16, ffnDim: 128, weightDtype: 'F32' });
    }
  });

  it('Whisper: two shards of a model run merge to the one run', async () => {
    const shard = (index: number) =>
      steve(['atlas', ...whisperWavs.flatMap((wav) => ['--wav', wav]), '--model', join(MODELS, 'whisper_f32'), '--alignments', 'timit', '--fold', '49', '--shard', `${index}/2`, '-o', join(work, `shard${index}`)]);
    for (const run of await Promise.all([shard(0), shard(1)])) expect(run.code, run.stderr).toBe(0);
    const merged = await steve(['atlas', 'merge', join(work, 'shard0'), join(work, 'shard1'), '-o', join(work, 'merged')]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(worstDifference(readAtlas(join(work, 'merged')), readAtlas(join(work, 'whisper_model')))).toBeLessThan(1e-9);
  });

  it('wav2vec 2.0: the model path equals the attention-file path on the torch scores', async () => {
    const wav = utterance(join(work, 'w2v'), 'c', WAV2VEC2_WAV, [[0, 200, 'h#'], [200, 500, 's'], [500, 900, 'ih'], [900, 1400, 'k'], [1400, 1600, 'h#']], [[200, 1400, 'sick']]);
    const npy = join(work, 'w2v_scores.npy');
    expectedScoresNpy('wav2vec2_base', npy);
    const [model, files] = await Promise.all([
      steve(['atlas', '--wav', wav, '--model', join(MODELS, 'wav2vec2_base'), '--alignments', 'timit', '-o', join(work, 'w2v_model')]),
      steve(['atlas', '--wav', wav, '--attention', npy, '--alignments', 'timit', '-o', join(work, 'w2v_files')]),
    ]);
    expect(model.code, model.stderr).toBe(0);
    expect(files.code, files.stderr).toBe(0);
    const fromModel = readAtlas(join(work, 'w2v_model'));
    expect(fromModel.spf).toEqual(readAtlas(join(work, 'w2v_files')).spf);
    expect(fromModel.utterances.used[0].modelSummary?.modelType).toBe('wav2vec2');
    expect(worstDifference(fromModel, readAtlas(join(work, 'w2v_files')))).toBeLessThan(1e-4);
  });

  it('refuses --model with --attention, and a bad model folder, in one line', async () => {
    const [both, missing] = await Promise.all([
      steve(['atlas', '--wav', whisperWavs[0], '--attention', whisperNpy, '--model', join(MODELS, 'whisper_f32'), '--alignments', 'timit', '-o', join(work, 'both')]),
      steve(['atlas', '--wav', whisperWavs[0], '--model', join(work, 'no-such-model'), '--alignments', 'timit', '-o', join(work, 'missing')]),
    ]);
    expect(both.code).not.toBe(0);
    expect(both.stderr.trim()).toBe('steve: give --model or --attention, not both');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('no-such-model');
  });
});

describe('AtlasRunner with a GPU-produced source', () => {
  it('measures the chunks the source writes on the GPU, with the same sums as from memory, reading nothing back', async () => {
    const [layers, heads, frames] = [2, 3, 12];
    const random = makeRandom(5);
    const values = Float32Array.from({ length: layers * heads * frames * frames }, () => 6 * random() - 3);
    const frameSegment = new Uint32Array(frames).fill(NO_SEGMENT);
    frameSegment.fill(0, 0, 2);
    frameSegment.fill(1, 2, 7);
    frameSegment.fill(2, 7, 12);
    const table: AtlasFrameTable = { frames, queryStart: 2, queryEnd: 10, frameSegment, phones: 3, classes: 1, labelKeyRanges: [[[0, 2]], [[2, 7]], [[7, 12]], [[0, 12]]] };
    const map = frames * frames;
    const base = { fileName: 'scores', shape: { layers, heads, rows: frames, cols: frames }, dtype: 'float32' as const, metadata: {} };
    const memory: AttentionSource = {
      ...base,
      readHead: async (layer, head) => values.slice((layer * heads + head) * map, (layer * heads + head + 1) * map),
      readLayer: async (layer) => values.slice(layer * heads * map, (layer + 1) * heads * map),
    };
    let written = 0;
    const produced: GpuProducedSource = {
      ...base,
      readHead: () => Promise.reject(new Error('readHead: a GPU-produced source must not be read back')),
      readLayer: () => Promise.reject(new Error('readLayer: a GPU-produced source must not be read back')),
      keptMemory: () => ({ bytes: 0, holds: 'nothing' }),
      writeChunk: async (device, chunk, format, output) => {
        expect(format).toBe('float32');
        const start = (chunk.layer * heads + chunk.firstHead) * map;
        device.queue.writeBuffer(output, 0, values, start, chunk.headCount * map);
        written++;
      },
    };
    const device = await getTestDevice();
    const runner = await AtlasRunner.create(device, readShaderSources());
    try {
      const fromMemory = await withDevice(() => runner.measure(memory, table, true));
      const fromGpu = await withDevice(() => runner.measure(produced, table, true));
      expect(written).toBeGreaterThanOrEqual(layers);
      expect(Array.from(fromGpu)).toEqual(Array.from(fromMemory));
      expect(fromGpu.some((value) => value !== 0)).toBe(true);
    } finally {
      runner.destroy();
    }
  });
});
