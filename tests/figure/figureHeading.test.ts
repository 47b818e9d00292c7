/**
 * Figure headings fit their figures (figureHeading.ts): a zoomed single map's long subtitle wraps at its separators
 * instead of losing both ends (the reviewer's 920-pixel figure of a 640-pixel map cut "Utterance: L" and
 * "25-36 (frames)"); a heading that fits is drawn as before; what cannot fit in a layout's lines widens the figure.
 */
import { describe, expect, it } from 'vitest';
import { fitHeading, textWidth } from '../../src/figure/figureHeading.ts';
import { SUBTITLE_SEPARATOR } from '../../src/view/titles.ts';
import { FIGURE_MARGIN, figureSize, makeFigureSvg } from '../../src/figure/figureSvg.ts';
import { gridSize, makeGridSvg } from '../../src/figure/gridSvg.ts';
import { makePairSvg } from '../../src/figure/pairSvg.ts';

const TITLE = "Word(s): 'she had your dark'";
const ZOOMED =
  'Utterance: LDC93S1 | Encoder attention layer 1, head 2 | softmax over rows | linear scale | SYNTHETIC attention, not model output | zoomed to rows 25-36, columns 25-36 (frames)';
const COLORBAR = { lut: new Uint8Array(256 * 4), low: '0', high: '1', label: 'x' };

const figure = (mapSize: number, subtitle?: string, title = TITLE) =>
  makeFigureSvg({ title, subtitle, mapSize, rasterHref: 'data:,', columnLabels: [], rowLabels: [], phoneBoundaries: [], wordBoundaries: [], colorbar: COLORBAR });

/** The figure's width and its heading lines (font size 15 or 12) with their centres and baselines. */
function heading(svg: string) {
  const width = Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]);
  const lines = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" font-size="(15|12)" text-anchor="middle"[^>]*>([^<]*)<\/text>/g)].map((m) => ({
    x: +m[1],
    y: +m[2],
    size: +m[3],
    text: m[4].replace(/&apos;/g, "'"),
  }));
  return { width, lines };
}

/** Every heading line lies inside the figure, by the same measure of text the layout uses. */
function expectInside(svg: string) {
  const { width, lines } = heading(svg);
  for (const line of lines) {
    const half = textWidth(line.text, line.size, line.size === 15) / 2;
    expect(line.x - half, line.text).toBeGreaterThanOrEqual(0);
    expect(line.x + half, line.text).toBeLessThanOrEqual(width);
  }
}

describe(textWidth.name, () => {
  it('measures text at least as wide as DejaVu Sans draws it, and not much wider', () => {
    // Widths in pixels measured with FreeType (matplotlib's ft2font, DejaVuSans.ttf and DejaVuSans-Bold.ttf).
    const measured: [string, number, boolean, number][] = [
      ['Utterance: LDC93S1 | Encoder attention layer 1, head 2 | softmax over rows | linear scale', 12, false, 540.75],
      ['SYNTHETIC attention, not model output | zoomed to rows 25-36, columns 25-36 (frames)', 12, false, 536.0],
      ["Word(s): 'she had your dark'", 15, true, 240.0],
    ];
    for (const [text, size, bold, width] of measured) {
      expect(textWidth(text, size, bold), text).toBeGreaterThanOrEqual(width);
      expect(textWidth(text, size, bold), text).toBeLessThan(width * 1.06);
    }
  });
});

describe('single-map figure heading', () => {
  it("wraps a zoomed map's long subtitle onto two lines at a separator, the figure as wide as its map and bar", () => {
    for (const size of [640, 400]) {
      const svg = figure(size, ZOOMED);
      const { width, lines } = heading(svg);
      expect(width).toBe(FIGURE_MARGIN.left + size + FIGURE_MARGIN.right);
      expect(figureSize(size, { title: TITLE, subtitle: ZOOMED }).width).toBe(width);
      const subtitle = lines.filter((line) => line.size === 12);
      expect(subtitle.map((line) => line.y)).toEqual([40, 55]);
      // Nothing lost: the lines are the subtitle, broken at one of its separators.
      expect(subtitle.map((line) => line.text).join(SUBTITLE_SEPARATOR)).toBe(ZOOMED);
      expect(subtitle[0].text.startsWith('Utterance: LDC93S1')).toBe(true);
      expect(subtitle[1].text.endsWith('25-36 (frames)')).toBe(true);
      expectInside(svg);
    }
  });

  it('widens a small map only as far as two lines need, and keeps a heading that fits as it was', () => {
    const small = figure(96, ZOOMED);
    expect(heading(small).width).toBeGreaterThan(FIGURE_MARGIN.left + 96 + FIGURE_MARGIN.right);
    expect(heading(small).width).toBeLessThan(textWidth(ZOOMED, 12));
    expect(heading(small).lines.filter((line) => line.size === 12)).toHaveLength(2);
    expectInside(small);
    // A heading that fits: one subtitle line centred on the map, as before this rule.
    const short = figure(400, 'Utterance: LDC93S1 | layer 1, head 2');
    expect(heading(short).width).toBe(680);
    expect(heading(short).lines.map((line) => [line.x, line.y])).toEqual([[350, 22], [350, 40]]);
    expect(short).toContain('<text x="350" y="40" font-size="12" text-anchor="middle" fill="#444">Utterance: LDC93S1 | layer 1, head 2</text>');
  });
});

describe('grid and pair headings', () => {
  it('keep one subtitle line, widening a narrow figure to hold it', () => {
    const spec = { title: TITLE, subtitle: ZOOMED, cells: [{ title: 'L0 H0', rasterHref: '' }], columns: 1, cellSize: 64, wordBoundaries: [], colorbar: COLORBAR };
    const grid = makeGridSvg(spec);
    expect(heading(grid).lines.filter((line) => line.size === 12).map((line) => line.text)).toEqual([ZOOMED]);
    expect(heading(grid).width).toBe(gridSize(spec).width);
    expectInside(grid);
    const panel = { title: 'a', columnLabels: [], rowLabels: [], phoneBoundaries: [], wordBoundaries: [] };
    const pair = makePairSvg({ title: TITLE, subtitle: ZOOMED, mapSize: 100, panels: [panel, panel], colorbar: COLORBAR });
    expect(heading(pair).lines.filter((line) => line.size === 12).map((line) => line.text)).toEqual([ZOOMED]);
    expectInside(pair);
  });

  it('fits a title longer than any subtitle line', () => {
    const fitted = fitHeading({ title: 'x'.repeat(120), subtitle: 'a | b' }, 300, 150, 8, 2);
    expect(fitted.width).toBeGreaterThanOrEqual(textWidth('x'.repeat(120), 15, true) + 16);
    expect(fitted.subtitleLines).toEqual(['a | b']);
  });
});
