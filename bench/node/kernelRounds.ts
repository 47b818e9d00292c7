/**
 * Old kernels against new ones in one process, on one device, alternately: each round runs the chosen cases of
 * bench/core/kernels.ts once from an older checkout (`--old DIR`, e.g. `git archive <commit> | tar -x -C DIR`) and
 * once from this tree, one dispatch each with its plain-JS peers right after it. Prints, per case, the medians over
 * the rounds of each side's wall and CPU time and of the per-round ratio kernel / peer (kernel and peer from the
 * same round), and the load average before and after.
 *
 *   npx tsx bench/node/kernelRounds.ts --old /tmp/kold --rounds 5 --only histogram-256-float32,block-pool-4-float32
 *
 * Without `--old` only this tree's kernels run. `--frames` and `--heads` size the maps (1500 and 8 by default).
 * The device takes 'timestamp-query' when the adapter has it, so each side also reports the GPU time of its passes
 * (on a software adapter: how long the emulator took, without the submit and the wait around it), and each dispatch
 * the CPU time of the threads other than the main one (the emulator's work without the main thread's polling while
 * it awaits the GPU; Linux only).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { describeAdapter, requestNodeAdapter } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { runKernelSuite, type KernelResult } from '../core/kernels.ts';

type Suite = typeof runKernelSuite;

const { values: flags } = parseArgs({
  options: {
    old: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string', default: 'histogram-256-float32,block-pool-4-float32' },
    frames: { type: 'string', default: '1500' },
    heads: { type: 'string', default: '8' },
  },
});
const rounds = Number(flags.rounds);
const only = flags.only.split(',');
const frames = Number(flags.frames);
const heads = Number(flags.heads);

const cpuClock = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
/**
 * Run time of every thread of this process but the main one, ms (Linux schedstat: nanoseconds, unlike the 10 ms
 * ticks of /proc stat): SwiftShader's workers and Dawn's threads, without the main thread's polling while it awaits
 * the GPU. Threads that have exited drop out of the sum, so only differences over a dispatch are meaningful.
 */
const offThreadCpuClock = () => {
  let nanoseconds = 0;
  for (const thread of readdirSync('/proc/self/task')) {
    if (thread === String(process.pid)) continue;
    try {
      nanoseconds += Number(readFileSync(`/proc/self/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return nanoseconds / 1e6;
};
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const sides: { name: string; suite: Suite; shaders: Record<string, string> }[] = [];
if (flags.old) {
  const oldModule = (await import(pathToFileURL(join(flags.old, 'bench/core/kernels.ts')).href)) as { runKernelSuite: Suite };
  sides.push({ name: 'old', suite: oldModule.runKernelSuite, shaders: readShaderSources(join(flags.old, 'shaders/')) });
}
sides.push({ name: 'new', suite: runKernelSuite, shaders: readShaderSources() });

const adapter = await requestNodeAdapter();
const device = await adapter.requestDevice({ requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [] });
const adapterName = describeAdapter(adapter);
console.log(`adapter: ${adapterName}; load before: ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);

/** Per side, case and round: the kernel's and each peer's wall and CPU ms. */
const samples = new Map<string, { wall: number; gpu: number; cpu: number; offThreadCpu: number; peers: Map<string, { wall: number; cpu: number }> }[]>();
for (let round = 0; round < rounds; round++) {
  for (const side of sides) {
    const result = await side.suite(device, side.shaders, adapterName, { frames, heads, rolloutFrames: 64, rolloutLayers: 2, reps: 1, cpuReps: 1, maxMsPerCase: 1e9, only, cpuClock, offThreadCpuClock });
    for (const kernel of result.kernels as KernelResult[]) {
      const key = `${kernel.id}\t${side.name}`;
      const peers = new Map(kernel.peers.map((peer) => [peer.label, { wall: peer.ms.median, cpu: peer.cpuMs?.median ?? NaN }]));
      samples.set(key, [...(samples.get(key) ?? []), { wall: kernel.wallMs.median, gpu: kernel.gpuMs?.median ?? NaN, cpu: kernel.cpuMs?.median ?? NaN, offThreadCpu: kernel.offThreadCpuMs?.median ?? NaN, peers }]);
      const peerText = [...peers].map(([label, peer]) => `${label} ${peer.wall.toFixed(0)} ms (cpu ${peer.cpu.toFixed(0)})`).join(', ');
      console.log(`round ${round + 1} ${side.name} ${kernel.id}: ${kernel.wallMs.median.toFixed(0)} ms (gpu ${(kernel.gpuMs?.median ?? NaN).toFixed(0)}, cpu ${(kernel.cpuMs?.median ?? NaN).toFixed(0)}, off-thread cpu ${(kernel.offThreadCpuMs?.median ?? NaN).toFixed(0)}); ${peerText}; load ${loadavg()[0].toFixed(2)}`);
    }
  }
}
console.log(`load after: ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
for (const [key, runs] of samples) {
  const [id, side] = key.split('\t');
  const line = [`${id} ${side}: wall ${median(runs.map((run) => run.wall)).toFixed(0)} ms, gpu ${median(runs.map((run) => run.gpu)).toFixed(0)} ms, cpu ${median(runs.map((run) => run.cpu)).toFixed(0)} ms (off the main thread ${median(runs.map((run) => run.offThreadCpu)).toFixed(0)} ms)`];
  for (const label of runs[0].peers.keys()) {
    const wallRatios = runs.map((run) => run.wall / run.peers.get(label)!.wall);
    const cpuRatios = runs.map((run) => run.cpu / run.peers.get(label)!.cpu);
    const gpuRatios = runs.map((run) => run.gpu / run.peers.get(label)!.wall);
    const offThreadRatios = runs.map((run) => run.offThreadCpu / run.peers.get(label)!.cpu);
    line.push(
      `vs ${label} (wall ${median(runs.map((run) => run.peers.get(label)!.wall)).toFixed(0)} ms, cpu ${median(runs.map((run) => run.peers.get(label)!.cpu)).toFixed(0)} ms): ` +
        `wall ratio median ${median(wallRatios).toFixed(2)}x [${Math.min(...wallRatios).toFixed(2)}-${Math.max(...wallRatios).toFixed(2)}], ` +
        `cpu ratio median ${median(cpuRatios).toFixed(2)}x (off-thread cpu / peer cpu ${median(offThreadRatios).toFixed(2)}x), gpu time / peer wall median ${median(gpuRatios).toFixed(2)}x`,
    );
  }
  console.log(line.join('\n  '));
}
device.destroy();
