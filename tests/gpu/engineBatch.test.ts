/**
 * AttentionEngine.computeMaps: several maps and their stats recorded into one command buffer and submitted once.
 * Each map and its stats must equal what computeMap/readStats give one at a time; the work counters must show one
 * submit and no readback for kinds that record through the context; a rollout between other kinds (its running
 * products recorded into the shared command buffer) and a budget smaller than the batch's layers split the batch
 * without changing any value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttentionEngine, type MapRequest, type MapWithStats } from '../../src/engine.ts';
import { readBufferBytes } from '../../src/gpu/buffers.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { MapRequestError } from '../../src/compute/requestError.ts';
import { SHADERS, makeRandom, makeRecordingSource } from './support.ts';

const SHAPE = { layers: 3, heads: 4, rows: 12, cols: 12 };
const LAYER_BYTES = SHAPE.heads * SHAPE.rows * SHAPE.cols * 4;
const source = makeRecordingSource('batch.npy', SHAPE, makeRandom(21));
const crop = { rowStart: 2, rowEnd: 10, colStart: 1, colEnd: 12 };

const GRID: MapRequest[] = [];
for (let layer = 0; layer < SHAPE.layers; layer++) {
  for (let head = 0; head < SHAPE.heads; head++) GRID.push({ kind: 'attention', tensorId: 't', layer, head, softmax: 'row', crop });
}
const MIXED: MapRequest[] = [
  { kind: 'attention', tensorId: 't', layer: 1, head: 'mean', softmax: 'row' },
  { kind: 'difference', minuend: { tensorId: 't', layer: 0, head: 1, softmax: 'none' }, subtrahend: { tensorId: 't', layer: 2, head: 3, softmax: 'none' } },
  { kind: 'segmentPool', source: { tensorId: 't', layer: 2, head: 0, softmax: 'row' }, rowSegments: [{ start: 0, end: 5 }, { start: 5, end: 12 }], colSegments: [{ start: 3, end: 9 }], stat: 'mean' },
  { kind: 'blockPool', source: { tensorId: 't', layer: 0, head: 2, softmax: 'row' }, block: 5, stat: 'max' },
  { kind: 'headStats', tensorId: 't', softmax: 'row', msPerFrame: 20, statistic: 'entropy' },
];
const WITH_ROLLOUT: MapRequest[] = [MIXED[0], { kind: 'rollout', tensorId: 't' }, MIXED[2]];

describe('AttentionEngine.computeMaps', () => {
  let engine: AttentionEngine;
  beforeAll(async () => {
    engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS });
    engine.addTensor('t', source);
  });
  afterAll(() => engine.destroy());

  /** computeMaps of `requests` against readMap and readStats of each, one at a time. */
  async function expectSameAsOneByOne(requests: MapRequest[]): Promise<void> {
    const results: MapWithStats[] = await engine.computeMaps(requests, { stats: { bins: 16 } });
    try {
      expect(results).toHaveLength(requests.length);
      for (const [index, request] of requests.entries()) {
        const { map, stats } = results[index];
        const alone = await engine.readMap(request);
        const values = new Float32Array(await readBack(map.buffer, map.rows * map.cols));
        expect([...values]).toEqual([...alone]);
        const read = await stats!.read();
        const aloneStats = await engine.readStats(request, { bins: 16 });
        expect({ ...read, histogram: [...read.histogram] }).toEqual({ ...aloneStats, histogram: [...aloneStats.histogram] });
      }
    } finally {
      for (const { map, stats } of results) {
        map.destroy();
        stats?.destroy();
      }
    }
  }

  function readBack(buffer: GPUBuffer, count: number): Promise<ArrayBuffer> {
    return readBufferBytes(engine.device, buffer, count * 4);
  }

  it('a grid of 12 maps with their stats: one submit, no readback, the same values as one at a time', async () => {
    await engine.prefetch('t');
    const before = engine.workCounts;
    const results = await engine.computeMaps(GRID, { stats: { bins: 0 } });
    const after = engine.workCounts;
    results.forEach(({ map, stats }) => (map.destroy(), stats?.destroy()));
    expect(after.submits - before.submits).toBe(1);
    expect(after.blockingReadbacks - before.blockingReadbacks).toBe(0);
    // A softmax and a min/max reduction with its finalize step per map.
    expect(after.dispatches - before.dispatches).toBe(GRID.length * 3);
    await expectSameAsOneByOne(GRID);
  });

  it('finish records into the same command buffer, after the maps (a frame would go there)', async () => {
    const before = engine.workCounts;
    let copy: GPUBuffer | undefined;
    const results = await engine.computeMaps(GRID.slice(0, 2), {
      finish: (encoder, done) => {
        copy = engine.device.createBuffer({ size: done[1].map.buffer.size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
        encoder.copyBufferToBuffer(done[1].map.buffer, 0, copy, 0, copy.size);
      },
    });
    expect(engine.workCounts.submits - before.submits).toBe(1);
    const copied = new Float32Array(await readBack(copy!, results[1].map.rows * results[1].map.cols));
    expect([...copied]).toEqual([...(await engine.readMap(GRID[1]))]);
    copy!.destroy();
    results.forEach(({ map }) => map.destroy());
  });

  it('every kind that records through the context, in one submit', async () => {
    const before = engine.workCounts;
    const results = await engine.computeMaps(MIXED);
    results.forEach(({ map }) => map.destroy());
    expect(engine.workCounts.submits - before.submits).toBe(1);
    await expectSameAsOneByOne(MIXED);
  });

  it('a rollout between other kinds: the same values', async () => {
    await expectSameAsOneByOne(WITH_ROLLOUT);
  });

  it('a budget of one layer: the batch is submitted as it goes, with the same values', async () => {
    engine.setBudget(LAYER_BYTES);
    try {
      const before = engine.workCounts;
      const results = await engine.computeMaps(GRID);
      results.forEach(({ map }) => map.destroy());
      expect(engine.workCounts.submits - before.submits).toBeGreaterThan(1);
      expect(engine.memory.residentBytes).toBeLessThanOrEqual(LAYER_BYTES);
      await expectSameAsOneByOne(GRID);
    } finally {
      engine.setBudget(1024 ** 3);
    }
  });

  it('an invalid request frees what was made and throws its MapRequestError', async () => {
    await expect(engine.computeMaps([GRID[0], { kind: 'attention', tensorId: 't', layer: 7, head: 0, softmax: 'row' }])).rejects.toThrow(MapRequestError);
    // The engine still works afterwards (nothing left pinned or half-recorded).
    const [{ map }] = await engine.computeMaps([GRID[1]]);
    map.destroy();
  });
});
