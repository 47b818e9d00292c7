/**
 * The CLI's model loading (src/node/loadModel.ts). Over a corpus (`steve atlas --model`, openModelForCorpus): two WAVs
 * through the tiny Whisper fixture read each weight from the files once, and the kept weights still give the torch
 * reference's scores on the fixture's WAV. One utterance (render, export, inspect): its model files stay open, so
 * after a device loss the engine's new device gets the encoder run again from them.
 */
import { ModelAttentionSource } from '../../src/model/modelSource.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttentionEngine } from '../../src/engine.ts';
import { ModelPasses } from '../../src/model/ops/modelPasses.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { loadModelUtterance, openModelForCorpus, openModelInput, runModelUtterance } from '../../src/node/loadModel.ts';
import { getTestDevice } from '../helpers/gpuDevice.ts';
import { SHADERS } from '../gpu/support.ts';
import { MODEL_FIXTURES, maxAbsDifference, readExpected } from './modelFixtures.ts';

const WHISPER = join(MODEL_FIXTURES, 'whisper_f32');
const WAV = join(MODEL_FIXTURES, 'whisper_input.wav');
const work = mkdtempSync(join(tmpdir(), 'steve-model-corpus-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The fixture's WAV played backwards (16-bit PCM samples reversed): other audio of the same length. */
function reversedWav(): string {
  const bytes = readFileSync(WAV);
  const data = bytes.indexOf('data', 12, 'latin1');
  const start = data + 8;
  const samples = new Int16Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + bytes.readUInt32LE(data + 4)));
  samples.reverse();
  const path = join(work, 'reversed.wav');
  writeFileSync(path, Buffer.concat([bytes.subarray(0, start), Buffer.from(samples.buffer)]));
  return path;
}

let device: GPUDevice;
let passes: ModelPasses;
beforeAll(async () => {
  device = await getTestDevice();
  passes = await ModelPasses.create(device, SHADERS);
});
afterAll(() => passes?.destroy());

describe('openModelForCorpus', () => {
  it('reads every weight once for two WAVs; the kept weights give the reference scores, and other audio other scores', async () => {
    const opened = await openModelForCorpus(WHISPER);
    const tensorCount = opened.checkpoint.tensors.length;
    const heads: Float32Array[] = [];
    try {
      for (const wav of [WAV, reversedWav()]) {
        const files = { wav, attention: WHISPER, model: WHISPER };
        const utterance = await runModelUtterance(files, await openModelInput(files, () => {}, opened), { device, shaders: SHADERS, passes });
        try {
          heads.push(await utterance.model.readHead(1, 2));
        } finally {
          await utterance.close();
        }
        expect(opened.checkpoint.tensorsRead).toBe(tensorCount);
      }
      // The fixture's reference is the first WAV; the second WAV's scores differ from it.
      const scores = (await readExpected('whisper_f32')).get('scores')!;
      const [, headCount, rows, cols] = scores.shape;
      const reference = scores.data.subarray((1 * headCount + 2) * rows * cols, (1 * headCount + 3) * rows * cols);
      expect(maxAbsDifference(heads[0], reference)).toBeLessThan(2e-3);
      expect(maxAbsDifference(heads[1], reference)).toBeGreaterThan(0.1);
    } finally {
      await opened.close();
    }
  });
});

describe('loadModelUtterance', () => {
  it('keeps the model files open: after a device loss the encoder runs again from them, with the same scores', async () => {
    const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS });
    try {
      const utterance = await loadModelUtterance({ wav: WAV, attention: WHISPER, model: WHISPER }, { device: engine.device, shaders: SHADERS });
      try {
        engine.addTensor('model', utterance.attention);
        const request = { tensorId: 'model', layer: 1, head: 2, softmax: 'none' } as const;
        const before = await engine.readMap(request);
        engine.device.destroy();
        const after = await engine.readMap(request);
        expect(utterance.model).toBeInstanceOf(ModelAttentionSource);
        expect((utterance.model as ModelAttentionSource).rebuilds).toBe(1);
        expect(maxAbsDifference(after, before)).toBeLessThan(1e-6);
      } finally {
        await utterance.close();
      }
    } finally {
      engine.destroy();
    }
  });
});
