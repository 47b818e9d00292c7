/**
 * `steve render`, run as a user runs it: figures of the TIMIT sample's numpy-written attention as PNG (decoded with
 * pngjs and checked pixel by pixel against the colormap of the exported values) and SVG (checked element by
 * element), for each view.
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeColormapLut } from '../../src/render/colormaps.ts';
import { FIGURE_MARGIN, figureSize } from '../../src/figure/figureSvg.ts';
import { ARCTIC_WAV, python, SOFTMAXED_F16, steve, TIMIT_WAV } from './steveProcess.ts';

/** The fixture's rows already sum to 1: --softmax row is named so the maps match the softmaxed numpy reference. */
const STORED = ['--attention', SOFTMAXED_F16, '--wav', TIMIT_WAV, '--words', '0:2'];
const VIEW = [...STORED, '--softmax', 'row'];
const SIZE = 300;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'steve-render-'));
});

/** Vertical boundary lines of a figure SVG, in map pixels (x minus the left margin). */
function boundaryColumns(svg: string): number[] {
  const groups = [...svg.matchAll(/<g class="(?:phone|word)-boundaries">([\s\S]*?)<\/g>/g)].map((m) => m[1]).join('\n');
  return [...groups.matchAll(/<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"/g)]
    .filter((m) => m[1] === m[2])
    .map((m) => Number(m[1]) - FIGURE_MARGIN.left);
}

describe('steve render', () => {
  it('draws one map as PNG whose cells have the colormap colours of the exported values', async () => {
    const png = join(dir, 'map.png');
    const svgPath = join(dir, 'map.svg');
    const npy = join(dir, 'map.npy');
    const options = [...VIEW, '--layer', '1', '--head', '0', '--softmax', 'none'];
    const runs = await Promise.all([
      steve(['render', ...options, '--size', String(SIZE), '-o', png]),
      steve(['render', ...options, '--size', String(SIZE), '-o', svgPath]),
      steve(['export', ...options, '-o', npy]),
    ]);
    for (const run of runs) expect(run.stderr).toBe('');
    expect(runs.map((run) => run.code)).toEqual([0, 0, 0]);
    expect(runs[0].stdout.trim()).toBe(png);

    const image = PNG.sync.read(readFileSync(png));
    const size = figureSize(SIZE);
    expect([image.width, image.height]).toEqual([size.width, size.height]);
    const pixel = (x: number, y: number) => Array.from(image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3));
    expect(pixel(2, 2)).toEqual([255, 255, 255]);

    const values = python<number[][]>(`import numpy as np, json; print(json.dumps(np.load(${JSON.stringify(npy)}).tolist()))`);
    const rows = values.length;
    const cols = values[0].length;
    const flat = values.flat();
    const [low, high] = [Math.min(...flat), Math.max(...flat)];
    const lut = makeColormapLut('viridis');
    const colour = (index: number) => Array.from(lut.subarray(index * 4, index * 4 + 3));
    const lines = boundaryColumns(readFileSync(svgPath, 'utf8'));
    expect(lines.length).toBeGreaterThan(2);
    const cell = SIZE / cols;
    // Boundaries lie on cell edges (between frames f-1 and f), never through a cell's middle.
    for (const line of lines) expect(Math.abs(line / cell - Math.round(line / cell)), `line at ${line} px`).toBeLessThan(0.01);
    const clear = (px: number) => lines.every((line) => Math.abs(line - px) > 3);
    let checked = 0;
    for (let row = 0; row < rows; row += 3) {
      for (let col = 0; col < cols; col += 3) {
        const [cx, cy] = [(col + 0.5) * cell, (row + 0.5) * cell];
        if (!clear(cx) || !clear(cy)) continue;
        const t = (values[row][col] - low) / (high - low);
        const index = Math.round(Math.fround(Math.fround(t) * 255));
        // The shader divides in f32: a value at a rounding tie may take the neighbouring colormap entry.
        const allowed = [index - 1, index, index + 1].filter((i) => i >= 0 && i <= 255).map(colour);
        expect(allowed, `cell ${row},${col}`).toContainEqual(pixel(Math.floor(FIGURE_MARGIN.left + cx), Math.floor(FIGURE_MARGIN.top + cy)));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    // The colour bar: its top band is the colormap's top colour.
    expect(pixel(FIGURE_MARGIN.left + SIZE + 24 + 8, FIGURE_MARGIN.top + 2)).toEqual(colour(255));
  });

  it('writes SVG with the raster, boundary lines, phone and word labels, colour bar and title', async () => {
    const out = join(dir, 'labels.svg');
    // No --softmax: the softmaxed tensor is shown as stored (a second softmax would flatten it), and stderr says so.
    const run = await steve(['render', ...STORED, '--layer', '0', '--head', 'mean', '-o', out]);
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual([`steve: ${SOFTMAXED_F16}: rows already sum to 1 (softmaxed), shown as stored; --softmax row applies another softmax`]);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toMatch(/<image [^>]*href="data:image\/png;base64,[A-Za-z0-9+/=]{100,}"/);
    expect(svg).toContain("Word(s): &apos;she had your&apos;");
    expect(svg).toContain('Encoder attention layer 0, mean of heads | no softmax');
    const columnLabels = svg.match(/<g class="column-labels">([\s\S]*?)<\/g>/)![1];
    for (const word of ['she', 'had', 'your']) expect(columnLabels).toContain(`>${word}</text>`);
    for (const phone of ['sh', 'ix', 'hv', 'eh', 'jh']) expect(columnLabels).toContain(`>${phone}</text>`);
    expect(svg.match(/<g class="row-labels">([\s\S]*?)<\/g>/)![1]).toContain('>had</text>');
    // Word boundaries at the start of each word and the end of the last, on both axes.
    const words = svg.match(/<g class="word-boundaries">([\s\S]*?)<\/g>/)![1];
    expect(words.match(/<line /g)).toHaveLength(2 * 4);
    expect(svg.match(/<g class="phone-boundaries">([\s\S]*?)<\/g>/)![1].match(/<line /g)!.length).toBeGreaterThan(8);
    expect(svg).toContain('<g class="colorbar">');
    expect(svg).toContain('attention (as stored)');
    expect(svg).not.toContain('raw score');
  });

  it('draws grids: every head of a layer with their mean, and the model as layers x heads', async () => {
    const heads = join(dir, 'heads.svg');
    const model = join(dir, 'model.svg');
    const runs = await Promise.all([
      steve(['render', ...VIEW, '--head', 'all', '--layer', '1', '-o', heads]),
      steve(['render', ...VIEW, '--view', 'model', '--size', '64', '-o', model]),
    ]);
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const headsSvg = readFileSync(heads, 'utf8');
    expect(headsSvg.match(/<g class="cell">/g)).toHaveLength(3);
    expect(headsSvg).toContain('>L1 H1</text>');
    expect(headsSvg).toContain('>L1 mean</text>');
    const modelSvg = readFileSync(model, 'utf8');
    expect(modelSvg.match(/<g class="cell">/g)).toHaveLength(4);
    for (const title of ['L0 H0', 'L0 H1', 'L1 H0', 'L1 H1']) expect(modelSvg).toContain(`>${title}</text>`);
    expect(modelSvg).toMatch(/<image x="\d+" y="\d+" width="64" height="64"/);
  });

  it('puts a grid on one colour scale with one bar and words on its edges, or states per-map ranges; pools every segment with --full', async () => {
    const shared = join(dir, 'heads-shared.svg');
    const perMap = join(dir, 'heads-per-map.svg');
    const full = join(dir, 'phones-full.svg');
    const runs = await Promise.all([
      steve(['render', ...VIEW, '--head', 'all', '--size', '64', '-o', shared]),
      steve(['render', ...VIEW, '--head', 'all', '--size', '64', '--color-range', 'per-map', '-o', perMap]),
      steve(['render', '--attention', SOFTMAXED_F16, '--wav', TIMIT_WAV, '--full', '--pool', 'phones', '--softmax', 'row', '--size', '200', '-o', full]),
    ]);
    for (const run of runs) expect(run.stderr).toBe('');
    const sharedSvg = readFileSync(shared, 'utf8');
    const bar = sharedSvg.match(/<g class="colorbar">([\s\S]*?)<\/g>/)![1];
    // One bar with the numbers every map shares, not "min" and "max".
    expect([...bar.matchAll(/font-size="11">([^<]+)<\/text>/g)].map((m) => Number(m[1])).every(Number.isFinite)).toBe(true);
    expect(sharedSvg.match(/<g class="colorbar">/g)).toHaveLength(1);
    const wordLabels = [...sharedSvg.matchAll(/class="word-label"[^>]*>([^<]+)<\/text>/g)].map((m) => m[1]);
    // Thinned where they would overlap at 64 px, but words of the selection, under and beside the maps.
    expect(new Set(wordLabels).size).toBeGreaterThanOrEqual(2);
    for (const label of wordLabels) expect(['she', 'had', 'your']).toContain(label);
    const perMapSvg = readFileSync(perMap, 'utf8');
    expect(perMapSvg).toContain('each map its own range');
    expect(perMapSvg).toMatch(/>L0 H1 \([\d.e-]+–[\d.e-]+\)<\/text>/);
    const fullSvg = readFileSync(full, 'utf8');
    expect(fullSvg).toContain('All frames');
    const rowLabels = [...fullSvg.match(/<g class="row-labels">([\s\S]*?)<\/g>/)![1].matchAll(/>([^<]+)<\/text>/g)].map((m) => m[1]);
    // The leading and trailing silences are pooled too.
    expect(rowLabels.filter((label) => label === 'h#').length).toBeGreaterThanOrEqual(1);
    expect(fullSvg).toContain('pooled: mean over each phone');
  });

  it('pools onto phones: one labelled cell per phone of the words', async () => {
    const out = join(dir, 'phones.svg');
    const run = await steve(['render', ...VIEW, '--pool', 'phones', '--head', 'mean', '-o', out]);
    expect(run.code).toBe(0);
    const svg = readFileSync(out, 'utf8');
    const labels = [...svg.match(/<g class="row-labels">([\s\S]*?)<\/g>/)![1].matchAll(/>([^<]+)<\/text>/g)].map((m) => m[1]);
    // "she had your": sh ix | hv eh dcl | jh ih, each phone once, and the three words over them.
    expect(labels.sort()).toEqual(['dcl', 'eh', 'had', 'hv', 'ih', 'ix', 'jh', 'sh', 'she', 'your']);
    expect(svg).toContain('mean over each phone');
  });

  it('draws a difference on the diverging colormap, symmetric about 0, and a rollout', async () => {
    const diff = join(dir, 'diff.svg');
    const rollout = join(dir, 'rollout.svg');
    const runs = await Promise.all([
      steve(['render', ...VIEW, '--layer', '0', '--compare-layer', '1', '--softmax', 'none', '-o', diff]),
      steve(['render', ...VIEW, '--view', 'rollout', '--softmax', 'none', '-o', rollout]),
    ]);
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const svg = readFileSync(diff, 'utf8');
    expect(svg).toContain('L0 H0 − L1 H0');
    // --softmax none on a softmaxed tensor: stored probabilities, not raw scores.
    expect(svg).toContain('difference of attention (as stored)');
    // White word lines would vanish in the diverging map's white middle: they are dark there.
    const wordLines = svg.match(/<g class="word-boundaries">([\s\S]*?)<\/g>/)![1];
    expect(wordLines).toContain('stroke="#1a1a1a"');
    expect(wordLines).not.toContain('stroke="#fff"');
    const bar = svg.match(/<g class="colorbar">([\s\S]*?)<\/g>/)![1];
    const limits = [...bar.matchAll(/font-size="11">(-?[\d.e+-]+)<\/text>/g)].map((m) => Number(m[1]));
    expect(limits).toHaveLength(2);
    expect(limits[0]).toBeCloseTo(-limits[1], 10);
    // RdBu's ends: dark red at the top, dark blue at the bottom.
    const lut = makeColormapLut('diverging');
    const hex = (i: number) => `#${Array.from(lut.subarray(i * 4, i * 4 + 3), (c) => c.toString(16).padStart(2, '0')).join('')}`;
    expect(bar).toContain(`fill="${hex(255)}"`);
    expect(bar).toContain(`fill="${hex(0)}"`);
    expect(readFileSync(rollout, 'utf8')).toContain('Attention rollout through layers 0–1, mean of heads');
  });

  it("draws a pair: each utterance's map with its own phones and words on both axes, both named in the title", async () => {
    // The other utterance: arctic_a0001's WAV and TextGrid beside a numpy-written tensor of its stem.
    const other = join(dir, 'arctic_a0001.npy');
    copyFileSync(ARCTIC_WAV, join(dir, 'arctic_a0001.wav'));
    copyFileSync(ARCTIC_WAV.replace(/\.wav$/, '.TextGrid'), join(dir, 'arctic_a0001.TextGrid'));
    python(
      `import numpy as np; s = np.random.default_rng(3).normal(size=(2, 1, 2, 196, 196)); p = np.exp(s) / np.exp(s).sum(-1, keepdims=True); ` +
        `np.save(${JSON.stringify(other)}, p.astype(np.float32)); print(0)`,
    );
    const out = join(dir, 'pair.svg');
    const run = await steve(['render', '--attention', SOFTMAXED_F16, '--wav', TIMIT_WAV, '--softmax', 'row', '--view', 'pair', '--compare-attention', other, '--words', '0:1', '--size', '240', '-o', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toContain('>LDC93S1: words 0–1 &apos;she had&apos; | arctic_a0001: words 0–1 &apos;author of&apos;</text>');
    expect([...svg.matchAll(/class="map-title"[^>]*>([^<]+)</g)].map((m) => m[1])).toEqual(['LDC93S1 L0 H0', 'arctic_a0001 L0 H0']);
    const texts = (group: string) => [...svg.matchAll(new RegExp(`<g class="${group}">([\\s\\S]*?)</g>`, 'g'))].map((m) => [...m[1].matchAll(/>([^<]+)<\/text>/g)].map((t) => t[1]));
    const [timitColumns, arcticColumns] = texts('column-labels');
    const [timitRows, arcticRows] = texts('row-labels');
    for (const labels of [timitColumns, timitRows]) expect(labels).toEqual(expect.arrayContaining(['she', 'had', 'sh', 'hv']));
    for (const labels of [arcticColumns, arcticRows]) expect(labels).toEqual(expect.arrayContaining(['author', 'of']));
    expect(arcticColumns).not.toContain('she');
    expect(timitColumns).not.toContain('author');
    expect(svg.match(/<image [^>]*width="240" height="240"/g)).toHaveLength(2);
    expect(svg.match(/<g class="colorbar">/g)).toHaveLength(1);
  });

  it('renders PNG at --dpi and records it in the pHYs chunk; says which options have no effect on the view', async () => {
    const out = join(dir, 'print.png');
    const run = await steve(['render', ...VIEW, '--size', '96', '--dpi', '192', '--clip', '5:95', '--color-range', 'per-map', '-o', out]);
    expect(run.code).toBe(0);
    // Each option without effect gets one line, and the figure is still drawn.
    expect(run.stderr.trim().split('\n')).toEqual([
      'steve: --clip is ignored: it sets the percentiles that --scale percentile spans, and the scale is linear',
      'steve: --color-range is ignored: per-map ranges are for views of several maps (heads, model, pair), and --view map draws one',
    ]);
    const bytes = readFileSync(out);
    const image = PNG.sync.read(bytes);
    const size = figureSize(96);
    expect([image.width, image.height]).toEqual([size.width * 2, size.height * 2]);
    const at = bytes.indexOf('pHYs');
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(bytes.indexOf('IDAT'));
    expect([bytes.readUInt32BE(at + 4), bytes.readUInt32BE(at + 8), bytes[at + 12]]).toEqual([7559, 7559, 1]); // 192 / 0.0254 m
  });
});
