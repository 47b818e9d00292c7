/**
 * `npx tsx bench/cli.ts`: `steve render` against STEVE's matplotlib path (update + savefig), in one run, on a
 * Whisper-base-shaped synthetic tensor (6 x 8 x 1500 x 1500 float32, 432 MB): a full 1500-frame map as PNG and as
 * SVG, and a batch of 20 figures (one `steve render` call over 20 files, batch mode), each on the GPU path and on
 * the host path (STEVE_COMPUTE=gpu / cpu), then every step of one render profiled in one process
 * (bench/node/cliProfile.ts). Writes bench/results/<date>-<adapter>-cli.json and prints a table; bench/README.md
 * ("The CLI on CPU-only machines") reads it.
 *
 * Flags: --reps N (renders per format, default 3), --batch N (figures in the batch, default 20), --data DIR (keep
 * the synthetic files there), --out DIR (results folder), --no-steve (skip matplotlib), --only gpu|cpu.
 *
 * The batch's files are hard links to one file (copies where links fail): each is opened and read as a file of its
 * own, by both sides, while the disk holds 432 MB once. Both sides read them through the same page cache.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { profileRender, type RenderSteps } from './node/cliProfile.ts';
import { findMatplotlibPython } from './node/steve.ts';
import { writeSyntheticNpy } from './node/npyWriter.ts';
import { summarize, type Summary } from './core/stats.ts';
import { WHISPER_BASE, formatShape } from './core/synthetic.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: flags } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    batch: { type: 'string', default: '20' },
    data: { type: 'string' },
    out: { type: 'string' },
    'no-steve': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const reps = Number(flags.reps);
const batchSize = Number(flags.batch);
const paths = flags.only === undefined ? (['gpu', 'cpu'] as const) : ([flags.only] as ['gpu'] | ['cpu']);
const log = (line: string) => process.stderr.write(`${line}\n`);
const LAYER = 3;
const HEAD = 5;

const dataDir = flags.data ?? mkdtempSync(join(tmpdir(), 'steve-cli-bench-'));
mkdirSync(dataDir, { recursive: true });
const outputs = mkdtempSync(join(tmpdir(), 'steve-cli-bench-out-'));
const first = join(dataDir, 'utt00.npy');
if (!existsSync(first)) {
  log(`writing ${formatShape(WHISPER_BASE)} float32 to ${first}`);
  await writeSyntheticNpy(first, WHISPER_BASE);
}
const batchFiles = [first];
for (let i = 1; i < batchSize; i++) {
  const path = join(dataDir, `utt${String(i).padStart(2, '0')}.npy`);
  if (!existsSync(path)) {
    try {
      linkSync(first, path);
    } catch {
      copyFileSync(first, path);
    }
  }
  batchFiles.push(path);
}

/** Wall time of one `steve render` process (node + tsx start, Dawn, the figure, the write). */
function timeSteve(args: string[], compute: string): number {
  const start = performance.now();
  const run = spawnSync(process.execPath, [join(ROOT, 'bin/steve.mjs'), 'render', ...args], {
    env: { ...process.env, STEVE_COMPUTE: compute },
    encoding: 'utf8',
  });
  const ms = performance.now() - start;
  if (run.status !== 0) throw new Error(`steve render ${args.join(' ')} failed (${run.status}): ${run.stderr.trim().slice(-500)}`);
  return ms;
}

/** Wall time of a process that only starts the CLI (node + tsx + the command modules): the fixed cost of a call. */
function timeCliStart(): number {
  const start = performance.now();
  spawnSync(process.execPath, [join(ROOT, 'bin/steve.mjs'), 'render', '--help'], { encoding: 'utf8' });
  return performance.now() - start;
}

interface PathResult {
  readonly compute: string;
  readonly fullPngMs: Summary;
  readonly fullSvgMs: Summary;
  readonly batch: { readonly figures: number; readonly totalMs: number; readonly perFigureMs: number };
  readonly profile: { readonly adapter: string; readonly compute: string; readonly totalMs: number; readonly steps: RenderSteps };
}

const results: PathResult[] = [];
const cliStartMs = summarize([timeCliStart(), timeCliStart(), timeCliStart()]);
for (const compute of paths) {
  log(`steve render, STEVE_COMPUTE=${compute}`);
  const single = ['--attention', first, '--layer', String(LAYER), '--head', String(HEAD)];
  const png = Array.from({ length: reps }, (_, i) => timeSteve([...single, '-o', join(outputs, `${compute}-${i}.png`)], compute));
  const svg = Array.from({ length: reps }, (_, i) => timeSteve([...single, '-o', join(outputs, `${compute}-${i}.svg`)], compute));
  const batchArgs = [...batchFiles.flatMap((file) => ['--attention', file]), '--layer', String(LAYER), '--head', String(HEAD), '-o', join(outputs, `batch-${compute}`, '{name}.png')];
  const batchMs = timeSteve(batchArgs, compute);
  // In one process: the first render warms the JIT and the page cache, the second is reported.
  await profileRender({ npyPath: first, layer: LAYER, head: HEAD, format: 'png', compute });
  const profile = await profileRender({ npyPath: first, layer: LAYER, head: HEAD, format: 'png', compute });
  results.push({
    compute,
    fullPngMs: summarize(png),
    fullSvgMs: summarize(svg),
    batch: { figures: batchFiles.length, totalMs: batchMs, perFigureMs: batchMs / batchFiles.length },
    profile,
  });
}

