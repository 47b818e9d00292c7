/**
 * The atlas view in the viewer (Chromium, WebGPU on SwiftShader): an atlas.json opened through the file picker shows
 * the heat-table and a table of every head; a header click sorts by that metric; clicking a head shows its phone
 * matrix and opens its map in the utterance on screen. Screenshot: tests/artifacts/atlas-view.png.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementHandle } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Atlas } from '../../src/atlas/atlas.ts';
import { atlasToJson } from '../../src/atlas/atlasFile.ts';
import { makeAtlasFrameTable } from '../../src/atlas/frameTable.ts';
import { atlasOutputWidth } from '../../src/compute/atlas.cpu.ts';
import { alignmentFromTimit } from '../../src/data/alignment.ts';
import type { BrowserSession } from '../browser/harness.ts';
import { idle, openViewer, ROOT, screenshot, startBrowserSession } from '../browser/harness.ts';
import { makeRandom } from '../helpers/computeCheck.ts';

let session: BrowserSession;
beforeAll(async () => {
  session = await startBrowserSession();
}, 120_000);
afterAll(async () => {
  await session?.close();
});

/** An atlas of Whisper base's shape (as the sample's synthetic tensor) over the TIMIT sample's phones, random sums. */
function makeAtlasJson() {
  const read = (ext: string) => readFileSync(join(ROOT, `demo/public/samples/timit/LDC93S1.${ext}`), 'utf8');
  const alignment = alignmentFromTimit({ phn: read('phn'), wrd: read('wrd') }, {}, 46797);
  const frames = makeAtlasFrameTable(alignment, 320, 1500, { fold: 61, classScheme: 'manner' });
  const atlas = new Atlas({ layers: 6, heads: 8, fold: 61, classScheme: 'manner', softmax: 'auto', roundUp: false });
  const random = makeRandom(5);
  const sums = Float64Array.from({ length: 48 * atlasOutputWidth(frames) }, () => random() * 10);
  atlas.addUtterance(frames, sums, 320, { utterance: 'LDC93S1', source: 'LDC93S1.npy', dtype: 'float32', softmaxed: false, spf: 320 });
  return atlasToJson(atlas);
}

describe('atlas view', () => {
  it('opens atlas.json, sorts heads by a metric, and opens a clicked head in the matrix and the map', async () => {
    const { page, errors } = await openViewer(session);
    const json = makeAtlasJson();
    const path = join(mkdtempSync(join(tmpdir(), 'steve-atlas-view-')), 'atlas.json');
    writeFileSync(path, JSON.stringify(json));
    const picker = (await page.$('#file-picker')) as ElementHandle<HTMLInputElement> | null;
    await picker!.uploadFile(path);
    await page.waitForSelector('#atlas-view:not([hidden]) tbody tr', { timeout: 30_000 });
    expect(await page.$$eval('#atlas-view tbody tr', (rows) => rows.length)).toBe(48);
    expect(await page.$$eval('#atlas-view .atlas-heat rect.cell', (cells) => cells.length)).toBe(48);

    await page.click('#atlas-view th[data-metric="entropy"]');
    const order = await page.evaluate(() => (window as unknown as { steve: { atlas: { rowOrder(): string[] } } }).steve.atlas.rowOrder());
    const byEntropy = json.metrics.entropy.mean
      .flatMap((row, layer) => row.map((value, head) => ({ key: `${layer}:${head}`, value: value! })))
      .sort((a, b) => b.value - a.value)
      .map((entry) => entry.key);
    expect(order).toEqual(byEntropy);

    await page.click('#atlas-view .atlas-heat rect.cell[data-layer="3"][data-head="5"]');
    await page.waitForSelector('#atlas-view .atlas-matrix[data-selected="3:5"]');
    const matrixLabels = await page.$$eval('#atlas-view .atlas-matrix text', (texts) => texts.map((t) => t.textContent));
    for (const label of ['h#', 'sh', 'ux']) expect(matrixLabels).toContain(label);
    // Class names head their groups where they fit without overlapping a neighbour (src/figure/atlasFigures.ts).
    const groupNames = await page.$$eval('#atlas-view .atlas-matrix text[font-weight="bold"]', (texts) => texts.map((t) => t.textContent));
    expect(groupNames).toContain('vowel');
    expect(groupNames.length).toBeGreaterThanOrEqual(3);
    await idle(page);
    const params = await page.evaluate(() => {
      const { viewer } = (window as unknown as { steve: { viewer: { params: { view: string; layer: number; head: number } } } }).steve;
      return { view: viewer.params.view, layer: viewer.params.layer, head: viewer.params.head };
    });
    expect(params).toEqual({ view: 'map', layer: 3, head: 5 });
    await screenshot(page, 'atlas-view');
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
