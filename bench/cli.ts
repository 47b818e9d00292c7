/**
 * `npx tsx bench/cli.ts`: `steve render` against STEVE's matplotlib path (update + savefig), in one run, on a
 * Whisper-base-shaped synthetic tensor (6 x 8 x 1500 x 1500 float32, 432 MB): a full 1500-frame map as PNG and as
 * SVG, and a batch of 20 figures (one `steve render` call over 20 files, batch mode), each on the GPU path and on
 * the host path (STEVE_COMPUTE=gpu / cpu), then every step of one render profiled in one process
 * (bench/node/cliProfile.ts). Writes bench/results/<date>-<adapter>-cli.json and prints a table; bench/README.md
 * ("The CLI on CPU-only machines") reads it.
 *
 * Each single render and the start-up (`steve render --help`) run both ways bin/steve.mjs can run the CLI: the
 * bundle (dist-cli/steve.mjs, built first by scripts/buildCli.mjs) and the sources through tsx (STEVE_CLI_RUN=tsx);
 * every run's trace (STEVE_CLI_TRACE=1) is checked to be the one named. Beside them: `node -e 0` (Node's own
 * start), Python's start + import of matplotlib, and the whole matplotlib process (start, import, read, figure,
 * update + savefig PNG and SVG). The batch runs the bundle.
 *
 * Flags: --reps N (renders per format, default 3), --batch N (figures in the batch, default 20; 0 skips the
 * batches), --gpu-batch N (figures in the GPU path's batch, default the same), --data DIR (keep the synthetic files
 * there), --out DIR (results folder), --no-steve (skip matplotlib), --only gpu|cpu, --cli bundle|tsx (one of the
 * two), --no-profile (skip the in-process profile).
 *
 * The machine may be shared: each repetition runs every side once, one after the other, and the batches of the
 * host path and of matplotlib run back to back, so that a busy minute slows both. The load average is recorded at
 * the start of every repetition.
 *
 * The batch's files are hard links to one file (copies where links fail): each is opened and read as a file of its
 * own, by both sides, while the disk holds 432 MB once. Both sides read them through the same page cache.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { describeAdapter, requestNodeAdapter } from '../src/node/dawn.ts';
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
    'gpu-batch': { type: 'string' },
    cli: { type: 'string' },
    'no-profile': { type: 'boolean', default: false },
  },
});
const reps = Number(flags.reps);
const batchSize = Number(flags.batch);
const gpuBatchSize = Number(flags['gpu-batch'] ?? flags.batch);
const paths = flags.only === undefined ? (['gpu', 'cpu'] as const) : ([flags.only] as ['gpu'] | ['cpu']);
/** How bin/steve.mjs runs the CLI: its bundle, or the sources through tsx. */
type CliRun = 'bundle' | 'tsx';
const cliRuns: readonly CliRun[] = flags.cli === undefined ? ['bundle', 'tsx'] : [flags.cli as CliRun];
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

// The bundle the 'bundle' runs use, built now (bin/steve.mjs would rebuild a stale one inside the first timed run).
if (cliRuns.includes('bundle')) {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/buildCli.mjs')], { encoding: 'utf8' });
  if (build.status !== 0 || !build.stdout.startsWith('steve CLI bundle: dist-cli/')) throw new Error(`scripts/buildCli.mjs: ${build.stdout}${build.stderr}`);
  log(build.stdout.trim());
}

