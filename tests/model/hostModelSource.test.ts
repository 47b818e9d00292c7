/**
 * The host's forward pass (HostModelAttentionSource: the encoder reference with blocked matrix products, no GPU)
 * against the float64 torch fixtures: the scores of every layer and head, by layer and by head, the model's spf,
 * and progress heard layer by layer.
 */
import { describe, expect, it } from 'vitest';
import { openEncoderCheckpoint, selectModelFiles } from '../../src/model/checkpoint.ts';
import { InputError } from '../../src/data/inputError.ts';
import { prepareEncoderInput } from '../../src/model/encoderInput.ts';
import { HostModelAttentionSource } from '../../src/model/host/hostModelSource.ts';
import type { EncoderInput, ModelProgress } from '../../src/model/modelSource.ts';
import { folderSources, maxAbsDifference, readExpected, type ModelFolder } from './modelFixtures.ts';

/** The tolerance on raw scores (as for the GPU encoders). */
const SCORE_TOLERANCE = 2e-3;

async function runFixture(folder: ModelFolder, onProgress?: (progress: ModelProgress) => void) {
  const expected = await readExpected(folder === 'whisper_sharded' ? 'whisper_f32' : folder === 'hubert_bin' ? 'hubert' : folder);
  const checkpoint = await openEncoderCheckpoint(selectModelFiles(folderSources(folder), folder));
  const input: EncoderInput =
    checkpoint.config.family === 'whisper' ? { kind: 'log-mel', values: expected.get('log_mel')!.data } : { kind: 'waveform', samples: expected.get('audio')!.data };
  return { source: await HostModelAttentionSource.run(checkpoint, input, { onProgress }), expected };
}

describe(HostModelAttentionSource.name, () => {
  for (const folder of ['whisper_f32', 'whisper_f16', 'whisper_sharded', 'wav2vec2_base', 'wav2vec2_large', 'hubert', 'hubert_bin'] as const) {
    it(`${folder}: every layer's scores within the tolerance of torch's`, async () => {
      const { source, expected } = await runFixture(folder);
      const reference = expected.get('scores')!;
      const { layers, heads, rows, cols } = source.shape;
      expect([layers, heads, rows, cols]).toEqual(reference.shape);
      const layerSize = heads * rows * cols;
      for (let layer = 0; layer < layers; layer++) {
        const scores = await source.readLayer(layer);
        expect(maxAbsDifference(scores, reference.data.subarray(layer * layerSize, (layer + 1) * layerSize)), `layer ${layer}`).toBeLessThan(SCORE_TOLERANCE);
      }
      expect(source.metadata.spf).toBe(folder.startsWith('whisper') ? 320 : expected.get('audio')!.data.length / rows);
      expect(source.summary).toMatchObject({ layers, heads, frames: rows });
    });
  }

  it('reads one head as the same values as that head of its layer, reports each layer, and refuses reads once destroyed', async () => {
    const heard: ModelProgress[] = [];
    const { source } = await runFixture('whisper_f32', (progress) => heard.push(progress));
    const { layers, heads, rows, cols } = source.shape;
    const layer = await source.readLayer(layers - 1);
    const head = await source.readHead(layers - 1, heads - 1);
    expect(Array.from(head)).toEqual(Array.from(layer.subarray((heads - 1) * rows * cols)));
    expect(heard.map((progress) => [progress.stage, progress.layersDone])).toEqual([['weights', 0], ...Array.from({ length: layers + 1 }, (_, i) => ['encoder', i])]);
    // The front end and each layer are a step each: 0, 1 / (layers + 1), ..., 1.
    expect(heard.map((progress) => progress.fraction)).toEqual(Array.from({ length: layers + 2 }, (_, i) => i / (layers + 1)));
    await expect(source.readHead(layers, 0)).rejects.toThrow(/no layer/);
    source.destroy();
    await expect(source.readHead(0, 0)).rejects.toThrow(/freed/);
  });
});

describe('a WAV too short for one wav2vec 2.0 frame', () => {
  it('is an InputError naming the WAV before any forward pass, on either path', async () => {
    const checkpoint = await openEncoderCheckpoint(selectModelFiles(folderSources('wav2vec2_base'), 'wav2vec2_base'));
    expect(() => prepareEncoderInput(checkpoint.config, new Float32Array(5), 16000, 'short.wav')).toThrow(InputError);
    expect(() => prepareEncoderInput(checkpoint.config, new Float32Array(5), 16000, 'short.wav')).toThrow(/short\.wav.*too short/s);
  });
});
