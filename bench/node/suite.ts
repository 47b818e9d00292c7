/**
 * The Node benchmark suite: synthetic .npy files written to a temporary folder, Dawn's WebGPU (SwiftShader when
 * there is no GPU), and every measurement of the issue in one run, returned as a BenchResult. bench/run.ts is the
 * command line around it; tests/bench/smoke.test.ts runs it at tiny sizes.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance as nodePerformance } from 'node:perf_hooks';
import { openAttention } from '../../src/data/openAttention.ts';
import type { AttentionShape } from '../../src/data/tensor.ts';
import { AttentionEngine } from '../../src/engine.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { describeAdapter, getNodeGpu, requestNodeAdapter } from '../../src/node/dawn.ts';
import { makeFileSource } from '../../src/node/fileSource.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { runCostSuite, type ChangeCost } from '../core/costs.ts';
import { runControlSuite, timeFirstMap, type ControlResult, type FirstMapTime } from '../core/controls.ts';
import { GpuTimer, withTimestampQuery } from '../core/gpuTimer.ts';
import { runThroughputSuite, summarizeLoad, TYPED_ARRAY_SET, type CopyBaseline, type ThroughputResult } from '../core/io.ts';
import { runKernelSuite, type KernelSuiteConfig, type KernelSuiteResult } from '../core/kernels.ts';
import { snapshot, type HostMemory, type MemorySnapshot } from '../core/memory.ts';
import { BenchScene, createOffscreenTarget, runRenderSuite, type RenderSuiteConfig, type RenderSuiteResult } from '../core/render.ts';
import {
  isSoftwareAdapter,
  makeComparisons,
  RESULT_SCHEMA,
  summarizeFirstMaps,
  type AdapterReport,
  type BenchCase,
  type BenchResult,
  type FirstMapResult,
} from '../core/results.ts';
import { now } from '../core/stats.ts';
import { formatShape, WHISPER_BASE, WHISPER_LARGE_V3, withFrames } from '../core/synthetic.ts';
import { syntheticNpyBytes, writeSyntheticNpy } from './npyWriter.ts';
import { runStevePeer } from './steve.ts';

/** One tensor the suite benchmarks, and what to run on it. */
export interface CasePlan {
  readonly id: string;
  readonly label: string;
  readonly shape: AttentionShape;
  readonly storage: StorageFormat;
  readonly scaledFrom?: string;
  /** Layers read by the throughput step (at most the tensor's). */
  readonly throughputLayers: number;
  /** Extra layer counts, same maps, for the time-to-first-map-vs-file-size measurement (the tensor's own is added). */
  readonly firstMapLayerCounts: readonly number[];
  readonly kernels?: Omit<KernelSuiteConfig, 'frames' | 'heads' | 'log'>;
  /** Control changes measured per kind; 0 to skip. */
  readonly controlReps: number;
  readonly controlsCropOnly?: boolean;
  /** Work per change (bench/core/costs.ts): every change, the grid of all maps, or only the grid. */
  readonly costs?: { readonly grid?: 'heads grid' | 'model view'; readonly gridOnly?: boolean };
}

/** Everything the Node suite does, with its sizes. */
export interface NodeBenchPlan {
  readonly mode: string;
  readonly cases: readonly CasePlan[];
  /** Openings of each file for time to first map. */
  readonly firstMapReps: number;
  /** The "3 words" crop shown by default (first frame, frames). */
  readonly cropStart: number;
  readonly cropFrames: number;
  readonly render?: Omit<RenderSuiteConfig, 'log' | 'onSceneReady'> & { readonly width: number; readonly height: number };
  /** Updates per region of the STEVE peer; 0 to skip it. */
  readonly steveReps: number;
  readonly copyReps: number;
  readonly notes: readonly string[];
}

