/**
 * The rollout's running product kept per layer (src/compute/rolloutMap.ts, MapContext.acquireDerived): stepping the
 * layer 0 -> 1 -> 2 -> 3 gives what the uncached product of every layer (RolloutPass.encode) and rolloutCpu give,
 * at one product per step by the engine's work counters; going back costs no product; heads, softmax and crops get
 * their own products; a tensor added again under the same id (the CLI's 'utterance' for every file of a batch) gets
 * its own rollout, never the earlier tensor's; kept products are dropped with the tensor and evicted under the budget.
 * Small sizes (4 layers x 2 heads x 23 x 23) for SwiftShader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headMeanCpu } from '../../src/compute/headMean.cpu.ts';
import { fullCrop, type Crop, type SoftmaxScope } from '../../src/compute/region.ts';
import { RolloutPass } from '../../src/compute/rollout.ts';
import { rolloutCpu } from '../../src/compute/rollout.cpu.ts';
import type { RolloutMapRequest } from '../../src/compute/rolloutMap.ts';
import { AttentionEngine, ComputeCancelledError, type ComputeMapsProgress, type MapRequest } from '../../src/engine.ts';
import { createStorageBuffer, readFloat32 } from '../../src/gpu/buffers.ts';
import { workSince, type WorkCounts } from '../../src/gpu/workCounters.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { ABSOLUTE_FLOOR, SHADERS, TOLERANCE, expectClose, makeRandom, makeRecordingSource, type RecordingSource } from './support.ts';

const SHAPE = { layers: 4, heads: 2, rows: 23, cols: 23 };
const N = SHAPE.rows;

let engine: AttentionEngine;
/** The uncached path's pass, on the engine's device. */
let uncachedPass: RolloutPass;
beforeAll(async () => {
  engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS });
  uncachedPass = await RolloutPass.create(engine.device, SHADERS);
});
afterAll(() => {
  uncachedPass?.destroy();
  engine?.destroy();
});

/** rolloutCpu of the head means (softmax per head first) of layers 0..through, cropped afterwards when asked. */
function reference(
  source: RecordingSource,
  through: number,
  { heads = [0, 1], softmax = 'row', crop, within = false }: { heads?: number[]; softmax?: SoftmaxScope; crop?: Crop; within?: boolean } = {},
): Float32Array {
  const layerCrop = within && crop ? crop : fullCrop(N, N);
  const size = layerCrop.rowEnd - layerCrop.rowStart;
  const layers = new Float32Array((through + 1) * size * size);
  for (let layer = 0; layer <= through; layer++) {
    layers.set(Float32Array.from(headMeanCpu(source.layerValues(layer), heads, N, N, layerCrop, softmax)), layer * size * size);
  }
  const full = rolloutCpu(layers, size, 0, through + 1);
  if (!crop || within) return full;
  const cropped = new Float32Array((crop.rowEnd - crop.rowStart) * (crop.colEnd - crop.colStart));
  let index = 0;
  for (let row = crop.rowStart; row < crop.rowEnd; row++) {
    for (let col = crop.colStart; col < crop.colEnd; col++) cropped[index++] = full[row * size + col];
  }
  return cropped;
}

/** The rollout through `through` by the old path: every layer's head mean multiplied in one RolloutPass.encode. */
async function uncachedRollout(tensorId: string, through: number): Promise<Float32Array> {
  const device = engine.device;
  const maps = [];
  for (let layer = 0; layer <= through; layer++) maps.push(await engine.computeMap({ kind: 'attention', tensorId, layer, head: 'mean', softmax: 'row' }));
  const output = createStorageBuffer(device, 'test.uncachedRollout', RolloutPass.outputSizeBytes(N));
  try {
    const encoder = device.createCommandEncoder({ label: 'test.uncachedRollout' });
    uncachedPass.encode(encoder, {
      layers: maps.map((map) => ({ buffer: map.buffer, format: 'float32' as const, elementOffset: 0 })),
      size: N,
      layerStart: 0,
      layerEnd: through + 1,
      output,
    });
    device.queue.submit([encoder.finish()]);
    return await readFloat32(device, output, N * N);
  } finally {
    for (const map of maps) map.destroy();
    output.destroy();
  }
}

