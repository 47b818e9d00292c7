/**
 * Figure axes: word labels are written horizontally on both axes, so along the columns they need their width and
 * down the rows only a line's height; each axis is thinned by its own extent.
 */
import { describe, expect, it } from 'vitest';
import { figureAxesOf } from '../../src/figure/figureAxes.ts';
import { makeFigureSvg } from '../../src/figure/figureSvg.ts';
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
