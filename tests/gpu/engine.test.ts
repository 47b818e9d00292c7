import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMapCpu, type TensorValues } from '../../src/compute/mapRequest.cpu.ts';
import { minMaxCpu } from '../../src/compute/minMax.cpu.ts';
import {
  AttentionEngine,
  BudgetTooSmallError,
  EngineDestroyedError,
  type AttentionEngineOptions,
  type EngineEvent,
  type MapRequest,
} from '../../src/engine.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { ABSOLUTE_FLOOR, SHADERS, TOLERANCE, expectClose, makeRandom, makeRecordingSource, type RecordingSource } from './support.ts';

const SHAPE = { layers: 3, heads: 4, rows: 7, cols: 9 };
/** Bytes of one float32 layer of SHAPE. */
const LAYER_BYTES = SHAPE.heads * SHAPE.rows * SHAPE.cols * 4;

function createEngine(options: Partial<AttentionEngineOptions> = {}): Promise<AttentionEngine> {
  return AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, ...options });
}

function tensorsOf(sources: Record<string, RecordingSource>): (id: string) => TensorValues {
  return (id) => ({ shape: sources[id].shape, layer: (layer) => sources[id].layerValues(layer) });
}

/** readMap vs computeMapCpu. Means of signed values can cancel to ~0, so 'none' compares against the input scale. */
async function expectMatches(engine: AttentionEngine, sources: Record<string, RecordingSource>, request: MapRequest) {
  const format = engine.storage;
  const expected = computeMapCpu(request, tensorsOf(sources));
  const actual = await engine.readMap(request);
  const signed = JSON.stringify(request).includes('"none"') || JSON.stringify(request).includes('difference');
  expectClose(actual, expected.values, TOLERANCE[format], signed ? 1 : ABSOLUTE_FLOOR[format]);
  expect(await engine.outputShape(request)).toEqual({ rows: expected.rows, cols: expected.cols });
}

/** The (layer, firstHead) of each resident chunk, least recently used first. */
function residentLayers(engine: AttentionEngine): number[] {
  return engine.memory.entries.map((entry) => entry.layer);
}

