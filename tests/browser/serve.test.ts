/**
 * `steve serve` end to end: the command started as a user starts it, the page it prints opened in Chromium, and
 * the served files (not the samples) on screen.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../src/node/chromium.ts';
import { ROOT, screenshot } from './harness.ts';

const TIMIT = join(ROOT, 'demo/public/samples/timit');
let server: ChildProcess;
let browser: Browser;
let url: string;

beforeAll(async () => {
  // A second utterance without alignment files: serve finds none beside it, and the banner must say so.
  const quiet = join(mkdtempSync(join(tmpdir(), 'steve-quiet-')), 'quiet.wav');
  copyFileSync(join(TIMIT, 'LDC93S1.wav'), quiet);
  const tensor = join(ROOT, 'tests/fixtures/cli/timit_softmaxed_f16.npy');
  server = spawn(
    process.execPath,
    [join(ROOT, 'bin/steve.mjs'), 'serve', '--wav', join(TIMIT, 'LDC93S1.wav'), '--wav', quiet, '--attention', tensor, '--attention', tensor, '--port', '0'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  server.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const found = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(stdout);
      if (found) resolve(found[1]);
    });
    server.on('exit', (code) => reject(new Error(`steve serve exited with ${code}: ${stderr}`)));
  });
  browser = await launchChromium({ width: 1400, height: 900 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
});

describe('steve serve in Chromium', () => {
  it('opens the viewer with the files named on the command line instead of the samples', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push((error as Error).message));
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.ready, { timeout: 120_000 });
    await page.evaluate(() => (window as unknown as { steve: { idle(): Promise<void> } }).steve.idle());
    expect(await page.$eval('#banner', (e) => e.textContent)).toMatch(/LDC93S1: LDC93S1_?.*timit_softmaxed_f16\.npy|LDC93S1: timit_softmaxed_f16\.npy/);
    const names = await page.evaluate(() => (window as unknown as { steve: { viewer: { utterances: { name: string }[] } } }).steve.viewer.utterances.map((u) => u.name));
    expect(names).toEqual(['LDC93S1', 'quiet']);
    const labels = await page.$$eval('#overlay div', (els) => els.map((e) => e.textContent));
    expect(labels).toEqual(expect.arrayContaining(['she', 'sh', 'ix']));
    // The tensor's rows already sum to 1 (as wav2vec 2.0 attention from transformers does): no second softmax.
    expect(await page.evaluate(() => location.hash)).toMatch(/sm=none/);
    expect(await page.$eval('#banner', (e) => e.textContent)).toMatch(/rows already sum to 1/);
    await screenshot(page, 'serve-timit-npy');
    expect(await page.$eval('#banner', (e) => e.textContent)).not.toMatch(/dummy/);
    // The utterance without alignment files: its segments are STEVE's dummy grid, and the banner says so.
    await page.evaluate(() => (window as unknown as { steve: { setParams(p: { utterance: number }): Promise<void> } }).steve.setParams({ utterance: 1 }));
    await page.evaluate(() => (window as unknown as { steve: { idle(): Promise<void> } }).steve.idle());
    expect(await page.$eval('#banner', (e) => e.textContent)).toMatch(/^quiet: .* no alignment files: dummy 40 ms segments, not phones or words$/);
    await screenshot(page, 'serve-dummy-banner');
    expect(errors).toEqual([]);
    await page.close();
  });
});
