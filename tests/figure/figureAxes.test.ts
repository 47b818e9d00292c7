/**
 * Figure axes: word labels are written horizontally on both axes, so along the columns they need their width and
 * down the rows only a line's height; each axis is thinned by its own extent. Grids place theirs along the maps' span.
 */
import { describe, expect, it } from 'vitest';
import { figureAxesOf, gridWordLabels } from '../../src/figure/figureAxes.ts';
import { makeFigureSvg } from '../../src/figure/figureSvg.ts';
import { makeGridSvg } from '../../src/figure/gridSvg.ts';
import type { MapMarks } from '../../src/view/plan.ts';

/** Four words 20 pixels apart on a 100-pixel map: too close for "your" beside "dark" across, room enough down. */
const MARKS: MapMarks = {
  cells: 10,
  span: 10,
  phoneLabels: [],
  boundaryLabels: [],
  wordLabels: [
    { position: 1, label: 'had' },
    { position: 3, label: 'your' },
    { position: 5, label: 'dark' },
    { position: 7, label: 'suit' },
  ],
  phoneBoundaries: [],
  wordBoundaries: [2, 4, 6],
};

const labelsIn = (svg: string, group: string) =>
  [...new RegExp(`<g class="${group}">([\\s\\S]*?)</g>`).exec(svg)![1].matchAll(/>([^<]+)<\/text>/g)].map((m) => m[1]);

describe(figureAxesOf.name, () => {
  it('thins word labels by their width across the columns and by their height down the rows', () => {
    const axes = figureAxesOf(MARKS, 100);
    const words = (axis: 'column' | 'row') => axes.labels.filter((l) => l.kind === 'word' && l.axis === axis).map((l) => l.text);
    const columns = words('column');
    // 20 pixels apart, each label 40 wide: not all four fit across.
    expect(columns.length).toBeLessThan(4);
    expect(words('row')).toEqual(['had', 'your', 'dark', 'suit']);
    const svg = makeFigureSvg({
      title: 't',
      mapSize: 100,
      columnLabels: axes.labels,
      rowLabels: axes.labels,
      phoneBoundaries: [],
      wordBoundaries: axes.wordBoundaries,
      colorbar: { lut: new Uint8Array(256 * 4), low: '0', high: '1', label: 'x' },
    });
    expect(labelsIn(svg, 'column-labels')).toEqual(columns);
    expect(labelsIn(svg, 'row-labels')).toEqual(['had', 'your', 'dark', 'suit']);
  });
});

describe('figureAxesOf zoomed', () => {
  it('draws what the zoom shows: labels and lines outside are left out, word labels still thinned per axis', () => {
    // Zoomed in 2x on the first half of a 100-pixel map: cell c lies at 20 c pixels, so only cells 0..5 show
    // ("dark" at cell 5 is on the edge, "suit" at cell 7 is out).
    const axes = figureAxesOf(MARKS, 100, (position) => position * 20);
    const words = (axis: 'column' | 'row') => axes.labels.filter((l) => l.kind === 'word' && l.axis === axis).map((l) => l.text);
    expect(words('row')).toEqual(['had', 'your', 'dark']);
    // Across, "dark" would touch "your" (40 pixels wide each, 40 apart).
    expect(words('column')).toEqual(['had', 'your']);
    expect(axes.wordBoundaries).toEqual([40, 80]);
  });
});

describe(gridWordLabels.name, () => {
  it('places grid word labels along the span, not the cell count, and thins each axis by its own extent', () => {
    // 38 frames pooled in blocks of 4: 10 cells spanning 9.5, the last block half as wide.
    const pooled: MapMarks = { ...MARKS, cells: 10, span: 9.5, wordLabels: [{ position: 9, label: 'end' }] };
    // Cell 9 of 9.5 on a 95-pixel map is pixel 90 (by the cell count it would be 85.5).
    expect(gridWordLabels(pooled, 95).columns).toEqual([{ text: 'end', px: 90 }]);
    expect(gridWordLabels(pooled, 95).rows).toEqual([{ text: 'end', px: 90 }]);
    // 20 pixels apart on a 100-pixel cell: 9-pixel words are too wide for all four across, but fit down the rows.
    const labels = gridWordLabels(MARKS, 100);
    expect(labels.columns.length).toBeLessThan(4);
    expect(labels.rows.map((label) => label.text)).toEqual(['had', 'your', 'dark', 'suit']);
    // The grid draws the columns' labels under the maps and the rows' beside them.
    const svg = makeGridSvg({
      title: 't',
      cells: [{ title: 'L0 H0', rasterHref: 'data:,' }],
      columns: 1,
      cellSize: 100,
      wordBoundaries: [],
      wordLabels: labels.columns,
      rowWordLabels: labels.rows,
      colorbar: { lut: new Uint8Array(256 * 4), low: '0', high: '1', label: 'x' },
    });
    const drawn = [...svg.matchAll(/class="word-label"[^>]*text-anchor="(middle|end)">([^<]+)<\/text>/g)];
    expect(drawn.filter((m) => m[1] === 'middle').map((m) => m[2])).toEqual(labels.columns.map((label) => label.text));
    expect(drawn.filter((m) => m[1] === 'end').map((m) => m[2])).toEqual(['had', 'your', 'dark', 'suit']);
  });
});