/** Throws, naming `what`, unless `actual` is within float32 rounding of `expected`. */
function expectRollout(actual: Float32Array, expected: Float32Array, what: string): void {
  try {
    expectClose(actual, expected, TOLERANCE.float32, ABSOLUTE_FLOOR.float32);
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
}

/** Work of computing `request` (nothing read back). */
async function workOf(request: MapRequest): Promise<WorkCounts> {
  const before = engine.workCounts;
  const map = await engine.computeMap(request);
  const work = workSince(before, engine.workCounts);
  map.destroy();
  return work;
}

function rolloutThrough(tensorId: string, through: number, extra: Partial<RolloutMapRequest> = {}): RolloutMapRequest {
  return { kind: 'rollout', tensorId, layerEnd: through + 1, heads: 'mean', softmax: 'row', ...extra };
}

function keptProducts(tensorId: string): number[] {
  return engine.memory.entries.filter((entry) => entry.tensorId === tensorId && entry.derived !== undefined).map((entry) => entry.layer);
}

describe('rollout with the running product kept per layer', () => {
  it('steps 0 -> 1 -> 2 -> 3 at one product per step, equal to the uncached rollout and to rolloutCpu', async () => {
    const source = makeRecordingSource('steps.npy', SHAPE, makeRandom(9));
    engine.addTensor('steps', source);
    await engine.prefetch('steps');
    // What one layer's head mean costs, uploads already done: each step computes one.
    const headMean = await workOf({ kind: 'attention', tensorId: 'steps', layer: 2, head: 'mean', softmax: 'row' });
    expect(headMean.dispatches).toBeGreaterThan(0);
    for (let through = 0; through < SHAPE.layers; through++) {
      const work = await workOf(rolloutThrough('steps', through));
      // A head mean, the prepare of Â (and, after layer 0, one product Â · R), and the copy into the output.
      expect(work.dispatches, `dispatches of the step to layer ${through}`).toBe(headMean.dispatches + (through === 0 ? 1 : 2) + 1);
      const cached = await engine.readMap(rolloutThrough('steps', through));
      expect(Array.from(cached), `step to layer ${through} against RolloutPass.encode`).toEqual(Array.from(await uncachedRollout('steps', through)));
      expectRollout(cached, reference(source, through), `rollout through layer ${through}`);
    }
    expect(keptProducts('steps').sort()).toEqual([0, 1, 2, 3]);
    // Back to layer 1: the product is kept, so only the copy runs.
    expect((await workOf(rolloutThrough('steps', 1))).dispatches).toBe(1);
    // A crop after the product is cut from the kept product.
    const crop = { rowStart: 3, rowEnd: 15, colStart: 5, colEnd: 20 };
    expect((await workOf(rolloutThrough('steps', 3, { crop }))).dispatches).toBe(1);
    expectRollout(await engine.readMap(rolloutThrough('steps', 3, { crop })), reference(source, 3, { crop }), 'crop after');
    engine.removeTensor('steps');
    expect(keptProducts('steps')).toEqual([]);
  });

  it('keeps separate products per head selection, softmax scope and crop within', async () => {
    const source = makeRecordingSource('variants.npy', SHAPE, makeRandom(17), 0, 1);
    engine.addTensor('variants', source);
    const crop = { rowStart: 4, rowEnd: 17, colStart: 4, colEnd: 17 };
    const variants: [Partial<RolloutMapRequest>, Parameters<typeof reference>[2]][] = [
      [{}, {}],
      [{ heads: 1 }, { heads: [1] }],
      [{ softmax: 'none' }, { softmax: 'none' }],
      [{ crop, cropMode: 'within' }, { crop, within: true }],
      [{ crop, cropMode: 'within', softmax: 'crop' }, { crop, within: true, softmax: 'crop' }],
    ];
    // Each through layer 1, then layer 2 (a step from the variant's own kept product).
    for (const through of [1, 2]) {
      for (const [extra, options] of variants) {
        const label = `${JSON.stringify(extra)} through layer ${through}`;
        expectRollout(await engine.readMap(rolloutThrough('variants', through, extra)), reference(source, through, options), label);
      }
    }
    engine.removeTensor('variants');
  });

  it('gives a tensor added again under the same id its own rollout, never the earlier tensor’s', async () => {
    const first = makeRecordingSource('first.npy', SHAPE, makeRandom(1));
    const second = makeRecordingSource('second.npy', SHAPE, makeRandom(2));
    engine.addTensor('utterance', first);
    expectRollout(await engine.readMap(rolloutThrough('utterance', 2)), reference(first, 2), 'first tensor');
    engine.addTensor('utterance', second);
    expect(keptProducts('utterance')).toEqual([]);
    // Through 2 (kept for the first tensor) and through 3 (a step from the first tensor's product, were it found).
    expectRollout(await engine.readMap(rolloutThrough('utterance', 3)), reference(second, 3), 'second tensor, layer 3');
    expectRollout(await engine.readMap(rolloutThrough('utterance', 2)), reference(second, 2), 'second tensor, layer 2');
    // Re-added while a rollout of the first is running (at its first upload, when its products are being made under
    // the first tensor's name): what that rollout leaves behind, pinned when the second was added, is not found for
    // the second. (The running rollout's own result is not checked: its later layers are read from the second.)
    engine.addTensor('utterance', first);
    let replaced = false;
    const unsubscribe = engine.subscribe((event) => {
      if (event.type !== 'upload' || replaced) return;
      replaced = true;
      engine.addTensor('utterance', second);
    });
    await engine.readMap(rolloutThrough('utterance', 3));
    unsubscribe();
    expect(replaced).toBe(true);
    expectRollout(await engine.readMap(rolloutThrough('utterance', 3)), reference(second, 3), 'second tensor after the overlap, layer 3');
    expectRollout(await engine.readMap(rolloutThrough('utterance', 1)), reference(second, 1), 'second tensor after the overlap, layer 1');
    engine.removeTensor('utterance');
  });

  it('counts kept products in the memory budget, evicts them, and recomputes what was evicted', async () => {
    // Nothing else resident, so that only this tensor's buffers take part in the eviction order.
    for (const tensorId of ['steps', 'variants', 'utterance']) engine.removeTensor(tensorId);
    expect(engine.memory.entries).toEqual([]);
    const source = makeRecordingSource('budget.npy', SHAPE, makeRandom(5));
    engine.addTensor('budget', source);
    await engine.readMap(rolloutThrough('budget', 3));
    expect(keptProducts('budget').sort()).toEqual([0, 1, 2, 3]);
    const productBytes = uncachedPass.stepSizeBytes(N);
    const kept = engine.memory.entries.filter((entry) => entry.derived !== undefined);
    expect(kept.every((entry) => entry.byteLength === productBytes)).toBe(true);
    // Shrinking the budget by two products' worth evicts the two least recently used: the products through layers
    // 2 and 1 (the one through 3 was asked for last, and the uploads were made after the products' entries).
    const budget = engine.memory.budgetBytes;
    engine.setBudget(engine.memory.residentBytes - 2 * productBytes);
    expect(keptProducts('budget').sort()).toEqual([0, 3]);
    engine.setBudget(budget);
    // What was evicted is rebuilt from what is kept: layer 2 from layer 0, two products.
    const headMean = await workOf({ kind: 'attention', tensorId: 'budget', layer: 2, head: 'mean', softmax: 'row' });
    expect((await workOf(rolloutThrough('budget', 2))).dispatches).toBe(2 * (headMean.dispatches + 2) + 1);
    expectRollout(await engine.readMap(rolloutThrough('budget', 2)), reference(source, 2), 'after eviction, layer 2');
    expectRollout(await engine.readMap(rolloutThrough('budget', 3)), reference(source, 3), 'after eviction, layer 3');
    engine.removeTensor('budget');
    expect(engine.memory.entries.filter((entry) => entry.tensorId === 'budget')).toEqual([]);
  });
});

describe('rollout in computeMaps: one command buffer', () => {
  it('a layer move by one layer, with stats and the frame recorded after it, is one submit, progress and cancel on', async () => {
    const source = makeRecordingSource('move.npy', SHAPE, makeRandom(41));
    engine.addTensor('move', source);
    try {
      await engine.readMap(rolloutThrough('move', 1));
      for (const through of [2, 3]) {
        const before = engine.workCounts;
        let finished = false;
        const [result] = await engine.computeMaps([rolloutThrough('move', through)], {
          stats: { bins: 16 },
          signal: new AbortController().signal,
          onProgress: () => {},
          finish: (encoder, results) => {
            // Where the viewer records its frame: a copy of the map stands for it.
            const frame = engine.device.createBuffer({ label: 'test.frame', size: results[0].map.buffer.size, usage: GPUBufferUsage.COPY_DST });
            encoder.copyBufferToBuffer(results[0].map.buffer, 0, frame, 0, frame.size);
            finished = true;
          },
        });
        const work = workSince(before, engine.workCounts);
        expect(finished).toBe(true);
        expect(work.submits, `submits of the move to layer ${through}`).toBe(1);
        expect(work.blockingReadbacks).toBe(0);
        expectRollout(await readFloat32(engine.device, result.map.buffer, N * N), reference(source, through), `moved to layer ${through}`);
        result.map.destroy();
        result.stats?.destroy();
      }
    } finally {
      engine.removeTensor('move');
    }
  });

  it('drops a product whose command buffer is abandoned, and computes it again next time', async () => {
    const source = makeRecordingSource('abandoned.npy', SHAPE, makeRandom(43));
    engine.addTensor('abandoned', source);
    try {
      await engine.readMap(rolloutThrough('abandoned', 0));
      const failing = engine.computeMaps([rolloutThrough('abandoned', 1)], {
        finish: () => {
          throw new Error('no frame');
        },
      });
      await expect(failing).rejects.toThrow('no frame');
      // The product through layer 1 was recorded, never submitted: it must not be kept (it holds no values).
      expect(keptProducts('abandoned')).toEqual([0]);
      expectRollout(await engine.readMap(rolloutThrough('abandoned', 1)), reference(source, 1), 'after the abandoned run');
    } finally {
      engine.removeTensor('abandoned');
    }
  });

  it('submits a command buffer holding a product before another computation reads that product', async () => {
    const source = makeRecordingSource('shared.npy', SHAPE, makeRandom(47));
    // A second tensor whose reads take a while: computeMaps waits for it with the product recorded, unsubmitted.
    const slow = makeRecordingSource('slow.npy', SHAPE, makeRandom(53));
    const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 100));
    engine.addTensor('shared', source);
    engine.addTensor('slow', { ...slow, readLayer: (layer) => slow.readLayer(layer).then(later), readHead: (layer, head) => slow.readHead(layer, head).then(later) });
    try {
      await engine.readMap(rolloutThrough('shared', 1));
      let reader: Promise<Float32Array> | undefined;
      const before = engine.workCounts;
      const results = await engine.computeMaps([rolloutThrough('shared', 2), { kind: 'attention', tensorId: 'slow', layer: 0, head: 0, softmax: 'row' }], {
        onProgress: (progress) => {
          // The product through layer 2 is recorded in computeMaps' command buffer, not yet submitted.
          if (progress.done === 1 && !progress.step) reader = engine.readMap(rolloutThrough('shared', 2));
        },
      });
      expect(reader).toBeDefined();
      expectRollout(await reader!, reference(source, 2), 'read while the product was unsubmitted');
      // computeMaps' command buffer was submitted early for the reader, then once more at its end.
      expect(workSince(before, engine.workCounts).submits).toBeGreaterThanOrEqual(3);
      for (const result of results) result.map.destroy();
    } finally {
      engine.removeTensor('shared');
      engine.removeTensor('slow');
    }
  });
});