/** The plan for `npm run bench` with its flags. */
export function makeNodePlan(flags: { quick?: boolean; large?: boolean; modelFrames?: number }): NodeBenchPlan {
  const quick = !!flags.quick;
  const frames = quick ? 300 : 1500;
  const scaledFrames = flags.modelFrames ?? (quick ? 100 : 300);
  const base = withFrames(WHISPER_BASE, frames);
  const largeShaped = withFrames(WHISPER_LARGE_V3, scaledFrames);
  const kernels = (rolloutFrames: number) => ({
    rolloutFrames,
    rolloutLayers: 2,
    reps: quick ? 2 : 3,
    cpuReps: quick ? 2 : 3,
    maxMsPerCase: quick ? 1500 : 6000,
  });
  const cases: CasePlan[] = [
    {
      id: 'base',
      label: 'Whisper base',
      shape: base,
      storage: 'float32',
      scaledFrom: quick ? formatShape(WHISPER_BASE) : undefined,
      throughputLayers: base.layers,
      firstMapLayerCounts: [1, 32],
      kernels: kernels(frames),
      controlReps: quick ? 2 : 3,
      costs: { grid: 'heads grid' },
    },
    {
      id: 'large-shaped',
      label: 'Whisper large-v3 shaped (32 x 20 heads), fewer frames',
      shape: largeShaped,
      storage: 'float16',
      scaledFrom: formatShape(WHISPER_LARGE_V3),
      throughputLayers: largeShaped.layers,
      firstMapLayerCounts: [],
      kernels: kernels(scaledFrames),
      controlReps: quick ? 2 : 3,
      costs: { grid: 'model view', gridOnly: true },
    },
  ];
  if (flags.large) {
    cases.push({
      id: 'large-v3',
      label: 'Whisper large-v3 (real size, 5.8 GB float32 file)',
      shape: WHISPER_LARGE_V3,
      storage: 'float16',
      throughputLayers: 8,
      firstMapLayerCounts: [],
      kernels: kernels(1500),
      controlReps: 2,
    });
  }
  const notes = [
    quick
      ? `--quick: every shape has ${frames} frames instead of 1500, fewer repetitions; use the default run for the issue's numbers.`
      : 'Whisper base at its real shape (6 x 8 x 1500 x 1500).',
    flags.large
      ? 'Whisper large-v3 at its real shape: a 5.8 GB float32 .npy written in streaming fashion, float16 GPU storage; throughput over its first 8 layers.'
      : `Whisper large-v3 is represented by a large-shaped tensor (32 layers x 20 heads) of ${scaledFrames} frames instead of 1500 ` +
        `(${formatShape(largeShaped)}); run with --large for the real 5.8 GB file.`,
    'Synthetic attention (diagonal band plus noise); kernel and render timings do not depend on the values.',
    'Files are read just after being written, so from the OS page cache: "read" measures the read path, not the disk.',
  ];
  return {
    mode: quick ? 'quick' : flags.large ? 'default + large' : 'default',
    cases,
    firstMapReps: quick ? 2 : 3,
    cropStart: Math.min(300, frames / 5),
    cropFrames: 60,
    render: {
      width: 1400,
      height: 900,
      frames,
      gridMaps: WHISPER_BASE.layers * WHISPER_BASE.heads,
      gridColumns: WHISPER_BASE.heads,
      modelMaps: WHISPER_LARGE_V3.layers * WHISPER_LARGE_V3.heads,
      modelColumns: WHISPER_LARGE_V3.heads,
      modelFrames: scaledFrames,
      framesPerScene: quick ? 6 : 24,
    },
    steveReps: quick ? 1 : 3,
    copyReps: quick ? 3 : 5,
    notes,
  };
}

/** Where the suite writes its files and how it reports progress. */
export interface NodeBenchOptions {
  /** The repository root: shaders/ and bench/steve_matplotlib.py are found under it. */
  readonly root: string;
  /** Folder for the synthetic files; a fresh temporary folder (deleted afterwards) when absent. */
  readonly dataDir?: string;
  /** Keep the files (only meaningful with dataDir). */
  readonly keepFiles?: boolean;
  readonly log?: (line: string) => void;
  readonly options?: Readonly<Record<string, unknown>>;
}

/** process.memoryUsage() as HostMemory. */
export function sampleNodeMemory(): HostMemory {
  const usage = process.memoryUsage();
  return {
    jsHeapUsedBytes: usage.heapUsed,
    jsHeapTotalBytes: usage.heapTotal,
    rssBytes: usage.rss,
    externalBytes: usage.external,
    arrayBuffersBytes: usage.arrayBuffers,
  };
}

/** Buffer.copy: Node's memcpy of one Buffer into another. */
const BUFFER_COPY: CopyBaseline = {
  id: 'buffer-copy',
  label: 'Buffer.copy',
  copy: (source, target) => void Buffer.from(source.buffer, source.byteOffset, source.byteLength).copy(Buffer.from(target.buffer, target.byteOffset, target.byteLength)),
};

/** The adapter's report, from Dawn's adapter object. */
export function reportAdapter(adapter: GPUAdapter, description: string): AdapterReport {
  const info = adapter.info;
  return {
    description,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    driverDescription: info.description,
    features: [...adapter.features].sort(),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    software: isSoftwareAdapter(description),
  };
}

