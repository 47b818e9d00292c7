/**
 * Rollout on the host path (engine option compute: 'cpu'; src/compute/cpu/hostRollout.ts) against the GPU path and
 * rolloutCpu: whole, cropped after, within a crop, a head subset and a layer sub-range give the GPU's map with no
 * dispatch and no read-back; the running product is kept per layer (stepping 0 -> 3 reads one new layer per step,
 * going back reads none), dropped with the tensor; progress is reported per step and a cancel stops between steps.
 * Small sizes (4 layers x 2 heads x 13 x 13: 13 is padded to 16).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headMeanCpu } from '../../src/compute/headMean.cpu.ts';
import { fullCrop } from '../../src/compute/region.ts';
import { rolloutCpu } from '../../src/compute/rollout.cpu.ts';
import type { RolloutMapRequest } from '../../src/compute/rolloutMap.ts';
import { AttentionEngine, ComputeCancelledError, type ComputeMapsProgress } from '../../src/engine.ts';
import { workSince } from '../../src/gpu/workCounters.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { ABSOLUTE_FLOOR, SHADERS, TOLERANCE, expectClose, makeRandom, makeRecordingSource } from './support.ts';

const SHAPE = { layers: 4, heads: 2, rows: 13, cols: 13 };
const N = SHAPE.rows;

describe('rollout on the host path', () => {
  let gpu: AttentionEngine;
  let cpu: AttentionEngine;
  const source = makeRecordingSource('rollout.npy', SHAPE, makeRandom(31));
  beforeAll(async () => {
    gpu = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, compute: 'gpu' });
    cpu = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, compute: 'cpu' });
    gpu.addTensor('a', source);
  });
  afterAll(() => {
    gpu?.destroy();
    cpu?.destroy();
  });

  const crop = { rowStart: 2, rowEnd: 11, colStart: 2, colEnd: 11 };
  const cases: [string, RolloutMapRequest][] = [
    ['all layers', { kind: 'rollout', tensorId: 'a' }],
    ['cropped after', { kind: 'rollout', tensorId: 'a', crop: { rowStart: 1, rowEnd: 12, colStart: 3, colEnd: 9 } }],
    ['within a crop, softmax over it', { kind: 'rollout', tensorId: 'a', crop, cropMode: 'within', softmax: 'crop' }],
    ['one head, layers 1..3', { kind: 'rollout', tensorId: 'a', heads: 1, layerStart: 1, layerEnd: 3 }],
    ['no softmax, one layer', { kind: 'rollout', tensorId: 'a', softmax: 'none', layerStart: 2, layerEnd: 3 }],
  ];
  for (const [name, request] of cases) {
    it(`${name}: the GPU path's map, made without a dispatch or a read-back`, async () => {
      cpu.addTensor('a', source);
      try {
        const expected = await gpu.readMap(request);
        const map = await cpu.computeMap(request);
        try {
          const before = cpu.workCounts;
          const stats = await cpu.computeStats(map, { bins: 0 });
          const values = await cpu.readMap(request);
          expectClose(values, expected, TOLERANCE.float32, request.softmax === 'none' ? 1e-6 : ABSOLUTE_FLOOR.float32);
          expect(await cpu.outputShape(request)).toEqual(await gpu.outputShape(request));
          // readMap and the stats came from the host copy: no kernel ran, nothing was read back.
          const work = workSince(before, cpu.workCounts);
          expect(work.dispatches).toBe(0);
          expect(work.blockingReadbacks).toBe(0);
          expect((await stats.read()).max).toBe(Math.max(...values));
          stats.destroy();
        } finally {
          map.destroy();
        }
      } finally {
        cpu.removeTensor('a');
      }
    });
  }

  it('keeps the running product per layer: one new layer read per step, none going back, dropped with the tensor', async () => {
    cpu.addTensor('steps', source);
    const through = (layer: number): RolloutMapRequest => ({ kind: 'rollout', tensorId: 'steps', layerEnd: layer + 1 });
    for (let layer = 0; layer < SHAPE.layers; layer++) {
      source.reads.length = 0;
      const values = await cpu.readMap(through(layer));
      expect(source.reads.sort(), `reads of the step to layer ${layer}`).toEqual([`head ${layer}.0`, `head ${layer}.1`]);
      const layers = new Float32Array((layer + 1) * N * N);
      for (let l = 0; l <= layer; l++) layers.set(Float32Array.from(headMeanCpu(source.layerValues(l), [0, 1], N, N, fullCrop(N, N), 'row')), l * N * N);
      expectClose(values, rolloutCpu(layers, N, 0, layer + 1), TOLERANCE.float32, ABSOLUTE_FLOOR.float32);
    }
    source.reads.length = 0;
    await cpu.readMap(through(1));
    expect(source.reads).toEqual([]);
    const kept = () => cpu.memory.entries.filter((entry) => entry.tensorId === 'steps' && entry.derived?.startsWith('host rollout'));
    expect(kept().map((entry) => entry.layer).sort()).toEqual([0, 1, 2, 3]);
    // A kept product counts its host bytes: 16 x 16 float64 (13 frames padded to 16).
    expect(kept().every((entry) => entry.byteLength === 16 * 16 * 8)).toBe(true);
    cpu.removeTensor('steps');
    expect(kept()).toEqual([]);
  });

  it('reports progress per step, and a cancel stops before the next step, keeping the finished products', async () => {
    cpu.addTensor('progress', source);
    try {
      const request: RolloutMapRequest = { kind: 'rollout', tensorId: 'progress' };
      const controller = new AbortController();
      const heard: ComputeMapsProgress[] = [];
      await expect(
        cpu.computeMaps([request], {
          signal: controller.signal,
          onProgress: (progress) => {
            heard.push(progress);
            if (progress.step?.done === 2) controller.abort();
          },
        }),
      ).rejects.toBeInstanceOf(ComputeCancelledError);
      expect(heard.map((p) => p.step?.done)).toEqual([1, 2]);
      source.reads.length = 0;
      const resumed: ComputeMapsProgress[] = [];
      const [result] = await cpu.computeMaps([request], { onProgress: (progress) => resumed.push(progress) });
      result.map.destroy();
      expect(resumed.map((p) => p.step?.done)).toEqual([3, undefined]);
      expect(source.reads.sort()).toEqual(['head 2.0', 'head 2.1', 'head 3.0', 'head 3.1']);
    } finally {
      cpu.removeTensor('progress');
    }
  });
});
