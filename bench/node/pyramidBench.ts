/**
 * Frame times of the model view zoomed from the whole model into one head at full resolution, drawn from map
 * pyramids (bench/core/pyramidZoom.ts), on a synthetic tensor of Whisper large-v3's layers and heads.
 *
 *   npx tsx bench/node/pyramidBench.ts [--layers 32] [--heads 20] [--frames 300] [--steps 24]
 *       [--width 1920] [--height 1080] [--budget-mib 1024] [--stat mean|max] [--out DIR]
 *   npx tsx bench/node/pyramidBench.ts --large-v3      (32 x 20 x 1500 x 1500: for a real GPU)
 *
 * The tensor is generated per layer on the CPU as it is uploaded (bench/core/synthetic.ts), as a file would be read.
 * Results: bench/results/<date>-<time>-pyramid-<adapter>.json, and one line per zoom step.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AttentionEngine, type PoolStatistic } from '../../src/engine.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { runPyramidZoom } from '../core/pyramidZoom.ts';
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
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const adapter = engine.adapterDescription.split(' ')[0].toLowerCase().replace(/[^a-z0-9]+/g, '-') || 'adapter';
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${stamp}-pyramid-${adapter}.json`);
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
