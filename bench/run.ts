/**
 * `npm run bench`: the Node benchmark suite (Dawn's WebGPU; SwiftShader when there is no GPU). Writes
 * bench/results/<date>-<adapter>.json and prints the tables. See bench/README.md for what each number means.
 *
 *   npm run bench                  Whisper base at full size, a large-v3-shaped tensor with fewer frames, STEVE peer
 *   npm run bench -- --quick       everything at 300 frames, fewer repetitions (a fast check, not the numbers)
 *   npm run bench -- --large       also the real 5.8 GB Whisper large-v3 file, written in streaming fashion
 *   npm run bench -- --browser     the page suite (demo/bench.html) in Chromium through puppeteer-core instead
 *
 * Other flags: --model-frames N (frames of the large-shaped tensor and the model view), --out DIR (results folder),
 * --data DIR (keep the synthetic files there), --no-steve (skip the matplotlib peer).
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatText, reportSections, resultFileStem, type BenchResult } from './core/results.ts';
import { makeNodePlan, runNodeBench } from './node/suite.ts';

/** The repository root, from bench/run.ts under tsx and from bench-dist/bench.mjs in the bundle alike. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    large: { type: 'boolean', default: false },
    browser: { type: 'boolean', default: false },
    'model-frames': { type: 'string' },
    out: { type: 'string' },
    data: { type: 'string' },
    'no-steve': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

if (flags.help) {
  console.log('usage: npm run bench -- [--quick] [--large] [--browser] [--model-frames N] [--out DIR] [--data DIR] [--no-steve]');
  process.exit(0);
}

/** Writes the result JSON and prints the tables; returns the JSON's path. */
export function saveResult(result: BenchResult, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${resultFileStem(result.date, result.adapter, result.suite)}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

const outDir = flags.out ?? join(ROOT, 'bench/results');
const log = (line: string) => process.stderr.write(`${line}\n`);

if (flags.browser) {
  // Loaded by a computed URL so that a bundle of this file (bench-dist/bench.mjs) does not pull in Vite and
  // puppeteer: the page suite runs from the source tree only.
  const module = (await import(new URL('./browser.ts', import.meta.url).href).catch((error: Error) => {
    throw new Error(`the browser suite runs from the source tree (npm run bench -- --browser): ${error.message}`);
  })) as typeof import('./browser.ts');
  const screenshot = join(tmpdir(), `steve-bench-page-${process.pid}.png`);
  // Whisper base (300 frames with --quick) as a 6-layer and a 1-layer file: the page's base case and its second size.
  const base = { layers: 6, heads: 8, rows: flags.quick ? 300 : 1500, cols: flags.quick ? 300 : 1500 };
  const result = await module.runBrowserBench({
    root: ROOT,
    query: flags.quick ? 'quick' : '',
    files: [{ ...base, layers: 1 }, base],
    screenshotPath: screenshot,
    log,
  });
  console.log(formatText(reportSections(result)));
  const path = saveResult(result, outDir);
  // Copied, not renamed: the temporary folder may be on another file system.
  copyFileSync(screenshot, path.replace(/\.json$/, '.png'));
  rmSync(screenshot, { force: true });
  console.log(`\nwrote ${path} and the page's screenshot beside it`);
} else {
  const modelFrames = flags['model-frames'] === undefined ? undefined : Number(flags['model-frames']);
  if (modelFrames !== undefined && !(Number.isInteger(modelFrames) && modelFrames >= 8)) throw new Error(`--model-frames must be an integer >= 8, got ${flags['model-frames']}`);
  const plan = makeNodePlan({ quick: flags.quick, large: flags.large, modelFrames });
  const finalPlan = flags['no-steve'] ? { ...plan, steveReps: 0 } : plan;
  const result = await runNodeBench(finalPlan, {
    root: ROOT,
    dataDir: flags.data,
    keepFiles: flags.data !== undefined,
    log,
    options: { quick: flags.quick, large: flags.large, modelFrames, steve: !flags['no-steve'] },
  });
  console.log(formatText(reportSections(result)));
  console.log(`\nwrote ${saveResult(result, outDir)}`);
}
// Dawn's instance keeps the event loop alive (src/node/dawn.ts): leave explicitly once everything is written.
process.exit(0);
