/**
 * Frame times of the model view zoomed from the whole model into one head at full resolution, drawn from map
 * pyramids (bench/core/pyramidZoom.ts), on a synthetic tensor of Whisper large-v3's layers and heads.
 *
 *   npx tsx bench/node/pyramidBench.ts [--layers 32] [--heads 20] [--frames 300] [--steps 24]
 *       [--width 1920] [--height 1080] [--budget-mib 1024] [--stat mean|max] [--out DIR]
 *   npx tsx bench/node/pyramidBench.ts --large-v3      (32 x 20 x 1500 x 1500: for a real GPU)
 *   npx tsx bench/node/pyramidBench.ts --in-step [--budget-mib 48] ...
 *   npx tsx bench/node/pyramidBench.ts --first-view [--pairs 1] [--budget-mib 256] ...
 *
 * --in-step zooms every cell in step instead (the viewer's wheel zoom: bench/core/pyramidZoom.ts runInStepZoom),
 * once with windowed levels and once with whole levels only (the path before windows), each on a fresh engine in the
 * same process, and reports the level drawn and the level bytes held at each step for both.
 * --first-view shows the model view first as the viewer does when its full maps exceed the budget (runView in groups:
 * bench/core/pyramidZoom.ts runFirstView) until a frame draws every cell at its level, once with the first frame's
 * levels pooled in the groups (now) and once built after that frame (before), alternated, `--pairs` times, each on a
 * fresh engine in the same process; it reports the time to the first filled frame and the maps computed.
 * The tensor is generated per layer on the CPU as it is uploaded (bench/core/synthetic.ts), as a file would be read.
 * Results: bench/results/<date>-<time>-pyramid-<adapter>.json, and one line per zoom step.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AttentionEngine, type PoolStatistic } from '../../src/engine.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { runFirstView, runInStepZoom, runPyramidZoom, type FirstViewResult } from '../core/pyramidZoom.ts';
import { createOffscreenTarget } from '../core/render.ts';
import { formatShape, makeSyntheticSource, WHISPER_LARGE_V3 } from '../core/synthetic.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const largeV3 = process.argv.includes('--large-v3');
const shape = largeV3
  ? WHISPER_LARGE_V3
  : {
      layers: Number(option('--layers', String(WHISPER_LARGE_V3.layers))),
      heads: Number(option('--heads', String(WHISPER_LARGE_V3.heads))),
      rows: Number(option('--frames', '300')),
      cols: Number(option('--frames', '300')),
    };
const steps = Number(option('--steps', '24'));
const width = Number(option('--width', '1920'));
const height = Number(option('--height', '1080'));
const budgetBytes = Number(option('--budget-mib', '1024')) * 2 ** 20;
const stat = option('--stat', 'mean') as PoolStatistic;
const outDir = option('--out', join(ROOT, 'bench/results'));

const shaders = readShaderSources();
const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);

if (process.argv.includes('--first-view')) {
  const pairs = Number(option('--pairs', '1'));
  const runs: FirstViewResult[] = [];
  let adapter = '';
  for (let pair = 0; pair < pairs; pair++) {
    for (const handOver of [false, true]) {
      const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders, budgetBytes });
      try {
        adapter = engine.adapterDescription;
        engine.addTensor('model', makeSyntheticSource(shape, 'synthetic-large-v3.npy'));
        const target = createOffscreenTarget(engine.device, width, height);
        const result = await runFirstView(engine, shaders, target, { shape, tensorId: 'model', fileName: 'synthetic-large-v3.npy', handOver });
        runs.push(result);
        target.destroy();
        console.log(
          `first view, ${handOver ? 'levels from the groups' : 'levels built after '}: ${formatShape(shape)}, budget ${budgetBytes / 2 ** 20} MiB: ` +
            `first frame ${(result.firstFrameMs / 1000).toFixed(1)} s drawing ${result.firstFrameDrawn} of ${result.maps} cells at their level, ` +
            `filled ${(result.filledMs / 1000).toFixed(1)} s (${result.frames} frame(s), levels ${JSON.stringify(result.levels)}), ` +
            `maps computed ${result.mapsComputed}, submits ${result.submits}`,
        );
      } finally {
        engine.destroy();
      }
    }
  }
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${stamp()}-pyramid-first-view-${adapter.split(' ')[0].toLowerCase().replace(/[^a-z0-9]+/g, '-') || 'adapter'}.json`);
  writeFileSync(file, JSON.stringify({ adapter, shape, width, height, budgetBytes, runs }, null, 1));
  for (let pair = 0; pair < pairs; pair++) {
    const [old, now] = [runs[2 * pair], runs[2 * pair + 1]];
    console.log(`pair ${pair + 1}: first filled frame ${(now.filledMs / old.filledMs).toFixed(2)} of before; maps computed ${old.mapsComputed} -> ${now.mapsComputed}`);
  }
  console.log(`-> ${file}`);
  process.exit(0);
}

if (process.argv.includes('--in-step')) {
  const runs = [];
  let adapter = '';
  const started = performance.now();
  for (const windows of [true, false]) {
    const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders, budgetBytes });
    try {
      adapter = engine.adapterDescription;
      engine.addTensor('model', makeSyntheticSource(shape, 'synthetic-large-v3.npy'));
      const target = createOffscreenTarget(engine.device, width, height);
      console.log(`in-step zoom, ${windows ? 'windowed' : 'whole'} levels: ${formatShape(shape)} on ${adapter}, ${width} x ${height}, budget ${budgetBytes / 2 ** 20} MiB`);
      const runStart = performance.now();
      const result = await runInStepZoom(engine, shaders, target, { shape, tensorId: 'model', steps, windows, stat, log: (line) => console.log(line) });
      runs.push({ ...result, totalMs: performance.now() - runStart });
      target.destroy();
    } finally {
      engine.destroy();
    }
  }
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${stamp()}-pyramid-in-step-${adapter.split(' ')[0].toLowerCase().replace(/[^a-z0-9]+/g, '-') || 'adapter'}.json`);
  writeFileSync(file, JSON.stringify({ adapter, totalMs: performance.now() - started, runs }, null, 1));
  for (const run of runs) {
    const last = run.steps.at(-1)!;
    console.log(
      `${run.windows ? 'windowed' : 'whole   '}: last step draws ${JSON.stringify(last.levels)} (wants ${last.wantedLevel}), levels pinned at most ${(run.maxPinnedLevelBytes / 2 ** 20).toFixed(2)} MiB, ` +
        `kept at most ${(run.maxKeptLevelBytes / 2 ** 20).toFixed(2)} MiB, peak resident ${(run.maxResidentBytes / 2 ** 20).toFixed(1)} MiB, levels ready after ${(run.readyMsTotal / 1000).toFixed(1)} s, ` +
        `frame p50 ${run.frameMs.median.toFixed(0)} ms, run ${(run.totalMs / 1000).toFixed(1)} s`,
    );
  }
  console.log(`-> ${file}`);
  process.exit(0);
}

const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders, budgetBytes });
try {
  engine.addTensor('model', makeSyntheticSource(shape, 'synthetic-large-v3.npy'));
  const target = createOffscreenTarget(engine.device, width, height);
  console.log(`pyramid zoom: ${formatShape(shape)} (softmax per row, ${stat} levels) on ${engine.adapterDescription}, ${width} x ${height}, budget ${budgetBytes / 2 ** 20} MiB`);
  const started = performance.now();
  const result = await runPyramidZoom(engine, shaders, target, {
    shape,
    tensorId: 'model',
    layer: Math.floor(shape.layers / 2),
    head: Math.floor(shape.heads / 2),
    steps,
    stat,
    log: (line) => console.log(line),
  });
  const totalMs = performance.now() - started;
  target.destroy();
  const adapter = engine.adapterDescription.split(' ')[0].toLowerCase().replace(/[^a-z0-9]+/g, '-') || 'adapter';
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${stamp()}-pyramid-${adapter}.json`);
  writeFileSync(file, JSON.stringify({ adapter: engine.adapterDescription, totalMs, ...result }, null, 1));
  console.log(
    `frame (levels on hand) p50 ${result.frameMs.median.toFixed(1)} ms, settled frame p50 ${result.settledMs.median.toFixed(1)} ms, ` +
      `levels ready after ${(result.readyMsTotal / 1000).toFixed(1)} s in all, peak resident ${(result.maxResidentBytes / 2 ** 20).toFixed(1)} MiB ` +
      `of a ${budgetBytes / 2 ** 20} MiB budget (all maps at full resolution: ${(result.fullResolutionBytes / 2 ** 20).toFixed(0)} MiB); ` +
      `total ${(totalMs / 1000).toFixed(1)} s -> ${file}`,
  );
} finally {
  engine.destroy();
}