describe('a long rollout in computeMaps', () => {
  it('reports progress per layer step, and a cancel stops before the next step, keeping the finished products', async () => {
    const source = makeRecordingSource('progress.npy', SHAPE, makeRandom(21));
    engine.addTensor('progress', source);
    try {
      const request: RolloutMapRequest = { kind: 'rollout', tensorId: 'progress' };
      const controller = new AbortController();
      const heard: ComputeMapsProgress[] = [];
      const before = engine.workCounts;
      await expect(
        engine.computeMaps([request], {
          signal: controller.signal,
          onProgress: (progress) => {
            heard.push(progress);
            if (progress.step?.done === 2) controller.abort();
          },
        }),
      ).rejects.toBeInstanceOf(ComputeCancelledError);
      // Steps 1 and 2 of 4 were reported; no step after the cancel was recorded or submitted (one submit per step:
      // the layer's head mean and the product share a command buffer).
      expect(heard.map((p) => p.step?.done)).toEqual([1, 2]);
      expect(heard.every((p) => p.done === 0 && p.total === 1 && p.step?.total === 4)).toBe(true);
      expect(workSince(before, engine.workCounts).submits).toBe(2);

      // The next request starts from the kept product through layer 1: steps 3 and 4 only, and the right values.
      const resumed: ComputeMapsProgress[] = [];
      const [result] = await engine.computeMaps([request], { onProgress: (progress) => resumed.push(progress) });
      try {
        // Step 4, the layer asked for, is not reported on its own: it is submitted with the map (and the frame).
        expect(resumed.map((p) => p.step?.done)).toEqual([3, undefined]);
        expect(resumed.at(-1)).toEqual({ done: 1, total: 1 });
        const values = await readFloat32(engine.device, result.map.buffer, N * N);
        expectClose(values, reference(source, 3), TOLERANCE.float32, ABSOLUTE_FLOOR.float32);
      } finally {
        result.map.destroy();
      }
    } finally {
      engine.removeTensor('progress');
    }
  });
});
