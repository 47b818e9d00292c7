/**
 * Rollout's matrix product in the same run, on this machine's adapter: the tiled kernel (rollout.wgsl, the GPU shape)
 * and the register-tile kernel (rolloutRegisterTile.wgsl, the software adapter's shape), each forced on its own
 * device, and the host path's JS kernel (src/compute/cpu/rolloutKernels.ts) with the float64 reference as peers.
 * Each round times one step of the running product (prepare and one product, the kernel suite's
 * 'rollout-step-float32' case) in both shapes, alternately, then the JS peers; medians over the rounds.
 *
 *   npx tsx bench/node/rolloutBench.ts [--sizes 187,375,750] [--rounds 3] [--shapes tiled,registerTile] [--out DIR]
 *
 * Results: bench/results/<date>-<time>-rollout.json and a table on stdout (GFLOP/s = 2 x frames^3 / wall time).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RolloutProductShape } from '../../src/compute/rollout.ts';
import { HARDWARE_SHAPE, setWorkgroupShape, SOFTWARE_SHAPE } from '../../src/gpu/workgroupShape.ts';
import { describeAdapter, requestNodeAdapter } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { runKernelSuite, type KernelResult } from '../core/kernels.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const sizes = option('--sizes', '187,375,750').split(',').map(Number);
const rounds = Number(option('--rounds', '3'));
const shapes = option('--shapes', 'tiled,registerTile').split(',') as RolloutProductShape[];
const outDir = option('--out', join(ROOT, 'bench', 'results'));

const shaders = readShaderSources(join(ROOT, 'shaders'));
const devices = new Map<RolloutProductShape, GPUDevice>();
let description = '';
for (const shape of shapes) {
  // An adapter gives one device.
  const adapter = await requestNodeAdapter();
  description = describeAdapter(adapter);
  const device = await adapter.requestDevice({
    label: `rolloutBench.${shape}`,
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
  setWorkgroupShape(device, shape === 'tiled' ? HARDWARE_SHAPE : SOFTWARE_SHAPE);
  devices.set(shape, device);
}
const cpuClock = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

interface Sample {
  readonly round: number;
  readonly size: number;
  readonly what: string;
  readonly wallMs: number;
  readonly cpuMs?: number;
  readonly gflopPerSec: number;
  readonly load: number;
}
const samples: Sample[] = [];
console.log(`adapter: ${description}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (let round = 1; round <= rounds; round++) {
  for (const size of sizes) {
    const flops = 2 * size ** 3;
    for (const [index, shape] of shapes.entries()) {
      const result = await runKernelSuite(devices.get(shape)!, shaders, description, {
        frames: 16,
        heads: 1,
        rolloutFrames: size,
        rolloutLayers: 2,
        reps: 1,
        cpuReps: 1,
        maxMsPerCase: 3_600_000,
        // The JS peers once per round and size, after the last shape.
        skipCpu: index < shapes.length - 1,
        cpuClock,
        only: ['rollout-step-float32'],
      });
      const step = result.kernels.find((kernel) => kernel.id === 'rollout-step-float32') as KernelResult;
      const load = loadavg()[0];
      samples.push({ round, size, what: `WGSL ${shape}`, wallMs: step.wallMs.median, cpuMs: step.cpuMs?.median, gflopPerSec: flops / 1e6 / step.wallMs.median, load });
      for (const peer of step.peers) {
        samples.push({ round, size, what: `JS ${peer.id}`, wallMs: peer.ms.median, cpuMs: peer.cpuMs?.median, gflopPerSec: flops / 1e6 / peer.ms.median, load });
      }
      for (const sample of samples.filter((s) => s.round === round && s.size === size && (s.what === `WGSL ${shape}` || (index === shapes.length - 1 && s.what.startsWith('JS'))))) {
        console.log(
          `round ${round} ${size}²: ${sample.what.padEnd(24)} ${sample.wallMs.toFixed(0).padStart(8)} ms wall, ` +
            `${(sample.cpuMs ?? NaN).toFixed(0).padStart(8)} ms CPU, ${sample.gflopPerSec.toFixed(3)} GFLOP/s (load ${load.toFixed(1)})`,
        );
      }
    }
  }
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log('\nmedians over the rounds (wall ms, GFLOP/s; ratio = time / fastest time at that size, each round):');
const summary = [];
for (const size of sizes) {
  const whats = [...new Set(samples.filter((s) => s.size === size).map((s) => s.what))];
  const bestPerRound = new Map<number, number>();
  for (const s of samples.filter((s) => s.size === size)) bestPerRound.set(s.round, Math.min(bestPerRound.get(s.round) ?? Infinity, s.wallMs));
  for (const what of whats) {
    const mine = samples.filter((s) => s.size === size && s.what === what);
    const wallMs = median(mine.map((s) => s.wallMs));
    const ratio = median(mine.map((s) => s.wallMs / bestPerRound.get(s.round)!));
    const row = { size, what, wallMs, gflopPerSec: (2 * size ** 3) / 1e6 / wallMs, ratioToFastest: ratio, loads: mine.map((s) => s.load) };
    summary.push(row);
    console.log(
      `${String(size).padStart(5)}² ${what.padEnd(24)} ${wallMs.toFixed(0).padStart(8)} ms ${row.gflopPerSec.toFixed(3).padStart(7)} GFLOP/s ` +
        `${ratio.toFixed(2).padStart(6)}x of fastest  (load ${row.loads.map((l) => l.toFixed(1)).join(', ')})`,
    );
  }
}
mkdirSync(outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const file = join(outDir, `${stamp}-rollout.json`);
writeFileSync(file, JSON.stringify({ adapter: description, sizes, rounds, shapes, samples, summary }, null, 2));
console.log(`wrote ${file}`);
for (const device of devices.values()) device.destroy();
