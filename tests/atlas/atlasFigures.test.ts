/** The atlas figures' SVG (src/figure/atlasFigures.ts): values printed in cells, colours by value, class groups. */
import { describe, expect, it } from 'vitest';
import { makeHeatTableSvg, makeLabelMatrixSvg } from '../../src/figure/atlasFigures.ts';
import { makeColormapLut } from '../../src/render/colormaps.ts';

const lut = makeColormapLut('viridis');

describe(makeHeatTableSvg.name, () => {
  it('draws one cell per layer and head with its value, lowest and highest at the colormap ends', () => {
    const svg = makeHeatTableSvg({ title: 'entropy', values: [[1, 2.5, null], [4, 0.125, 3]], unit: 'nats', lut });
    const cells = [...svg.matchAll(/<rect class="cell" data-layer="(\d)" data-head="(\d)"[^>]*fill="(#[0-9a-f]{6})"/g)];
    expect(cells.map((m) => `${m[1]}${m[2]}`)).toEqual(['00', '01', '02', '10', '11', '12']);
    const viridisLow = '#440154';
    const viridisHigh = '#fde725';
    expect(cells[4][3]).toBe(viridisLow); // 0.125, the lowest
    expect(cells[3][3]).toBe(viridisHigh); // 4, the highest
    expect(cells[2][3]).toBe('#dddddd'); // no value
    for (const text of ['>2.5<', '>0.125<', '>–<']) expect(svg).toContain(text);
  });
});

describe(makeLabelMatrixSvg.name, () => {
  it('labels rows and columns, names each class group once and separates groups', () => {
    const labels = ['b', 'p', 'iy', 'ih', 'h#'];
    const groups = ['stop', 'stop', 'vowel', 'vowel', 'silence'];
    const values = Float32Array.from({ length: 25 }, (_, i) => (i % 6 === 0 ? 0.5 : 0.1));
    const svg = makeLabelMatrixSvg({ title: 't', labels, groups, values, lut, colorbarLabel: 'mass' });
    for (const group of ['stop', 'vowel', 'silence']) expect(svg.match(new RegExp(`font-weight="bold" text-anchor="middle">${group}<`, 'g'))).toHaveLength(1);
    // Two boundaries (stop|vowel, vowel|silence), each a vertical and a horizontal line.
    expect(svg.match(/stroke-width="1.5"/g)).toHaveLength(4);
    expect(svg).toContain('<title>iy → iy: 0.5</title>');
    expect(svg).toContain('<title>h# → b: 0.1</title>');
  });
});
