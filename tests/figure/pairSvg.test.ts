/**
 * The pair figure: two utterances' maps side by side, each with its own phone and word labels on both axes and its
 * own boundary lines, a title over each map and one colour bar; the title names both utterances.
 */
import { describe, expect, it } from 'vitest';
import { figureAxesOf } from '../../src/figure/figureAxes.ts';
import { FIGURE_MARGIN } from '../../src/figure/figureSvg.ts';
import type { PairPanel } from '../../src/figure/pairSvg.ts';
import { makePairSvg, pairLayout } from '../../src/figure/pairSvg.ts';
import type { MapMarks } from '../../src/view/plan.ts';

const marks = (words: [string, number][], phones: [string, number][], wordBoundaries: number[]): MapMarks => ({
  cells: 10,
  span: 10,
  phoneLabels: phones.map(([label, position]) => ({ label, position })),
  boundaryLabels: [],
  wordLabels: words.map(([label, position]) => ({ label, position })),
  phoneBoundaries: [],
  wordBoundaries,
});

const SIZE = 200;
const panel = (title: string, m: MapMarks, href?: string): PairPanel => {
  const axes = figureAxesOf(m, SIZE);
  return { title, rasterHref: href, columnLabels: axes.labels, rowLabels: axes.labels, phoneBoundaries: axes.phoneBoundaries, wordBoundaries: axes.wordBoundaries };
};
const FIRST = marks([['she', 2], ['had', 7]], [['sh', 1], ['ix', 3], ['hv', 6]], [5]);
const SECOND = marks([['author', 3], ['of', 8]], [['ao', 1], ['th', 4], ['ah', 8]], [6]);
const COLORBAR = { lut: new Uint8Array(256 * 4), low: '0', high: '1', label: 'attention (softmax)' };

/** The text of every <text> in each `group` of the SVG, one list per group, in order. */
const groupTexts = (svg: string, group: string) =>
  [...svg.matchAll(new RegExp(`<g class="${group}">([\\s\\S]*?)</g>`, 'g'))].map((m) => [...m[1].matchAll(/>([^<]+)<\/text>/g)].map((t) => t[1]));

describe(makePairSvg.name, () => {
  it("labels both axes of each map with its own utterance's phones and words, and names both in the title", () => {
    const title = "LDC93S1: words 0–1 'she had' | arctic_a0001: words 0–1 'author of'";
    const svg = makePairSvg({ title, subtitle: 'sub', mapSize: SIZE, panels: [panel('LDC93S1 L0 H0', FIRST, 'data:,a'), panel('arctic_a0001 L0 H0', SECOND, 'data:,b')], colorbar: COLORBAR });
    expect(svg).toContain('>LDC93S1: words 0–1 &apos;she had&apos; | arctic_a0001: words 0–1 &apos;author of&apos;</text>');
    expect([...svg.matchAll(/class="map-title"[^>]*>([^<]+)</g)].map((m) => m[1])).toEqual(['LDC93S1 L0 H0', 'arctic_a0001 L0 H0']);
    const [firstColumns, secondColumns] = groupTexts(svg, 'column-labels');
    const [firstRows, secondRows] = groupTexts(svg, 'row-labels');
    expect(firstColumns.sort()).toEqual(['had', 'hv', 'ix', 'sh', 'she']);
    expect(firstRows.sort()).toEqual(['had', 'hv', 'ix', 'sh', 'she']);
    expect(secondColumns.sort()).toEqual(['ah', 'ao', 'author', 'of', 'th']);
    expect(secondRows.sort()).toEqual(['ah', 'ao', 'author', 'of', 'th']);
    expect(svg.match(/<g class="colorbar">/g)).toHaveLength(1);
    // Each map's word boundary, on its own map: vertical lines at its left edge plus 5 and 6 cells of 20 pixels.
    const { maps } = pairLayout({ mapSize: SIZE, title, subtitle: 'sub' });
    const xs = [...svg.matchAll(/<g class="word-boundaries">([\s\S]*?)<\/g>/g)].map((m) => [...m[1].matchAll(/<line x1="([\d.]+)" y1="[\d.]+" x2="\1"/g)].map((l) => Number(l[1])));
    expect(xs).toEqual([[maps[0].x + 100], [maps[1].x + 120]]);
    // The second map's row words end beside its own phone labels, well clear of the first map's right edge.
    const author = /<text x="([\d.]+)" text-anchor="end" y="[\d.]+" font-size="13" font-weight="bold">author<\/text>/.exec(svg);
    expect(Number(author?.[1])).toBe(maps[1].x - 50);
    expect(Number(author?.[1]) - 60).toBeGreaterThan(maps[0].x + SIZE);
    // Each raster where the layout puts it, so the viewer's PNG export can draw the maps under the vector layer.
    expect(svg).toContain(`<image x="${maps[0].x}" y="${maps[0].y}" width="${SIZE}" height="${SIZE}"`);
    expect(svg).toContain(`<image x="${maps[1].x}" y="${maps[1].y}" width="${SIZE}" height="${SIZE}"`);
  });

  it("keeps the second map clear of the first one's labels, and widens for a long title", () => {
    const layout = pairLayout({ mapSize: SIZE, title: 't' });
    expect(layout.maps[0]).toEqual({ x: FIGURE_MARGIN.left, y: FIGURE_MARGIN.top });
    // The second map's row labels need the same margin as the first's.
    expect(layout.maps[1].x - (layout.maps[0].x + SIZE)).toBe(FIGURE_MARGIN.left);
    expect(layout.width).toBe(layout.maps[1].x + SIZE + FIGURE_MARGIN.right);
    expect(pairLayout({ mapSize: SIZE, title: 'x'.repeat(200) }).width).toBeGreaterThan(200 * 9);
    // Without rasters: the vector layer alone, on a transparent background.
    const vectors = makePairSvg({ title: 't', mapSize: SIZE, panels: [panel('a', FIRST), panel('b', SECOND)], colorbar: COLORBAR });
    expect(vectors).not.toContain('<image');
    expect(vectors).not.toContain('fill="#ffffff"');
  });
});
