/**
 * drawHeatmapCpu (src/render/heatmap.cpu.ts) against the GPU's heatmap pass drawn as a figure's raster is (MapScene
 * into an offscreen target): zoomed out (several frames per pixel, footprint averaging) and in, nearest and smooth,
 * linear and log, with NaN cells and a partial last pooled block (span > cols). Where the value lies on a boundary
 * between two colormap entries f32 arithmetic in another order may pick the neighbour: at most one entry away, and
 * for almost no pixel.
 */
import { describe, expect, it } from 'vitest';
import { SHADER_SOURCES } from '../../shaders/index.ts';
import { drawHeatmapCpu, type HeatmapRaster } from '../../src/render/heatmap.cpu.ts';
import { MapScene, createRangeBuffer } from '../../src/render/mapScene.ts';
import { renderToPixels } from '../../src/render/offscreen.ts';
import { createStorageBufferFrom } from '../../src/gpu/buffers.ts';
import { makeColormapLut } from '../../src/view/colormaps.ts';
import { withDevice } from '../helpers/gpuDevice.ts';
import { makeRandom } from './support.ts';

/** The GPU's pixels for the same raster, drawn as src/cli/figure.ts draws one. */
let sceneOnce: Promise<MapScene> | undefined;
async function drawOnGpu(device: GPUDevice, raster: HeatmapRaster): Promise<Uint8Array> {
  // One scene (its pipelines compiled once) for every case: they share the test worker's device.
  const scene = await (sceneOnce ??= MapScene.create(device, SHADER_SOURCES, 'rgba8unorm'));
  const values = createStorageBufferFrom(device, 'test.values', raster.values);
  const scale = { low: raster.low, high: raster.high, log: raster.log, lowLabel: '', highLabel: '', ticks: [], note: '' };
  const range = createRangeBuffer(device, scale);
  try {
    scene.look = { ...scene.look, colormap: raster.colormap, smooth: raster.smooth };
    scene.setCells([{ map: { values, rows: raster.rows, cols: raster.cols, span: raster.span }, rect: { x: 0, y: 0, width: raster.width, height: raster.height }, range: { buffer: range, word: 0, log: raster.log } }]);
    return await renderToPixels(device, raster.width, raster.height, (pass) => scene.encode(pass, raster.width, raster.height));
  } finally {
    values.destroy();
    range.destroy();
  }
}

/** Softmax-like positive values with a few NaN cells. */
function mapValues(rows: number, cols: number, seed: number): Float32Array {
  const random = makeRandom(seed);
  const values = Float32Array.from({ length: rows * cols }, (_, i) => Math.exp(-Math.abs((i % cols) - Math.floor(i / cols)) / 3) * random());
  values[3 * cols + 5] = NaN;
  values[4 * cols + 5] = NaN;
  return values;
}

describe('drawHeatmapCpu', () => {
  const cases: [string, Partial<HeatmapRaster>][] = [
    ['zoomed out, nearest, linear', { width: 16, height: 16 }],
    ['zoomed out, smooth, log', { width: 16, height: 16, smooth: true, log: true, low: 1e-4 }],
    ['zoomed in, nearest, magma', { width: 50, height: 50, colormap: 'magma' }],
    ['zoomed in, smooth, linear', { width: 50, height: 50, smooth: true }],
    ['a partial last block (span > cols)', { width: 30, height: 30, span: 40 }],
  ];
  for (const [name, options] of cases) {
    it(`${name}: the GPU's pixels`, async () => {
      await withDevice(async (device) => {
        const raster: HeatmapRaster = { values: mapValues(37, 37, 3), rows: 37, cols: 37, width: 16, height: 16, low: 0, high: 0.9, log: false, colormap: 'viridis', smooth: false, ...options };
        const expected = await drawOnGpu(device, raster);
        const actual = drawHeatmapCpu(raster);
        expect(actual.length).toBe(expected.length);
        const lut = makeColormapLut(raster.colormap);
        const entryOf = (pixels: Uint8Array, at: number) => {
          for (let entry = 0; entry < 256; entry++) if (lut[entry * 4] === pixels[at] && lut[entry * 4 + 1] === pixels[at + 1] && lut[entry * 4 + 2] === pixels[at + 2]) return entry;
          return -1;
        };
        let different = 0;
        for (let at = 0; at < expected.length; at += 4) {
          if (expected.subarray(at, at + 4).every((byte, i) => byte === actual[at + i])) continue;
          different++;
          const [want, got] = [entryOf(expected, at), entryOf(actual, at)];
          expect(want, `pixel ${at / 4}: GPU ${expected.subarray(at, at + 4)}, CPU ${actual.subarray(at, at + 4)}`).toBeGreaterThanOrEqual(0);
          expect(Math.abs(got - want), `pixel ${at / 4}`).toBeLessThanOrEqual(1);
        }
        if (process.env.STEVE_TEST_VERBOSE) console.log(name, different, 'of', expected.length / 4, 'pixels differ');
        expect(different).toBeLessThanOrEqual(Math.ceil(expected.length / 4 / 200));
      });
    });
  }
});
