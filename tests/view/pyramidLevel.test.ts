import { describe, expect, it } from 'vitest';
import { chooseLevelFactor, fitLevelsToBudget, levelBytes, levelCells, pyramidFactors } from '../../src/view/pyramidLevel.ts';

describe(pyramidFactors.name, () => {
  it('doubles the block size up to the first one-cell level', () => {
    expect(pyramidFactors(1500)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    expect(levelCells(1500, 2048)).toBe(1);
    expect(levelCells(1500, 1024)).toBe(2);
    expect(pyramidFactors(1)).toEqual([1]);
    expect(pyramidFactors(64, 4)).toEqual([1, 4, 16, 64]);
  });

  it('refuses sizes and bases that make no pyramid', () => {
    expect(() => pyramidFactors(0)).toThrow(/frames/);
    expect(() => pyramidFactors(10, 1)).toThrow(/base/);
  });
});

describe(chooseLevelFactor.name, () => {
  it('is full resolution when a frame takes one device pixel or more', () => {
    expect(chooseLevelFactor(1500, 1)).toBe(1);
    expect(chooseLevelFactor(1500, 64)).toBe(1);
    // 0.6 CSS px per frame at a device pixel ratio of 2 is 1.2 device pixels per frame.
    expect(chooseLevelFactor(1500, 0.6, 2)).toBe(1);
  });

  it('picks the coarsest level with at least one cell per device pixel', () => {
    // The large-v3 model view: 1500 frames in a 90-px cell is 0.06 px per frame; 16-frame cells would be 0.96 px
    // (fine enough), 32-frame cells 1.92 px (too coarse).
    expect(chooseLevelFactor(1500, 90 / 1500)).toBe(16);
    // The same cell on a 2x screen has twice the device pixels, so one level finer.
    expect(chooseLevelFactor(1500, 90 / 1500, 2)).toBe(8);
    // Exactly one device pixel per 4 frames is level 4, not 2 or 8.
    expect(chooseLevelFactor(1500, 0.25)).toBe(4);
    expect(chooseLevelFactor(1500, 0.25 * (1 + 1e-9))).toBe(4);
    expect(chooseLevelFactor(1500, 0.2499)).toBe(4);
    expect(chooseLevelFactor(1500, 0.26)).toBe(2);
  });

  it('never goes past the one-cell level', () => {
    expect(chooseLevelFactor(1500, 1e-6)).toBe(2048);
    expect(chooseLevelFactor(3, 1e-6)).toBe(4);
  });

  it('follows the base', () => {
    expect(chooseLevelFactor(1500, 90 / 1500, 1, 4)).toBe(16);
    expect(chooseLevelFactor(1500, 0.3, 1, 4)).toBe(1);
  });

  it('refuses non-positive zooms and ratios', () => {
    expect(() => chooseLevelFactor(1500, 0)).toThrow(/pixelsPerFrame/);
    expect(() => chooseLevelFactor(1500, 1, Number.NaN)).toThrow(/devicePixelRatio/);
  });
});

describe(fitLevelsToBudget.name, () => {
  const head = (factor: number) => ({ rows: 1500, cols: 1500, factor });

  it('keeps the wanted levels when they fit together', () => {
    expect(fitLevelsToBudget([head(1)], 9e6)).toEqual([1]);
    expect(fitLevelsToBudget(Array.from({ length: 640 }, () => head(16)), 640 * 94 * 94 * 4)).toEqual(Array(640).fill(16));
  });

  it('coarsens every level together until they fit', () => {
    // 640 heads at full resolution (5.76 GB) in 1 GiB: level 1 -> 2 (1.44 GB) -> 4 (360 MB).
    expect(fitLevelsToBudget(Array.from({ length: 640 }, () => head(1)), 2 ** 30)).toEqual(Array(640).fill(4));
    expect(fitLevelsToBudget([head(1), head(4)], levelBytes(1500, 1500, 2) + levelBytes(1500, 1500, 8))).toEqual([2, 8]);
    expect(levelBytes(1500, 1500, 2)).toBe(750 * 750 * 4);
  });

  it('stops at the one-cell level when nothing fits', () => {
    expect(fitLevelsToBudget([head(1), { rows: 3, cols: 3, factor: 1 }], 0)).toEqual([2048, 4]);
  });
});
