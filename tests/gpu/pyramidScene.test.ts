/**
 * MapScene drawing pyramid levels (rendered offscreen and read back): level cells sit on frame positions, so a
 * boundary at a multiple of the level's factor falls on a level-cell edge and other boundaries cross a level cell;
 * a partial last level cell stops at the map's edge; each cell asks for the level its on-screen size needs, and
 * cells the camera moves off the target ask for nothing; a cell drawn from a window of its level shows the same pixels
 * as drawn from the whole level.
 */
import { mat3 } from 'gl-matrix';
import { describe, expect, it } from 'vitest';
import { SHADER_SOURCES } from '../../shaders/index.ts';
import { createStorageBufferFrom } from '../../src/gpu/buffers.ts';
import { MapScene, type SceneCell, type SceneLevels } from '../../src/render/mapScene.ts';
import { renderToPixels } from '../../src/render/offscreen.ts';
import { levelWindow, type FrameRect, type LevelWindow } from '../../src/view/pyramidWindow.ts';
import { withDevice } from '../helpers/gpuDevice.ts';

const rgbAt = (pixels: Uint8Array, width: number, x: number, y: number) => Array.from(pixels.subarray((y * width + x) * 4, (y * width + x) * 4 + 3));
const BACKGROUND = [0, 0, 0];

/** Levels that always hand out one fixed level, recording what was asked. */
function fixedLevels(values: GPUBuffer, factor: number, asked: number[] = []): SceneLevels {
  return {
    levelFor: (wanted) => {
      asked.push(wanted);
      return { values, factor };
    },
    frameDone: () => {},
  };
}

