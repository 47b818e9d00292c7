/**
 * The Node benchmark suite at tiny sizes (1 layer x 2 heads x 64 x 64 frames): every measurement runs, the result
 * has the fields the README and the page rely on, and every number in it is finite. Benchmarks never assert times.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { formatText, reportSections, type BenchResult } from '../../bench/core/results.ts';
import { makeNpyBytes, makeNpyHeader } from '../../bench/core/synthetic.ts';
import { findMatplotlibPython } from '../../bench/node/steve.ts';
import { runNodeBench, type NodeBenchPlan } from '../../bench/node/suite.ts';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { openAttention } from '../../src/data/openAttention.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const TINY_PLAN: NodeBenchPlan = {
  mode: 'smoke test',
  cases: [
    {
      id: 'base',
      label: 'tiny',
      shape: { layers: 3, heads: 2, rows: 64, cols: 64 },
      storage: 'float32',
      throughputLayers: 3,
      firstMapLayerCounts: [1],
      kernels: { rolloutFrames: 32, rolloutLayers: 2, reps: 1, cpuReps: 1, maxMsPerCase: 50 },
      controlReps: 1,
      costs: { grid: 'heads grid' },
    },
    {
      id: 'tiny-float16',
      label: 'tiny, float16 storage',
      shape: { layers: 1, heads: 2, rows: 32, cols: 32 },
      storage: 'float16',
      throughputLayers: 1,
      firstMapLayerCounts: [],
      controlReps: 1,
      controlsCropOnly: true,
      costs: { grid: 'model view', gridOnly: true },
    },
  ],
  firstMapReps: 1,
  cropStart: 8,
  cropFrames: 16,
  render: { width: 160, height: 120, frames: 64, gridMaps: 4, gridColumns: 2, modelMaps: 6, modelColumns: 3, modelFrames: 16, framesPerScene: 2 },
  // The STEVE peer runs only where a Python with matplotlib exists (Debian's /usr/bin/python3 here).
  steveReps: findMatplotlibPython() ? 1 : 0,
  copyReps: 1,
  notes: ['smoke test: tiny sizes'],
};

/** Paths of every null (NaN or an infinity become null in JSON) or non-finite number in a JSON value. */
function nonFinite(value: unknown, path = '$'): string[] {
  if (value === null) return [path];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => nonFinite(item, `${path}[${index}]`));
  if (typeof value === 'object') return Object.entries(value as object).flatMap(([key, item]) => nonFinite(item, `${path}.${key}`));
  return [];
}

describe('bench: synthetic .npy', () => {
  it('writes headers that openAttention reads back with the shape asked for', async () => {
    const shape = { layers: 2, heads: 3, rows: 5, cols: 7 };
    expect(makeNpyHeader(shape, '<f4').byteLength % 64).toBe(0);
    const source = await openAttention(makeMemorySource('synthetic.npy', makeNpyBytes(shape)));
    expect(source.shape).toEqual(shape);
    expect(source.dtype).toBe('float32');
  });
});

