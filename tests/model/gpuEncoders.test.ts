/**
 * The encoders on the GPU against the fixtures' independent float64 torch forward passes
 * (tests/fixtures/model/make_model_fixtures.py): pre-softmax scores within 2e-3, their row softmax within 2e-5,
 * and the last hidden state. Whisper is also run with a tanh GELU and with a bias on k, which must miss the
 * tolerance (and land on the generator's own wrong variants), so the comparison is known to catch them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packFloat16Pairs } from '../../src/data/float16.ts';
import { readBufferBytes, readFloat32 } from '../../src/gpu/buffers.ts';
import { storageBytes } from '../../src/gpu/storageFormat.ts';
import { openEncoderCheckpoint, selectModelFiles } from '../../src/model/checkpoint.ts';
import { ModelAttentionSource, type EncoderInput } from '../../src/model/modelSource.ts';
import type { WhisperMutation } from '../../src/model/encoders/whisper.ts';
import { ModelPasses } from '../../src/model/ops/modelPasses.ts';
import { softmaxRowsCpu } from '../../src/model/ops/softmaxRows.cpu.ts';
import { getTestDevice } from '../helpers/gpuDevice.ts';
import { SHADERS } from '../gpu/support.ts';
import { folderSources, maxAbsDifference, readExpected, type ModelFolder } from './modelFixtures.ts';

const SCORE_TOLERANCE = 2e-3;
const SOFTMAX_TOLERANCE = 2e-5;

let device: GPUDevice;
// One set of compiled kernels for every run: SwiftShader takes seconds to compile them.
let passes: ModelPasses;
const sources: ModelAttentionSource[] = [];
beforeAll(async () => {
  device = await getTestDevice();
  passes = await ModelPasses.create(device, SHADERS);
});
afterAll(() => {
  sources.forEach((source) => source.destroy());
  passes?.destroy();
});

/** Runs a fixture's encoder on the fixture's own model input (the reference log-mel, or the normalised audio). */
async function runFixture(folder: ModelFolder, mutation?: WhisperMutation) {
  const expected = await readExpected(folder);
  const checkpoint = await openEncoderCheckpoint(selectModelFiles(folderSources(folder), folder));
  const input: EncoderInput =
    checkpoint.config.family === 'whisper'
      ? { kind: 'log-mel', values: expected.get('log_mel')!.data }
      : { kind: 'waveform', samples: expected.get('audio')!.data };
  device.pushErrorScope('validation');
  const source = await ModelAttentionSource.run(device, SHADERS, checkpoint, input, { passes, whisperMutation: mutation });
  sources.push(source);
  const error = await device.popErrorScope();
  if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  const scores = new Float32Array(expected.get('scores')!.data.length);
  const layerSize = source.shape.heads * source.shape.rows * source.shape.cols;
  for (let layer = 0; layer < source.shape.layers; layer++) scores.set(await source.readLayer(layer), layer * layerSize);
  return { source, expected, scores };
}

/** Largest |softmax(a) - softmax(b)| over every row. */
function softmaxDifference(a: Float32Array, b: Float32Array, cols: number): number {
  return maxAbsDifference(softmaxRowsCpu(a, a.length / cols, cols), softmaxRowsCpu(b, b.length / cols, cols));
}

describe('encoders against the float64 torch reference', () => {
  for (const folder of ['whisper_f32', 'whisper_f16', 'wav2vec2_base', 'wav2vec2_large', 'hubert'] as const) {
    it(`${folder}: scores, their softmax and the last hidden state`, async () => {
      const { source, expected, scores } = await runFixture(folder);
      const reference = expected.get('scores')!;
      expect([source.shape.layers, source.shape.heads, source.shape.rows, source.shape.cols]).toEqual(reference.shape);
      expect(maxAbsDifference(scores, reference.data)).toBeLessThan(SCORE_TOLERANCE);
      expect(softmaxDifference(scores, reference.data, source.shape.cols)).toBeLessThan(SOFTMAX_TOLERANCE);
      const final = expected.get('final')!;
      const hidden = await readFloat32(device, source.lastHiddenState, final.data.length);
      expect(maxAbsDifference(hidden, final.data)).toBeLessThan(SCORE_TOLERANCE);
      expect(source.metadata.spf).toBe(folder.startsWith('whisper') ? 320 : expected.get('audio')!.data.length / source.shape.rows);
    });
  }

  // Whisper's 100 x 100 maps pack a head at a time; wav2vec 2.0's 79 x 79 (odd) two heads at a time, then the last alone.
  for (const [folder, firstHead, headCount] of [['whisper_f32', 1, 2], ['wav2vec2_base', 1, 3]] as const) {
    it(`writes float16 chunks on the GPU as the CPU upload path would pack them (${folder}, ${headCount} heads)`, async () => {
      const { source } = await runFixture(folder);
      const { heads, rows, cols } = source.shape;
      const chunk = { layer: 1, firstHead, headCount, byteLength: storageBytes('float16', headCount * rows * cols) };
      const buffer = device.createBuffer({ size: chunk.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      try {
        await source.writeChunk(device, chunk, 'float16', buffer);
        const words = new Uint32Array(await readBufferBytes(device, buffer, chunk.byteLength));
        const layer = await source.readLayer(1);
        expect(heads).toBeGreaterThanOrEqual(firstHead + headCount);
        expect(Array.from(words)).toEqual(Array.from(packFloat16Pairs(layer.subarray(firstHead * rows * cols, (firstHead + headCount) * rows * cols))));
      } finally {
        buffer.destroy();
      }
    });
  }

  for (const [name, mutation, variant] of [
    ['a tanh GELU', { gelu: 'gelu-tanh' }, 'scores_tanh_gelu'],
    ['a bias on k', { kBias: true }, 'scores_k_bias'],
  ] as const) {
    it(`Whisper with ${name} misses the tolerance, and matches the generator's own wrong variant`, async () => {
      const { expected, scores } = await runFixture('whisper_f32', mutation);
      expect(maxAbsDifference(scores, expected.get('scores')!.data)).toBeGreaterThan(5 * SCORE_TOLERANCE);
      const wrong = expected.get(variant);
      expect(wrong, `whisper_f32/expected.safetensors has ${variant}`).toBeDefined();
      expect(maxAbsDifference(scores, wrong!.data)).toBeLessThan(SCORE_TOLERANCE);
    });
  }
});
