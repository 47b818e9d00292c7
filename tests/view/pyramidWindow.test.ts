import { describe, expect, it } from 'vitest';
import { fitLevelsToBudget, levelBytes } from '../../src/view/pyramidLevel.ts';
import { levelWindow, visibleFrames, windowBytes, windowCovers, windowFrames, WINDOW_TILE } from '../../src/view/pyramidWindow.ts';

describe('visibleFrames', () => {
  it('gives the frames under the viewport, cut at the map', () => {
    // 2 px per frame, the map shifted 100 px left: a 300 x 200 viewport shows columns 50..200 and rows 0..100.
    expect(visibleFrames({ scaleX: 2, scaleY: 2, offsetX: -100, offsetY: 0 }, { width: 300, height: 200 }, 150, 400)).toEqual({ rowStart: 0, rowEnd: 100, colStart: 50, colEnd: 200 });
    // Zoomed out: the whole 150-frame map and more; cut at its edges.
    expect(visibleFrames({ scaleX: 0.5, scaleY: 0.5, offsetX: 10, offsetY: 10 }, { width: 300, height: 200 }, 150, 150)).toEqual({ rowStart: 0, rowEnd: 150, colStart: 0, colEnd: 150 });
    // Panned past the map's end: nothing of it shows.
    expect(visibleFrames({ scaleX: 1, scaleY: 1, offsetX: -500, offsetY: 0 }, { width: 100, height: 100 }, 150, 150)).toBeUndefined();
  });
});

describe('levelWindow', () => {
  it('snaps the level cells a view reads (one more each side) outward to the tile grid', () => {
    // Frames 300.5..400.2 of 1500 at level 1: cells 299..402, snapped to 64: 256..448.
    expect(levelWindow({ rowStart: 300.5, rowEnd: 400.2, colStart: 300.5, colEnd: 400.2 }, 1500, 1500, 1)).toEqual({ factor: 1, rowStart: 256, rowEnd: 448, colStart: 256, colEnd: 448 });
    // Level 4 over the same frames: cells 74..102, snapped: 64..128.
    expect(levelWindow({ rowStart: 300.5, rowEnd: 400.2, colStart: 300.5, colEnd: 400.2 }, 1500, 1500, 4)).toEqual({ factor: 4, rowStart: 64, rowEnd: 128, colStart: 64, colEnd: 128 });
    // At the map's end the window stops at the level's last cell (1500 frames at level 4: 375 cells).
    expect(levelWindow({ rowStart: 1400, rowEnd: 1500, colStart: 0, colEnd: 90 }, 1500, 1500, 4)).toEqual({ factor: 4, rowStart: 320, rowEnd: 375, colStart: 0, colEnd: 64 });
    expect(WINDOW_TILE).toBe(64);
  });

  it('is undefined when the view reads the whole level (the whole level is drawn then)', () => {
    expect(levelWindow({ rowStart: 0, rowEnd: 1500, colStart: 0, colEnd: 1500 }, 1500, 1500, 16)).toBeUndefined();
    // 300 frames at level 8: 38 cells, under one tile.
    expect(levelWindow({ rowStart: 100, rowEnd: 150, colStart: 100, colEnd: 150 }, 300, 300, 8)).toBeUndefined();
    expect(() => levelWindow({ rowStart: 0, rowEnd: 1, colStart: 0, colEnd: 1 }, 10, 10, 1, 0)).toThrow(/tile/);
  });

  it('starts on a multiple of the factor in frames, so its cells are the whole level\'s', () => {
    const window = levelWindow({ rowStart: 333, rowEnd: 777, colStart: 1001, colEnd: 1234 }, 1500, 1300, 2)!;
    const frames = windowFrames(window, 1500, 1300);
    expect(frames.rowStart % 2).toBe(0);
    expect(frames.colStart % 2).toBe(0);
    // Level cells 165..390 and 499..618 snapped to 128..448 and 448..640: frames 256..896 and 896..1280.
    expect(frames).toEqual({ rowStart: 256, rowEnd: 896, colStart: 896, colEnd: 1280 });
    // At the map's end the last, partial block is cut at the map (1300 frames), as in the whole level.
    expect(windowFrames({ factor: 8, rowStart: 0, rowEnd: 64, colStart: 128, colEnd: 163 }, 1500, 1300)).toEqual({ rowStart: 0, rowEnd: 512, colStart: 1024, colEnd: 1300 });
  });
});

describe('windowCovers', () => {
  it('holds while the view stays inside the window (small pans ask for nothing), not once it leaves', () => {
    const window = levelWindow({ rowStart: 300, rowEnd: 400, colStart: 300, colEnd: 400 }, 1500, 1500, 1)!;
    expect(windowCovers(window, { rowStart: 300, rowEnd: 400, colStart: 300, colEnd: 400 }, 1500, 1500)).toBe(true);
    expect(windowCovers(window, { rowStart: 330, rowEnd: 430, colStart: 280, colEnd: 380 }, 1500, 1500)).toBe(true);
    expect(windowCovers(window, { rowStart: 350, rowEnd: 450, colStart: 300, colEnd: 400 }, 1500, 1500)).toBe(false);
    // The neighbour cell is part of what a view reads: a view ending at the window's last frame is not covered.
    expect(windowCovers(window, { rowStart: 300, rowEnd: 447, colStart: 300, colEnd: 400 }, 1500, 1500)).toBe(true);
    expect(windowCovers(window, { rowStart: 300, rowEnd: 448, colStart: 300, colEnd: 400 }, 1500, 1500)).toBe(false);
  });
});

describe('fitLevelsToBudget with windows', () => {
  it('keeps a grid zoomed in step at full resolution when its windows fit, where whole levels coarsen', () => {
    // Large-v3's model view: 640 maps of 1500 frames, each showing frames 300..400 at one frame per pixel or more.
    const visible = { rowStart: 300, rowEnd: 400, colStart: 300, colEnd: 400 };
    const budget = 512 * 2 ** 20;
    const whole = Array.from({ length: 640 }, () => ({ rows: 1500, cols: 1500, factor: 1 }));
    const windowed = whole.map((level) => ({ ...level, bytesAt: (factor: number) => windowBytes(levelWindow(visible, 1500, 1500, factor)!) }));
    // Whole levels: 640 x 1500^2 f32 is 5.4 GiB; at level 4 (375^2 cells each) 336 MiB fits.
    expect(fitLevelsToBudget(whole, budget)).toEqual(whole.map(() => 4));
    expect(640 * levelBytes(1500, 1500, 4)).toBeLessThan(budget);
    // Windows: 640 x 192^2 f32 = 90 MiB at full resolution.
    expect(fitLevelsToBudget(windowed, budget)).toEqual(whole.map(() => 1));
    // A budget too small for them coarsens the windows together, as whole levels.
    expect(fitLevelsToBudget(windowed, 640 * 192 * 192 * 4 - 1)).toEqual(whole.map(() => 2));
  });
});
