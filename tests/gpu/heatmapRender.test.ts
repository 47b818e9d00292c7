/**
 * The heatmap and boundary render passes, checked on the pixels they produce (rendered offscreen and read back).
 */
import { describe, expect, it } from 'vitest';
import { SHADER_SOURCES } from '../../shaders/index.ts';
import { createStorageBufferFrom } from '../../src/gpu/buffers.ts';
import { BoundaryPass } from '../../src/render/boundaries.ts';
import { makeColormapLut } from '../../src/render/colormaps.ts';
import { HeatmapPass } from '../../src/render/heatmap.ts';
import { renderToPixels } from '../../src/render/offscreen.ts';
import { makeMapToViewport, zoomAbout } from '../../src/render/view.ts';
import { withDevice } from '../helpers/gpuDevice.ts';

const VIRIDIS = makeColormapLut('viridis');
// The shader computes the colormap index in f32: do the same, or ties like 0.3 * 255 = 76.5 round differently.
const lutIndex = (t: number) => Math.round(Math.fround(Math.fround(t) * 255));
const lutColor = (lut: Uint8Array, t: number) => Array.from(lut.subarray(lutIndex(t) * 4, lutIndex(t) * 4 + 3));
const pixelAt = (pixels: Uint8Array, width: number, x: number, y: number) =>
  Array.from(pixels.subarray((y * width + x) * 4, (y * width + x) * 4 + 3));

// A 3-row x 4-column map with values 0..11 (row-major), one NaN at row 2, column 3.
const COLS = 4;
const ROWS = 3;
const VALUES = Float32Array.from({ length: COLS * ROWS }, (_, i) => (i === 11 ? NaN : i));
const CELL = 10; // pixels per frame
// Colour range [0, 11]: 255 * v / 11 is never within 0.04 of a rounding tie, where GPU division (accurate to a few
// ulp) and the test's arithmetic could pick neighbouring colormap entries.
const RANGE_MAX = 11;

async function drawMap(device: GPUDevice, options: { zoom?: number; smooth?: boolean; clip?: [number, number] } = {}) {
  const heatmap = await HeatmapPass.create(device, SHADER_SOURCES, 'rgba8unorm');
  const values = createStorageBufferFrom(device, 'test.values', VALUES);
  const range = createStorageBufferFrom(device, 'test.range', new Float32Array([0, RANGE_MAX]));
  const drawable = heatmap.createDrawable('test.heatmap');
  let transform = makeMapToViewport({ x: 0, y: 0, width: COLS, height: ROWS }, COLS * CELL, ROWS * CELL);
  if (options.zoom) transform = zoomAbout(transform, options.zoom, [0, 0]);
  drawable.update({
    values,
    cols: COLS,
    rows: ROWS,
    valueRange: range,
    viewport: { x: 0, y: 0, width: COLS * CELL, height: ROWS * CELL },
    mapToViewport: transform,
    colormap: 'viridis',
    scale: 'linear',
    smooth: options.smooth ?? false,
    clip: options.clip ?? [0, 1],
  });
  const pixels = await renderToPixels(device, COLS * CELL, ROWS * CELL, (pass) => drawable.draw(pass));
  drawable.destroy();
  heatmap.destroy();
  values.destroy();
  range.destroy();
  return pixels;
}

