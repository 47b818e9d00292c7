/**
 * `steve serve` end to end: the command started as a user starts it, the page it prints opened in Chromium, and
 * the served files (not the samples) on screen.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../src/node/chromium.ts';
import { python, SOFTMAXED_F16, steve } from '../cli/steveProcess.ts';
import { ROOT, screenshot } from './harness.ts';

const TIMIT = join(ROOT, 'demo/public/samples/timit');
let server: ChildProcess;
let browser: Browser;
let url: string;
/** Holds arctic_a0001's WAV and TextGrid beside a numpy-written tensor of its stem: the other utterance of a pair. */
let arcticDir: string;

beforeAll(async () => {
  // A second utterance without alignment files: serve finds none beside it, and the banner must say so.
  const quiet = join(mkdtempSync(join(tmpdir(), 'steve-quiet-')), 'quiet.wav');
  copyFileSync(join(TIMIT, 'LDC93S1.wav'), quiet);
  const tensor = join(ROOT, 'tests/fixtures/cli/timit_softmaxed_f16.npy');
  arcticDir = mkdtempSync(join(tmpdir(), 'steve-arctic-'));
  const arctic = join(ROOT, 'demo/public/samples/arctic/arctic_a0001');
  copyFileSync(`${arctic}.wav`, join(arcticDir, 'arctic_a0001.wav'));
  copyFileSync(`${arctic}.TextGrid`, join(arcticDir, 'arctic_a0001.TextGrid'));
  const arcticTensor = join(arcticDir, 'arctic_a0001.npy');
  python(
    `import numpy as np; s = np.random.default_rng(3).normal(size=(2, 1, 2, 196, 196)); p = np.exp(s) / np.exp(s).sum(-1, keepdims=True); ` +
      `np.save(${JSON.stringify(arcticTensor)}, p.astype(np.float16)); print(0)`,
  );
  server = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/steve.mjs'),
      'serve',
      ...['--wav', join(TIMIT, 'LDC93S1.wav'), '--wav', quiet, '--wav', join(arcticDir, 'arctic_a0001.wav')],
      ...['--attention', tensor, '--attention', tensor, '--attention', arcticTensor, '--port', '0'],
    ],
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
    expect(names).toEqual(['LDC93S1', 'quiet', 'arctic_a0001']);
    const labels = await page.$$eval('#overlay div', (els) => els.map((e) => e.textContent));
    expect(labels).toEqual(expect.arrayContaining(['she', 'sh', 'ix']));
    // The tensor's rows already sum to 1 (as wav2vec 2.0 attention from transformers does): no second softmax.
    expect(await page.evaluate(() => location.hash)).toMatch(/softmax=none/);
    expect(await page.$eval('#banner', (e) => e.textContent)).toMatch(/rows already sum to 1 \(softmaxed\), shown as stored; --softmax row applies another softmax/);
    // A softmax asked for is applied again, and the banner says so; a view that names none gets the rule's default
    // again (src/view/storedSoftmax.ts resolveSoftmax, as `steve render` with and without --softmax).
    type Handle = { setView(args: string[]): Promise<void>; idle(): Promise<void>; viewer: { params: { softmax: string } } };
    const softmaxAfter = async (args: string[]) => {
      await page.evaluate((a) => (window as unknown as { steve: Handle }).steve.setView(a), args);
      await page.evaluate(() => (window as unknown as { steve: Handle }).steve.idle());
      return page.evaluate(() => ({ softmax: (window as unknown as { steve: Handle }).steve.viewer.params.softmax, banner: document.getElementById('banner')!.textContent }));
    };
    expect(await softmaxAfter(['--words', '0:2', '--softmax', 'row'])).toEqual({ softmax: 'row', banner: expect.stringMatching(/rows already sum to 1 \(softmaxed\); softmax row applies another softmax, as chosen/) });
    expect(await softmaxAfter(['--words', '0:2'])).toEqual({ softmax: 'none', banner: expect.stringMatching(/shown as stored/) });
    await screenshot(page, 'serve-timit-npy');
    expect(await page.$eval('#banner', (e) => e.textContent)).not.toMatch(/dummy/);
    // The utterance without alignment files: its segments are STEVE's dummy grid, and the banner says so.
    await page.evaluate(() => (window as unknown as { steve: { setParams(p: { utterance: number }): Promise<void> } }).steve.setParams({ utterance: 1 }));
    await page.evaluate(() => (window as unknown as { steve: { idle(): Promise<void> } }).steve.idle());
    expect(await page.$eval('#banner', (e) => e.textContent)).toMatch(/^quiet: .* — quiet\.wav: no TextGrid or TIMIT \.phn\/\.wrd beside it; using STEVE's dummy 40 ms phones$/);
    await screenshot(page, 'serve-dummy-banner');
    expect(errors).toEqual([]);
    await page.close();
  });

  /** What both front ends must agree on: title, subtitle, every axis label of every map, the colour bar's texts. */
  const described = (svg: string) => {
    const texts = (group: string) => [...svg.matchAll(new RegExp(`<g class="${group}">([\\s\\S]*?)</g>`, 'g'))].map((m) => [...m[1].matchAll(/>([^<]+)<\/text>/g)].map((t) => t[1]));
    return {
      title: /<text [^>]*font-weight="bold">([^<]*)<\/text>/.exec(svg)?.[1],
      subtitle: /<text [^>]*fill="#444">([^<]*)<\/text>/.exec(svg)?.[1],
      mapTitles: [...svg.matchAll(/class="map-title"[^>]*>([^<]+)</g)].map((m) => m[1]),
      columnLabels: texts('column-labels'),
      rowLabels: texts('row-labels'),
      colorbar: texts('colorbar'),
    };
  };

  /** Shows `view` in the viewer, checks viewCommand() spells it back, and renders those arguments with `steve render` (in `cwd`). */
  async function bothSvgs(view: string[], cwd?: string): Promise<{ viewerSvg: string; cliSvg: string; stderr: string }> {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.ready, { timeout: 120_000 });
    type Handle = { setView(args: string[]): Promise<void>; viewCommand(): string[]; exportSvg(): Promise<string>; idle(): Promise<void> };
    await page.evaluate((args) => (window as unknown as { steve: Handle }).steve.setView(args), view);
    await page.evaluate(() => (window as unknown as { steve: Handle }).steve.idle());
    const args = await page.evaluate(() => (window as unknown as { steve: Handle }).steve.viewCommand());
    // The same view, spelt back: setView(args) shows what viewCommand() returns.
    expect(args).toEqual(view);
    const viewerSvg = await page.evaluate(() => (window as unknown as { steve: Handle }).steve.exportSvg());
    await page.close();
    const out = join(mkdtempSync(join(tmpdir(), 'steve-roundtrip-')), 'view.svg');
    const run = await steve(['render', '--attention', SOFTMAXED_F16, '--wav', join(TIMIT, 'LDC93S1.wav'), '--alignments', 'timit', ...args, '-o', out], cwd);
    return { viewerSvg, cliSvg: run.code === 0 ? readFileSync(out, 'utf8') : '', stderr: run.stderr };
  }

  it("round trip: the viewer's view command, run as steve render, gives an SVG with the same title, axis labels and colour-bar label", async () => {
    const view = ['--layer', '1', '--head', '1', '--words', '0:2', '--softmax', 'none', '--scale', 'percentile', '--clip', '5:95'];
    const { viewerSvg, cliSvg, stderr } = await bothSvgs(view);
    expect(stderr).toBe('');
    const fromViewer = described(viewerSvg);
    expect(fromViewer.title).toBe('Word(s): &apos;she had your&apos;');
    expect(fromViewer.colorbar.join(' ')).toMatch(/p95 .*p5 .*attention \(as stored\), p5–p95/);
    expect(fromViewer.columnLabels[0]).toEqual(expect.arrayContaining(['sh', 'ix', 'she', 'had']));
    expect(fromViewer).toEqual(described(cliSvg));
  });

  it('round trip of a pair: the same title naming both utterances, each map labelled with its own words, the same colour bar', async () => {
    // The viewer names the other utterance by its tensor's file name; steve render finds it in arcticDir.
    const view = ['--view', 'pair', '--words', '0:1', '--softmax', 'none', '--compare-attention', 'arctic_a0001.npy'];
    const { viewerSvg, cliSvg, stderr } = await bothSvgs(view, arcticDir);
    expect(stderr).toBe('');
    const fromViewer = described(viewerSvg);
    expect(fromViewer.title).toBe('LDC93S1: words 0–1 &apos;she had&apos; | arctic_a0001: words 0–1 &apos;author of&apos;');
    expect(fromViewer.mapTitles).toEqual(['LDC93S1 L0 H0', 'arctic_a0001 L0 H0']);
    expect(fromViewer.columnLabels[0]).toEqual(expect.arrayContaining(['sh', 'she', 'had']));
    expect(fromViewer.rowLabels[1]).toEqual(expect.arrayContaining(['author', 'of']));
    expect(fromViewer).toEqual(described(cliSvg));
  });
});
