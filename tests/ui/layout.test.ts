/**
 * Where the viewer puts its maps and colour bar: the bar right of the maps and inside the stage, for one map and
 * for grids, at the stage sizes of 1024x700, 1400x900 and 1920x1080 windows (the window less the 300-pixel panel,
 * the header, title and footer).
 */
import { describe, expect, it } from 'vitest';
import { COLORBAR_BAND, colorbarBeside, GRID_TITLE, placeCells } from '../../src/ui/layout.ts';

const STAGES = [
  [724, 556],
  [1100, 756],
  [1620, 936],
] as const;

describe(placeCells.name, () => {
  it('leaves the colour bar room right of the maps, inside the stage, level with their top', () => {
    for (const [width, height] of STAGES) {
      for (const [count, columns] of [[1, 1], [9, 3], [48, 8]]) {
        const maps = placeCells(count, columns, width, height);
        const bar = colorbarBeside(maps)!;
        const right = Math.max(...maps.map((m) => m.x + m.width));
        expect(bar.x, `${count} maps in ${width}x${height}`).toBeGreaterThan(right);
        expect(bar.x + bar.width).toBeLessThanOrEqual(width);
        expect(bar.y).toBe(Math.min(...maps.map((m) => m.y)));
        expect(Math.max(...maps.map((m) => m.y + m.height))).toBeLessThanOrEqual(height);
        expect(width - right).toBeGreaterThanOrEqual(COLORBAR_BAND);
      }
    }
  });

  it("keeps a grid's maps apart, with room for each title above", () => {
    const maps = placeCells(9, 3, 1100, 756);
    expect(maps[3].y - (maps[0].y + maps[0].height)).toBeGreaterThanOrEqual(GRID_TITLE);
    expect(maps[1].x).toBeGreaterThan(maps[0].x + maps[0].width);
  });
});
