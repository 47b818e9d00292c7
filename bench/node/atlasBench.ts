/**
 * The head atlas's throughput: utterances per second of `steve atlas` (GPU reductions, in this process through the
 * CLI's own entry point) and of the numpy reference (bench/atlas_numpy.py), in one run, on one synthetic corpus of
 * Whisper base-shaped files (6 layers x 8 heads x 1500 x 1500 float32 raw scores, bench/node/npyWriter.ts) aligned
 * with the TIMIT sample's phones and words.
 *
 *   npx tsx bench/node/atlasBench.ts [--utterances N (default 4)] [--frames F (default 1500)] [--out DIR]
 *
 * Both timings include opening every file; ours also includes starting the GPU device and compiling the kernels
 * (once per run, as a user pays it). Results: bench/results/<date>-<time>-atlas-<adapter>.json, and a table.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.ts';
import type { AtlasJson } from '../../src/atlas/atlasFile.ts';
import { ATLAS_METRICS } from '../../src/atlas/atlas.ts';
import { describeAdapter, requestNodeAdapter } from '../../src/node/dawn.ts';
import { WHISPER_BASE, withFrames } from '../core/synthetic.ts';
import { writeSyntheticNpy } from './npyWriter.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMIT = join(ROOT, 'demo/public/samples/timit/LDC93S1');

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const utterances = Number(option('--utterances', '4'));
const frames = Number(option('--frames', '1500'));
const outDir = option('--out', join(ROOT, 'bench/results'));
const shape = withFrames(WHISPER_BASE, frames);

const corpus = mkdtempSync(join(tmpdir(), 'steve-atlas-bench-'));
try {
  console.log(`writing ${utterances} utterances of ${shape.layers} x ${shape.heads} x ${frames} x ${frames} float32 to ${corpus}`);
  const pairs: string[] = [];
  for (let i = 0; i < utterances; i++) {
    const stem = join(corpus, `utt${String(i).padStart(3, '0')}`);
    for (const ext of ['wav', 'phn', 'wrd', 'txt']) copyFileSync(`${TIMIT}.${ext}`, `${stem}.${ext}`);
    await writeSyntheticNpy(`${stem}.npy`, shape);
    pairs.push(`${stem}:${stem}.npy`);
  }
  const adapter = describeAdapter(await requestNodeAdapter());

  const ours0 = performance.now();
  const code = await main(['atlas', '--wav', join(corpus, '*.wav'), '--alignments', 'timit', '-o', join(corpus, 'atlas')]);
  const oursSeconds = (performance.now() - ours0) / 1000;
  if (code !== 0) throw new Error(`steve atlas exited with ${code}`);
  const atlas = JSON.parse(readFileSync(join(corpus, 'atlas', 'atlas.json'), 'utf8')) as AtlasJson;

  const python = spawnSync('python3', [join(ROOT, 'bench/atlas_numpy.py'), ...pairs], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (python.status !== 0) throw new Error(`bench/atlas_numpy.py failed: ${python.stderr}`);
  const numpy = JSON.parse(python.stdout) as { utterances: number; seconds: number; numpy: string; sums: Record<string, number[][]> };

  // The two must agree, or the timing compares different work.
  let worst = 0;
  for (const metric of ATLAS_METRICS) {
    numpy.sums[metric].flat().forEach((value, i) => {
      worst = Math.max(worst, Math.abs(atlas.metrics[metric].sum.flat()[i] - value) / Math.max(Math.abs(value), 1e-9));
    });
  }
  const result = {
    suite: 'atlas',
    date: new Date().toISOString(),
    adapter,
    shape,
    utterances,
    ours: { seconds: oursSeconds, utterancesPerSecond: utterances / oursSeconds },
    numpy: { version: numpy.numpy, seconds: numpy.seconds, utterancesPerSecond: utterances / numpy.seconds },
    speedup: numpy.seconds / oursSeconds,
    worstRelativeDifference: worst,
  };
  console.log(`adapter: ${adapter}`);
  console.log('path            seconds   utterances/s');
  console.log(`steve atlas     ${oursSeconds.toFixed(2).padStart(7)}   ${result.ours.utterancesPerSecond.toFixed(3).padStart(12)}`);
  console.log(`numpy reference ${numpy.seconds.toFixed(2).padStart(7)}   ${result.numpy.utterancesPerSecond.toFixed(3).padStart(12)}`);
  console.log(`ratio (numpy time / ours): ${result.speedup.toFixed(2)}; largest relative difference of the metric sums: ${worst.toExponential(2)}`);
  mkdirSync(outDir, { recursive: true });
  const stamp = result.date.replace(/[:T]/g, '-').replace(/\..*$/, '');
  const file = join(outDir, `${stamp}-atlas-${adapter.split(' / ')[1] ?? 'gpu'}.json`.replace(/\s+/g, '_'));
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${file}`);
} finally {
  rmSync(corpus, { recursive: true, force: true });
}