describe(runNodeBench.name, () => {
  it('runs every suite at tiny sizes and returns finite numbers in the documented fields', async () => {
    const lines: string[] = [];
    const result: BenchResult = await runNodeBench(TINY_PLAN, { root: ROOT, log: (line) => lines.push(line) });
    const json = JSON.parse(JSON.stringify(result)) as BenchResult;

    expect(nonFinite(json)).toEqual([]);
    expect(json.schema).toBe('steve-bench/1');
    expect(json.suite).toBe('node');
    expect(json.adapter.description.length).toBeGreaterThan(0);
    expect(json.cases.map((benchCase) => benchCase.id)).toEqual(['base', 'tiny-float16']);

    expect(json.throughput).toHaveLength(2);
    expect(json.throughput[0].steps.map((step) => step.id)).toContain('stored-staging');
    for (const file of json.throughput) {
      expect(file.memcpy.map((step) => step.id)).toEqual(['typedarray-set', 'buffer-copy']);
      // Files whose stored values are the storage words also time uploadStoredChunk's two ways (staging, writeBuffer).
      const storedBy = file.steps.some((step) => step.id.startsWith('stored-')) ? ['stored-staging', 'stored-writeBuffer', 'stored-writeBuffer-1MiB'] : [];
      expect(file.steps.map((step) => step.id)).toEqual(['read', 'read-into', 'read-parse', 'upload', 'engine', 'engine-reload', ...storedBy, 'engine-js']);
      for (const step of file.steps) expect(step.mbPerSec).toBeGreaterThan(0);
      expect(file.firstTouch!.mbPerSec).toBeGreaterThan(0);
    }
    expect(json.load!.engineOfMemcpy).toBeGreaterThan(0);
    expect(json.load!.engineReloadOfMemcpy).toBeGreaterThan(0);
    // Two file sizes of the base case (1 and 3 layers), one of the float16 case.
    expect(json.firstMap.map((first) => first.shape.layers)).toEqual([1, 3, 1]);
    for (const first of json.firstMap) expect(first.totalMs.median).toBeGreaterThan(0);

    expect(json.kernels).toHaveLength(1);
    const kernelIds = json.kernels[0].kernels.map((kernel) => kernel.id);
    for (const id of ['softmax-row-float32', 'softmax-row-float16', 'head-mean-row-float32', 'block-pool-4-float32', 'segment-pool-phones-float32', 'min-max-float32', 'rollout-float32']) {
      expect(kernelIds).toContain(id);
    }
    for (const kernel of json.kernels[0].kernels) {
      expect(kernel.wallMs.median).toBeGreaterThan(0);
      expect(kernel.gbPerSec).toBeGreaterThan(0);
      expect(['timestamp-query', 'wall']).toContain(kernel.timing);
    }
    expect(json.kernels[0].kernels.find((kernel) => kernel.id === 'softmax-row-float32')!.peers.map((peer) => peer.id)).toEqual(['softmax.cpu.ts', 'softmax-js-loop']);

    expect(json.render!.scenes.map((scene) => scene.id)).toEqual(['single-map', 'grid', 'model-view']);
    for (const scene of json.render!.scenes) {
      expect(scene.series).toHaveLength(2);
      expect(scene.fps).toBeGreaterThan(0);
    }

    // Full map and crop for the base case (4 kinds of change each); crop only for the one-layer float16 case.
    expect(json.controls.filter((control) => control.caseId === 'base').map((control) => control.id)).toEqual([
      'head-full', 'softmax-full', 'layer-upload-full', 'layer-resident-full',
      'head-crop', 'softmax-crop', 'layer-upload-crop', 'layer-resident-crop',
    ]);
    expect(json.controls.filter((control) => control.caseId === 'tiny-float16').map((control) => control.id)).toEqual(['head-crop', 'softmax-crop']);

    // Work per change: every change of issue 12; the declared kernel bytes never fall below the minimum.
    const costs = json.costs!;
    expect(Object.keys(costs).sort()).toEqual(['head', 'headPerCell', 'headsGrid', 'headsGridPerCell', 'layerFromFile', 'layerFromFilePerCell', 'layerResident', 'layerResidentPerCell', 'modelView', 'modelViewPerCell', 'softmax', 'softmaxPerCell', 'wordRange', 'wordRangePerCell', 'zoomFrame']);
    expect([costs.headsGrid.maps, costs.modelView.maps]).toEqual([6, 2]);
    expect([costs.zoomFrame.submits, costs.zoomFrame.dispatches, costs.zoomFrame.blockingReadbacks, costs.zoomFrame.kernelBytes]).toEqual([1, 0, 0, 0]);
    for (const [id, cost] of Object.entries(costs)) {
      if (id === 'zoomFrame') continue;
      expect(cost.dispatches, id).toBeGreaterThanOrEqual(cost.maps);
      expect(cost.submits, id).toBeGreaterThanOrEqual(1);
      expect(cost.kernelBytes, id).toBeGreaterThanOrEqual(cost.minimumKernelBytes);
      expect(cost.jsMs, id).toBeGreaterThan(0);
    }
    // As the viewer makes them (computeAndDraw): maps, stats, colour ranges and the frame in one submit, no readback
    // first; the old per-cell path submits per map and reads back before the frame. A layer read from the file adds
    // none (a map's own load sends its float32 bytes by queue.writeBuffer, src/gpu/storedUpload.ts; only prefetch
    // stages them with submits of its own).
    for (const [id, cost] of Object.entries(costs).filter(([id]) => id !== 'zoomFrame' && !id.endsWith('PerCell'))) {
      expect([cost.submits, cost.blockingReadbacks], id).toEqual([1, 0]);
    }
    expect(costs.headsGridPerCell.submits).toBeGreaterThan(costs.headsGrid.submits);
    expect(costs.headPerCell.blockingReadbacks).toBe(1);
    expect(formatText(reportSections(json))).toContain('3c. Work per control change');

    expect(json.memory.length).toBeGreaterThan(3);
    expect(json.memory.some((entry) => (entry.engine?.residentBytes ?? 0) > 0)).toBe(true);
    expect(json.memory.every((entry) => (entry.host.jsHeapUsedBytes ?? 0) > 0)).toBe(true);

    if (TINY_PLAN.steveReps > 0) {
      expect(json.steve && 'regions' in json.steve).toBe(true);
      expect(json.comparisons.map((comparison) => comparison.id)).toContain('steve-update-full');
    }
    expect(json.comparisons.length).toBeGreaterThan(5);
    for (const comparison of json.comparisons) expect(comparison.speedup).toBeGreaterThan(0);

    const text = formatText(reportSections(json));
    expect(text).toContain('2. Compute kernels');
    expect(text).toContain('3. Rendering');
    expect(lines.some((line) => line.includes('adapter:'))).toBe(true);
  });
});
