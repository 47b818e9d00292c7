/**
 * A model's scores in the engine: chunks are computed on the engine's device straight into its storage buffers,
 * maps and softmax match the torch reference, and under a budget of one layer an evicted layer is recomputed from
 * the kept hidden states. (float16 chunks: tests/model/gpuEncoders.test.ts, without a second engine.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttentionEngine, type EngineEvent } from '../../src/engine.ts';
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
    const { engine, source, events } = await engineWithModel('float32', layerBytes);
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
  });
});
