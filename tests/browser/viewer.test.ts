/**
 * The viewer in a real browser (Debian's Chromium, WebGPU on SwiftShader), checked on what a user sees: colours of
 * known cells, boundary lines where the alignment puts them, labels, controls that change the picture, files
 * dropped in, and bad files that leave what was loaded alone. Screenshots go to tests/artifacts/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minMaxCpu } from '../../src/compute/minMax.cpu.ts';
import { softmaxCpu } from '../../src/compute/softmax.cpu.ts';
import { alignmentFromTimit } from '../../src/data/alignment.ts';
import { selectWords } from '../../src/data/frames.ts';
import { makeSyntheticAttention } from '../../src/data/syntheticAttention.ts';
import { FIGURE_MARGIN } from '../../src/figure/figureSvg.ts';
import { DEFAULT_PAIR_MAP_SIZE, pairLayout } from '../../src/figure/pairSvg.ts';
import { makeColormapLut } from '../../src/render/colormaps.ts';
import type { BrowserSession } from './harness.ts';
import { canvasPixels, idle, openViewer, recordPlayback, ROOT, screenshot, startBrowserSession } from './harness.ts';

const TIMIT = join(ROOT, 'demo/public/samples/timit');
const read = (name: string) => readFileSync(join(TIMIT, name), 'utf8');

let session: BrowserSession;
beforeAll(async () => {
  session = await startBrowserSession();
}, 120_000);
afterAll(async () => {
  await session?.close();
});

type Steve = {
  viewer: { cells: { rect: { x: number; y: number; width: number; height: number }; rows: number; cols: number; title: string }[]; utterances: { name: string }[] };
  setParams(params: Record<string, unknown>): Promise<void>;
  idle(): Promise<void>;
};

async function cellRect(page: Page, index = 0) {
  return page.evaluate((i) => (window as unknown as { steve: Steve }).steve.viewer.cells[i].rect, index);
}

type Work = { submits: number; blockingReadbacks: number; dispatches: number };
/** What the last control change cost up to its frame (ViewInfo.work), and the engine's counts so far. */
const changeWork = (page: Page) => page.evaluate(() => (window as unknown as { steve: { viewer: { info: { work: Work } } } }).steve.viewer.info.work);
const totalWork = (page: Page) => page.evaluate(() => (window as unknown as { steve: { engine: { workCounts: Work } } }).steve.engine.workCounts);

async function setParams(page: Page, params: Record<string, unknown>) {
  await page.evaluate((p) => (window as unknown as { steve: Steve }).steve.setParams(p), params);
  await idle(page);
}

/** The map the viewer should show for the TIMIT sample's synthetic tensor, computed on the CPU. */
async function expectedMap(layer: number, head: number, firstWord: number, lastWord: number) {
  const alignment = alignmentFromTimit({ phn: read('LDC93S1.phn'), wrd: read('LDC93S1.wrd'), txt: read('LDC93S1.txt') }, {}, 46797);
  const source = makeSyntheticAttention(alignment, 'LDC93S1');
  const raw = await source.readHead(layer, head);
  const { crop } = selectWords(alignment, 320, firstWord, lastWord);
  const region = { rowStart: crop.startFrame, rowEnd: crop.stopFrame + 1, colStart: crop.startFrame, colEnd: crop.stopFrame + 1 };
  const soft = softmaxCpu(raw, 1500, 1500, region, 'row');
  const size = crop.frameCount;
  const map = Float32Array.from(soft);
  const { min, max } = minMaxCpu(map, size, size, { rowStart: 0, rowEnd: size, colStart: 0, colEnd: size });
  return { map, size, min, max };
}

function colourOf(value: number, min: number, max: number): number[] {
  const lut = makeColormapLut('viridis');
  const index = Math.round(((value - min) / (max - min)) * 255);
  return Array.from(lut.subarray(index * 4, index * 4 + 3));
}

const close = (actual: number[], expected: number[], tolerance = 6) => actual.slice(0, 3).every((v, i) => Math.abs(v - expected[i]) <= tolerance);

