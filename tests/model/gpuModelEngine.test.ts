/**
 * A model's scores in the engine: chunks are computed on the engine's device straight into its storage buffers,
 * maps and softmax match the torch reference, and under a budget of one layer an evicted layer is recomputed from
 * the kept hidden states. What the model keeps on the GPU is counted in the budget (its size worked out here from the
 * config, not from our code), a budget too small for it is refused with what is needed, and after a device loss the
 * source runs the encoder again on the new device. (float16 chunks: tests/model/gpuEncoders.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttentionEngine, BudgetTooSmallError, type EngineEvent } from '../../src/engine.ts';
import { openEncoderCheckpoint, selectModelFiles } from '../../src/model/checkpoint.ts';
import { ModelAttentionSource } from '../../src/model/modelSource.ts';
import { softmaxRowsCpu } from '../../src/model/ops/softmaxRows.cpu.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { SHADERS } from '../gpu/support.ts';
import { folderSources, maxAbsDifference, readExpected, type ExpectedArray } from './modelFixtures.ts';

const engines: AttentionEngine[] = [];
let expected: ExpectedArray;
let waveform: Float32Array;

beforeAll(async () => {
  const arrays = await readExpected('wav2vec2_base');
  expected = arrays.get('scores')!;
  waveform = arrays.get('audio')!.data;
});
afterAll(() => engines.forEach((engine) => engine.destroy()));

async function engineWithModel(storage: 'float32' | 'float16', budgetBytes?: number) {
  const events: EngineEvent[] = [];
  const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, storage, budgetBytes, onEvent: (event) => events.push(event) });
  engines.push(engine);
  const checkpoint = await openEncoderCheckpoint(selectModelFiles(folderSources('wav2vec2_base'), 'wav2vec2_base'));
  const source = await ModelAttentionSource.run(engine.device, SHADERS, checkpoint, { kind: 'waveform', samples: waveform });
  engine.addTensor('model', source);
  return { engine, source, events };
}

/**
 * What the wav2vec2_base fixture must keep, from its shapes: each layer's input and the last hidden state
 * (frames x hidden), q and k weights with biases per layer, q and k of one recomputation, and for float16 one head's
 * f32 scores (two heads when a map has an odd number of values), all f32.
 */
function expectedKeptBytes(storage: 'float32' | 'float16'): number {
  const [layers, heads, frames] = expected.shape;
  const hidden = 48; // config.json: hidden_size
  const states = (layers + 1) * frames * hidden;
  const queryKey = layers * 2 * (hidden * hidden + hidden);
  const scratch = 2 * frames * hidden;
  const pack = storage === 'float16' ? Math.min(heads, (frames * frames) % 2 ? 2 : 1) * frames * frames : 0;
  return 4 * (states + queryKey + scratch + pack);
}

/** The reference scores of one head. */
function referenceHead(layer: number, head: number): Float32Array {
  const [, heads, rows, cols] = expected.shape;
  const size = rows * cols;
  return expected.data.subarray((layer * heads + head) * size, (layer * heads + head + 1) * size);
}

describe('ModelAttentionSource in the engine', () => {
  it('float32 storage: raw maps, row softmax, and an evicted layer recomputed under a one-layer budget', async () => {
    const [, heads, rows, cols] = expected.shape;
    const layerBytes = heads * rows * cols * 4;
    const kept = expectedKeptBytes('float32');
    const { engine, source, events } = await engineWithModel('float32', kept + layerBytes);
    expect(engine.memory).toMatchObject({ budgetBytes: kept + layerBytes, reservedBytes: kept, reservations: [{ owner: "tensor 'model'", bytes: kept }] });
    expect(engine.memory.reservations[0].holds).toMatch(/2 layer inputs .*q\/k weights/);
    expect(source.shape).toEqual({ layers: 2, heads, rows, cols });
    const raw = await engine.readMap({ tensorId: 'model', layer: 1, head: 2, softmax: 'none' });
    expect(maxAbsDifference(raw, referenceHead(1, 2))).toBeLessThan(2e-3);
    const first = await engine.readMap({ tensorId: 'model', layer: 0, head: 3, softmax: 'row' });
    expect(maxAbsDifference(first, softmaxRowsCpu(referenceHead(0, 3), rows, cols))).toBeLessThan(2e-5);
    // Layers 1, 0, 1, 0 with room for one: four chunks computed, each after the first evicting the other layer.
    await engine.readMap({ tensorId: 'model', layer: 1, head: 0, softmax: 'none' });
    const again = await engine.readMap({ tensorId: 'model', layer: 0, head: 3, softmax: 'row' });
    expect(again).toEqual(first);
    expect(events.filter((event) => event.type === 'upload').length).toBe(4);
    expect(events.filter((event) => event.type === 'evict').length).toBe(3);
    expect(engine.memory.residentBytes).toBeLessThanOrEqual(layerBytes);
    engine.removeTensor('model');
    expect(engine.memory.reservedBytes).toBe(0);
    source.destroy();
  });

  it('refuses a budget too small for what the model keeps, naming the bytes needed; float16 counts its packing scratch', async () => {
    const [, heads, rows, cols] = expected.shape;
    const kept16 = expectedKeptBytes('float16');
    // A layer fits one buffer here, so the engine's chunks are whole layers.
    const layer16 = Math.ceil((heads * rows * cols) / 2) * 4;
    const { engine, source } = await engineWithModel('float16');
    try {
      expect(engine.memory.reservedBytes).toBe(kept16);
      engine.setBudget(kept16 + layer16 - 4);
      engine.removeTensor('model');
      expect(() => engine.addTensor('model', source)).toThrowError(BudgetTooSmallError);
      expect(() => engine.addTensor('model', source)).toThrowError(new RegExp(`cannot hold tensor 'model': it keeps ${kept16} bytes .*at least ${kept16 + layer16}`));
      expect(engine.memory.reservedBytes).toBe(0);
      engine.setBudget(kept16 + layer16);
      engine.addTensor('model', source);
      const map = await engine.readMap({ tensorId: 'model', layer: 1, head: 2, softmax: 'none' });
      expect(maxAbsDifference(map, referenceHead(1, 2))).toBeLessThan(2e-2);
    } finally {
      source.destroy();
    }
  });

  it('after a device loss, runs the encoder again on the new device and gives the same maps', async () => {
    const { engine, source, events } = await engineWithModel('float32');
    const request = { tensorId: 'model', layer: 1, head: 2, softmax: 'none' } as const;
    const before = await engine.readMap(request);
    const lostDevice = engine.device;
    lostDevice.destroy();
    const after = await engine.readMap(request);
    expect(engine.device).not.toBe(lostDevice);
    expect(source.rebuilds).toBe(1);
    expect(maxAbsDifference(after, before)).toBeLessThan(1e-6);
    expect(maxAbsDifference(after, referenceHead(1, 2))).toBeLessThan(2e-3);
    expect(events.map((event) => event.type)).toEqual(['upload', 'device-lost', 'device-restored', 'upload']);
    // Another layer on the new device needs no second run.
    await engine.readMap({ ...request, layer: 0 });
    expect(source.rebuilds).toBe(1);
    source.destroy();
  });
});
