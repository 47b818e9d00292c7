/**
 * The benchmark page (demo/bench.html) at tiny sizes, in Chromium on SwiftShader through bench/browser.ts: the page
 * suite runs to the end and returns a result with finite numbers in the fields the report uses. Never asserts times.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBrowserBench } from '../../bench/browser.ts';
import { formatText, reportSections } from '../../bench/core/results.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Paths of every null (NaN or an infinity become null in JSON) or non-finite number in a JSON value. */
function nonFinite(value: unknown, path = '$'): string[] {
  if (value === null) return [path];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => nonFinite(item, `${path}[${index}]`));
  if (typeof value === 'object') return Object.entries(value as object).flatMap(([key, item]) => nonFinite(item, `${path}.${key}`));
  return [];
}

describe(runBrowserBench.name, () => {
  it('runs the page suite at tiny sizes and returns finite numbers', async () => {
    const lines: string[] = [];
    const result = await runBrowserBench({
      root: ROOT,
      query: 'quick&modelFrames=8&framesPerScene=1&reps=1',
      files: [
        { layers: 1, heads: 8, rows: 32, cols: 32 },
        { layers: 6, heads: 8, rows: 32, cols: 32 },
      ],
      timeoutMs: 110_000,
      log: (line) => lines.push(line),
    });
    expect(lines.filter((line) => line.startsWith('page error') || line.startsWith('page exception'))).toEqual([]);
    expect(nonFinite(JSON.parse(JSON.stringify(result)))).toEqual([]);
    expect(result.suite).toBe('browser');
    expect(result.adapter.description.length).toBeGreaterThan(0);
    expect(result.throughput[0].steps.map((step) => step.id)).toEqual(['read', 'read-into-slices', 'read-into-stream', 'read-parse', 'upload', 'engine', 'engine-reload', 'stored-staging', 'stored-writeBuffer', 'stored-writeBuffer-1MiB', 'engine-js']);
    expect(result.load!.pageEngineOfMemcpy).toBeGreaterThan(0);
    expect(result.load!.pageEngineReloadOfMemcpy).toBeGreaterThan(0);
    expect(result.load!.firstTouchOfMemcpy).toBeGreaterThan(0);
    expect(result.firstMap.map((first) => first.shape.layers)).toEqual([1, 6]);
    expect(result.kernels[0].kernels.length).toBeGreaterThan(10);
    expect(result.render!.target.kind).toBe('canvas');
    expect(result.render!.scenes.map((scene) => scene.maps)).toEqual([1, 48, 640]);
    expect(result.controls.length).toBe(8);
    // Work per change in the page, counted as in Node: the viewer's path is one submit and no readback before the
    // frame, whatever the number of maps; the old per-cell path is the same run's baseline.
    const costs = result.costs!;
    expect(Object.keys(costs).sort()).toEqual(['head', 'headPerCell', 'headsGrid', 'headsGridPerCell', 'layerFromFile', 'layerFromFilePerCell', 'layerResident', 'layerResidentPerCell', 'softmax', 'softmaxPerCell', 'wordRange', 'wordRangePerCell', 'zoomFrame']);
    expect(costs.headsGrid.maps).toBe(48);
    for (const [id, cost] of Object.entries(costs).filter(([id]) => id !== 'zoomFrame' && !id.endsWith('PerCell'))) {
      expect([cost.submits, cost.blockingReadbacks], id).toEqual([1, 0]);
      expect(cost.kernelBytes, id).toBeGreaterThanOrEqual(cost.minimumKernelBytes);
    }
    expect(costs.headsGridPerCell.submits).toBeGreaterThan(costs.headsGrid.submits);
    expect(result.memory.length).toBeGreaterThan(2);
    expect(formatText(reportSections(result))).toContain('3. Rendering');
  });
});