/** Runs `plan` and returns the result (nothing is written to bench/results: that is the caller's). */
export async function runNodeBench(plan: NodeBenchPlan, options: NodeBenchOptions): Promise<BenchResult> {
  const started = now();
  const date = new Date().toISOString();
  const loadStart = loadavg()[0];
  const log = (line: string) => options.log?.(`[${((now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const shaders = readShaderSources(join(options.root, 'shaders'));
  const adapter = await requestNodeAdapter({ powerPreference: 'high-performance' });
  const adapterReport = reportAdapter(adapter, describeAdapter(adapter));
  log(`adapter: ${adapterReport.description}`);
  const gpu = withTimestampQuery(getNodeGpu());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'steve-bench-'));
  mkdirSync(dataDir, { recursive: true });
  const memory: MemorySnapshot[] = [snapshot('start', sampleNodeMemory)];
  const cases: BenchCase[] = [];
  const throughput: ThroughputResult[] = [];
  const firstMap: FirstMapResult[] = [];
  const kernels: ({ caseId: string } & KernelSuiteResult)[] = [];
  const controls: ({ caseId: string } & ControlResult)[] = [];
  const costs: Record<string, { caseId: string } & ChangeCost> = {};
  const notes = [...plan.notes];
  if (adapterReport.software) {
    notes.push(
      `${adapterReport.description} is SwiftShader, a CPU emulation of a GPU: kernels run on the same CPU cores as the JS peers, ` +
        'slower than plain JS, so the ratios here prove nothing about GPU speed (see bench/README.md for real-GPU numbers).',
    );
  }
  let render: RenderSuiteResult | undefined;
  let steve: BenchResult['steve'];
  const fileOf = (shape: AttentionShape, id: string) => join(dataDir, `${id}-${shape.layers}x${shape.heads}x${shape.rows}x${shape.cols}.npy`);

  try {
    for (const casePlan of plan.cases) {
      const path = fileOf(casePlan.shape, casePlan.id);
      log(`case ${casePlan.id}: writing ${formatShape(casePlan.shape)} float32 .npy (${(syntheticNpyBytes(casePlan.shape) / 1e9).toFixed(2)} GB) to ${path}`);
      const fileBytes = await writeSyntheticNpy(path, casePlan.shape);
      cases.push({ id: casePlan.id, label: casePlan.label, shape: casePlan.shape, file: path, fileBytes, scaledFrom: casePlan.scaledFrom });
      // The "3 words" crop, moved towards the start in a tensor with fewer frames so that it keeps its size.
      const cropFrames = Math.min(plan.cropFrames, casePlan.shape.rows);
      const cropStart = Math.min(plan.cropStart, casePlan.shape.rows - cropFrames, Math.floor(casePlan.shape.rows / 5));
      const engine = await AttentionEngine.create({ gpu, shaders, storage: casePlan.storage, budgetBytes: 1024 ** 3 });
      const device = engine.device;
      const timer = new GpuTimer(device);
      const target = createOffscreenTarget(device, plan.render?.width ?? 640, plan.render?.height ?? 480);
      const scene = await BenchScene.create(device, shaders, target.format);
      try {
        // 1. Throughput of the case's own file.
        const source = await makeFileSource(path);
        try {
          throughput.push(await runThroughputSuite(engine, source, [TYPED_ARRAY_SET, BUFFER_COPY], { layers: casePlan.throughputLayers, copyReps: plan.copyReps, log }));
        } finally {
          await source.close();
        }
        // 1b. Time to first map at several file sizes with the same layer shape.
        const sizes = [...new Set([casePlan.shape.layers, ...casePlan.firstMapLayerCounts])].sort((a, b) => a - b);
        const crop = { rowStart: cropStart, rowEnd: cropStart + cropFrames, colStart: cropStart, colEnd: cropStart + cropFrames };
        // One untimed opening first: pipeline compilation belongs to the app's start, not to the file's size.
        const warmSource = await makeFileSource(path);
        try {
          await timeFirstMap(engine, () => openAttention(warmSource), 'first-map-warm-up', { layer: 0, head: 0, softmax: 'row', crop }, scene, target, timer);
        } finally {
          await warmSource.close();
        }
        for (const layers of sizes) {
          const shape = { ...casePlan.shape, layers };
          const sizedPath = layers === casePlan.shape.layers ? path : fileOf(shape, `${casePlan.id}-sized`);
          if (sizedPath !== path) {
            log(`case ${casePlan.id}: writing ${formatShape(shape)} (${(syntheticNpyBytes(shape) / 1e9).toFixed(2)} GB) for time to first map`);
            await writeSyntheticNpy(sizedPath, shape);
          }
          log(`case ${casePlan.id}: time to first map of ${formatShape(shape)}`);
          const times: FirstMapTime[] = [];
          for (let rep = 0; rep < plan.firstMapReps; rep++) {
            let opened: Awaited<ReturnType<typeof makeFileSource>> | undefined;
            try {
              times.push(
                await timeFirstMap(
                  engine,
                  async () => openAttention((opened = await makeFileSource(sizedPath))),
                  'first-map',
                  { layer: 0, head: 0, softmax: 'row', crop },
                  scene,
                  target,
                  timer,
                ),
              );
            } finally {
              await opened?.close();
            }
          }
          firstMap.push(summarizeFirstMaps(sizedPath, syntheticNpyBytes(shape), shape, `layer 0 head 0, softmax, ${crop.rowEnd - crop.rowStart}-frame crop`, times));
          if (sizedPath !== path && !options.keepFiles) rmSync(sizedPath, { force: true });
        }
        // 2. Kernels, on the engine's device.
        if (casePlan.kernels) {
          kernels.push({
            caseId: casePlan.id,
            ...(await runKernelSuite(device, shaders, adapterReport.description, {
              ...casePlan.kernels,
              frames: casePlan.shape.rows,
              heads: casePlan.shape.heads,
              cpuClock: () => (process.cpuUsage().user + process.cpuUsage().system) / 1000,
              log,
            })),
          });
          memory.push(snapshot(`${casePlan.id}: after the kernel suite (its buffers freed)`, sampleNodeMemory, engine.memory));
        }
        // 3b. Control changes through the engine, on the file.
        if (casePlan.controlReps > 0) {
          const controlSource = await makeFileSource(path);
          try {
            engine.addTensor(casePlan.id, await openAttention(controlSource));
            const results = await runControlSuite(engine, casePlan.id, scene, target, timer, {
              reps: casePlan.controlReps,
              cropStart,
              cropFrames,
              cropOnly: casePlan.controlsCropOnly,
              log,
            });
            controls.push(...results.map((result) => ({ caseId: casePlan.id, ...result })));
            if (casePlan.costs) {
              const caseCosts = await runCostSuite(engine, casePlan.id, { scene, target, timer }, {
                ...casePlan.costs,
                cropStart,
                cropFrames,
                clock: () => nodePerformance.eventLoopUtilization().active,
                log,
              });
              for (const [id, cost] of Object.entries(caseCosts)) costs[id] = { caseId: casePlan.id, ...cost };
            }
            memory.push(snapshot(`${casePlan.id}: every layer resident after the control changes`, sampleNodeMemory, engine.memory));
            engine.removeTensor(casePlan.id);
          } finally {
            await controlSource.close();
          }
        }
        // 3. Rendering, once (on the first case's device): it needs no tensor.
        if (plan.render && !render) {
          const { width, height, ...config } = plan.render;
          const renderTarget = createOffscreenTarget(device, width, height);
          try {
            render = await runRenderSuite(device, shaders, renderTarget, {
              ...config,
              log,
              onSceneReady: (sceneId, bytes) => memory.push(snapshot(`render ${sceneId}: its maps on the GPU`, sampleNodeMemory, engine.memory, bytes)),
            });
          } finally {
            renderTarget.destroy();
          }
        }
      } finally {
        scene.destroy();
        target.destroy();
        timer.destroy();
        engine.destroy();
      }
      memory.push(snapshot(`${casePlan.id}: engine destroyed`, sampleNodeMemory));
      if (casePlan.id === 'base' && plan.steveReps > 0) {
        log(`STEVE peer: matplotlib on ${path}`);
        const peer = runStevePeer({ script: join(options.root, 'bench/steve_matplotlib.py'), npyPath: path, layer: 0, head: 0, cropStart, cropFrames, reps: plan.steveReps });
        if ('skipped' in peer) log(`STEVE peer skipped: ${peer.skipped}`);
        steve = peer;
      }
      if (!options.keepFiles) rmSync(path, { force: true });
    }
  } finally {
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }

  const partial = { kernels, controls, steve };
  return {
    schema: RESULT_SCHEMA,
    suite: 'node',
    date,
    durationMs: now() - started,
    adapter: adapterReport,
    host: {
      platform: `${platform()} ${release()}`,
      runtime: `Node ${process.versions.node}`,
      cpuModel: cpus()[0]?.model,
      cpus: cpus().length,
      memoryBytes: totalmem(),
      loadAverage: { start: loadStart, end: loadavg()[0] },
    },
    options: { mode: plan.mode, ...options.options },
    notes,
    cases,
    throughput,
    load: summarizeLoad(throughput, 'node'),
    firstMap,
    kernels,
    render,
    controls,
    costs,
    memory,
    steve,
    comparisons: makeComparisons(partial),
  };
}
