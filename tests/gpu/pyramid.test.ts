/**
 * Map pyramids (src/compute/pyramid.ts): every level the engine keeps equals the CPU reference (the attention map
 * computed in float64 by computeMapCpu, then pooled by pyramidLevelCpu), mean and max, with a non-finite value in
 * the map; a kept level is computed once; kept levels share the engine's budget and leave least recently used first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMapCpu } from '../../src/compute/mapRequest.cpu.ts';
import { pyramidLevelCpu, pyramidLevelShape } from '../../src/compute/pyramid.cpu.ts';
import { pyramidLevelRequest, tensorIdsOf } from '../../src/compute/pyramid.ts';
import { AttentionEngine, type EngineEvent, type MapRequest } from '../../src/engine.ts';
import { readFloat32 } from '../../src/gpu/buffers.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { pyramidFactors } from '../../src/view/pyramidLevel.ts';
import { ABSOLUTE_FLOOR, SHADERS, TOLERANCE, expectClose, makeRandom, makeRecordingSource, readKeptMap, type RecordingSource } from './support.ts';

// 37 frames: levels 2, 4, 8, 16 and 32 all end in a partial block.
const SHAPE = { layers: 2, heads: 3, rows: 37, cols: 37 };

describe('map pyramid levels', () => {
  let engine: AttentionEngine;
  let source: RecordingSource;
  const events: EngineEvent[] = [];

  beforeAll(async () => {
    source = makeRecordingSource('pyramid.npy', SHAPE, makeRandom(12));
    // Layer 1, head 2, row 5, column 9 is NaN: pooled blocks skip it.
    source.layerValues(1)[(2 * SHAPE.rows + 5) * SHAPE.cols + 9] = Number.NaN;
    engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, onEvent: (event) => events.push(event) });
    engine.addTensor('t', source);
  });

  afterAll(() => engine?.destroy());

  const tensors = () => ({ shape: source.shape, layer: (layer: number) => source.layerValues(layer) });

  const keptValues = (request: MapRequest) => readKeptMap(engine, request);

  it.each([
    ['mean', 'none'],
    ['max', 'none'],
    ['mean', 'row'],
  ] as const)('every level equals the reference (%s of the map, softmax %s)', async (stat, softmax) => {
    const map: MapRequest = { tensorId: 't', layer: 1, head: 2, softmax };
    const full = computeMapCpu(map, tensors);
    const fullF32 = Float32Array.from(full.values);
    expect(pyramidFactors(SHAPE.rows)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    for (const factor of pyramidFactors(SHAPE.rows)) {
      const level = await keptValues(pyramidLevelRequest(map, factor, stat));
      expect({ rows: level.rows, cols: level.cols }, `level ${factor}`).toEqual(pyramidLevelShape(SHAPE.rows, SHAPE.cols, factor));
      // The reference pools the float64 map; the GPU pools the f32 map it computed. Raw scores are O(1) and their
      // block means may cancel to near 0, so their error is relative to 1 (an absolute 1e-5); softmaxed ones are relative.
      const floor = softmax === 'none' ? 1 : ABSOLUTE_FLOOR.float32;
      expectClose(level.values, pyramidLevelCpu(fullF32, SHAPE.rows, SHAPE.cols, factor, stat), TOLERANCE.float32, floor);
    }
    if (softmax === 'none') {
      // The NaN at (5, 9) is skipped: its 2 x 2 block (2, 4) is the mean / max of the other three values.
      const level2 = await keptValues(pyramidLevelRequest(map, 2, stat));
      const others = [[4, 8], [4, 9], [5, 8]].map(([row, col]) => fullF32[row * SHAPE.cols + col]);
      const expected = stat === 'mean' ? others.reduce((a, b) => a + b, 0) / 3 : Math.max(...others);
      expect(level2.values[2 * level2.cols + 4]).toBeCloseTo(expected, 5);
    }
  });

  it('computes a kept level once and hands out the same buffer after', async () => {
    const request = pyramidLevelRequest({ tensorId: 't', layer: 0, head: 1, softmax: 'row' }, 4, 'mean');
    const first = await engine.keepMap(request);
    first.release();
    const before = engine.workCounts.dispatches;
    const second = await engine.keepMap(request);
    expect(second.buffer).toBe(first.buffer);
    expect(engine.workCounts.dispatches).toBe(before);
    second.release();
    const entry = engine.memory.entries.find((chunk) => chunk.derived === JSON.stringify(request));
    expect(entry?.byteLength).toBe(10 * 10 * 4);
  });

  it('keeps levels under the budget with the uploads, least recently used out first', async () => {
    const small = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS });
    const evicted: string[] = [];
    small.subscribe((event) => {
      if (event.type === 'evict' && event.derived) evicted.push(event.derived);
    });
    try {
      small.addTensor('t', source);
      const layerBytes = SHAPE.heads * SHAPE.rows * SHAPE.cols * 4;
      // Room for one uploaded layer and two full-resolution levels (37^2 f32 each), not three.
      small.setBudget(layerBytes + 2 * SHAPE.rows * SHAPE.cols * 4 + 100);
      const level = (head: number) => pyramidLevelRequest({ tensorId: 't', layer: 0, head, softmax: 'none' }, 1, 'mean');
      for (const head of [0, 1]) (await small.keepMap(level(head))).release();
      // Head 0 used again: head 1 is now the least recently used.
      (await small.keepMap(level(0))).release();
      (await small.keepMap(level(2))).release();
      expect(evicted).toEqual([JSON.stringify(level(1))]);
      expect(small.memory.residentBytes).toBeLessThanOrEqual(small.memory.budgetBytes);
      expect(small.memory.entries.map((chunk) => chunk.derived).filter(Boolean)).toEqual([level(0), level(2)].map((r) => JSON.stringify(r)));
      // A pinned level is never evicted: with head 2 pinned, keeping head 1 evicts head 0 and the budget is kept again on release.
      const pinned = await small.keepMap(level(2));
      (await small.keepMap(level(1))).release();
      expect(evicted.at(-1)).toBe(JSON.stringify(level(0)));
      expect(await readFloat32(small.device, pinned.buffer, SHAPE.rows * SHAPE.cols)).toEqual(source.layerValues(0).slice(2 * 37 * 37, 3 * 37 * 37));
      pinned.release();
    } finally {
      small.destroy();
    }
  });

  it('names the tensors a request reads', () => {
    const difference: MapRequest = { kind: 'difference', minuend: { tensorId: 'a', layer: 0, head: 0, softmax: 'row' }, subtrahend: { tensorId: 'b', layer: 0, head: 0, softmax: 'row' } };
    expect(tensorIdsOf(pyramidLevelRequest(difference, 8, 'max'))).toEqual(['a', 'b']);
    expect(() => pyramidLevelRequest(difference, 0, 'mean')).toThrow(/integer >= 1/);
  });
});
