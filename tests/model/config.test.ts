import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encoderFrames, minimumSamples, parseModelConfig, type JsonFile } from '../../src/model/config.ts';
import { inputErrorOf } from '../helpers/inputErrors.ts';
import { MODEL_FIXTURES } from './modelFixtures.ts';

function fixtureJson(folder: string, file: string): JsonFile {
  const path = resolve(MODEL_FIXTURES, folder, file);
  return { name: path, text: readFileSync(path) };
}

function edited(folder: string, file: string, edit: (json: Record<string, unknown>) => void): JsonFile {
  const json = JSON.parse(readFileSync(resolve(MODEL_FIXTURES, folder, file), 'utf8'));
  edit(json);
  return { name: `${folder}/${file}`, text: JSON.stringify(json) };
}

describe('parseModelConfig', () => {
  it('reads a Whisper config and its preprocessor config', () => {
    const config = parseModelConfig(fixtureJson('whisper_f32', 'config.json'), fixtureJson('whisper_f32', 'preprocessor_config.json'));
    expect(config).toMatchObject({
      family: 'whisper',
      modelType: 'whisper',
      name: 'steve-tests/whisper_f32',
      hiddenSize: 64,
      layers: 2,
      heads: 4,
      headDim: 16,
      ffnDim: 128,
      layerNormEps: 1e-5,
      numMelBins: 80,
      maxSourcePositions: 100,
      features: { samplingRate: 16000, nFft: 400, hopLength: 160, chunkLength: 2, nSamples: 32000, melFrames: 200, melBins: 80, maxFrequencyHz: 8000 },
    });
    expect(encoderFrames(config, 12345, 'a.wav')).toBe(100);
  });

  it("uses Whisper's defaults (30 s at hop 160) without a preprocessor config", () => {
    const config = parseModelConfig({ name: 'config.json', text: JSON.stringify({ model_type: 'whisper', d_model: 512, encoder_layers: 6, encoder_attention_heads: 8, encoder_ffn_dim: 2048, num_mel_bins: 80 }) });
    expect(config.family).toBe('whisper');
    if (config.family !== 'whisper') return;
    expect(config.maxSourcePositions).toBe(1500);
    expect(config.features).toMatchObject({ nSamples: 480000, melFrames: 3000, nFft: 400, hopLength: 160 });
    expect(config.name).toBe('model');
  });

  it('reads wav2vec 2.0 base (group norm, post-LN) and large-lv60 style (layer norm, stable LN) configs', () => {
    const base = parseModelConfig(fixtureJson('wav2vec2_base', 'config.json'), fixtureJson('wav2vec2_base', 'preprocessor_config.json'));
    expect(base).toMatchObject({
      family: 'wav2vec2',
      modelType: 'wav2vec2',
      hiddenSize: 48,
      heads: 4,
      headDim: 12,
      ffnDim: 96,
      convLayers: [
        { dim: 32, kernel: 10, stride: 5 },
        { dim: 32, kernel: 3, stride: 2 },
        { dim: 32, kernel: 2, stride: 2 },
      ],
      convBias: false,
      featExtractNorm: 'group',
      featureProjectionLayerNorm: true,
      doStableLayerNorm: false,
      posConvKernel: 16,
      posConvGroups: 4,
      features: { samplingRate: 16000, doNormalize: true, normalizeEps: 1e-7 },
    });
    const large = parseModelConfig(fixtureJson('wav2vec2_large', 'config.json'), fixtureJson('wav2vec2_large', 'preprocessor_config.json'));
    expect(large).toMatchObject({ featExtractNorm: 'layer', convBias: true, doStableLayerNorm: true, posConvKernel: 9, posConvGroups: 2 });
    // floor((L - k) / s) + 1 per conv: 1600 -> 319 -> 159 -> 79, as the torch reference's frames.
    expect(encoderFrames(base, 1600, 'a.wav')).toBe(79);
  });

  it('reads HuBERT as the wav2vec 2.0 encoder with its own model type and do_normalize false', () => {
    const hubert = parseModelConfig(fixtureJson('hubert', 'config.json'), fixtureJson('hubert', 'preprocessor_config.json'));
    expect(hubert).toMatchObject({ family: 'wav2vec2', modelType: 'hubert', featureProjectionLayerNorm: true, features: { doNormalize: false } });
    const noProjectionNorm = parseModelConfig(edited('hubert', 'config.json', (j) => (j.feat_proj_layer_norm = false)));
    expect(noProjectionNorm).toMatchObject({ featureProjectionLayerNorm: false, features: { doNormalize: true } });
  });

  it('gives the usual wav2vec 2.0 conv stack its 400-sample minimum and 320 samples per frame', () => {
    const config = parseModelConfig({ name: 'config.json', text: '{"model_type": "wav2vec2"}' });
    if (config.family !== 'wav2vec2') throw new Error('expected wav2vec2');
    expect(minimumSamples(config)).toBe(400);
    expect(encoderFrames(config, 400, 'a.wav')).toBe(1);
    expect(encoderFrames(config, 16000, 'a.wav')).toBe(49);
    expect(inputErrorOf(() => encoderFrames(config, 399, 'short.wav')).message).toMatch(/^short\.wav: 399 samples is too short .* at least 400/);
  });

  it('names the supported model types when model_type is unknown or missing', () => {
    const unknown = inputErrorOf(() => parseModelConfig({ name: 'dir/config.json', text: '{"model_type": "wavlm"}' }));
    expect(unknown.message).toBe('dir/config.json: model_type "wavlm"; supported: whisper, wav2vec2, hubert');
    expect(inputErrorOf(() => parseModelConfig({ name: 'config.json', text: '{}' })).message).toMatch(/model_type is missing; supported: whisper, wav2vec2, hubert/);
  });

  it('keeps control characters and long values from the file out of the message', () => {
    const hostile = JSON.stringify({ model_type: `\u001b[2J${'x'.repeat(500)}` });
    const message = inputErrorOf(() => parseModelConfig({ name: 'config.json', text: hostile })).message;
    expect(message).not.toMatch(/[\x00-\x1f]/);
    expect(message.length).toBeLessThan(250);
    const badJson = inputErrorOf(() => parseModelConfig({ name: 'config.json', text: `{"a": \u0007${'y'.repeat(500)}` })).message;
    expect(badJson).not.toMatch(/[\x00-\x1f]/);
    expect(badJson.length).toBeLessThan(250);
  });

  it('refuses bad JSON, bad numbers, other activations and inconsistent dims, naming the file', () => {
    expect(inputErrorOf(() => parseModelConfig({ name: 'c.json', text: '{"model_type": ' })).message).toMatch(/^c\.json: is not valid JSON/);
    expect(inputErrorOf(() => parseModelConfig({ name: 'c.json', text: '[1]' })).message).toBe('c.json: is not a JSON object');
    const cases: [(j: Record<string, unknown>) => void, RegExp][] = [
      [(j) => (j.d_model = 66), /d_model 66 is not divisible by encoder_attention_heads 4/],
      [(j) => (j.encoder_layers = 0), /encoder_layers is 0; expected a positive integer up to 1024/],
      [(j) => (j.encoder_layers = 1e9), /encoder_layers is 1000000000; expected a positive integer up to 1024/],
      [(j) => (j.encoder_ffn_dim = '128'), /encoder_ffn_dim is "128"; expected a positive integer/],
      [(j) => (j.activation_function = 'gelu_new'), /activation_function is "gelu_new"; only "gelu"/],
      [(j) => (j.max_source_positions = 1500), /give 200 mel frames, but max_source_positions 1500 .* needs 3000/],
    ];
    for (const [edit, message] of cases) {
      const error = inputErrorOf(() => parseModelConfig(edited('whisper_f32', 'config.json', edit), fixtureJson('whisper_f32', 'preprocessor_config.json')));
      expect(error.message).toMatch(message);
    }
    const mels = inputErrorOf(() => parseModelConfig(fixtureJson('whisper_f32', 'config.json'), fixtureJson('whisper_f16', 'preprocessor_config.json')));
    expect(mels.message).toMatch(/whisper_f16\/preprocessor_config\.json: feature_size is 128 but .*config\.json has num_mel_bins 80/);
    const w2v: [(j: Record<string, unknown>) => void, RegExp][] = [
      [(j) => (j.conv_kernel = [10, 3]), /conv_dim, conv_kernel and conv_stride have 3, 2 and 3 entries/],
      [(j) => (j.feat_extract_norm = 'batch'), /feat_extract_norm is "batch"; expected "group" or "layer"/],
      [(j) => (j.num_conv_pos_embedding_groups = 5), /hidden_size 48 is not divisible by num_conv_pos_embedding_groups 5/],
      [(j) => (j.hidden_act = 'relu'), /hidden_act is "relu"/],
      [(j) => (j.do_stable_layer_norm = 'yes'), /do_stable_layer_norm is "yes"; expected true or false/],
      [(j) => (j.conv_pos_batch_norm = true), /conv_pos_batch_norm is true; only the weight-normed positional conv/],
    ];
    for (const [edit, message] of w2v) expect(inputErrorOf(() => parseModelConfig(edited('wav2vec2_base', 'config.json', edit))).message).toMatch(message);
  });
});
