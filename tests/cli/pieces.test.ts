/**
 * The command line's pure pieces, in process: view options and what they imply, output paths of batches, the .npy
 * writer (read back by the project's own .npy reader), the PNG resolution chunk, and inspect's names for a map's axes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { formatInspectReport, makeInspectReport } from '../../src/cli/inspect.ts';
import { outputPathFor } from '../../src/cli/outputPath.ts';
import type { LoadedUtterance } from '../../src/node/loadUtterance.ts';
import { modelProgressLine } from '../../src/cli/batch.ts';
import { parseViewSpec } from '../../src/cli/viewSpec.ts';
import { parseWords } from '../../src/view/spec.ts';
import { parseNpyHeader } from '../../src/data/npy.ts';
import { encodeNpy } from '../../src/data/npyWriter.ts';
import { encodeRgbaPng, setPngDpi } from '../../src/node/png.ts';
import { svgToPng } from '../../src/node/svgToPng.ts';
import { SHADERS_DIR, readShaderSources } from '../../src/node/shaderFiles.ts';

describe('view options', () => {
  it('imply their view: --head all the heads grid, --pool pooling, --compare-* a difference', () => {
    expect(parseViewSpec({ head: 'all' }).view).toBe('heads');
    expect(parseViewSpec({ pool: '4' })).toMatchObject({ view: 'pooled', pool: { block: 4 }, poolStat: 'mean' });
    expect(parseViewSpec({ view: 'pooled' }).pool).toEqual({ unit: 'phones' });
    expect(parseViewSpec({ layer: '2', head: 'mean', compareHead: '3' })).toMatchObject({
      view: 'difference',
      compare: { layer: 2, head: 3 },
    });
    expect(parseViewSpec({})).toMatchObject({ view: 'map', softmax: 'row', full: false, layer: undefined, head: undefined });
  });

  it('refuses combinations that mean nothing', () => {
    expect(() => parseViewSpec({ head: 'all', view: 'model' })).toThrow(/--head all .* does not go with --view model/);
    expect(() => parseViewSpec({ pool: 'syllables' })).toThrow(/--pool must be phones, words or a block size/);
    expect(() => parseViewSpec({ pool: '1' })).toThrow(/--pool must be/);
    expect(() => parseViewSpec({ view: 'model', layer: '1' })).toThrow(/leave out --layer/);
    expect(() => parseViewSpec({ words: '0:1', full: true })).toThrow(/--words and --full/);
    expect(() => parseViewSpec({ layer: '-1' })).toThrow(/--layer must be an index/);
  });

  it('reads --words as inclusive word indices', () => {
    expect(parseWords('0:2')).toEqual([0, 2]);
    expect(parseWords('4')).toEqual([4, 4]);
    expect(() => parseWords('2:1')).toThrow(/comes before/);
    expect(() => parseWords('1-3')).toThrow(/--words must be A:B/);
  });
});

describe(outputPathFor.name, () => {
  const request = { formats: ['png', 'svg'], count: 1 };
  it('takes the format from -o, or from --format for folders and the default name', () => {
    expect(outputPathFor({ ...request, out: 'fig.svg' }, 'a')).toEqual({ path: 'fig.svg', format: 'svg' });
    expect(outputPathFor(request, 'a')).toEqual({ path: 'a.png', format: 'png' });
    expect(outputPathFor({ ...request, out: 'figs/', format: 'svg', count: 3 }, 'b')).toEqual({ path: 'figs/b.svg', format: 'svg' });
    expect(outputPathFor({ ...request, out: 'figs/{name}_L3.png', count: 3 }, 'b')).toEqual({ path: 'figs/b_L3.png', format: 'png' });
  });

  it('refuses one file for several utterances and unknown formats', () => {
    expect(() => outputPathFor({ ...request, out: 'fig.png', count: 2 }, 'a')).toThrow(/put \{name\} in the name/);
    expect(() => outputPathFor({ ...request, out: 'fig.gif' }, 'a')).toThrow(/extension must be \.png or \.svg/);
    expect(() => outputPathFor({ ...request, format: 'pdf' }, 'a')).toThrow(/--format must be png or svg/);
  });
});

describe(encodeNpy.name, () => {
  it('writes a version 1.0 little-endian float32 C-order header, data on a 64-byte boundary', () => {
    for (const shape of [[3], [2, 3], [2, 1, 3], []]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: count }, (_, i) => i - 0.5);
      const bytes = encodeNpy(values, shape);
      const header = parseNpyHeader(bytes, 'x.npy');
      expect(header).toMatchObject({ version: [1, 0], descr: '<f4', fortranOrder: false, shape });
      expect(header.dataOffset % 64).toBe(0);
      expect(new Float32Array(bytes.slice(header.dataOffset).buffer)).toEqual(values);
    }
  });

  it('refuses a shape that does not hold the values', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/holds 6 values, got 5/);
  });
});

describe(encodeRgbaPng.name, () => {
  it('writes RGBA pixels that an independent decoder (pngjs) reads back exactly', () => {
    const [width, height] = [7, 3];
    // Runs of one colour (as a colour-mapped raster has) and arbitrary bytes, alpha included.
    const pixels = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i < 40 ? 17 : (i * 97 + (i >> 3) * 31) & 255));
    const decoded = PNG.sync.read(encodeRgbaPng(pixels, width, height));
    expect([decoded.width, decoded.height]).toEqual([width, height]);
    expect(new Uint8Array(decoded.data)).toEqual(pixels);
    expect(() => encodeRgbaPng(pixels, width, height + 1)).toThrow(/are not 7 x 4 RGBA pixels/);
  });
});

describe(svgToPng.name, () => {
  it("gives the pixels resvg draws, for an opaque figure (our encoder) and one with transparent pixels (resvg's)", () => {
    for (const background of ['<rect width="100%" height="100%" fill="white"/>', '']) {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">${background}<rect x="2.5" y="2" width="9" height="5" fill="#3a7" fill-opacity="0.5"/></svg>`;
      for (const scale of [1, 2]) {
        const ours = PNG.sync.read(svgToPng(svg, { scale }));
        const resvg = PNG.sync.read(new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, imageRendering: 1 }).render().asPng());
        expect([ours.width, ours.height]).toEqual([20 * scale, 10 * scale]);
        expect(new Uint8Array(ours.data)).toEqual(new Uint8Array(resvg.data));
      }
    }
  });
});

describe(readShaderSources.name, () => {
  it("lists every .wgsl file under shaders/ by its path there, and gives each file's text when it is asked for", () => {
    const sources = readShaderSources();
    const keys = Object.keys(sources);
    expect(keys).toContain('render/heatmap.wgsl');
    expect(keys.length).toBeGreaterThan(20);
    for (const key of keys) {
      expect(key.endsWith('.wgsl')).toBe(true);
      expect(sources[key]).toBe(readFileSync(join(SHADERS_DIR, key), 'utf8'));
    }
  });
});

describe(setPngDpi.name, () => {
  it('puts one pHYs chunk with pixels per metre right after IHDR, with a valid CRC', () => {
    const png = encodeRgbaPng(new Uint8Array(2 * 2 * 4).fill(200), 2, 2);
    const once = setPngDpi(png, 300);
    const twice = setPngDpi(once, 72);
    expect(twice.length).toBe(once.length);
    expect(twice.toString('latin1', 33 + 4, 33 + 8)).toBe('pHYs');
    expect(twice.readUInt32BE(33 + 8)).toBe(Math.round(72 / 0.0254));
    expect(twice.readUInt32BE(33 + 8 + 9)).toBe(crc32(twice.subarray(33 + 4, 33 + 8 + 9)));
    expect(twice.toString('latin1').match(/pHYs/g)).toHaveLength(1);
  });
});

describe(makeInspectReport.name, () => {
  it("names a map's rows queries and its columns keys: a 3 x 5 map has 3 queries of 5 keys", async () => {
    // Each of the 3 rows is a distribution over the 5 columns, as softmax over the last axis gives.
    const map = new Float32Array(15).fill(0.2);
    const utterance = {
      attention: { shape: { layers: 1, heads: 1, rows: 3, cols: 5 }, dtype: 'float32', fileName: 'a.npy', metadata: {}, readHead: async () => map },
    } as unknown as LoadedUtterance;
    const report = await makeInspectReport(utterance);
    expect(report.attention).toMatchObject({ rows: 3, cols: 5, queries: 3, keys: 5, softmaxed: true });
    expect(formatInspectReport(report)).toMatch(/^a\.npy: 1 layers x 1 heads x 3 queries x 5 keys \(rows x columns\), float32\n/);
  });
});

describe(modelProgressLine.name, () => {
  it('redraws one line per step of a forward pass on a terminal and clears it at the end; says nothing on a log', () => {
    let written = '';
    const terminal = { isTTY: true, write: (text: string) => ((written += text), true) } as unknown as NodeJS.WriteStream;
    const onProgress = modelProgressLine(terminal)!;
    onProgress({ stage: 'weights', fraction: 0, layersDone: 0, layers: 2 });
    onProgress({ stage: 'encoder', fraction: 0.5, layersDone: 1, layers: 2 });
    onProgress({ stage: 'encoder', fraction: 1, layersDone: 2, layers: 2 });
    expect(written).toBe('\r\x1b[Ksteve: reading weights, layer 0 of 2 done\r\x1b[Ksteve: running the encoder, layer 1 of 2 done\r\x1b[K');
    expect(modelProgressLine({ isTTY: false } as NodeJS.WriteStream)).toBeUndefined();
  });
});