/** Wall time of one `steve ...args` process, run as `cli` says; checks from its trace that it ran that way. */
function timeCli(args: string[], cli: CliRun, compute = 'auto'): number {
  const env = { ...process.env, STEVE_COMPUTE: compute, STEVE_CLI_TRACE: '1', STEVE_CLI_RUN: cli === 'tsx' ? 'tsx' : '' };
  const start = performance.now();
  const run = spawnSync(process.execPath, [join(ROOT, 'bin/steve.mjs'), ...args], { env, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (run.status !== 0) throw new Error(`steve ${args.join(' ')} failed (${run.status}): ${run.stderr.trim().slice(-500)}`);
  const ran = [...run.stderr.matchAll(/^steve-cli: (\w+)/gm)].map((match) => match[1]).join(' ');
  if (ran !== cli) throw new Error(`steve ${args.join(' ')} was to run the ${cli} but ran: ${ran || 'no trace'}`);
  return ms;
}

/** Wall time of one `steve render` process (Node's start, the CLI's, Dawn, the figure, the write). */
function timeSteve(args: string[], compute: string, cli: CliRun = 'bundle'): number {
  return timeCli(['render', ...args], cli, compute);
}

/** Wall time of a process that only starts: `node -e 0`, or the CLI up to its help (Node, the CLI's modules). */
function timeStart(what: 'node' | CliRun): number {
  if (what !== 'node') return timeCli(['render', '--help'], what);
  const start = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - start;
}

interface PathResult {
  readonly compute: string;
  /** One full-map render per process, per way of running the CLI. */
  readonly full: Partial<Record<CliRun, { readonly pngMs: Summary; readonly svgMs: Summary }>>;
  readonly batch?: { readonly figures: number; readonly totalMs: number; readonly perFigureMs: number };
  readonly profile?: { readonly adapter: string; readonly compute: string; readonly totalMs: number; readonly cliMs: number; readonly steps: RenderSteps };
}

/** STEVE's path: update + savefig per format, and a batch (update + PNG savefig per file), in one Python process. */
interface SteveSavefig {
  readonly python: string;
  readonly numpy: string;
  readonly matplotlib: string;
  readonly importMs: Summary;
  /** The whole `steve_matplotlib.py --savefig` process: start, import, read, figure, one PNG and one SVG. */
  readonly processMs: Summary;
  readonly figurePixels: number[];
  readonly png: { readonly updateMs: Summary; readonly savefigMs: Summary; readonly totalMs: Summary };
  readonly svg: { readonly updateMs: Summary; readonly savefigMs: Summary; readonly totalMs: Summary };
  readonly batch?: { readonly figures: number; readonly totalMs: number; readonly perFigureMs: number };
}

const python = flags['no-steve'] ? undefined : findMatplotlibPython();
const savefigDir = join(outputs, 'matplotlib');
mkdirSync(savefigDir);
/** One run of bench/steve_matplotlib.py --savefig: `count` updates + savefig per format, and a batch over `batch`. */
function runMatplotlib(count: number, batch: readonly string[]) {
  const run = spawnSync(
    python!,
    [join(ROOT, 'bench/steve_matplotlib.py'), '--npy', first, '--layer', String(LAYER), '--head', String(HEAD), '--reps', String(count), '--savefig', savefigDir, '--batch', ...batch],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (run.status !== 0) throw new Error(`steve_matplotlib.py failed: ${run.stderr.slice(-500)}`);
  return JSON.parse(run.stdout);
}

// The machine is shared and its load changes by the minute: every repetition runs each side once, one after
// the other, so that a busy minute slows both.
const startMs = Object.fromEntries((['node', ...cliRuns] as const).map((what) => [what, [] as number[]])) as Record<'node' | CliRun, number[]>;
const single = ['--attention', first, '--layer', String(LAYER), '--head', String(HEAD)];
const times = Object.fromEntries(paths.map((compute) => [compute, Object.fromEntries(cliRuns.map((cli) => [cli, { png: [] as number[], svg: [] as number[] }]))]));
const steveTimes = { png: { updateMs: [] as number[], savefigMs: [] as number[], totalMs: [] as number[] }, svg: { updateMs: [] as number[], savefigMs: [] as number[], totalMs: [] as number[] } };
const importMs: number[] = [];
const matplotlibProcessMs: number[] = [];
const loadAverages: number[] = [];
let steveVersions: { python: string; numpy: string; matplotlib: string; figurePixels: number[] } | undefined;
for (let rep = 0; rep < reps; rep++) {
  loadAverages.push(loadavg()[0]);
  log(`repetition ${rep + 1} of ${reps} (load average ${loadavg()[0].toFixed(1)})`);
  for (const what of ['node', ...cliRuns] as const) startMs[what].push(timeStart(what));
  for (const compute of paths) {
    for (const cli of cliRuns) {
      times[compute][cli].png.push(timeSteve([...single, '-o', join(outputs, `${compute}-${cli}-${rep}.png`)], compute, cli));
      times[compute][cli].svg.push(timeSteve([...single, '-o', join(outputs, `${compute}-${cli}-${rep}.svg`)], compute, cli));
    }
  }
  if (python) {
    const start = performance.now();
    spawnSync(python, ['-c', 'import numpy, matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot']);
    importMs.push(performance.now() - start);
    const processStart = performance.now();
    const raw = runMatplotlib(1, []);
    matplotlibProcessMs.push(performance.now() - processStart);
    steveVersions = { python: raw.python, numpy: raw.numpy, matplotlib: raw.matplotlib, figurePixels: raw.savefig.figurePixels };
    for (const format of ['png', 'svg'] as const) for (const key of ['updateMs', 'savefigMs', 'totalMs'] as const) steveTimes[format][key].push(...raw.savefig[format][key]);
  }
}

/** Batch of `files` figures: one `steve render` call. */
function timeBatch(compute: string, files: readonly string[]) {
  const args = [...files.flatMap((file) => ['--attention', file]), '--layer', String(LAYER), '--head', String(HEAD), '-o', join(outputs, `batch-${compute}`, '{name}.png')];
  const totalMs = timeSteve(args, compute, cliRuns[0]);
  return { figures: files.length, totalMs, perFigureMs: totalMs / files.length };
}
const batches: Record<string, { figures: number; totalMs: number; perFigureMs: number }> = {};
let steveBatch: { figures: number; totalMs: number; perFigureMs: number } | undefined;
for (const compute of batchSize > 0 ? [...paths].reverse() : []) {
  log(`batch, STEVE_COMPUTE=${compute}`);
  // The GPU path takes minutes per batch on a software adapter: --gpu-batch N figures of it (per figure is compared).
  batches[compute] = timeBatch(compute, compute === 'gpu' ? batchFiles.slice(0, gpuBatchSize) : batchFiles);
  if (python && compute === 'cpu') {
    log('batch, matplotlib');
    const raw = runMatplotlib(1, batchFiles);
    steveBatch = { figures: raw.savefig.batch.figures, totalMs: raw.savefig.batch.totalMs, perFigureMs: raw.savefig.batch.totalMs / raw.savefig.batch.figures };
  }
}

const results: PathResult[] = [];
for (const compute of paths) {
  const full = Object.fromEntries(cliRuns.map((cli) => [cli, { pngMs: summarize(times[compute][cli].png), svgMs: summarize(times[compute][cli].svg) }]));
  if (flags['no-profile']) {
    results.push({ compute, full, batch: batches[compute] });
    continue;
  }
  // In one process: the first render warms the JIT and the page cache, the second is reported.
  await profileRender({ npyPath: first, layer: LAYER, head: HEAD, format: 'png', compute });
  const profile = await profileRender({ npyPath: first, layer: LAYER, head: HEAD, format: 'png', compute });
  results.push({ compute, full, batch: batches[compute], profile });
}

let steve: SteveSavefig | { skipped: string } = { skipped: flags['no-steve'] ? '--no-steve' : 'no Python with matplotlib and numpy' };
if (python && steveVersions) {
  const fmt = (name: 'png' | 'svg') => ({ updateMs: summarize(steveTimes[name].updateMs), savefigMs: summarize(steveTimes[name].savefigMs), totalMs: summarize(steveTimes[name].totalMs) });
  steve = {
    ...steveVersions,
    importMs: summarize(importMs),
    processMs: summarize(matplotlibProcessMs),
    png: fmt('png'),
    svg: fmt('svg'),
    batch: steveBatch,
  };
}

// The adapter the renders ran on: the profile's, else asked of Dawn here (the same machine and drivers).
const adapterName = results[0]?.profile?.adapter ?? describeAdapter(await requestNodeAdapter());
const result = {
  suite: 'cli',
  date: new Date().toISOString(),
  adapter: adapterName,
  tensor: `${formatShape(WHISPER_BASE)} float32 (synthetic logits), layer ${LAYER} head ${HEAD}, softmax row, 640 px`,
  loadAverages,
  loadAverageAtEnd: loadavg(),
  /** Processes that only start: `node -e 0`, and `steve render --help` per way of running the CLI. */
  startMs: Object.fromEntries(Object.entries(startMs).map(([what, samples]) => [what, summarize(samples)])),
  paths: results,
  steve,
};
const outDir = flags.out ?? join(ROOT, 'bench/results');
mkdirSync(outDir, { recursive: true });
const adapter = adapterName.split(' / ').slice(0, 2).join('-').toLowerCase().replace(/[^a-z0-9]+/g, '-');
const file = join(outDir, `${result.date.slice(0, 19).replace(/:/g, '').replace('T', '-')}-${adapter}-cli.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

const ms = (value: number) => `${Math.round(value)} ms`;
const loads = (values: readonly number[]) => values.map((x) => x.toFixed(1)).join(' ');
console.log(`\n${result.tensor}; load average per repetition ${loads(loadAverages)}, at the end ${loads(result.loadAverageAtEnd)}`);
console.log(`start (median of ${reps} processes): ${Object.entries(result.startMs).map(([what, summary]) => `${what === 'node' ? 'node -e 0' : `steve render --help (${what})`} ${ms(summary.median)}`).join(', ')}`);
const batchLine = (batch: PathResult['batch']) => (batch ? `; batch of ${batch.figures} (${cliRuns[0]}): ${ms(batch.totalMs)} (${ms(batch.perFigureMs)} each)` : '');
for (const path of results) {
  const full = Object.entries(path.full).map(([cli, times]) => `${cli}: PNG ${ms(times.pngMs.median)}, SVG ${ms(times.svgMs.median)}`).join('; ');
  console.log(`steve render, ${path.compute} path, full map (median of ${reps} processes): ${full}${batchLine(path.batch)}`);
  if (path.profile) console.log(`  one render in one process (${path.profile.compute}): ${ms(path.profile.cliMs)} (the CLI's steps; ${ms(path.profile.totalMs)} with the inner steps timed again): ${Object.entries(path.profile.steps).map(([step, value]) => `${step.replace(/Ms$/, '')} ${Math.round(value)}`).join(', ')}`);
}
if ('png' in steve) {
  const batch = steve.batch ? `; batch of ${steve.batch.figures}: ${ms(steve.batch.totalMs)} (${ms(steve.batch.perFigureMs)} each)` : '';
  console.log(`STEVE matplotlib ${steve.matplotlib} (${steve.figurePixels.join(' x ')} px): update + savefig PNG ${ms(steve.png.totalMs.median)}, SVG ${ms(steve.svg.totalMs.median)}; Python start + import ${ms(steve.importMs.median)}; the whole process (start, import, read, PNG + SVG) ${ms(steve.processMs.median)}${batch}`);
} else console.log(`STEVE matplotlib: skipped (${steve.skipped})`);
console.log(`\nwrote ${file}`);
if (!flags.data) rmSync(dataDir, { recursive: true, force: true });
rmSync(outputs, { recursive: true, force: true });
process.exit(0);
