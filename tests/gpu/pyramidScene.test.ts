/**
 * MapScene drawing pyramid levels (rendered offscreen and read back): level cells sit on frame positions, so a
 * boundary at a multiple of the level's factor falls on a level-cell edge and other boundaries cross a level cell;
 * a partial last level cell stops at the map's edge; each cell asks for the level its on-screen size needs, and
 * cells the camera moves off the target ask for nothing.
 */
import { mat3 } from 'gl-matrix';
import { describe, expect, it } from 'vitest';
import { SHADER_SOURCES } from '../../shaders/index.ts';
import { createStorageBufferFrom } from '../../src/gpu/buffers.ts';
import { MapScene, type SceneCell, type SceneLevels } from '../../src/render/mapScene.ts';
import { renderToPixels } from '../../src/render/offscreen.ts';
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
});