describe('viewer in Chromium', () => {
  it('opens the TIMIT sample with synthetic attention, says so, and labels phones and words', async () => {
    const { page, errors } = await openViewer(session);
    expect(await page.$eval('#banner', (e) => e.textContent)).toMatch(/LDC93S1: SYNTHETIC attention .*not model output/);
    const labels = await page.$$eval('#overlay div', (els) => els.map((e) => e.textContent));
    expect(labels).toEqual(expect.arrayContaining(['sh', 'ix', 'hv', 'eh', 'she', 'had', 'your', 'sh,ix']));
    await screenshot(page, 'viewer-timit-map');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('colours known cells as the CPU reference says after choosing layer 2, head 3', async () => {
    const { page, errors } = await openViewer(session);
    const before = await totalWork(page);
    await setParams(page, { layer: 2, head: 3 });
    // One submit held the map, its stats, its colour range (on the GPU) and the frame; nothing was read back before
    // it. After it, the colour bar's numbers: one readback (no percentile, so no histogram).
    expect(await changeWork(page)).toMatchObject({ submits: 1, blockingReadbacks: 0 });
    expect((await totalWork(page)).blockingReadbacks - before.blockingReadbacks).toBe(1);
    const expected = await expectedMap(2, 3, 0, 2);
    const rect = await cellRect(page);
    const cellPx = rect.width / expected.size;
    const cells: [number, number][] = [[0, 0], [5, 5], [5, 9], [20, 3], [26, 26], [12, 14]];
    // A quarter cell in from the corner: boundary lines sit at frame centres, as in STEVE.
    const points = cells.map(([row, col]) => [rect.x + (col + 0.25) * cellPx, rect.y + (row + 0.25) * cellPx] as [number, number]);
    const pixels = await canvasPixels(page, points);
    cells.forEach(([row, col], i) => {
      const want = colourOf(expected.map[row * expected.size + col], expected.min, expected.max);
      expect(close(pixels[i], want), `cell ${row},${col}: got ${pixels[i]} want ${want}`).toBe(true);
    });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws a word boundary line where "had" starts (frame 18) on both axes', async () => {
    const { page } = await openViewer(session);
    const rect = await cellRect(page);
    // Crop starts at frame 10 ("she"), so "had" (frame 18) is map column/row 8; the line is on its leading edge
    // (between cells 7 and 8), 2 pixels wide: probed half a pixel before the edge.
    const size = 27;
    const at = 8 * (rect.width / size) - 0.5;
    const [vertical, horizontal, beside] = await canvasPixels(page, [
      [rect.x + at, rect.y + rect.height * 0.9],
      [rect.x + rect.width * 0.9, rect.y + at],
      [rect.x + at + 4, rect.y + rect.height * 0.9],
    ]);
    expect(close(vertical, [255, 255, 255], 30)).toBe(true);
    expect(close(horizontal, [255, 255, 255], 30)).toBe(true);
    expect(close(beside, [255, 255, 255], 30)).toBe(false);
    await page.close();
  });

  it('changes the picture and the URL when a Tweakpane control changes', async () => {
    const { page } = await openViewer(session);
    const rect = await cellRect(page);
    const probes = [0.1, 0.3, 0.5, 0.7].map((f) => [rect.x + rect.width * f, rect.y + rect.height * (f + 0.07)] as [number, number]);
    const before = await canvasPixels(page, probes);
    // The "softmax" list is a <select> inside Tweakpane's binding row of that label.
    const selects = await page.$$('.tp-lstv_s');
    let changed = false;
    for (const select of selects) {
      const options = await select.$$eval('option', (os) => os.map((o) => o.textContent));
      if (options.join() === 'none,row,crop') {
        await select.select(String(options.indexOf('none')));
        changed = true;
      }
    }
    expect(changed).toBe(true);
    await idle(page);
    const after = await canvasPixels(page, probes);
    expect(after).not.toEqual(before);
    expect(await page.evaluate(() => location.hash)).toMatch(/softmax=none/);
    await page.close();
  });

  it('shows every head of a layer in a grid, and opens a head from its thumbnail', async () => {
    const { page, errors } = await openViewer(session, '#view=heads&layer=1');
    const titles = await page.$$eval('#overlay .cell-title', (els) => els.map((e) => e.textContent));
    expect(titles).toEqual(['L1 H0', 'L1 H1', 'L1 H2', 'L1 H3', 'L1 H4', 'L1 H5', 'L1 H6', 'L1 H7', 'L1 mean']);
    await screenshot(page, 'viewer-heads-grid');
    // Another layer: nine maps, their stats and shared colour range, and the frame, in one submit with no readback.
    await setParams(page, { layer: 3 });
    expect(await changeWork(page)).toMatchObject({ submits: 1, blockingReadbacks: 0 });
    expect(await page.$$eval('#overlay .cell-title', (els) => els.map((e) => e.textContent))).toContain('L3 H5');
    const rect = await cellRect(page, 5);
    const canvas = await page.$eval('#map-canvas', (e) => e.getBoundingClientRect().toJSON() as { x: number; y: number });
    await page.mouse.click(canvas.x + rect.x + rect.width / 2, canvas.y + rect.y + rect.height / 2);
    await idle(page);
    expect(await page.evaluate(() => location.hash)).toMatch(/head=5/);
    expect(await page.evaluate(() => (window as unknown as { steve: Steve }).steve.viewer.cells.length)).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws a grid too large for its full maps (computed in groups) filled in its first frame', async () => {
    // 9 maps of 1500^2 (81 MiB) over the frame's level budget (50 MiB of a 100 MiB budget): computed in groups of 25 MiB.
    const { page, errors } = await openViewer(session, '?budget=100#view=heads&layer=1&words=0:2');
    // Every note the viewer shows from here on: a first frame that drew cells coarser or not at all would say "refining".
    await page.evaluate(() => {
      const notes: string[] = [];
      (window as unknown as { notes: string[] }).notes = notes;
      const element = document.getElementById('display-note')!;
      new MutationObserver(() => notes.push(element.textContent ?? '')).observe(element, { childList: true, characterData: true, subtree: true, attributes: true });
    });
    await setParams(page, { full: true });
    expect(await page.evaluate(() => (window as unknown as { steve: Steve }).steve.viewer.cells.map((cell) => cell.rows))).toEqual(Array(9).fill(1500));
    expect((await page.evaluate(() => (window as unknown as { notes: string[] }).notes)).filter((note) => /refining/.test(note))).toEqual([]);
    // Each cell holds the level it was drawn from (unzoomed: the whole level, 4 x 4 frames a cell here).
    type Held = { cells: { levels?: { heldFactors: number[] } }[] };
    const held = await page.evaluate(() => (window as unknown as { steve: { viewer: Held } }).steve.viewer.cells.map((cell) => cell.levels?.heldFactors));
    expect(held).toHaveLength(9);
    expect(held.every((factors) => factors?.length === 1 && factors[0] > 1)).toBe(true);
    // The model view under the same budget loads its layers in turn (maps, then the heads' statistics beside them):
    // once all is drawn the status line says what is shown, as without a budget, not the last layer uploaded.
    await setParams(page, { view: 'model', full: false });
    expect(await page.$eval('#status', (e) => e.textContent)).toMatch(/^48 map\(s\) of \d+ x \d+ frames on /);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('pools the map onto phones: one row and column per phone, labelled with the phones', async () => {
    const { page, errors } = await openViewer(session, '#view=pooled&layer=1&head=2&words=0:2');
    const cells = await page.evaluate(() => (window as unknown as { steve: Steve }).steve.viewer.cells.map((c) => [c.rows, c.cols, c.title]));
    // words 0..2 ("she had your") hold the phones sh ix hv eh dcl jh ih
    expect(cells).toEqual([[7, 7, 'L1 H2, mean over each phone']]);
    const labels = await page.$$eval('#overlay .axis-label.x', (els) => els.map((e) => e.textContent));
    expect(labels).toEqual(['sh', 'ix', 'hv', 'eh', 'dcl', 'jh', 'ih']);
    // The axes are phones, not time: each phone's stretch of audio is drawn over its cell (tests/browser/viewDetails),
    // and the hover names the phones of the cell.
    const stripsDrawn = await page.$eval('#strips', (c) => {
      const data = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
      return data.some((v, i) => i % 4 === 3 && v > 0);
    });
    expect(stripsDrawn).toBe(true);
    const rect = await cellRect(page);
    const canvas = await page.$eval('#map-canvas', (e) => e.getBoundingClientRect().toJSON() as { x: number; y: number });
    await page.mouse.move(canvas.x + rect.x + (3 + 0.5) * (rect.width / 7), canvas.y + rect.y + (1 + 0.5) * (rect.height / 7));
    await page.waitForFunction(() => (document.getElementById('hover')!.textContent ?? '').includes('value'), { timeout: 20_000 });
    expect(await page.$eval('#hover', (e) => e.textContent)).toMatch(/query ix {2}key eh {2}value /);
    await screenshot(page, 'viewer-pooled');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows attention rollout, and entropy and distance of every head beside the head grid', async () => {
    const { page, errors } = await openViewer(session, '#view=rollout&rollout-crop=within&words=0:2');
    const title = await page.evaluate(() => (window as unknown as { steve: Steve }).steve.viewer.cells[0].title);
    expect(title).toBe('rollout L0–L5');
    await setParams(page, { view: 'heads' });
    // The tables are drawn once the statistics come back from the GPU: wait for coloured cells in both.
    const drawn = await page
      .waitForFunction(
        () =>
          [...document.querySelectorAll('#head-stats canvas')].map((c) => {
            const data = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
            let coloured = 0;
            for (let i = 0; i < data.length; i += 4) if (Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 30) coloured++;
            return coloured;
          }).every((count) => count > 100),
        { timeout: 60_000, polling: 250 },
      )
      .then(() => true)
      .catch(async () => `not drawn; status: ${await page.$eval('#status', (e) => e.textContent)}`);
    expect(drawn).toBe(true);
    await screenshot(page, 'viewer-heads-stats');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('puts two utterances side by side, each cropped to its own words, and exports them as a pair figure', async () => {
    const { page, errors } = await openViewer(session, '#view=pair&words=0:1');
    const titles = await page.$$eval('#overlay .cell-title', (els) => els.map((e) => e.textContent));
    expect(titles).toEqual(['LDC93S1 L0 H0', 'arctic_a0001 L0 H0']);
    const sizes = await page.evaluate(() => (window as unknown as { steve: Steve }).steve.viewer.cells.map((c) => c.rows));
    // "she had": frames 10..32 (23); "author of": the arctic words' own frames
    expect(sizes[0]).toBe(23);
    expect(sizes[1]).not.toBe(23);
    await screenshot(page, 'viewer-pair');
    // Exported as PNG, each utterance's map lies where the pair figure puts it; as SVG, each map has its own words.
    const { maps, width } = pairLayout({ mapSize: DEFAULT_PAIR_MAP_SIZE, title: 't' });
    const result = await page.evaluate(async (places) => {
      const steve = (window as unknown as { steve: { exportPng(): Promise<string>; exportSvg(): Promise<string> } }).steve;
      const image = new Image();
      image.src = await steve.exportPng();
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      // At scale 2: the middle of each map, and the white between them.
      const at = (x: number, y: number) => Array.from(context.getImageData(2 * x, 2 * y, 1, 1).data);
      const inMaps = places.map((p) => at(p.x + 100, p.y + 300));
      const between = at(places[0].x + 400 + 20, places[0].y + 300);
      return { width: image.width, inMaps, between, svg: await steve.exportSvg() };
    }, maps);
    expect(result.width).toBeGreaterThanOrEqual(2 * width);
    for (const [r, g, b] of result.inMaps) expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeGreaterThan(40);
    expect(result.between).toEqual([255, 255, 255, 255]);
    expect(result.svg).toContain('LDC93S1: words 0–1 &apos;she had&apos; | arctic_a0001: words 0–1 &apos;author of&apos;');
    const rows = [...result.svg.matchAll(/<g class="row-labels">([\s\S]*?)<\/g>/g)].map((m) => m[1]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('>she</text>');
    expect(rows[1]).toContain('>author</text>');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('takes files dropped on the page: the arctic WAV, its TextGrid and a tensor', async () => {
    const { page } = await openViewer(session);
    const tensor = readFileSync(join(ROOT, 'tests/fixtures/cli/timit_raw_f32.npy')).toString('base64');
    await page.evaluate(async (tensorBase64) => {
      const fetchFile = async (url: string, name: string) => new File([await (await fetch(url)).blob()], name);
      const transfer = new DataTransfer();
      transfer.items.add(await fetchFile('samples/arctic/arctic_a0001.wav', 'arctic_a0001.wav'));
      transfer.items.add(await fetchFile('samples/arctic/arctic_a0001.TextGrid', 'arctic_a0001.TextGrid'));
      const bytes = Uint8Array.from(atob(tensorBase64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], 'arctic_a0001_attention.npy'));
      document.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, tensor);
    // 147 frames cannot hold 3.9 s of audio at Whisper's 320 samples per frame; the tensor has no spf, so spf comes
    // from the audio: 62623 samples / 147 frames.
    await page.waitForFunction(() => /loaded 1 utterance/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 60_000 });
    await idle(page);
    // The sample of that stem is loaded already: the dropped one gets a name of its own.
    expect(await page.$eval('#banner', (e) => e.textContent)).toMatch(/arctic_a0001 \(2\): arctic_a0001_attention\.npy/);
    const labels = await page.$$eval('#overlay div', (els) => els.map((e) => e.textContent));
    expect(labels).toEqual(expect.arrayContaining(['author', 'AO1', 'TH', 'sil,AO1']));
    await page.close();
  });

  it('loads dropped files, and a bad file is reported by name without losing what was loaded', async () => {
    const { page } = await openViewer(session);
    const picker = (await page.$('#file-picker')) as ElementHandle<HTMLInputElement> | null;
    await picker!.uploadFile(
      join(TIMIT, 'LDC93S1.wav'),
      join(TIMIT, 'LDC93S1.phn'),
      join(TIMIT, 'LDC93S1.wrd'),
      join(TIMIT, 'LDC93S1.txt'),
      join(ROOT, 'tests/fixtures/cli/timit_softmaxed_f16.npy'),
    );
    await page.waitForFunction(() => /loaded 1 utterance/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 60_000 });
    await idle(page);
    expect(await page.$eval('#banner', (e) => e.textContent)).toMatch(/timit_softmaxed_f16\.npy/);
    const names = await page.evaluate(() => (window as unknown as { steve: Steve }).steve.viewer.utterances.map((u) => u.name));
    expect(names).toEqual(['LDC93S1', 'arctic_a0001', 'LDC93S1 (2)']);
    await screenshot(page, 'viewer-dropped-npy');

    await picker!.uploadFile(join(ROOT, 'tests/fixtures/cli/make_cli_fixtures.py'), join(TIMIT, 'LDC93S1.wav'), join(ROOT, 'tests/fixtures/tensors/README.md'));
    const broken = await page.evaluate(async () => {
      const file = new File([new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0xff, 0xff])], 'broken.npy');
      const wav = await (await fetch('samples/timit/LDC93S1.wav')).blob();
      return (window as unknown as { steve: { loadFiles(files: File[]): Promise<string[]> } }).steve.loadFiles([file, new File([wav], 'broken.wav')]);
    });
    expect(broken.join('\n')).toMatch(/broken\.npy/);
    const after = await page.evaluate(() => (window as unknown as { steve: Steve }).steve.viewer.utterances.length);
    expect(after).toBe(3);
    await page.close();
  });
});

describe('figure export', () => {
  it('exports the view as SVG with the raster map, vector lines, labels, colour bar and title', async () => {
    const { page, errors } = await openViewer(session, '#layer=1&head=2&words=0:2');
    const svg = await page.evaluate(() => (window as unknown as { steve: { exportSvg(): Promise<string> } }).steve.exportSvg());
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toMatch(/<image [^>]*href="data:image\/png;base64,/);
    expect(svg).toContain('Word(s): &apos;she had your&apos;');
    expect(svg).toMatch(/Utterance: LDC93S1 \| Encoder attention layer 1, head 2 \| softmax over rows \| linear scale \| SYNTHETIC/);
    // words 0..2 cross 7 phone boundaries and 4 word boundaries; each is drawn on both axes
    expect(svg.match(/<line [^>]*stroke="#fff"/g)?.length).toBe(2 * 4);
    for (const label of ['>sh<', '>ix<', '>hv<', '>eh<', '>sh,ix<', '>she<', '>had<', '>your<']) expect(svg).toContain(label);
    expect(svg.match(/<g class="colorbar">/g)).toHaveLength(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('exports a PNG whose map area shows the colormap', async () => {
    const { page } = await openViewer(session, '#layer=1&head=2&words=0:2');
    const result = await page.evaluate(async () => {
      const url = await (window as unknown as { steve: { exportPng(): Promise<string> } }).steve.exportPng();
      const image = new Image();
      image.src = url;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      // Figure layout at scale 2: the map starts at (150, 190) and is 640 wide (FIGURE_MARGIN, EXPORT_MAP_SIZE).
      const inMap = Array.from(context.getImageData(2 * (150 + 320), 2 * (190 + 330), 1, 1).data);
      const corner = Array.from(context.getImageData(4, 4, 1, 1).data);
      return { width: image.width, height: image.height, inMap, corner, prefix: url.slice(0, 22) };
    });
    expect(result.prefix).toBe('data:image/png;base64,');
    expect(result.width).toBe(2 * (FIGURE_MARGIN.left + 640 + FIGURE_MARGIN.right));
    expect(result.corner).toEqual([255, 255, 255, 255]);
    // a viridis colour: blue-green-yellow, never grey or white
    const [r, g, b] = result.inMap;
    expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeGreaterThan(40);
    await page.close();
  });
});

describe('audio beside the map', () => {
  it('plays a phone clicked on the tier above the map, and a stretch dragged across the waveform', async () => {
    const page = await session.browser.newPage();
    await recordPlayback(page);
    await page.goto(session.url);
    await page.waitForFunction(() => document.body.dataset.ready, { timeout: 120_000 });
    await idle(page);
    const rect = await cellRect(page);
    const canvas = await page.$eval('#map-canvas', (e) => e.getBoundingClientRect().toJSON() as { x: number; y: number });
    // The phone tier is the third strip from the top (spectrogram 56 + 2, waveform 34 + 2): "sh" covers map
    // columns 0..3 (frames 10..14), so a click at column 2 plays sh, 3050..4559 samples at 16 kHz.
    const cellPx = rect.width / 27;
    await page.mouse.click(canvas.x + rect.x + 2 * cellPx, canvas.y + 56 + 2 + 34 + 2 + 9);
    await page.waitForFunction(() => (window as unknown as { played: unknown[] }).played.length > 0, { timeout: 10_000 });
    const [offset, duration] = await page.evaluate(() => (window as unknown as { played: [number, number][] }).played[0]);
    expect(offset).toBeCloseTo(3050 / 16000, 3);
    expect(duration).toBeCloseTo((4559 - 3050) / 16000, 3);

    // Drag across the waveform (second strip) from map column 5 to column 15: frames 15..25 = 0.30 s..0.50 s.
    const y = canvas.y + 56 + 2 + 17;
    await page.mouse.move(canvas.x + rect.x + 5 * cellPx, y);
    await page.mouse.down();
    await page.mouse.move(canvas.x + rect.x + 10 * cellPx, y, { steps: 4 });
    await page.mouse.move(canvas.x + rect.x + 15 * cellPx, y, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction(() => (window as unknown as { played: unknown[] }).played.length > 1, { timeout: 10_000 });
    const [from, length] = await page.evaluate(() => (window as unknown as { played: [number, number][] }).played[1]);
    expect(from).toBeCloseTo(0.3, 2);
    expect(length).toBeCloseTo(0.2, 2);
    await page.close();
  });
});

describe('viewer robustness', () => {
  it('reads out query and key frames, times, phones, words and the value (softmax and raw) under the cursor', async () => {
    const { page } = await openViewer(session);
    const rect = await cellRect(page);
    const canvas = await page.$eval('#map-canvas', (e) => e.getBoundingClientRect().toJSON() as { x: number; y: number });
    const cellPx = rect.width / 27;
    // map row 2, column 10: query frame 12 (in "sh"), key frame 20 (in "hv" of "had")
    await page.mouse.move(canvas.x + rect.x + 10.5 * cellPx, canvas.y + rect.y + 2.5 * cellPx);
    await page.waitForFunction(() => (document.getElementById('hover')!.textContent ?? '').includes('value'), { timeout: 20_000 });
    const text = await page.$eval('#hover', (e) => e.textContent);
    expect(text).toMatch(/query frame 12 \(240 ms, sh, she\)/);
    expect(text).toMatch(/key frame 20 \(400 ms, hv, had\)/);
    expect(text).toMatch(/value [\d.e-]+ \(raw -?[\d.e-]+\)/);
    await page.close();
  });

  it('recovers from a lost GPU device without losing what was loaded', async () => {
    const { page, errors } = await openViewer(session, '#layer=1&head=2&words=0:2');
    const rect = await cellRect(page);
    const probes = [0.2, 0.5, 0.8].map((f) => [rect.x + rect.width * f, rect.y + rect.height * (1 - f) + 3] as [number, number]);
    const before = await canvasPixels(page, probes);
    await page.evaluate(() => (window as unknown as { steve: { engine: { device: GPUDevice } } }).steve.engine.device.destroy());
    await page.waitForFunction(() => /restored/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 60_000 });
    await idle(page);
    await page.waitForFunction(() => (window as unknown as { steve: { viewer: { cells: unknown[] } } }).steve.viewer.cells.length === 1, { timeout: 60_000 });
    await idle(page);
    const after = await canvasPixels(page, probes);
    after.forEach((pixel, i) => expect(close(pixel, before[i], 3), `probe ${i}: ${pixel} vs ${before[i]}`).toBe(true));
    expect(await page.evaluate(() => (window as unknown as { steve: Steve }).steve.viewer.utterances.length)).toBe(2);
    expect(errors.filter((e) => !/destroyed|lost/i.test(e))).toEqual([]);
    await page.close();
  });

  it('stores attention as float16 under a GPU memory budget when asked, and shows what is resident', async () => {
    const { page, errors } = await openViewer(session, '?storage=float16&budget=100#words=0:2&debug=1');
    const debug = await page.$eval('#debug', (e) => e.textContent);
    expect(debug).toMatch(/float16 storage, \d+ of 100 MiB budget resident/);
    // one Whisper-base layer of 8 heads x 1500 x 1500 in float16 is 36 MB: layer 0 is resident
    expect(debug).toMatch(/resident: u0 L0/);
    expect(debug).toMatch(/crop: frames 10\.\.36 \(27\)/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('tells a browser without WebGPU so, and names the browsers that work', async () => {
    const page = await session.browser.newPage();
    await page.evaluateOnNewDocument(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined });
    });
    await page.goto(session.url);
    await page.waitForFunction(() => document.body.dataset.ready === 'no-webgpu', { timeout: 60_000 });
    const text = await page.$eval('body', (e) => e.textContent);
    expect(text).toMatch(/STEVE needs WebGPU/);
    expect(text).toMatch(/Chrome or Edge 113/);
    await page.close();
  });
});