/** STEVE's path: update + savefig per format, and a batch (update + PNG savefig per file), in one Python process. */
interface SteveSavefig {
  readonly python: string;
  readonly numpy: string;
  readonly matplotlib: string;
  readonly importMs: Summary;
  readonly figurePixels: number[];
  readonly png: { readonly updateMs: Summary; readonly savefigMs: Summary; readonly totalMs: Summary };
  readonly svg: { readonly updateMs: Summary; readonly savefigMs: Summary; readonly totalMs: Summary };
  readonly batch: { readonly figures: number; readonly totalMs: number; readonly perFigureMs: number };
}
let steve: SteveSavefig | { skipped: string } = { skipped: '--no-steve' };
if (!flags['no-steve']) {
  const python = findMatplotlibPython();
  if (!python) steve = { skipped: 'no Python with matplotlib and numpy' };
  else {
    log('STEVE matplotlib update + savefig');
    const importMs = Array.from({ length: 3 }, () => {
      const start = performance.now();
      spawnSync(python, ['-c', 'import numpy, matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot']);
      return performance.now() - start;
    });
    const savefigDir = join(outputs, 'matplotlib');
    mkdirSync(savefigDir);
    const run = spawnSync(
      python,
      [join(ROOT, 'bench/steve_matplotlib.py'), '--npy', first, '--layer', String(LAYER), '--head', String(HEAD), '--reps', String(reps), '--savefig', savefigDir, '--batch', ...batchFiles.slice(1)],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    if (run.status !== 0) throw new Error(`steve_matplotlib.py failed: ${run.stderr.slice(-500)}`);
    const raw = JSON.parse(run.stdout);
    const fmt = (name: 'png' | 'svg') => ({
      updateMs: summarize(raw.savefig[name].updateMs),
      savefigMs: summarize(raw.savefig[name].savefigMs),
      totalMs: summarize(raw.savefig[name].totalMs),
    });
    steve = {
      python: raw.python,
      numpy: raw.numpy,
      matplotlib: raw.matplotlib,
      importMs: summarize(importMs),
      figurePixels: raw.savefig.figurePixels,
      png: fmt('png'),
      svg: fmt('svg'),
      batch: { figures: raw.savefig.batch.figures, totalMs: raw.savefig.batch.totalMs, perFigureMs: raw.savefig.batch.totalMs / raw.savefig.batch.figures },
    };
  }
}

const { loadavg } = await import('node:os');
const result = {
  suite: 'cli',
  date: new Date().toISOString(),
  tensor: `${formatShape(WHISPER_BASE)} float32 (synthetic logits), layer ${LAYER} head ${HEAD}, softmax row, 640 px`,
  loadAverageAtEnd: loadavg(),
  cliStartMs,
  paths: results,
  steve,
};
const outDir = flags.out ?? join(ROOT, 'bench/results');
mkdirSync(outDir, { recursive: true });
const adapter = (results[0]?.profile.adapter ?? 'unknown').split(' / ').slice(0, 2).join('-').toLowerCase().replace(/[^a-z0-9]+/g, '-');
const file = join(outDir, `${result.date.slice(0, 19).replace(/:/g, '').replace('T', '-')}-${adapter}-cli.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

const ms = (value: number) => `${Math.round(value)} ms`;
console.log(`\n${result.tensor}; CLI start (node + tsx, render --help): ${ms(cliStartMs.median)}`);
for (const path of results) {
  console.log(`steve render, ${path.compute} path: full map PNG ${ms(path.fullPngMs.median)}, SVG ${ms(path.fullSvgMs.median)} (median of ${reps} processes); batch of ${path.batch.figures}: ${ms(path.batch.totalMs)} (${ms(path.batch.perFigureMs)} each)`);
  console.log(`  one render in one process (${path.profile.compute}): ${ms(path.profile.totalMs)}: ${Object.entries(path.profile.steps).map(([step, value]) => `${step.replace(/Ms$/, '')} ${Math.round(value)}`).join(', ')}`);
}
if ('png' in steve) {
  console.log(`STEVE matplotlib ${steve.matplotlib} (${steve.figurePixels.join(' x ')} px): update + savefig PNG ${ms(steve.png.totalMs.median)}, SVG ${ms(steve.svg.totalMs.median)}; batch of ${steve.batch.figures}: ${ms(steve.batch.totalMs)} (${ms(steve.batch.perFigureMs)} each); Python start + import ${ms(steve.importMs.median)}`);
} else console.log(`STEVE matplotlib: skipped (${steve.skipped})`);
console.log(`\nwrote ${file}`);
if (!flags.data) rmSync(dataDir, { recursive: true, force: true });
rmSync(outputs, { recursive: true, force: true });
process.exit(0);
