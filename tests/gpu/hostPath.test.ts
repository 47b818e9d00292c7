/**
 * The host path (engine option compute: 'cpu', src/compute/cpu/hostKinds.ts) against the GPU path, on one Dawn
 * device each: every routed kind gives the same map, the same stats (also in the stats buffer the render passes
 * bind), and the same refusals; the host path really runs on the host (no GPU read-back); 'auto' picks the host
 * path on a software adapter only; a map the GPU makes into a buffer that held a host map is not taken for it; a
 * host map and its stats make no GPU buffer until a GPU pass asks for one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIFFERENCE_MAP_KIND } from '../../src/compute/differenceMap.ts';
import { readMapStats } from '../../src/compute/minMax.ts';
import { readFloat32 } from '../../src/gpu/buffers.ts';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { openAttention } from '../../src/data/openAttention.ts';
import { makeNpy } from '../helpers/tensorFixtures.ts';
import { AttentionEngine, type MapRequest } from '../../src/engine.ts';
import { resolveCompute } from '../../src/compute/cpu/hostKinds.ts';
import { workgroupShapeOf } from '../../src/gpu/workgroupShape.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { SHADERS, TOLERANCE, expectClose, makeRandom, makeRecordingSource } from './support.ts';

const SHAPE = { layers: 2, heads: 3, rows: 12, cols: 12 };

describe('host path (compute: cpu) against the GPU path', () => {
  let gpu: AttentionEngine;
  let cpu: AttentionEngine;
  const sources = { a: makeRecordingSource('a.npy', SHAPE, makeRandom(11)), b: makeRecordingSource('b.npy', SHAPE, makeRandom(12)) };
  beforeAll(async () => {
    gpu = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, compute: 'gpu' });
    cpu = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, compute: 'cpu' });
    for (const engine of [gpu, cpu]) for (const [id, source] of Object.entries(sources)) engine.addTensor(id, source);
  });
  afterAll(() => {
    gpu?.destroy();
    cpu?.destroy();
  });

  const crop = { rowStart: 2, rowEnd: 10, colStart: 1, colEnd: 9 };
  const head = (layer: number, h: number | 'mean', softmax: 'none' | 'row' | 'crop' = 'row') => ({ tensorId: 'a', layer, head: h, softmax });
  const requests: [string, MapRequest][] = [
    ...(['none', 'row', 'crop'] as const).flatMap((softmax): [string, MapRequest][] => [
      [`one head, softmax ${softmax}`, { tensorId: 'a', layer: 1, head: 2, softmax }],
      [`one head cropped, softmax ${softmax}`, { tensorId: 'a', layer: 1, head: 2, softmax, crop }],
      [`head mean cropped, softmax ${softmax}`, { tensorId: 'a', layer: 0, head: 'mean', softmax, crop }],
      [`layer and head subsets, softmax ${softmax}`, { tensorId: 'a', layer: [1, 0], head: [2, 0], softmax }],
    ]),
    ['mean of everything', { tensorId: 'a', layer: 'mean', head: 'mean', softmax: 'row' }],
    ['difference of two tensors', { kind: 'difference', minuend: head(1, 0), subtrahend: { ...head(1, 0), tensorId: 'b' } }],
    ['difference of head means', { kind: 'difference', minuend: head(1, 'mean'), subtrahend: head(0, 'mean') }],
    ...(['mean', 'max'] as const).flatMap((stat): [string, MapRequest][] => [
      [`segment pooling (${stat}) of a cropped head mean`, { kind: 'segmentPool', source: { ...head(0, 'mean'), crop }, rowSegments: [{ start: 0, end: 3 }, { start: 3, end: 3 }, { start: 3, end: 8 }], colSegments: [{ start: 0, end: 5 }, { start: 2, end: 8 }], stat }],
      [`5 x 5 block pooling (${stat}) of a difference`, { kind: 'blockPool', source: { kind: 'difference', minuend: head(1, 1), subtrahend: head(0, 1) }, block: 5, stat }],
    ]),
  ];

  for (const [name, request] of requests) {
    it(`${name}: the same map and stats`, async () => {
      const expected = await gpu.readMap(request);
      const before = cpu.workCounts.blockingReadbacks;
      const actual = await cpu.readMap(request);
      expect(cpu.workCounts.blockingReadbacks).toBe(before);
      const signed = JSON.stringify(request).includes('"none"') || JSON.stringify(request).includes('difference');
      expectClose(actual, expected, TOLERANCE.float32, signed ? 1 : 1e-12);
      expect(await cpu.outputShape(request)).toEqual(await gpu.outputShape(request));

      const region = { rowStart: 1, rowEnd: Math.min(3, (await gpu.outputShape(request)).rows), colStart: 0, colEnd: 2 };
      for (const options of [{ bins: 16 }, { bins: 0, region }]) {
        const [gpuMap, cpuMap] = [await gpu.computeMap(request), await cpu.computeMap(request)];
        const [gpuStats, cpuStats] = [await gpu.computeStats(gpuMap, options), await cpu.computeStats(cpuMap, options)];
        const [want, got] = [await gpuStats.read(), await cpuStats.read()];
        expect(got.finiteCount).toBe(want.finiteCount);
        expect(got.nanCount).toBe(want.nanCount);
        expectClose([got.min, got.max], [want.min, want.max], TOLERANCE.float32, 1e-12);
        if (options.bins) {
          // Bin edges are computed in f32 on the GPU and f64 here: a value on an edge may fall either side.
          expect(got.histogram.reduce((sum, count) => sum + count, 0)).toBe(want.finiteCount);
          const moved = got.histogram.reduce((sum, count, bin) => sum + Math.abs(count - want.histogram[bin]), 0);
          expect(moved).toBeLessThanOrEqual(2);
        }
        // The render passes read min and max from the stats buffer: the host path fills it too.
        const { histogram: _, ...counts } = got;
        expect(await readMapStats(cpu.device, cpuStats.stats)).toEqual(counts);
        for (const one of [gpuStats, cpuStats, gpuMap, cpuMap]) one.destroy();
      }
    });
  }

  it('refuses what the GPU path refuses, with the same sentence', async () => {
    for (const bad of [
      { tensorId: 'a', layer: 2, head: 0, softmax: 'row' },
      { tensorId: 'a', layer: 0, head: [1, 1], softmax: 'row' },
      { tensorId: 'a', layer: 0, head: 0, softmax: 'row', crop: { rowStart: 0, rowEnd: 13, colStart: 0, colEnd: 1 } },
      { kind: 'difference', minuend: { ...head(0, 0), crop }, subtrahend: head(0, 0) },
      { kind: 'blockPool', source: head(0, 0), block: 0, stat: 'mean' },
    ] as MapRequest[]) {
      const message = await gpu.readMap(bad).then(() => 'no error', (error: Error) => error.message);
      expect(message).not.toBe('no error');
      await expect(cpu.readMap(bad)).rejects.toThrowError(message);
    }
  });

  it("reads a file's float32 map straight into the map it computes, and leaves the file's values as they were", async () => {
    const values = Float32Array.from({ length: 2 * 12 * 12 }, (_, i) => Math.sin(i * 1.7) * 3);
    const bytes = makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 12, 12), }", new Uint8Array(values.buffer.slice(0)));
    const npy = await openAttention(makeMemorySource('f.npy', bytes));
    expect(npy.stored?.dtype).toBe('float32');
    for (const engine of [gpu, cpu]) engine.addTensor('npy', npy);
    try {
      for (const softmax of ['none', 'row', 'crop'] as const) {
        const request: MapRequest = { tensorId: 'npy', layer: 0, head: 1, softmax };
        const expected = await gpu.readMap(request);
        expectClose(await cpu.readMap(request), expected, TOLERANCE.float32, softmax === 'none' ? 1 : 1e-12);
        expectClose(await cpu.readMap(request), expected, TOLERANCE.float32, softmax === 'none' ? 1 : 1e-12);
      }
      expect(await npy.readHead(0, 1)).toEqual(values.subarray(144));
    } finally {
      for (const engine of [gpu, cpu]) engine.removeTensor('npy');
    }
  });

  it('makes no GPU buffer for a host map or its stats until one is asked for, and then it holds the same values', async () => {
    const device = cpu.device;
    const created: string[] = [];
    const createBuffer = device.createBuffer;
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      created.push(descriptor.label ?? '');
      return createBuffer.call(device, descriptor);
    };
    try {
      const map = await cpu.computeMap(head(1, 2));
      const stats = await cpu.computeStats(map, { bins: 16 });
      const read = await stats.read();
      const values = cpu.hostValuesOf(map)!;
      expect(values.length).toBe(12 * 12);
      expect(created).toEqual([]);
      // A GPU pass asks: the buffer is made once, and holds the host values.
      const buffer = map.buffer;
      expect(map.buffer).toBe(buffer);
      expect(created).toEqual(['AttentionEngine.map.attention']);
      expect(await readFloat32(device, buffer, 12 * 12)).toEqual(values);
      const { histogram, ...counts } = read;
      expect(await readMapStats(device, stats.stats)).toEqual(counts);
      expect(Array.from(await readFloat32(device, stats.histogram!, 16)).map((word) => new Uint32Array(new Float32Array([word]).buffer)[0])).toEqual(Array.from(histogram));
      stats.destroy();
      map.destroy();
      expect(cpu.hostValuesOf(map)).toBeUndefined();
      // A map destroyed before its buffer was asked for makes none on destroy.
      const unused = await cpu.computeMap(head(0, 1));
      const before = created.length;
      unused.destroy();
      expect(created.length).toBe(before);
    } finally {
      device.createBuffer = createBuffer;
    }
  });

  it('writes into a supplied buffer, and a later GPU map in that buffer is not mistaken for the host one', async () => {
    const supplied = cpu.device.createBuffer({ label: 'test.supplied', size: 12 * 12 * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    try {
      const first = await cpu.computeMap(head(0, 0, 'none'), { output: supplied });
      const firstMax = (await cpu.computeStats(first, { bins: 0 }).then((stats) => stats.read())).max;
      expect(firstMax).toBe(Math.max(...(await gpu.readMap(head(0, 0, 'none')))));
      // The GPU's own difference handler, registered over the host one: its map is made on the GPU (from two host
      // maps), into the same buffer, and its stats must be the GPU map's.
      cpu.registerKind(DIFFERENCE_MAP_KIND);
      const difference: MapRequest = { kind: 'difference', minuend: head(1, 1), subtrahend: head(0, 2) };
      const viaGpu = await gpu.readMap(difference);
      const second = await cpu.computeMap(difference, { output: supplied });
      const stats = await cpu.computeStats(second, { bins: 0 }).then((s) => s.read());
      expectClose([stats.max], [Math.max(...viaGpu)], TOLERANCE.float32, 1e-12);
      expectClose(await cpu.readMap(difference), viaGpu, TOLERANCE.float32, 1);
    } finally {
      supplied.destroy();
    }
  });

  it("'auto' is the host path on a software adapter only, and the engine's default stays the GPU", async () => {
    expect(gpu.compute).toBe('gpu');
    expect(cpu.compute).toBe('cpu');
    const software = workgroupShapeOf(gpu.device).software;
    const auto = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, compute: 'auto' });
    const plain = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS });
    try {
      expect(auto.compute).toBe(software ? 'cpu' : 'gpu');
      expect(plain.compute).toBe('gpu');
    } finally {
      auto.destroy();
      plain.destroy();
    }
    expect([resolveCompute('auto', true), resolveCompute('auto', false), resolveCompute('gpu', true), resolveCompute('cpu', false)]).toEqual(['cpu', 'gpu', 'gpu', 'cpu']);
  });
});
