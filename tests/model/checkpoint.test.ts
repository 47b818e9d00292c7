import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMemorySource, type ByteSource } from '../../src/data/byteSource.ts';
import { readSafetensorsHeader } from '../../src/data/safetensors.ts';
import { makeFileSource } from '../../src/node/fileSource.ts';
import {
  expectedEncoderTensors,
  loadEncoderWeights,
  openEncoderCheckpoint,
  resolveWeightNorm,
  selectModelFiles,
  type ModelFiles,
} from '../../src/model/checkpoint.ts';
import { expectInputError, inputErrorOf } from '../helpers/inputErrors.ts';
import { MODEL_FIXTURES, folderSources, maxAbsDifference, readExpected, type ModelFolder } from './modelFixtures.ts';

function filesOf(folder: ModelFolder): ModelFiles {
  return selectModelFiles(folderSources(folder), `${MODEL_FIXTURES}/${folder}`);
}

/** A source that records every byte range read from it. */
function recording(source: ByteSource, reads: [number, number][]): ByteSource {
  return { ...source, read: (offset, length) => (reads.push([offset, offset + length]), source.read(offset, length)) };
}

/** model.safetensors of a fixture with its JSON header edited (offsets stay relative to the data, so data is kept). */
function editedSafetensors(folder: ModelFolder, edit: (header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): Uint8Array {
  const bytes = readFileSync(resolve(MODEL_FIXTURES, folder, 'model.safetensors'));
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  edit(header);
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + bytes.length - 8 - headerLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(bytes.subarray(8 + headerLength), 8 + text.length);
  return out;
}

function withWeights(folder: ModelFolder, weights: Uint8Array, config?: Record<string, unknown>): ModelFiles {
  const files = filesOf(folder);
  return {
    ...files,
    weights: [makeMemorySource(`${folder}/model.safetensors`, weights)],
    config: config ? makeMemorySource(`${folder}/config.json`, new TextEncoder().encode(JSON.stringify(config))) : files.config,
  };
}

describe('selectModelFiles', () => {
  it('picks config, preprocessor config, weights and index out of a folder', () => {
    const files = filesOf('whisper_sharded');
    expect(files.config.name).toMatch(/config\.json$/);
    expect(files.preprocessor?.name).toMatch(/preprocessor_config\.json$/);
    expect(files.index?.name).toMatch(/model\.safetensors\.index\.json$/);
    expect(files.weights.map((s) => s.name.split('/').pop()).sort()).toEqual(['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']);
    expect(files.folderName).toBe('whisper_sharded');
  });

  it('tells how to convert a TF or Flax checkpoint to safetensors', () => {
    const sources = [makeMemorySource('m/config.json', new Uint8Array(2)), makeMemorySource('m/tf_model.h5', new Uint8Array(8))];
    const error = inputErrorOf(() => selectModelFiles(sources, 'm'));
    expect(error.kind).toBe('unsupported-layout');
    expect(error.message).toMatch(/^m\/tf_model\.h5: is not a safetensors or pytorch_model\.bin checkpoint\. .*save_pretrained\('DIR', safe_serialization=True\)/);
  });

  it('takes pytorch_model.bin (or its indexed shards) only when there is no safetensors file', () => {
    const config = makeMemorySource('m/config.json', new Uint8Array(2));
    const bin = makeMemorySource('m/pytorch_model.bin', new Uint8Array(8));
    const index = makeMemorySource('m/pytorch_model.bin.index.json', new Uint8Array(8));
    const pick = (...sources: ByteSource[]) => {
      const files = selectModelFiles([config, ...sources], 'm');
      return { weights: files.weights, index: files.index };
    };
    expect(pick(bin, index)).toEqual({ weights: [bin], index: undefined });
    const safetensors = makeMemorySource('m/model.safetensors', new Uint8Array(8));
    expect(pick(bin, safetensors)).toEqual({ weights: [safetensors], index: undefined });
    const binShard = makeMemorySource('m/pytorch_model-00001-of-00002.bin', new Uint8Array(8));
    expect(pick(binShard, index)).toEqual({ weights: [binShard], index });
  });

  it('prefers model.safetensors when a folder also holds shards of the same weights (whisper-large-v3)', () => {
    const config = makeMemorySource('m/config.json', new Uint8Array(2));
    const single = makeMemorySource('m/model.safetensors', new Uint8Array(8));
    const shard = makeMemorySource('m/model.fp32-00001-of-00002.safetensors', new Uint8Array(8));
    const index = makeMemorySource('m/model.safetensors.index.fp32.json', new Uint8Array(8));
    const files = selectModelFiles([config, shard, single, index], 'm');
    expect([files.weights, files.index]).toEqual([[single], undefined]);
  });

  it('names what is missing', () => {
    expect(inputErrorOf(() => selectModelFiles([makeMemorySource('m/model.safetensors', new Uint8Array(8))], 'm')).message).toBe('m: no config.json among model.safetensors');
    expect(inputErrorOf(() => selectModelFiles([makeMemorySource('m/config.json', new Uint8Array(2))], 'm')).message).toBe('m: no model.safetensors (or shards) among config.json');
  });
});

describe('openEncoderCheckpoint / loadEncoderWeights', () => {
  it('reads every encoder tensor of each fixture with the shape the config implies, and its stored dtype', async () => {
    const dtypes: Record<ModelFolder, string> = { whisper_f32: 'F32', whisper_f16: 'F16', whisper_sharded: 'F32', wav2vec2_base: 'F32', wav2vec2_large: 'F32', hubert: 'BF16', hubert_bin: 'BF16' };
    for (const folder of Object.keys(dtypes) as ModelFolder[]) {
      const weights = await loadEncoderWeights(filesOf(folder));
      expect(weights.storedDtype, folder).toBe(dtypes[folder]);
      const expected = expectedEncoderTensors(weights.config);
      expect([...weights.tensors.keys()]).toEqual(expected.map((t) => t.name));
      for (const { name, shape } of expected) {
        const tensor = weights.tensors.get(name)!;
        expect(tensor.shape, name).toEqual(shape);
        expect(tensor.data.length, name).toBe(shape.reduce((a, b) => a * b, 1));
      }
    }
  });

  it('strips the prefixes: model.encoder. (Whisper), wav2vec2. and none (HuBERT)', async () => {
    const whisper = await loadEncoderWeights(filesOf('whisper_f32'));
    expect(whisper.tensors.has('layers.1.self_attn.k_proj.weight')).toBe(true);
    expect(whisper.tensors.has('layers.1.self_attn.k_proj.bias')).toBe(false);
    expect([...whisper.tensors.keys()].some((name) => /decoder|proj_out/.test(name))).toBe(false);
    const hubert = await loadEncoderWeights(filesOf('hubert'));
    expect(hubert.config.modelType).toBe('hubert');
    expect(hubert.tensors.has('encoder.pos_conv_embed.conv.weight')).toBe(true);
  });

  it('widens F16 and BF16 exactly as torch rounds them', async () => {
    for (const folder of ['whisper_f32', 'whisper_f16'] as const) {
      const weights = await loadEncoderWeights(filesOf(folder));
      const reference = (await readExpected(folder)).get('k_proj_weight_0')!;
      // expected.safetensors holds the F16-rounded values as float32: the conversion must be exact.
      expect(maxAbsDifference(weights.tensors.get('layers.0.self_attn.k_proj.weight')!.data, reference.data)).toBe(0);
    }
  });

  it("resolves the positional conv's weight norm as torch does (weight_g/weight_v, parametrizations, BF16)", async () => {
    for (const folder of ['wav2vec2_base', 'wav2vec2_large', 'hubert'] as const) {
      const weights = await loadEncoderWeights(filesOf(folder));
      const torchWeight = (await readExpected(folder)).get('pos_conv_weight')!;
      const ours = weights.tensors.get('encoder.pos_conv_embed.conv.weight')!;
      expect(ours.shape).toEqual(torchWeight.shape);
      const scale = maxAbsDifference(torchWeight.data, new Float32Array(torchWeight.data.length));
      expect(maxAbsDifference(ours.data, torchWeight.data), folder).toBeLessThan(2e-6 * scale);
    }
  });

  it('weight norm divides by the norm of each kernel tap, not of each output channel', () => {
    // v: 2 out x 1 in x 2 taps; tap 0 holds (3, 4) -> norm 5, tap 1 holds (1, 0) -> norm 1.
    const weight = resolveWeightNorm(Float32Array.of(10, 2), Float32Array.of(3, 1, 4, 0), [2, 1, 2]);
    expect(Array.from(weight)).toEqual([6, 2, 8, 0]);
  });

  it('reads the sharded checkpoint like the single file, without opening the decoder-only shard', async () => {
    const single = await loadEncoderWeights(filesOf('whisper_f32'));
    const files = filesOf('whisper_sharded');
    const decoderShard = files.weights.find((s) => s.name.endsWith('model-00003-of-00003.safetensors'))!;
    const untouchable: ByteSource = { ...decoderShard, read: () => Promise.reject(new Error('the decoder shard was read')) };
    const sharded = await loadEncoderWeights({ ...files, weights: files.weights.map((s) => (s === decoderShard ? untouchable : s)) });
    expect([...sharded.tensors.keys()]).toEqual([...single.tensors.keys()]);
    for (const [name, tensor] of single.tensors) expect(maxAbsDifference(sharded.tensors.get(name)!.data, tensor.data), name).toBe(0);
  });

  it('reads only the header and the encoder tensors, each in one slice, and reports progress', async () => {
    const files = filesOf('whisper_f16');
    const reads: [number, number][] = [];
    const weights = files.weights[0];
    const header = await readSafetensorsHeader(weights);
    const progress: number[] = [];
    await loadEncoderWeights({ ...files, weights: [recording(weights, reads)] }, (bytesRead, total) => progress.push(bytesRead / total));
    const decoder = header.tensors.filter((t) => !t.name.startsWith('model.encoder.'));
    expect(decoder.length).toBeGreaterThan(5);
    for (const [begin, end] of reads) {
      for (const tensor of decoder) expect(end <= tensor.begin || begin >= tensor.end, `read ${begin}..${end} touches ${tensor.name}`).toBe(true);
    }
    const encoderTensors = header.tensors.length - decoder.length;
    expect(reads.length).toBe(2 + encoderTensors); // header length, header, then one read per tensor
    expect(progress[progress.length - 1]).toBe(1);
    expect(progress.every((p, i) => i === 0 || p > progress[i - 1])).toBe(true);
  });

  it('reads through Node file handles as well', async () => {
    const dir = resolve(MODEL_FIXTURES, 'hubert');
    const sources = await Promise.all(['config.json', 'preprocessor_config.json', 'model.safetensors'].map((f) => makeFileSource(`${dir}/${f}`)));
    try {
      const checkpoint = await openEncoderCheckpoint(selectModelFiles(sources, dir));
      expect(checkpoint.storedDtype).toBe('BF16');
      const inMemory = await (await openEncoderCheckpoint(filesOf('hubert'))).readTensor('encoder.layers.1.attention.q_proj.weight');
      expect(maxAbsDifference((await checkpoint.readTensor('encoder.layers.1.attention.q_proj.weight')).data, inMemory.data)).toBe(0);
    } finally {
      await Promise.all(sources.map((s) => s.close()));
    }
  });

  it('names a missing tensor and the file', async () => {
    const weights = editedSafetensors('whisper_f32', (h) => {
      h['model.encoder.layers.1.fc2.weight_renamed'] = h['model.encoder.layers.1.fc2.weight'];
      delete h['model.encoder.layers.1.fc2.weight'];
    });
    await expectInputError(openEncoderCheckpoint(withWeights('whisper_f32', weights)), 'mismatch', /^whisper_f32\/model\.safetensors: missing encoder tensor 'model\.encoder\.layers\.1\.fc2\.weight'$/);
    const noG = editedSafetensors('wav2vec2_base', (h) => delete h['wav2vec2.encoder.pos_conv_embed.conv.weight_g']);
    await expectInputError(openEncoderCheckpoint(withWeights('wav2vec2_base', noG)), 'mismatch', /has 'wav2vec2\.encoder\.pos_conv_embed\.conv\.weight_v' without '.*weight_g'/);
  });

  it('names a tensor whose shape does not fit the config', async () => {
    const config = JSON.parse(readFileSync(resolve(MODEL_FIXTURES, 'whisper_f32/config.json'), 'utf8'));
    const files = withWeights('whisper_f32', readFileSync(resolve(MODEL_FIXTURES, 'whisper_f32/model.safetensors')), { ...config, encoder_ffn_dim: 256 });
    await expectInputError(
      openEncoderCheckpoint(files),
      'mismatch',
      /^whisper_f32\/model\.safetensors: tensor 'model\.encoder\.layers\.0\.fc1\.weight' has shape \[128, 64\] but the config implies \[256, 64\]/,
    );
  });

  it('says when the weights hold no encoder of the configured family, or an unsupported dtype', async () => {
    const whisperConfig = JSON.parse(readFileSync(resolve(MODEL_FIXTURES, 'whisper_f32/config.json'), 'utf8'));
    const wrongFamily = withWeights('wav2vec2_base', readFileSync(resolve(MODEL_FIXTURES, 'wav2vec2_base/model.safetensors')), { ...whisperConfig, max_source_positions: 1500 });
    await expectInputError(openEncoderCheckpoint({ ...wrongFamily, preprocessor: undefined }), 'mismatch', /holds no whisper encoder: none of 'model\.encoder\.conv1\.weight', 'encoder\.conv1\.weight' is present/);
    const ints = editedSafetensors('whisper_f32', (h) => (h['model.encoder.conv2.bias'].dtype = 'I32'));
    await expectInputError(openEncoderCheckpoint(withWeights('whisper_f32', ints)), 'unsupported-dtype', /tensor 'model\.encoder\.conv2\.bias' has dtype I32/);
  });
});