describe(AttentionEngine.name, () => {
  describe('maps (one engine, float32)', () => {
    let engine: AttentionEngine;
    const sources = {
      a: makeRecordingSource('a.npy', SHAPE, makeRandom(1)),
      b: makeRecordingSource('b.npy', SHAPE, makeRandom(2)),
      probs: makeRecordingSource('probs.npy', SHAPE, makeRandom(3), 0, 1),
    };
    beforeAll(async () => {
      engine = await createEngine();
      for (const [id, source] of Object.entries(sources)) engine.addTensor(id, source);
    });
    afterAll(() => engine.destroy());

    const crop = { rowStart: 1, rowEnd: 6, colStart: 2, colEnd: 8 };
    for (const softmax of ['none', 'row', 'crop'] as const) {
      it(`computes one head, head means, subsets and layer means with softmax '${softmax}', whole and cropped`, async () => {
        for (const request of [
          { tensorId: 'a', layer: 1, head: 2, softmax },
          { tensorId: 'a', layer: 1, head: 2, softmax, crop },
          { tensorId: 'a', layer: 0, head: 'mean', softmax },
          { tensorId: 'a', layer: 2, head: [3, 0], softmax, crop },
          { tensorId: 'a', layer: 'mean', head: 1, softmax },
          { tensorId: 'a', layer: 'mean', head: 'mean', softmax, crop },
          { tensorId: 'a', layer: [2, 0], head: [1, 2], softmax },
        ] satisfies MapRequest[]) {
          await expectMatches(engine, sources, request);
        }
      });
    }

    it('computes differences: head vs head, layer vs layer, tensor vs tensor, and nested', async () => {
      const head = (tensorId: string, layer: number, h: number | 'mean') => ({ tensorId, layer, head: h, softmax: 'row' as const });
      await expectMatches(engine, sources, { kind: 'difference', minuend: head('a', 0, 1), subtrahend: head('a', 0, 3) });
      await expectMatches(engine, sources, { kind: 'difference', minuend: head('a', 2, 'mean'), subtrahend: head('a', 0, 'mean') });
      await expectMatches(engine, sources, { kind: 'difference', minuend: head('a', 1, 0), subtrahend: head('b', 1, 0) });
      await expectMatches(engine, sources, {
        kind: 'difference',
        minuend: { kind: 'difference', minuend: head('a', 1, 0), subtrahend: head('b', 1, 0) },
        subtrahend: head('probs', 1, 0),
      });
    });

    it('rejects invalid requests with a sentence', async () => {
      await expect(engine.readMap({ tensorId: 'nope', layer: 0, head: 0, softmax: 'row' })).rejects.toThrowError(
        /No tensor 'nope' has been added \(added: 'a', 'b', 'probs'\)/,
      );
      await expect(engine.readMap({ tensorId: 'a', layer: 3, head: 0, softmax: 'row' })).rejects.toThrowError(
        /a: layer 3 does not exist \(the tensor has 3 layers, 0..2\)/,
      );
      await expect(engine.readMap({ tensorId: 'a', layer: 0, head: [1, 1], softmax: 'row' })).rejects.toThrowError(/repeats an index/);
      await expect(
        engine.readMap({ tensorId: 'a', layer: 0, head: 0, softmax: 'row', crop: { rowStart: 0, rowEnd: 8, colStart: 0, colEnd: 1 } }),
      ).rejects.toThrowError(/crop rows 0..8, columns 0..1 \(ends exclusive\) is not a non-empty rectangle inside the 7 x 9 map/);
      const cropped = { tensorId: 'a', layer: 0, head: 0, softmax: 'row' as const, crop };
      await expect(
        engine.readMap({ kind: 'difference', minuend: cropped, subtrahend: { ...cropped, crop: undefined } }),
      ).rejects.toThrowError(/difference: the maps differ in size \(5 x 6 minus 7 x 9\)/);
    });

    it('leaves the map on the GPU for render passes, in a new buffer or in one the caller supplies', async () => {
      const request = { tensorId: 'probs', layer: 2, head: 3, softmax: 'none' } as const;
      const map = await engine.computeMap(request);
      expect(map).toMatchObject({ rows: 7, cols: 9, request, device: engine.device });
      expect(map.buffer.usage & GPUBufferUsage.STORAGE).toBeTruthy();
      const supplied = engine.device.createBuffer({ label: 'test.supplied', size: 7 * 9 * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      const into = await engine.computeMap(request, { output: supplied });
      expect(into.buffer).toBe(supplied);
      into.destroy(); // not ours: stays alive
      const stats = await engine.computeStats(into, { bins: 16 });
      const read = await stats.read();
      expect(read.histogram.reduce((sum, count) => sum + count, 0)).toBe(63);
      stats.destroy();
      stats.destroy();
      map.destroy();
      map.destroy();
      supplied.destroy();
    });

    it('computes min/max and a histogram of the visible region, ignoring and counting non-finite values', async () => {
      const request = { tensorId: 'a', layer: 1, head: 'mean', softmax: 'crop', crop } as const;
      const values = await engine.readMap(request);
      const region = { rowStart: 1, rowEnd: 4, colStart: 0, colEnd: 5 };
      const stats = await engine.readStats(request, { region, bins: 32 });
      expect(stats).toMatchObject(minMaxCpu(values, 5, 6, region));
      expect(stats.histogram.reduce((sum, count) => sum + count, 0)).toBe(15);
      // A NaN in the data: its softmax row is NaN (torch), and the colour scale ignores that row.
      const withNaN = makeRecordingSource('nan.npy', { layers: 1, heads: 1, rows: 3, cols: 4 }, makeRandom(5));
      withNaN.layerValues(0)[5] = NaN;
      engine.addTensor('nan', withNaN);
      const nanStats = await engine.readStats({ tensorId: 'nan', layer: 0, head: 0, softmax: 'row' }, { bins: 0 });
      const expected = minMaxCpu(computeMapCpu({ tensorId: 'nan', layer: 0, head: 0, softmax: 'row' }, tensorsOf({ nan: withNaN })).values, 3, 4, { rowStart: 0, rowEnd: 3, colStart: 0, colEnd: 4 });
      expect(nanStats).toMatchObject({ finiteCount: 8, nanCount: 4, posInfCount: 0, negInfCount: 0 });
      expectClose([nanStats.min, nanStats.max], [expected.min, expected.max], TOLERANCE.float32, ABSOLUTE_FLOOR.float32);
      expect(Number.isFinite(nanStats.min) && Number.isFinite(nanStats.max)).toBe(true);
      expect(nanStats.histogram.length).toBe(0);
      engine.removeTensor('nan');
    });
  });

  it('stores float16 when asked, within 1e-3 of the float32 reference', async () => {
    const engine = await createEngine({ storage: 'float16' });
    try {
      const sources = { p: makeRecordingSource('p.npy', { layers: 2, heads: 3, rows: 5, cols: 149 }, makeRandom(7), 0, 1) };
      engine.addTensor('p', sources.p);
      for (const softmax of ['none', 'row', 'crop'] as const) {
        await expectMatches(engine, sources, { tensorId: 'p', layer: 1, head: 2, softmax, crop: { rowStart: 0, rowEnd: 5, colStart: 3, colEnd: 140 } });
        await expectMatches(engine, sources, { tensorId: 'p', layer: 'mean', head: 'mean', softmax });
      }
      expect(engine.memory.entries[0].byteLength).toBe(Math.ceil((3 * 5 * 149) / 2) * 4);
    } finally {
      engine.destroy();
    }
  });

  it('uploads lazily: the first map reads and uploads only its own layer', async () => {
    const events: EngineEvent[] = [];
    const engine = await createEngine({ onEvent: (event) => events.push(event) });
    try {
      const source = makeRecordingSource('lazy.npy', SHAPE, makeRandom(11));
      engine.addTensor('lazy', source);
      expect(source.reads).toEqual([]);
      await expectMatches(engine, { lazy: source }, { tensorId: 'lazy', layer: 2, head: 1, softmax: 'row' });
      expect(source.reads).toEqual(['layer 2']);
      expect(events).toEqual([{ type: 'upload', tensorId: 'lazy', layer: 2, firstHead: 0, headCount: 4, byteLength: LAYER_BYTES }]);
      // Another head of the same layer is already resident.
      await engine.readMap({ tensorId: 'lazy', layer: 2, head: 3, softmax: 'crop' });
      expect(source.reads).toEqual(['layer 2']);
      expect(engine.memory).toEqual({
        budgetBytes: 1024 ** 3,
        reservedBytes: 0,
        reservations: [],
        residentBytes: LAYER_BYTES,
        pooledBytes: 0,
        pooledBuffers: 0,
        entries: [{ tensorId: 'lazy', layer: 2, firstHead: 0, headCount: 4, byteLength: LAYER_BYTES }],
      });
    } finally {
      engine.destroy();
    }
  });

  it('uploads head by head (in even runs) when a layer is larger than the largest buffer it may use', async () => {
    // Room for 3 maps per buffer: 4 heads become 2 runs of 2.
    const engine = await createEngine({ maxChunkBytes: 3 * SHAPE.rows * SHAPE.cols * 4 });
    try {
      const source = makeRecordingSource('big.npy', SHAPE, makeRandom(12));
      engine.addTensor('big', source);
      await expectMatches(engine, { big: source }, { tensorId: 'big', layer: 1, head: 3, softmax: 'row' });
      expect(source.reads).toEqual(['head 1.2', 'head 1.3']);
      await expectMatches(engine, { big: source }, { tensorId: 'big', layer: 'mean', head: [3, 0, 1], softmax: 'crop' });
      // Layer by layer, the run holding head 3 first, then the run holding heads 0 and 1: least recently used first.
      expect(engine.memory.entries.map((entry) => [entry.layer, entry.firstHead, entry.headCount])).toEqual([
        [0, 2, 2],
        [0, 0, 2],
        [1, 2, 2],
        [1, 0, 2],
        [2, 2, 2],
        [2, 0, 2],
      ]);
    } finally {
      engine.destroy();
    }
  });

  it('evicts the least recently used layer: with room for 2, touching layers 0, 1, 2, 0 leaves 2 and 0 (layer 1 evicted last)', async () => {
    const events: EngineEvent[] = [];
    const engine = await createEngine({ budgetBytes: 2 * LAYER_BYTES, onEvent: (event) => events.push(event) });
    try {
      const source = makeRecordingSource('lru.npy', SHAPE, makeRandom(13));
      engine.addTensor('lru', source);
      for (const layer of [0, 1, 2, 0]) await engine.readMap({ tensorId: 'lru', layer, head: 0, softmax: 'row' });
      expect(residentLayers(engine)).toEqual([2, 0]);
      expect(engine.memory.residentBytes).toBe(2 * LAYER_BYTES);
      // Layer 2 pushed out layer 0 (then the least recent), and layer 0 coming back pushed out layer 1.
      expect(events.filter((event) => event.type === 'evict').map((event) => (event as { layer: number }).layer)).toEqual([0, 1]);
      expect(source.reads).toEqual(['layer 0', 'layer 1', 'layer 2', 'layer 0']);
      // A layer mean needs one layer at a time, so it runs within a one-layer budget, and stays correct.
      engine.setBudget(LAYER_BYTES);
      expect(residentLayers(engine)).toEqual([0]);
      await expectMatches(engine, { lru: source }, { tensorId: 'lru', layer: 'mean', head: 'mean', softmax: 'row' });
      expect(residentLayers(engine)).toEqual([2]);
      // One layer larger than the whole budget is refused with a sentence.
      engine.setBudget(LAYER_BYTES - 1);
      await expect(engine.readMap({ tensorId: 'lru', layer: 1, head: 0, softmax: 'row' })).rejects.toThrowError(BudgetTooSmallError);
      await expect(engine.readMap({ tensorId: 'lru', layer: 1, head: 0, softmax: 'row' })).rejects.toThrowError(
        /budget \(1007 bytes\) is smaller than one upload of lru \(layer 1, 4 head\(s\): 1008 bytes\); raise budgetBytes/,
      );
    } finally {
      engine.destroy();
    }
  });

  it('prefetches the other layers in the background while they fit, evicting nothing', async () => {
    const events: EngineEvent[] = [];
    const engine = await createEngine({ budgetBytes: 2 * LAYER_BYTES, prefetch: true, onEvent: (event) => events.push(event) });
    try {
      const source = makeRecordingSource('pre.npy', SHAPE, makeRandom(14));
      engine.addTensor('pre', source);
      await engine.readMap({ tensorId: 'pre', layer: 1, head: 0, softmax: 'row' });
      expect(source.reads[0]).toBe('layer 1');
      await engine.prefetch('pre'); // waits for what the background prefetch would do
      expect(residentLayers(engine).sort()).toEqual([0, 1]);
      expect(events.some((event) => event.type === 'evict')).toBe(false);
    } finally {
      engine.destroy();
    }
  });

  it('recycles chunk buffers: a removed tensor\'s layers are pooled in the budget, and the next tensor\'s layer fills one with its own values', async () => {
    const engine = await createEngine({ budgetBytes: 3 * LAYER_BYTES });
    try {
      const first = makeRecordingSource('first.npy', SHAPE, makeRandom(21));
      engine.addTensor('first', first);
      for (const layer of [0, 1]) await engine.readMap({ tensorId: 'first', layer, head: 0, softmax: 'row' });
      engine.removeTensor('first');
      expect(engine.memory).toMatchObject({ residentBytes: 0, pooledBytes: 2 * LAYER_BYTES, pooledBuffers: 2 });
      const second = makeRecordingSource('second.npy', SHAPE, makeRandom(22));
      engine.addTensor('second', second);
      await expectMatches(engine, { second }, { tensorId: 'second', layer: 1, head: 'mean', softmax: 'row' });
      expect(engine.memory).toMatchObject({ residentBytes: LAYER_BYTES, pooledBytes: LAYER_BYTES, pooledBuffers: 1 });
      // Room for a third layer is made by dropping the pooled buffer first, never by evicting a resident layer.
      await engine.readMap({ tensorId: 'second', layer: 0, head: 0, softmax: 'row' });
      await engine.readMap({ tensorId: 'second', layer: 2, head: 0, softmax: 'row' });
      expect(engine.memory).toMatchObject({ residentBytes: 3 * LAYER_BYTES, pooledBytes: 0 });
      expect(residentLayers(engine)).toEqual([1, 0, 2]);
    } finally {
      engine.destroy();
    }
  });

  it('survives device loss: a new device, pipelines and uploads on demand, the same values, and events', async () => {
    const events: EngineEvent[] = [];
    const engine = await createEngine({ onEvent: (event) => events.push(event) });
    try {
      const source = makeRecordingSource('lost.npy', SHAPE, makeRandom(15));
      engine.addTensor('lost', source);
      const request = { tensorId: 'lost', layer: 1, head: 'mean', softmax: 'row' } as const;
      const before = await engine.readMap(request);
      const lostDevice = engine.device;
      lostDevice.destroy();
      const after = await engine.readMap(request);
      expect(Array.from(after)).toEqual(Array.from(before));
      expect(engine.device).not.toBe(lostDevice);
      expect(events.map((event) => event.type)).toEqual(['upload', 'device-lost', 'device-restored', 'upload']);
      expect(source.reads).toEqual(['layer 1', 'layer 1']);
      await expectMatches(engine, { lost: source }, { kind: 'difference', minuend: request, subtrahend: { ...request, layer: 0 } });
    } finally {
      engine.destroy();
    }
  });

  it('frees everything on destroy() and refuses to be used afterwards', async () => {
    const engine = await createEngine();
    engine.addTensor('t', makeRecordingSource('t.npy', SHAPE, makeRandom(16)));
    await engine.readMap({ tensorId: 't', layer: 0, head: 0, softmax: 'none' });
    engine.destroy();
    engine.destroy();
    expect(engine.memory.residentBytes).toBe(0);
    await expect(engine.readMap({ tensorId: 't', layer: 0, head: 0, softmax: 'none' })).rejects.toThrowError(EngineDestroyedError);
  });
});
