/**
 * `npm run bench -- --browser`: serves demo/bench.html with Vite (the repo's vite.config.ts), opens it in Debian's
 * Chromium through puppeteer-core with WebGPU on SwiftShader (or on the machine's GPU when Chromium finds one),
 * waits for the page's suite and returns its BenchResult. A screenshot of the page (tables and frame-time plot) is
 * written beside the JSON by the caller's outDir. Node only; not part of the GPU-machine bundle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, ElementHandle } from 'puppeteer-core';
import { createServer } from 'vite';
import type { AttentionShape } from '../src/data/tensor.ts';
import type { BenchResult } from './core/results.ts';
import { CHROMIUM, launchChromium } from '../src/node/chromium.ts';
import { writeSyntheticNpy } from './node/npyWriter.ts';


/** Options of runBrowserBench. */
export interface BrowserBenchOptions {
  /** Repository root (vite.config.ts lives there). */
  readonly root: string;
  /** The page's query string without '?': 'quick' for a short run; tests add modelFrames=, framesPerScene=, reps=. */
  readonly query?: string;
  /**
   * Synthetic .npy files to write and pick in the page's file input, as a user would drop them: disk-backed Files
   * that the page reads by slices (a generated Blob of several hundred MB is not reliably readable in Chromium).
   */
  readonly files: readonly AttentionShape[];
  /** Where to write the page's screenshot; none when absent. */
  readonly screenshotPath?: string;
  /** Longest the page may run, ms (default 15 minutes). */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** Runs the page suite in Chromium and returns its result; throws with the page's error when it fails. */
export async function runBrowserBench(options: BrowserBenchOptions): Promise<BenchResult> {
  const log = options.log ?? (() => {});
  const server = await createServer({
    configFile: join(options.root, 'vite.config.ts'),
    server: { host: '127.0.0.1', port: 5900 + Math.floor(Math.random() * 90) },
    logLevel: 'error',
  });
  await server.listen();
  const userDataDir = mkdtempSync(join(tmpdir(), 'steve-bench-chromium-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'steve-bench-page-files-'));
  let browser: Browser | undefined;
  try {
    const paths: string[] = [];
    for (const shape of options.files) {
      const path = join(dataDir, `synthetic-${shape.layers}x${shape.heads}x${shape.rows}x${shape.cols}.npy`);
      log(`writing ${path}`);
      await writeSyntheticNpy(path, shape);
      paths.push(path);
    }
    browser = await launchChromium({ width: 1440, height: 1000, userDataDir, protocolTimeout: options.timeoutMs ?? 15 * 60_000 });
    const page = await browser.newPage();
    page.on('console', (message) => {
      const text = message.text();
      if (text.startsWith('[bench] ')) log(`page: ${text.slice(8)}`);
      // The page has no favicon; the dev server's 404 for it is not an error of the suite.
      else if (message.type() === 'error' && !/favicon/.test(message.location().url ?? '')) log(`page error: ${text}`);
    });
    page.on('pageerror', (error) => log(`page exception: ${(error as Error).message}`));
    const url = `${server.resolvedUrls!.local[0]}bench.html?wait${options.query ? `&${options.query}` : ''}`;
    log(`opening ${url} in ${CHROMIUM}`);
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.benchDone === 'idle', { timeout: 60_000 });
    const input = (await page.$('#bench-files')) as ElementHandle<HTMLInputElement> | null;
    if (!input) throw new Error('bench.html has no #bench-files input');
    await input.uploadFile(...paths);
    await page.click('#run');
    await page.waitForFunction(() => ['yes', 'error'].includes(document.body.dataset.benchDone ?? ''), {
      timeout: options.timeoutMs ?? 15 * 60_000,
      polling: 1000,
    });
    const outcome = await page.evaluate(() => {
      const bench = (window as unknown as { steveBench: { result?: unknown; error?: string } }).steveBench;
      return { result: bench.result, error: bench.error };
    });
    if (options.screenshotPath) await page.screenshot({ path: options.screenshotPath as `${string}.png`, fullPage: true });
    if (!outcome.result) throw new Error(`the benchmark page failed: ${outcome.error ?? 'no result'}`);
    return outcome.result as BenchResult;
  } finally {
    await browser?.close();
    await server.close();
    rmSync(userDataDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}
