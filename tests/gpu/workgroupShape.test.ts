/**
 * Workgroup sizes per adapter (src/gpu/workgroupShape.ts): which adapters count as software, and that the kernels
 * whose size depends on it (row softmax, head mean, min/max, histogram, segment pooling, head statistics) give the
 * same results in both shapes. The other kernel tests run the shape of the machine's adapter; here two engines on
 * the same adapter are forced into the GPU shape and the software shape, so both are tested on every machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMapCpu } from '../../src/compute/mapRequest.cpu.ts';
import { histogramCpu } from '../../src/compute/histogram.cpu.ts';
import { minMaxCpu } from '../../src/compute/minMax.cpu.ts';
import { AttentionEngine, type MapRequest } from '../../src/engine.ts';
import {
  HARDWARE_SHAPE,
  isSoftwareAdapter,
  setWorkgroupShape,
  SOFTWARE_SHAPE,
  workgroupShapeOf,
} from '../../src/gpu/workgroupShape.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { SHADERS, TOLERANCE, expectClose, makeRandom, makeRecordingSource } from './support.ts';

const SHAPE = { layers: 1, heads: 3, rows: 45, cols: 45 };
const source = makeRecordingSource('shape.npy', SHAPE, makeRandom(12));
const tensors = () => ({ shape: SHAPE, layer: (layer: number) => source.layerValues(layer) });

const REQUESTS: Record<string, MapRequest> = {
  'softmax of one head': { kind: 'attention', tensorId: 't', layer: 0, head: 1, softmax: 'row' },
  'head mean of softmaxes, cropped': {
    kind: 'attention', tensorId: 't', layer: 0, head: 'mean', softmax: 'row', crop: { rowStart: 3, rowEnd: 40, colStart: 5, colEnd: 44 },
  },
  'head mean without softmax, cropped': {
    kind: 'attention', tensorId: 't', layer: 0, head: 'mean', softmax: 'none', crop: { rowStart: 1, rowEnd: 44, colStart: 2, colEnd: 41 },
  },
  'segment pool, mean': {
    kind: 'segmentPool', source: { kind: 'attention', tensorId: 't', layer: 0, head: 0, softmax: 'row' },
    rowSegments: [{ start: 0, end: 1 }, { start: 1, end: 30 }, { start: 30, end: 45 }, { start: 7, end: 7 }],
    colSegments: [{ start: 0, end: 45 }, { start: 2, end: 9 }], stat: 'mean',
  },
  'segment pool, max': {
    kind: 'segmentPool', source: { kind: 'attention', tensorId: 't', layer: 0, head: 2, softmax: 'none' },
    rowSegments: [{ start: 0, end: 20 }, { start: 20, end: 45 }], colSegments: [{ start: 10, end: 11 }, { start: 0, end: 45 }], stat: 'max',
  },
  'head statistics': { kind: 'headStats', tensorId: 't', softmax: 'row', msPerFrame: 20, statistic: 'entropy' },
};

describe('isSoftwareAdapter', () => {
  it('knows SwiftShader, llvmpipe and fallback adapters, and not a GPU', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'x', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBe(false);
  });
});

describe('kernels in the GPU shape and the software shape', () => {
  const engines: Record<'hardware' | 'software', AttentionEngine | undefined> = { hardware: undefined, software: undefined };

  beforeAll(async () => {
    for (const [name, shape] of [['hardware', HARDWARE_SHAPE], ['software', SOFTWARE_SHAPE]] as const) {
      const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS });
      // Before any pass exists on the device: passes read the shape when they compile.
      setWorkgroupShape(engine.device, shape);
      engine.addTensor('t', source);
      engines[name] = engine;
    }
  });
  afterAll(() => {
    engines.hardware?.destroy();
    engines.software?.destroy();
  });

  it('the adapter of this machine gets the shape its name implies', async () => {
    const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS });
    try {
      const software = /swiftshader|llvmpipe|lavapipe/i.test(engine.adapterDescription);
      expect(workgroupShapeOf(engine.device).software).toBe(software);
    } finally {
      engine.destroy();
    }
  });

  for (const [name, request] of Object.entries(REQUESTS)) {
    it(`${name}: the same values in both shapes`, async () => {
      const hardware = await engines.hardware!.readMap(request);
      const software = await engines.software!.readMap(request);
      expectClose(hardware, software, TOLERANCE.float32, 1e-12);
      // Means of signed logits can cancel to ~0: against the float64 reference those compare at the values' scale.
      const floor = request.kind === 'attention' && request.softmax === 'none' ? 1 : 1e-12;
      if (request.kind === 'attention') expectClose(hardware, computeMapCpu(request, tensors).values, TOLERANCE.float32, floor);
    });
  }

  it('min/max, counts and histogram: equal to the references in both shapes', async () => {
    const request: MapRequest = { kind: 'attention', tensorId: 't', layer: 0, head: 0, softmax: 'none' };
    const region = { rowStart: 2, rowEnd: 43, colStart: 1, colEnd: 30 };
    const map = Float32Array.from(computeMapCpu(request, tensors).values);
    const expected = minMaxCpu(map, SHAPE.rows, SHAPE.cols, region);
    const expectedBins = histogramCpu(map, SHAPE.rows, SHAPE.cols, region, expected.min, expected.max, 32);
    const [hardware, software] = await Promise.all([
      engines.hardware!.readStats(request, { region, bins: 32 }),
      engines.software!.readStats(request, { region, bins: 32 }),
    ]);
    for (const stats of [hardware, software]) {
      expect([stats.min, stats.max, stats.finiteCount]).toEqual([expected.min, expected.max, expected.finiteCount]);
      // The reference bins in float64, the kernel in f32: a value on a bin edge may land one bin over.
      const moved = expectedBins.reduce((sum, count, bin) => sum + Math.abs(count - stats.histogram[bin]), 0);
      expect(moved).toBeLessThanOrEqual(2);
    }
    expect([...hardware.histogram]).toEqual([...software.histogram]);
  });
});
