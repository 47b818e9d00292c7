/** The atlas label matrix stays legible: group names that clear each other, the whole subtitle, a key for grey. */
import { describe, expect, it } from 'vitest';
import { makeLabelMatrixSvg } from '../../src/figure/atlasFigures.ts';
import { makeColormapLut } from '../../src/view/colormaps.ts';

const lut = makeColormapLut('viridis');
const SUBTITLE = '12 utterances, 9300 query frames; phones folded to 39; mean attention mass a query frame of the row gives to the column';
const headers = (svg: string) =>
  [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" font-size="11" font-weight="bold" text-anchor="middle">([^<]+)</g)].map((m) => ({ x: +m[1], y: +m[2], text: m[3] }));

describe(makeLabelMatrixSvg.name, () => {
  it('does not repeat class names over a class x class matrix, and fits its subtitle', () => {
    const labels = ['stop', 'flap', 'affricate', 'fricative', 'nasal'];
    const svg = makeLabelMatrixSvg({ title: 't', subtitle: SUBTITLE, labels, groups: labels, values: new Float32Array(25).fill(0.2), lut, colorbarLabel: 'mass' });
    expect(headers(svg)).toEqual([]);
    const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
    // The subtitle is 749.6 pixels wide in DejaVu Sans at 12 px (FreeType, through matplotlib's ft2font).
    expect(width).toBeGreaterThanOrEqual(750);
    expect(svg).not.toContain('no data');
  });

  it('puts group names on two rows so that neighbours clear each other, leaving out one with no room', () => {
    const groups = ['stop', 'stop', 'flap', 'affricate', 'affricate', 'fricative', 'nasal', 'semivowel', 'semivowel'];
    const labels = groups.map((_, i) => `p${i}`);
    const svg = makeLabelMatrixSvg({ title: 't', labels, groups, values: new Float32Array(81).fill(0.2), lut, colorbarLabel: 'mass', cellSize: 14 });
    const placed = headers(svg);
    expect(placed.length).toBeGreaterThanOrEqual(4);
    for (const row of new Set(placed.map((h) => h.y))) {
      const onRow = placed.filter((h) => h.y === row).sort((a, b) => a.x - b.x);
      // Bold 11-pixel text is at most 0.65 em a character wide.
      for (let i = 1; i < onRow.length; i++) {
        expect(onRow[i].x - onRow[i - 1].x).toBeGreaterThanOrEqual(((onRow[i].text.length + onRow[i - 1].text.length) * 11 * 0.65) / 2);
      }
    }
  });

  it('keys the grey of cells without a value', () => {
    const labels = ['b', 'iy'];
    const svg = makeLabelMatrixSvg({ title: 't', labels, groups: ['stop', 'vowel'], values: Float32Array.from([0.5, NaN, NaN, 0.1]), lut, colorbarLabel: 'mass' });
    expect(svg).toContain('class="no-data"');
    expect(svg).toContain('>no data</text>');
  });
});