describe('MapScene with pyramid levels', () => {
  // 30 frames at level 4: 8 level cells a side, the last covering frames 28 and 29 only. Level cell (r, c) = c.
  const FRAMES = 30;
  const FACTOR = 4;
  const CELLS = Math.ceil(FRAMES / FACTOR);
  const PX_PER_FRAME = 8;
  const SIZE = FRAMES * PX_PER_FRAME;

  async function draw(device: GPUDevice, options: { lines?: number[]; zoom?: number }) {
    const scene = await MapScene.create(device, SHADER_SOURCES, 'rgba8unorm');
    const level = createStorageBufferFrom(device, 'test.level', Float32Array.from({ length: CELLS * CELLS }, (_, i) => i % CELLS));
    const range = createStorageBufferFrom(device, 'test.range', new Float32Array([0, CELLS - 1]));
    const cell: SceneCell = {
      map: { rows: FRAMES, cols: FRAMES },
      levels: fixedLevels(level, FACTOR),
      rect: { x: 0, y: 0, width: SIZE, height: SIZE },
      range: { buffer: range, word: 0, log: false },
      lines: { phoneBoundaries: [], wordBoundaries: options.lines ?? [] },
    };
    scene.setCells([cell]);
    scene.look = { ...scene.look, background: [0, 0, 0, 1], boundaryStyle: { ...scene.look.boundaryStyle, wordColor: [1, 0, 0, 1], wordWidth: 2 } };
    if (options.zoom) scene.zoomAt(options.zoom, 0, 0);
    const pixels = await renderToPixels(device, SIZE, SIZE, (pass) => scene.encode(pass, SIZE, SIZE));
    scene.destroy();
    level.destroy();
    range.destroy();
    return pixels;
  }

  it('puts a boundary at a multiple of f on a level-cell edge, and one elsewhere inside a level cell', async () => {
    await withDevice(async (device) => {
      const plain = await draw(device, {});
      const lined = await draw(device, { lines: [12, 14] });
      const row = 50;
      // Pixel columns where the heatmap changes colour: the level-cell edges, every 4 frames (32 px).
      const edges: number[] = [];
      for (let x = 1; x < SIZE; x++) if (rgbAt(plain, SIZE, x, row).join() !== rgbAt(plain, SIZE, x - 1, row).join()) edges.push(x);
      expect(edges).toEqual([4, 8, 12, 16, 20, 24, 28].map((frame) => frame * PX_PER_FRAME));
      // Pixel columns the lines cover (where the two renders differ).
      const lineColumns: number[] = [];
      for (let x = 0; x < SIZE; x++) if (rgbAt(plain, SIZE, x, row).join() !== rgbAt(lined, SIZE, x, row).join()) lineColumns.push(x);
      const near = (frame: number) => lineColumns.filter((x) => Math.abs(x - frame * PX_PER_FRAME) <= 2);
      // Frame 12 = 3 x 4: the line straddles the colour edge at pixel 96.
      expect(near(12).length).toBeGreaterThan(0);
      expect(Math.min(...near(12))).toBeLessThan(96);
      expect(Math.max(...near(12))).toBeGreaterThanOrEqual(96);
      expect(edges).toContain(12 * PX_PER_FRAME);
      // Frame 14 is not a multiple of 4: the line crosses level cell 3 (frames 12-15), one colour on both sides.
      expect(near(14).length).toBeGreaterThan(0);
      expect(edges.some((x) => Math.abs(x - 14 * PX_PER_FRAME) <= 4)).toBe(false);
      expect(rgbAt(plain, SIZE, 14 * PX_PER_FRAME - 4, row)).toEqual(rgbAt(plain, SIZE, 14 * PX_PER_FRAME + 4, row));
    });
  });

  it('stops the partial last level cell at the map edge (frame 30), not at 32', async () => {
    await withDevice(async (device) => {
      // Zoomed out 2x: 4 px per frame, the map ends at pixel 120.
      const pixels = await draw(device, { zoom: 0.5 });
      expect(rgbAt(pixels, SIZE, 119, 10)).not.toEqual(BACKGROUND);
      expect(rgbAt(pixels, SIZE, 119, 10)).toEqual(rgbAt(pixels, SIZE, 113, 10));
      expect(rgbAt(pixels, SIZE, 121, 10)).toEqual(BACKGROUND);
      expect(rgbAt(pixels, SIZE, 127, 10)).toEqual(BACKGROUND);
    });
  });

  it('asks each cell for the level its size needs, and nothing of cells the camera moves off the target', async () => {
    await withDevice(async (device) => {
      const scene = await MapScene.create(device, SHADER_SOURCES, 'rgba8unorm');
      const values = createStorageBufferFrom(device, 'test.values', new Float32Array(100 * 100));
      const range = createStorageBufferFrom(device, 'test.range', new Float32Array([0, 1]));
      const asked: number[][] = [[], [], [], []];
      // Four 400-frame maps in 100-px cells on a 200 x 200 target: 0.25 px per frame, level 4.
      scene.setCells(
        asked.map((list, index) => ({
          map: { rows: 400, cols: 400 },
          levels: fixedLevels(values, 4, list),
          rect: { x: (index % 2) * 100, y: Math.floor(index / 2) * 100, width: 100, height: 100 },
          range: { buffer: range, word: 0, log: false },
        })),
      );
      await renderToPixels(device, 200, 200, (pass) => scene.encode(pass, 200, 200));
      expect(asked).toEqual([[4], [4], [4], [4]]);
      expect(scene.lastFrame).toMatchObject({ drawn: 4, culled: 0, waiting: 0 });
      // The camera zooms 4x into the first cell: it fills the target at 1 px per frame (full resolution); the others
      // are off the target.
      scene.zoomCameraAt(4, 0, 0);
      await renderToPixels(device, 200, 200, (pass) => scene.encode(pass, 200, 200));
      expect(asked).toEqual([[4, 1], [4], [4], [4]]);
      expect(scene.lastFrame).toMatchObject({ drawn: 1, culled: 3, waiting: 1 });
      // Back out, with room for the four maps' levels only at 8 x 8 frames (50^2 cells each): all coarsen together.
      scene.camera = mat3.create();
      scene.levelBudgetBytes = 4 * 50 * 50 * 4;
      await renderToPixels(device, 200, 200, (pass) => scene.encode(pass, 200, 200));
      expect(asked.map((list) => list.at(-1))).toEqual([8, 8, 8, 8]);
      scene.destroy();
      values.destroy();
      range.destroy();
    });
  });

  it('draws a window of a level with the same pixels as the whole level, nearest and smooth', async () => {
    await withDevice(async (device) => {
      // A 300-frame map at level 2 (150 x 150 cells of distinct values), in a 200-px cell zoomed 4x about (0.75, 0.75):
      // frames 168.75..243.75 show, so the window is level cells 64..128 of both axes (inside the level on all sides).
      const frames = 300;
      const factor = 2;
      const cells = frames / factor;
      const whole = Float32Array.from({ length: cells * cells }, (_, i) => Math.sin(i * 0.37) + (i % cells) / cells);
      const wholeBuffer = createStorageBufferFrom(device, 'test.whole', whole);
      const range = createStorageBufferFrom(device, 'test.range', new Float32Array([-1, 2]));
      const windows: LevelWindow[] = [];
      const buffers: GPUBuffer[] = [];
      const windowed: SceneLevels = {
        levelFor: (_wanted, visible?: FrameRect) => {
          const window = levelWindow(visible!, frames, frames, factor)!;
          windows.push(window);
          const values: number[] = [];
          for (let row = window.rowStart; row < window.rowEnd; row++) values.push(...whole.subarray(row * cells + window.colStart, row * cells + window.colEnd));
          const buffer = createStorageBufferFrom(device, 'test.window', Float32Array.from(values));
          buffers.push(buffer);
          return { values: buffer, factor, window };
        },
        frameDone: () => {},
      };
      const render = async (levels: SceneLevels, smooth: boolean) => {
        const scene = await MapScene.create(device, SHADER_SOURCES, 'rgba8unorm');
        scene.setCells([{ map: { rows: frames, cols: frames }, levels, rect: { x: 0, y: 0, width: 200, height: 200 }, range: { buffer: range, word: 0, log: false } }]);
        scene.look = { ...scene.look, smooth, background: [0, 0, 0, 1] };
        scene.zoomAt(4, 0.75, 0.75);
        const pixels = await renderToPixels(device, 200, 200, (pass) => scene.encode(pass, 200, 200));
        scene.destroy();
        return pixels;
      };
      for (const smooth of [false, true]) {
        const fromWhole = await render(fixedLevels(wholeBuffer, factor), smooth);
        const fromWindow = await render(windowed, smooth);
        expect(windows.at(-1)).toEqual({ factor, rowStart: 64, rowEnd: 128, colStart: 64, colEnd: 128 });
        // Many colours: the pixels compared are the map's, not a background.
        expect(new Set(Array.from({ length: 200 }, (_, x) => rgbAt(fromWhole, 200, x, 100).join())).size).toBeGreaterThan(20);
        expect(Buffer.from(fromWindow).equals(Buffer.from(fromWhole)), `smooth ${smooth}`).toBe(true);
      }
      // A window whose origin the shader ignored would differ: cut at the wrong place, the pixels change.
      const shifted: SceneLevels = { ...windowed, levelFor: (wanted, visible) => ({ ...windowed.levelFor(wanted, visible)!, window: { factor, rowStart: 60, rowEnd: 124, colStart: 64, colEnd: 128 } }) };
      expect(Buffer.from(await render(shifted, false)).equals(Buffer.from(await render(fixedLevels(wholeBuffer, factor), false)))).toBe(false);
      buffers.forEach((buffer) => buffer.destroy());
      wholeBuffer.destroy();
      range.destroy();
    });
  });
});