describe(HeatmapPass.name, () => {
  it('colours each cell by its value on the colormap, rows down and columns across', async () => {
    await withDevice(async (device) => {
      const pixels = await drawMap(device);
      for (let row = 0; row < ROWS; row++) {
        for (let col = 0; col < COLS; col++) {
          const value = row * COLS + col;
          if (value === 11) continue;
          const expected = lutColor(VIRIDIS, value / RANGE_MAX);
          expect(pixelAt(pixels, COLS * CELL, col * CELL + 5, row * CELL + 5), `cell ${row},${col}`).toEqual(expected);
        }
      }
    });
  });

  it('paints NaN cells grey instead of taking a colour from the scale', async () => {
    await withDevice(async (device) => {
      const pixels = await drawMap(device);
      expect(pixelAt(pixels, COLS * CELL, 3 * CELL + 5, 2 * CELL + 5)).toEqual([128, 128, 128]);
    });
  });

  it('zooms with the view transform: at 2x the first cell covers 20 x 20 pixels', async () => {
    await withDevice(async (device) => {
      const pixels = await drawMap(device, { zoom: 2 });
      const first = lutColor(VIRIDIS, 0);
      expect(pixelAt(pixels, COLS * CELL, 18, 18)).toEqual(first);
      expect(pixelAt(pixels, COLS * CELL, 22, 5)).toEqual(lutColor(VIRIDIS, 1 / RANGE_MAX));
    });
  });

  it('clips the colour scale to fractions of the range', async () => {
    await withDevice(async (device) => {
      const pixels = await drawMap(device, { clip: [0.5, 1] });
      // clipped range [5.5, 11]: value 2 is below it (bottom colour), value 7 sits at (7 - 5.5) / 5.5
      expect(pixelAt(pixels, COLS * CELL, 2 * CELL + 5, 5)).toEqual(lutColor(VIRIDIS, 0));
      expect(pixelAt(pixels, COLS * CELL, 3 * CELL + 5, CELL + 5)).toEqual(lutColor(VIRIDIS, (7 - 5.5) / 5.5));
    });
  });
});

/**
 * A boundary drawable over the whole COLS x ROWS map at CELL pixels per frame: phone lines red, word lines blue,
 * both 2 px wide.
 */
async function boundaryDrawable(device: GPUDevice, phones: number[], words: number[]) {
  const boundaries = await BoundaryPass.create(device, SHADER_SOURCES, 'rgba8unorm');
  const drawable = boundaries.createDrawable('test.boundaries');
  drawable.setLines(phones, words);
  const transform = makeMapToViewport({ x: 0, y: 0, width: COLS, height: ROWS }, COLS * CELL, ROWS * CELL);
  drawable.update({ x: 0, y: 0, width: COLS * CELL, height: ROWS * CELL }, transform, { cols: COLS, rows: ROWS }, {
    phoneColor: [1, 0, 0, 1],
    wordColor: [0, 0, 1, 1],
    phoneWidth: 2,
    wordWidth: 2,
  });
  return drawable;
}

describe(BoundaryPass.name, () => {
  it('draws phone and word boundaries at their frame positions on both axes', async () => {
    await withDevice(async (device) => {
      const drawable = await boundaryDrawable(device, [1], [3]);
      const width = COLS * CELL;
      const pixels = await renderToPixels(device, width, ROWS * CELL, (pass) => drawable.draw(pass));
      drawable.destroy();
      // phone boundary at frame 1 -> x = 10 px (vertical) and y = 10 px (horizontal)
      expect(pixelAt(pixels, width, 10, 25)).toEqual([255, 0, 0]);
      expect(pixelAt(pixels, width, 35, 10)).toEqual([255, 0, 0]);
      // word boundary at frame 3 -> x = 30 px
      expect(pixelAt(pixels, width, 30, 5)).toEqual([0, 0, 255]);
      // away from lines: the white clear colour
      expect(pixelAt(pixels, width, 5, 5)).toEqual([255, 255, 255]);
    });
  });

  it('draws only the word lines, or none, when asked (lines too dense to read)', async () => {
    await withDevice(async (device) => {
      const drawable = await boundaryDrawable(device, [1], [2]);
      const width = COLS * CELL;
      const wordsOnly = await renderToPixels(device, width, ROWS * CELL, (pass) => drawable.draw(pass, { phones: false, words: true }));
      const none = await renderToPixels(device, width, ROWS * CELL, (pass) => drawable.draw(pass, { phones: false, words: false }));
      drawable.destroy();
      // The word line at frame 2 on both axes; no phone line at frame 1 on either.
      expect([pixelAt(wordsOnly, width, 20, 5), pixelAt(wordsOnly, width, 35, 20)]).toEqual([[0, 0, 255], [0, 0, 255]]);
      expect([pixelAt(wordsOnly, width, 10, 25), pixelAt(wordsOnly, width, 35, 10)]).toEqual([[255, 255, 255], [255, 255, 255]]);
      expect([pixelAt(none, width, 20, 5), pixelAt(none, width, 10, 25)]).toEqual([[255, 255, 255], [255, 255, 255]]);
    });
  });
});
