/**
 * Issue 9's last viewer details, in Chromium on the bundled TIMIT sample (LDC93S1, spf 320: frame f starts at
 * f * 20 ms; words 0..2 "she had your" are frames 10 ..= 37): a pooled cell's row and column are its frames (a block
 * of --pool K, or a phone's frames), so hovering names them and clicking plays them; the audio strips are drawn over
 * pooled maps; the low %/high % sliders show with the percentile scale only.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserSession } from './harness.ts';
import { idle, recordPlayback, screenshot, startBrowserSession } from './harness.ts';

let session: BrowserSession;
beforeAll(async () => {
  session = await startBrowserSession();
}, 120_000);
afterAll(async () => {
  await session?.close();
});

type Handle = {
  viewer: { cells: { rect: { x: number; y: number; width: number; height: number }; rows: number; cols: number }[] };
  setParams(params: Record<string, unknown>): Promise<void>;
  setView(args: string[]): Promise<void>;
};

async function open(hash: string): Promise<{ page: Page; errors: string[] }> {
  const page = await session.browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push((error as Error).message));
  await recordPlayback(page);
  await page.goto(session.url + hash);
  await page.waitForFunction(() => document.body.dataset.ready, { timeout: 120_000 });
  await idle(page);
  return { page, errors };
}

/** The page position of the middle of map cell (row, col), and the cell counts. */
async function cellCentre(page: Page, row: number, col: number) {
  const { rect, rows, cols } = await page.evaluate(() => (window as unknown as { steve: Handle }).steve.viewer.cells[0]);
  const canvas = await page.$eval('#map-canvas', (e) => e.getBoundingClientRect().toJSON() as { x: number; y: number });
  // A block map's last block is drawn at its real width: cells are rect / span wide, span = frames / K.
  return { rows, cols, at: (span: number) => [canvas.x + rect.x + ((col + 0.5) * rect.width) / span, canvas.y + rect.y + ((row + 0.5) * rect.height) / span] as const };
}

/** Clicks at (x, y) and returns the spans played since: [offset, duration] in seconds. */
async function clickAndListen(page: Page, x: number, y: number, spans: number): Promise<[number, number][]> {
  const before = await page.evaluate(() => (window as unknown as { played: unknown[] }).played.length);
  await page.mouse.click(x, y);
  await page.waitForFunction((n) => (window as unknown as { played: unknown[] }).played.length >= n, { timeout: 10_000 }, before + spans);
  return page.evaluate((n) => (window as unknown as { played: [number, number][] }).played.slice(n), before);
}

/** Whether the strips canvas has anything drawn on it. */
function stripsDrawn(page: Page) {
  return page.$eval('#strips', (c) => {
    const canvas = c as HTMLCanvasElement;
    return canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data.some((v, i) => i % 4 === 3 && v > 0);
  });
}

/** Whether the panel row labelled `label` is shown. */
function controlShown(page: Page, label: string) {
  return page.evaluate((text) => {
    const row = [...document.querySelectorAll('.tp-lblv')].find((element) => element.querySelector('.tp-lblv_l')?.textContent === text);
    return row !== undefined && (row as HTMLElement).offsetParent !== null;
  }, label);
}

describe('pooled cells are their frames; clip sliders', () => {
  it('--pool 5 and pooled onto phones: hover names a cell\'s frames, a click plays them; low %/high % only with percentile', async () => {
    const { page, errors } = await open('#view=pooled&pool=5&words=0:2');
    // 28 frames (10 ..= 37) in blocks of 5: 6 cells, the last of 3 frames.
    let cell = await cellCentre(page, 1, 3);
    expect([cell.rows, cell.cols]).toEqual([6, 6]);
    expect(await page.$eval('#status', (e) => e.textContent)).toMatch(/1 map\(s\) of 6 x 6 blocks of 5 frames/);
    expect(await stripsDrawn(page)).toBe(true);
    let [x, y] = cell.at(28 / 5);
    await page.mouse.move(x, y);
    await page.waitForFunction(() => (document.getElementById('hover')!.textContent ?? '').includes('value'), { timeout: 20_000 });
    // Row 1: frames 15..19 (300 ms); column 3: frames 25..29 (500 ms).
    expect(await page.$eval('#hover', (e) => e.textContent)).toMatch(/query frames 15\.\.19 \(300 ms, [^)]*\) {2}key frames 25\.\.29 \(500 ms, [^)]*\) {2}value /);
    let played = await clickAndListen(page, x, y, 2);
    expect(played.map(([offset, duration]) => [offset.toFixed(3), duration.toFixed(3)])).toEqual([
      ['0.300', '0.100'],
      ['0.500', '0.100'],
    ]);
    await screenshot(page, 'issue9-pool-blocks');

    // Phones sh ix hv eh dcl jh ih; sh is TIMIT samples 3050..4559 (frames 10..13), eh 6642..8772 (frames 21..26).
    await page.evaluate(() => (window as unknown as { steve: Handle }).steve.setView(['--view', 'pooled', '--words', '0:2']));
    await idle(page);
    cell = await cellCentre(page, 0, 3);
    expect(cell.rows).toBe(7);
    expect(await stripsDrawn(page)).toBe(true);
    [x, y] = cell.at(7);
    played = await clickAndListen(page, x, y, 2);
    // A phone cell plays the phone itself (its samples), not its frames rounded, inside the frames shown: the crop
    // starts at frame 10 (sample 3200), after sh's first samples.
    expect(played.map(([offset, duration]) => [Math.round(offset * 16000), Math.round((offset + duration) * 16000)])).toEqual([
      [3200, 4559],
      [6642, 8772],
    ]);
    await screenshot(page, 'issue9-pool-phones');

    // The percentiles mean something with the percentile scale only.
    expect([await controlShown(page, 'scale'), await controlShown(page, 'low %'), await controlShown(page, 'high %')]).toEqual([true, false, false]);
    await page.evaluate(() => (window as unknown as { steve: Handle }).steve.setParams({ scale: 'percentile' }));
    await idle(page);
    expect([await controlShown(page, 'low %'), await controlShown(page, 'high %')]).toEqual([true, true]);
    await page.evaluate(() => (window as unknown as { steve: Handle }).steve.setParams({ scale: 'log' }));
    await idle(page);
    expect(await controlShown(page, 'low %')).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
});
