/**
 * Issue 10 in the viewer: a WAV opened together with a model folder's files (config.json, model.safetensors,
 * preprocessor_config.json) through the page's file input, as a user picks them. The tiny Whisper fixture
 * (tests/fixtures/model/whisper_f32: 2 layers, 4 heads, 100 encoder frames) runs on the page's GPU device; the banner
 * must name the model and the map must have the model's frames. A checkpoint whose config.json names an unknown
 * model_type must give one clear line, and the utterance already shown must stay.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserSession } from './harness.ts';
import { ROOT, idle, openViewer, screenshot, startBrowserSession } from './harness.ts';

const FIXTURES = join(ROOT, 'tests/fixtures/model');
const MODEL = join(FIXTURES, 'whisper_f32');
const WAV = join(FIXTURES, 'whisper_input.wav');
const MODEL_FILES = ['config.json', 'model.safetensors', 'preprocessor_config.json'];

let session: BrowserSession;
beforeAll(async () => {
  session = await startBrowserSession();
}, 120_000);
afterAll(async () => {
  await session?.close();
});

type Handle = {
  viewer: {
    utterances: { name: string; attention: { shape: { layers: number; heads: number; rows: number; cols: number } } }[];
    info?: { utterance: { name: string }; rows: number; cols: number; cells: { map?: unknown }[] };
  };
  setView(args: string[]): Promise<void>;
};

/** What is loaded and shown: utterance names, the shown one and its map size, the banner and the status line. */
function shown(page: Page) {
  return page.evaluate(() => {
    const { viewer } = (window as unknown as { steve: Handle }).steve;
    return {
      utterances: viewer.utterances.map((u) => u.name),
      name: viewer.info?.utterance.name,
      rows: viewer.info?.rows,
      cols: viewer.info?.cols,
      computed: viewer.info?.cells.every((cell) => cell.map !== undefined),
      banner: document.getElementById('banner')!.textContent,
      status: document.getElementById('status')!.textContent,
    };
  });
}

/** Picks files with the page's "Open files…" input, as a user does. */
async function pick(page: Page, paths: string[]): Promise<void> {
  const input = await page.$('input#file-picker');
  await input!.uploadFile(...paths);
}

describe('a model folder opened with a WAV (issue 10)', () => {
  it('runs the model: the banner names it and the map has its frames; a bad config.json is one line and changes nothing', async () => {
    const { page, errors } = await openViewer(session, '#words=0:1');
    const before = await shown(page);
    await pick(page, [WAV, ...MODEL_FILES.map((name) => join(MODEL, name))]);
    // Until the load reports (a failure would show in the status line, checked below).
    await page.waitForFunction(() => !/^reading/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 240_000 });
    await idle(page);
    expect((await shown(page)).name, (await shown(page)).status ?? '').toBe('whisper_input');
    const shape = await page.evaluate(() => (window as unknown as { steve: Handle }).steve.viewer.utterances.at(-1)!.attention.shape);
    // config.json: 2 encoder layers, 4 heads; chunk_length 2 s -> 200 mel frames -> 100 encoder frames.
    expect(shape).toEqual({ layers: 2, heads: 4, rows: 100, cols: 100 });
    let state = await shown(page);
    expect(state.utterances).toEqual([...before.utterances, 'whisper_input']);
    expect(state.banner).toMatch(/^whisper_input: steve-tests\/whisper_f32/);
    // No alignment files came with the WAV: the dummy grid, said as the CLI says it.
    expect(state.banner).toMatch(/whisper_input\.wav: no TextGrid or TIMIT \.phn\/\.wrd beside it; using STEVE's dummy 40 ms phones/);
    await page.evaluate(() => (window as unknown as { steve: Handle }).steve.setView(['--full']));
    await idle(page);
    state = await shown(page);
    expect([state.rows, state.cols, state.computed]).toEqual([100, 100, true]);
    expect(state.status).toMatch(/1 map\(s\) of 100 x 100 frames/);
    await screenshot(page, 'issue10-model-opened');

    // The same files, but config.json names a model_type we do not run.
    const bad = mkdtempSync(join(tmpdir(), 'steve-bad-model-'));
    const config = JSON.parse(readFileSync(join(MODEL, 'config.json'), 'utf8'));
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...config, model_type: 'bert' }));
    for (const name of MODEL_FILES.slice(1)) copyFileSync(join(MODEL, name), join(bad, name));
    await pick(page, [WAV, ...MODEL_FILES.map((name) => join(bad, name))]);
    await page.waitForFunction(() => /model_type/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 60_000 });
    const after = await shown(page);
    expect(after.status).toMatch(/^config\.json: model_type "bert"; supported: whisper, wav2vec2, hubert$/);
    expect(after.status.split('\n')).toHaveLength(1);
    // What was loaded stays, and stays on screen.
    expect(after.utterances).toEqual(state.utterances);
    expect([after.name, after.rows, after.computed]).toEqual(['whisper_input', 100, true]);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
