/**
 * Compute kernels, one dispatch at a time: milliseconds per dispatch (GPU timestamps when the device has
 * 'timestamp-query', wall time around onSubmittedWorkDone always), effective bandwidth (the bytes a kernel must read
 * and write at least, over its time), and the plain-JS peer of each kernel on the same values, timed by wall clock.
 *
 * Runs in Node and in the page: nothing here touches node: modules or the DOM.
 */
import { BlockPoolPass } from '../../src/compute/blockPool.ts';
import { blockPoolCpu } from '../../src/compute/blockPool.cpu.ts';
import { DifferencePass } from '../../src/compute/difference.ts';
import { differenceCpu } from '../../src/compute/difference.cpu.ts';
import { HeadMeanPass } from '../../src/compute/headMean.ts';
import { headMeanCpu } from '../../src/compute/headMean.cpu.ts';
import { HeadStatsPass } from '../../src/compute/headStats.ts';
import { headStatsCpu } from '../../src/compute/headStats.cpu.ts';
import { createHistogramBuffer, HistogramPass } from '../../src/compute/histogram.ts';
import { histogramCpu } from '../../src/compute/histogram.cpu.ts';
import { createMapStatsBuffer, MinMaxPass } from '../../src/compute/minMax.ts';
import { minMaxCpu } from '../../src/compute/minMax.cpu.ts';
import { fullCrop, type Crop } from '../../src/compute/region.ts';
import { RolloutPass } from '../../src/compute/rollout.ts';
import { rolloutCpu } from '../../src/compute/rollout.cpu.ts';
import { rolloutOnHost } from '../../src/compute/cpu/rolloutKernels.ts';
import { SegmentPoolPass } from '../../src/compute/segmentPool.ts';
import { createRangeBuffer } from '../../src/compute/separablePool.ts';
import { segmentPoolCpu } from '../../src/compute/segmentPool.cpu.ts';
import { SoftmaxPass } from '../../src/compute/softmax.ts';
import { softmaxCpu } from '../../src/compute/softmax.cpu.ts';
import { createStorageBuffer, createStorageBufferFrom } from '../../src/gpu/buffers.ts';
import type { ShaderSources } from '../../src/gpu/pipeline.ts';
import { makeStorageWords } from '../../src/gpu/upload.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { knownBandwidth } from './bandwidth.ts';
import { GpuTimer } from './gpuTimer.ts';
import { histogramLoop, minMaxLoop, softmaxLoop } from './cpuPeers.ts';
import { fillSyntheticMap, makeSegments } from './synthetic.ts';
import { gbPerSec, now, repeat, summarize, type Summary } from './stats.ts';

/** Sizes and repetitions of the kernel suite. */
export interface KernelSuiteConfig {
  /** Frames per map side (rows = cols): 1500 for Whisper. */
  readonly frames: number;
  /** Heads of one layer: the maps head mean, pooling and head statistics read. */
  readonly heads: number;
  /** Largest rollout size tried; the suite steps down from it when a dispatch would exceed `maxMsPerCase`. */
  readonly rolloutFrames: number;
  /** Layers in the rollout (one multiply per layer after the first). */
  readonly rolloutLayers: number;
  /** Measured dispatches per kernel (fewer when maxMsPerCase runs out). */
  readonly reps: number;
  /** Measured runs per CPU peer. */
  readonly cpuReps: number;
  /** Time budget of one case's measured runs, ms (at least one run is measured). */
  readonly maxMsPerCase: number;
  /** Skip the plain-JS peers. */
  readonly skipCpu?: boolean;
  /**
   * CPU time of this process in ms, all threads (Node: from process.cpuUsage()); when given, each dispatch and each
   * peer run also records it. On a software adapter the dispatch's CPU time is the emulator's work on every core,
   * which a loaded machine does not stretch the way it stretches wall time.
   */
  readonly cpuClock?: () => number;
  /**
   * CPU time in ms of the process's threads other than the one running the suite (Node on Linux: /proc/self/task);
   * when given, each dispatch also records it. On a software adapter that is the emulator's own work: the thread
   * that awaits onSubmittedWorkDone polls Dawn meanwhile (setImmediate ticks, about a third of the process's CPU
   * during a long dispatch, measured on SwiftShader), which cpuClock counts and this does not.
   */
  readonly offThreadCpuClock?: () => number;
  /** Measure only the cases with these ids (all when absent); rollout's ids are 'rollout-float32', 'rollout-step-float32'. */
  readonly only?: readonly string[];
  /** Called with a line of progress. */
  readonly log?: (line: string) => void;
}

/** A plain-JS peer of a kernel, timed on the same values. */
export interface PeerResult {
  readonly id: string;
  readonly label: string;
  readonly ms: Summary;
  /** Peer median / our median wall time: how many times faster our dispatch is (below 1: slower). */
  readonly speedup: number;
  /** CPU time of the peer's runs, when the config has a cpuClock. */
  readonly cpuMs?: Summary;
}

/** One kernel's numbers. */
export interface KernelResult {
  readonly id: string;
  readonly label: string;
  /** What the dispatch covers, in words ("8 maps of 1500 x 1500, float16 storage"). */
  readonly work: string;
  readonly format: StorageFormat;
  /** Bytes the kernel must read plus bytes it writes, at least. */
  readonly bytes: number;
  /** Floating-point operations of the dispatch, for compute-bound kernels (rollout). */
  readonly flops?: number;
  /** Wall time from recording to onSubmittedWorkDone. */
  readonly wallMs: Summary;
  /** CPU time of the process over the same span, all threads, when the config has a cpuClock. */
  readonly cpuMs?: Summary;
  /** CPU time of the other threads over the same span (the emulator's), when the config has an offThreadCpuClock. */
  readonly offThreadCpuMs?: Summary;
  /** Sum of the kernel's passes' GPU timestamps; absent without 'timestamp-query'. */
  readonly gpuMs?: Summary;
  /** Where gbPerSec's time comes from. */
  readonly timing: 'timestamp-query' | 'wall';
  /** bytes / time (GPU time when available, else wall time), 10^9 bytes per second. */
  readonly gbPerSec: number;
  /** gbPerSec as a share of the device's known memory bandwidth; absent when that is unknown. */
  readonly bandwidthShare?: number;
  readonly gflopPerSec?: number;
  readonly peers: readonly PeerResult[];
  readonly note?: string;
}

/** The kernel suite's output. */
export interface KernelSuiteResult {
  readonly config: Omit<KernelSuiteConfig, 'log'>;
  readonly timestampQuery: boolean;
  /** Device memory bandwidth the GB/s are compared with, or why it is unknown. */
  readonly deviceBandwidth: { readonly gbPerSec: number; readonly source: string } | { readonly unknown: string };
  readonly kernels: readonly KernelResult[];
}

/** One case: a pass set up on its buffers, the traffic it implies, and its CPU peers. */
interface KernelCase {
  readonly id: string;
  readonly label: string;
  readonly work: string;
  readonly format: StorageFormat;
  readonly bytes: number;
  readonly flops?: number;
  readonly note?: string;
  /** Records one dispatch of the full case. */
  readonly encode: (encoder: GPUCommandEncoder) => void;
  /** Records a tiny version of the case, to compile and warm the pipeline without paying for a full dispatch. */
  readonly encodeWarm: (encoder: GPUCommandEncoder) => void;
  readonly peers: readonly { id: string; label: string; run: () => unknown }[];
}

const BYTES: Record<StorageFormat, number> = { float32: 4, float16: 2 };

/**
 * Runs every kernel on synthetic maps of `config.frames` frames on `device` (create it with 'timestamp-query'
 * when the adapter has it). Allocates about (heads x frames^2) x 10 bytes of GPU memory and frees it before returning.
 */
export async function runKernelSuite(
  device: GPUDevice,
  shaders: ShaderSources,
  adapterDescription: string,
  config: KernelSuiteConfig,
): Promise<KernelSuiteResult> {
  const log = config.log ?? (() => {});
  const timer = new GpuTimer(device);
  const { frames, heads } = config;
  const mapElements = frames * frames;
  const full = fullCrop(frames, frames);
  const warmCrop: Crop = { rowStart: 0, rowEnd: 1, colStart: 0, colEnd: frames };

  // One layer of logits on the CPU (the peers' input) and on the GPU in both storage formats.
  const layer = new Float32Array(heads * mapElements);
  for (let head = 0; head < heads; head++) fillSyntheticMap(layer.subarray(head * mapElements, (head + 1) * mapElements), frames, frames, head + 1);
  const firstMap = layer.subarray(0, mapElements);
  const owned: GPUBuffer[] = [];
  const own = (buffer: GPUBuffer) => (owned.push(buffer), buffer);
  const inputs: Record<StorageFormat, GPUBuffer> = {
    float32: own(createStorageBufferFrom(device, 'KernelSuite.layer.float32', makeStorageWords(layer, 'float32'))),
    float16: own(createStorageBufferFrom(device, 'KernelSuite.layer.float16', makeStorageWords(layer, 'float16'))),
  };
  const view = (format: StorageFormat, elementOffset = 0) => ({ buffer: inputs[format], format, elementOffset });
  // An f32 map (the softmax of head 0) for the passes that read computed maps: min/max, histogram, difference.
  const softmaxed = Float32Array.from(softmaxCpu(firstMap, frames, frames, full, 'row'));
  const mapBuffer = own(createStorageBufferFrom(device, 'KernelSuite.map', softmaxed));
  const output = own(createStorageBuffer(device, 'KernelSuite.output', mapElements * 4));
  const subtrahend = own(createStorageBuffer(device, 'KernelSuite.subtrahend', mapElements * 4));

  const softmax = new SoftmaxPass(device, shaders);
  const headMean = new HeadMeanPass(device, shaders);
  const minMax = new MinMaxPass(device, shaders);
  const histogram = new HistogramPass(device, shaders);
  const difference = new DifferencePass(device, shaders);
  const [blockPool, segmentPool, headStats, rollout] = await Promise.all([
    BlockPoolPass.create(device, shaders),
    SegmentPoolPass.create(device, shaders),
    HeadStatsPass.create(device, shaders),
    RolloutPass.create(device, shaders),
  ]);
  const bins = 256;
  await Promise.all([
    softmax.ready('float32'),
    softmax.ready('float16'),
    headMean.ready('float32'),
    headMean.ready('float16'),
    minMax.ready('float32'),
    histogram.ready('float32', bins),
    difference.ready('float32'),
  ]);
  // Min and max of the two maps the histograms bin, made once here so that a histogram case does not depend on
  // the min/max case running first (with `only`, it may not run at all; zero stats would put every value in bin 0).
  const stats = own(createMapStatsBuffer(device, 'KernelSuite.stats'));
  const logitsStats = own(createMapStatsBuffer(device, 'KernelSuite.logitsStats'));
  {
    const encoder = device.createCommandEncoder({ label: 'KernelSuite.stats' });
    minMax.encode(encoder, { input: { buffer: mapBuffer, format: 'float32', elementOffset: 0 }, rows: frames, cols: frames, region: full }, stats);
    minMax.encode(encoder, { input: view('float32'), rows: frames, cols: frames, region: full }, logitsStats);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  }
  const histogramBuffer = own(createHistogramBuffer(device, 'KernelSuite.histogram', bins));
  const block = 4;
  const pooledRows = Math.ceil(frames / block);
  const poolMean = own(createStorageBuffer(device, 'KernelSuite.poolMean', BlockPoolPass.outputSizeBytes(frames, frames, block, heads)));
  const poolMax = own(createStorageBuffer(device, 'KernelSuite.poolMax', BlockPoolPass.outputSizeBytes(frames, frames, block, heads)));
  const phones = makeSegments(frames, 5);
  const phoneBounds = createRangeBuffer(device, 'KernelSuite.phones', phones, frames);
  // The warm-up pools one phone: the same pipelines, next to no work.
  const firstPhone = createRangeBuffer(device, 'KernelSuite.firstPhone', phones.slice(0, 1), frames);
  owned.push(phoneBounds.buffer, firstPhone.buffer);
  const segmentMean = own(createStorageBuffer(device, 'KernelSuite.segmentMean', SegmentPoolPass.outputSizeBytes(phones.length, phones.length)));
  const segmentMax = own(createStorageBuffer(device, 'KernelSuite.segmentMax', SegmentPoolPass.outputSizeBytes(phones.length, phones.length)));
  const statsOutput = own(createStorageBuffer(device, 'KernelSuite.headStats', HeadStatsPass.outputSizeBytes(heads)));
  const allHeads = Array.from({ length: heads }, (_, head) => head * mapElements);
  const mapsWord = (maps: number) => (maps === 1 ? '1 map' : `${maps} maps`);
  const storageWord = (format: StorageFormat) => `${format} storage`;

  const cases: KernelCase[] = [];
  for (const format of ['float32', 'float16'] as const) {
    cases.push({
      id: `softmax-row-${format}`,
      label: 'softmax (row)',
      work: `1 map of ${frames} x ${frames}, ${storageWord(format)}`,
      format,
      bytes: mapElements * (BYTES[format] + 4),
      encode: (encoder) => softmax.encode(encoder, { input: view(format), rows: frames, cols: frames, crop: full, scope: 'row', output }),
      encodeWarm: (encoder) => softmax.encode(encoder, { input: view(format), rows: frames, cols: frames, crop: warmCrop, scope: 'row', output }),
      peers:
        format === 'float32'
          ? [
              { id: 'softmax.cpu.ts', label: 'softmaxCpu (float64 reference)', run: () => softmaxCpu(firstMap, frames, frames, full, 'row') },
              { id: 'softmax-js-loop', label: 'JS loop (Float32Array)', run: () => softmaxLoop(firstMap, frames, frames, new Float32Array(mapElements)) },
            ]
          : [],
    });
  }
  cases.push({
    id: 'crop-copy-float32',
    label: 'crop copy (no softmax)',
    work: `1 map of ${frames} x ${frames}, float32 storage`,
    format: 'float32',
    bytes: mapElements * 8,
    encode: (encoder) => softmax.encode(encoder, { input: view('float32'), rows: frames, cols: frames, crop: full, scope: 'none', output }),
    encodeWarm: (encoder) => softmax.encode(encoder, { input: view('float32'), rows: frames, cols: frames, crop: warmCrop, scope: 'none', output }),
    peers: [{ id: 'typedarray-slice', label: 'Float32Array.slice', run: () => firstMap.slice() }],
  });
  for (const format of ['float32', 'float16'] as const) {
    for (const scope of ['row', 'none'] as const) {
      if (format === 'float16' && scope === 'none') continue;
      cases.push({
        id: `head-mean-${scope}-${format}`,
        label: scope === 'row' ? 'head mean of softmaxes' : 'head mean (no softmax)',
        work: `${mapsWord(heads)} of ${frames} x ${frames}, ${storageWord(format)}`,
        format,
        bytes: heads * mapElements * BYTES[format] + mapElements * 4,
        encode: (encoder) =>
          headMean.encode(encoder, { input: { buffer: inputs[format], format }, mapOffsets: allHeads, rows: frames, cols: frames, crop: full, scope, weight: 1 / heads, accumulate: false, output }),
        encodeWarm: (encoder) =>
          headMean.encode(encoder, { input: { buffer: inputs[format], format }, mapOffsets: allHeads, rows: frames, cols: frames, crop: warmCrop, scope, weight: 1 / heads, accumulate: false, output }),
        peers:
          format === 'float32'
            ? [{ id: 'headMean.cpu.ts', label: 'headMeanCpu (float64 reference)', run: () => headMeanCpu(layer, allHeads.map((_, head) => head), frames, frames, full, scope) }]
            : [],
      });
    }
  }
  cases.push({
    id: 'block-pool-4-float32',
    label: `block pool ${block} x ${block} (mean + max)`,
    work: `${mapsWord(heads)} of ${frames} x ${frames} -> ${pooledRows} x ${pooledRows}, float32 storage`,
    format: 'float32',
    bytes: heads * mapElements * 4 + 2 * heads * pooledRows * pooledRows * 4,
    encode: (encoder) => blockPool.encode(encoder, { input: view('float32'), rows: frames, cols: frames, blockSize: block, maps: heads, meanOutput: poolMean, maxOutput: poolMax }),
    encodeWarm: (encoder) => blockPool.encode(encoder, { input: view('float32'), rows: block, cols: frames, blockSize: block, maps: 1, meanOutput: poolMean, maxOutput: poolMax }),
    peers: [{ id: 'blockPool.cpu.ts', label: 'blockPoolCpu (reference)', run: () => blockPoolCpu(layer, frames, frames, block, heads) }],
  });
  // One map, as the viewer pools the map it shows: 300 x 300 phone blocks of one 1500-frame map are 90 000
  // workgroups, already minutes per head on a software adapter.
  cases.push({
    id: 'segment-pool-phones-float32',
    label: 'segment pool (mean + max)',
    work: `1 map of ${frames} x ${frames} over ${phones.length} x ${phones.length} segments of 5 frames, float32 storage`,
    format: 'float32',
    bytes: mapElements * 4 + 2 * phones.length * phones.length * 4,
    encode: (encoder) => segmentPool.encode(encoder, { input: view('float32'), rows: frames, cols: frames, maps: 1, rowSegments: phoneBounds, colSegments: phoneBounds, meanOutput: segmentMean, maxOutput: segmentMax }),
    encodeWarm: (encoder) => segmentPool.encode(encoder, { input: view('float32'), rows: frames, cols: frames, maps: 1, rowSegments: firstPhone, colSegments: firstPhone, meanOutput: segmentMean, maxOutput: segmentMax }),
    peers: [{ id: 'segmentPool.cpu.ts', label: 'segmentPoolCpu (reference)', run: () => segmentPoolCpu(firstMap, frames, frames, phones, phones, 1) }],
  });
  cases.push({
    id: 'min-max-float32',
    label: 'min/max of a map',
    work: `1 map of ${frames} x ${frames}, f32`,
    format: 'float32',
    bytes: mapElements * 4,
    encode: (encoder) => minMax.encode(encoder, { input: { buffer: mapBuffer, format: 'float32', elementOffset: 0 }, rows: frames, cols: frames, region: full }, stats),
    encodeWarm: (encoder) => minMax.encode(encoder, { input: { buffer: mapBuffer, format: 'float32', elementOffset: 0 }, rows: frames, cols: frames, region: warmCrop }, stats),
    peers: [
      { id: 'minMax.cpu.ts', label: 'minMaxCpu (reference)', run: () => minMaxCpu(softmaxed, frames, frames, full) },
      { id: 'min-max-js-loop', label: 'JS loop', run: () => minMaxLoop(softmaxed) },
    ],
  });
  cases.push({
    id: `histogram-${bins}-float32`,
    label: `histogram (${bins} bins)`,
    work: `1 map of ${frames} x ${frames}, f32`,
    format: 'float32',
    bytes: mapElements * 4 + bins * 4,
    encode: (encoder) => histogram.encode(encoder, { input: { buffer: mapBuffer, format: 'float32', elementOffset: 0 }, rows: frames, cols: frames, region: full }, stats, histogramBuffer, bins),
    encodeWarm: (encoder) => histogram.encode(encoder, { input: { buffer: mapBuffer, format: 'float32', elementOffset: 0 }, rows: frames, cols: frames, region: warmCrop }, stats, histogramBuffer, bins),
    peers: [
      { id: 'histogram.cpu.ts', label: 'histogramCpu (reference)', run: () => histogramCpu(softmaxed, frames, frames, full, 0, 1, bins) },
      { id: 'histogram-js-loop', label: 'JS loop', run: () => histogramLoop(softmaxed, 0, 1, bins) },
    ],
  });
  // The same on the logits before the softmax: values spread over the bins, so neighbours share a bin less often
  // than in a softmaxed map (mostly near zero), which the kernel's runs in registers rely on.
  const logitsRange = minMaxLoop(firstMap);
  cases.push({
    id: `histogram-${bins}-logits-float32`,
    label: `histogram (${bins} bins) of logits`,
    work: `1 map of ${frames} x ${frames} before softmax, f32`,
    format: 'float32',
    bytes: mapElements * 4 + bins * 4,
    encode: (encoder) => histogram.encode(encoder, { input: view('float32'), rows: frames, cols: frames, region: full }, logitsStats, histogramBuffer, bins),
    encodeWarm: (encoder) => histogram.encode(encoder, { input: view('float32'), rows: frames, cols: frames, region: warmCrop }, logitsStats, histogramBuffer, bins),
    peers: [
      { id: 'histogram.cpu.ts', label: 'histogramCpu (reference)', run: () => histogramCpu(firstMap, frames, frames, full, logitsRange[0], logitsRange[1], bins) },
      { id: 'histogram-js-loop', label: 'JS loop', run: () => histogramLoop(firstMap, logitsRange[0], logitsRange[1], bins) },
    ],
  });
  cases.push({
    id: 'difference-float32',
    label: 'difference of two maps',
    work: `2 maps of ${frames} x ${frames}, f32`,
    format: 'float32',
    bytes: mapElements * 12,
    encode: (encoder) => difference.encode(encoder, { minuend: { buffer: mapBuffer, format: 'float32', elementOffset: 0 }, subtrahend, count: mapElements, output }),
    encodeWarm: (encoder) => difference.encode(encoder, { minuend: { buffer: mapBuffer, format: 'float32', elementOffset: 0 }, subtrahend, count: frames, output }),
    peers: [{ id: 'difference.cpu.ts', label: 'differenceCpu (reference)', run: () => differenceCpu(softmaxed, firstMap) }],
  });
  cases.push({
    id: 'head-stats-float32',
    label: 'head statistics (entropy, distance, diagonal)',
    work: `${mapsWord(heads)} of ${frames} x ${frames}, float32 storage`,
    format: 'float32',
    bytes: heads * mapElements * 4,
    encode: (encoder) => headStats.encode(encoder, { input: view('float32'), maps: heads, rows: frames, cols: frames, msPerFrame: 20, output: statsOutput }),
    encodeWarm: (encoder) => headStats.encode(encoder, { input: view('float32'), maps: 1, rows: 1, cols: frames, msPerFrame: 20, output: statsOutput }),
    peers: [{ id: 'headStats.cpu.ts', label: 'headStatsCpu (reference)', run: () => headStatsCpu(layer, heads, frames, frames, { msPerFrame: 20 }) }],
  });

  const kernels: KernelResult[] = [];
  const wanted = (id: string) => !config.only || config.only.includes(id);
  for (const kernelCase of cases.filter((kernelCase) => wanted(kernelCase.id))) {
    log(`kernel ${kernelCase.id}: ${kernelCase.work}`);
    kernels.push(await measureCase(kernelCase, timer, config));
  }
  if (wanted('rollout-float32') || wanted('rollout-step-float32')) kernels.push(...(await measureRollout(device, rollout, timer, config, log)));

  softmax.destroy();
  headMean.destroy();
  minMax.destroy();
  histogram.destroy();
  difference.destroy();
  blockPool.destroy();
  segmentPool.destroy();
  headStats.destroy();
  rollout.destroy();
  timer.destroy();
  owned.forEach((buffer) => buffer.destroy());

  const bandwidth = knownBandwidth(adapterDescription);
  const withShare = kernels.map((kernel) => (bandwidth.gbPerSec ? { ...kernel, bandwidthShare: kernel.gbPerSec / bandwidth.gbPerSec } : kernel));
  const { log: _log, ...plainConfig } = config;
  return {
    config: plainConfig,
    timestampQuery: timer.enabled,
    deviceBandwidth: bandwidth.gbPerSec ? { gbPerSec: bandwidth.gbPerSec, source: bandwidth.source } : { unknown: bandwidth.source },
    kernels: withShare,
  };
}

async function measureCase(kernelCase: KernelCase, timer: GpuTimer, config: KernelSuiteConfig): Promise<KernelResult> {
  await timer.measure(kernelCase.encodeWarm, `${kernelCase.id}.warm`);
  const wall: number[] = [];
  const gpu: number[] = [];
  const cpu: number[] = [];
  const offThreadCpu: number[] = [];
  const { cpuClock, offThreadCpuClock } = config;
  await repeat({ warmup: 0, reps: config.reps, maxMs: config.maxMsPerCase }, async () => {
    const cpuStart = cpuClock?.() ?? 0;
    const offThreadStart = offThreadCpuClock?.() ?? 0;
    const { wallMs, gpuMs } = await timer.measure(kernelCase.encode, kernelCase.id);
    if (cpuClock) cpu.push(cpuClock() - cpuStart);
    if (offThreadCpuClock) offThreadCpu.push(offThreadCpuClock() - offThreadStart);
    wall.push(wallMs);
    if (gpuMs !== undefined) gpu.push(gpuMs);
    return wallMs;
  });
  const wallMs = summarize(wall);
  const gpuMs = gpu.length === wall.length ? summarize(gpu) : undefined;
  const time = gpuMs?.median ?? wallMs.median;
  const peers: PeerResult[] = [];
  if (!config.skipCpu) {
    for (const peer of kernelCase.peers) {
      const peerCpu: number[] = [];
      const samples = await repeat({ warmup: 1, reps: config.cpuReps, maxMs: config.maxMsPerCase }, async () => {
        const cpuStart = cpuClock?.() ?? 0;
        const start = now();
        peer.run();
        const ms = now() - start;
        if (cpuClock) peerCpu.push(cpuClock() - cpuStart);
        return ms;
      });
      const ms = summarize(samples);
      const peerCpuMs = peerCpu.length > 0 ? summarize(peerCpu.slice(-samples.length)) : undefined;
      peers.push({ id: peer.id, label: peer.label, ms, speedup: ms.median / wallMs.median, ...(peerCpuMs ? { cpuMs: peerCpuMs } : {}) });
    }
  }
  return {
    id: kernelCase.id,
    label: kernelCase.label,
    work: kernelCase.work,
    format: kernelCase.format,
    bytes: kernelCase.bytes,
    flops: kernelCase.flops,
    wallMs,
    ...(cpu.length > 0 ? { cpuMs: summarize(cpu) } : {}),
    ...(offThreadCpu.length > 0 ? { offThreadCpuMs: summarize(offThreadCpu) } : {}),
    gpuMs,
    timing: gpuMs ? 'timestamp-query' : 'wall',
    gbPerSec: gbPerSec(kernelCase.bytes, time),
    gflopPerSec: kernelCase.flops ? kernelCase.flops / 1e9 / (time / 1e3) : undefined,
    peers,
    note: kernelCase.note,
  };
}

/**
 * Rollout is a chain of dense matrix products: 2 x frames^3 flops per layer after the first, compute-bound and
 * cubic in frames. The suite times it at the largest size from `rolloutFrames` down (halving) whose estimated
 * dispatch, from a small one, fits in maxMsPerCase, so a software adapter does not spend minutes on one product.
 */
async function measureRollout(
  device: GPUDevice,
  rollout: RolloutPass,
  timer: GpuTimer,
  config: KernelSuiteConfig,
  log: (line: string) => void,
): Promise<KernelResult[]> {
  const layers = Math.max(2, config.rolloutLayers);
  const probeFrames = Math.min(config.rolloutFrames, 128);
  const probe = await rolloutAt(device, rollout, timer, probeFrames, layers);
  let frames = config.rolloutFrames;
  while (frames > probeFrames && probe.ms * (frames / probeFrames) ** 3 > config.maxMsPerCase) frames = Math.max(probeFrames, Math.floor(frames / 2));
  const note =
    frames < config.rolloutFrames
      ? `measured at ${frames} frames, not ${config.rolloutFrames}: a ${config.rolloutFrames}-frame dispatch was estimated at ` +
        `${Math.round(probe.ms * (config.rolloutFrames / probeFrames) ** 3)} ms on this adapter (from ${probeFrames} frames, cubic)`
      : undefined;
  log(`kernel rollout: ${layers} layers of ${frames} x ${frames}${note ? ` (${note})` : ''}`);
  const mapElements = frames * frames;
  const values = new Float32Array(layers * mapElements);
  for (let layer = 0; layer < layers; layer++) {
    const map = fillSyntheticMap(new Float32Array(mapElements), frames, frames, layer + 1);
    values.set(softmaxCpu(map, frames, frames, fullCrop(frames, frames), 'row'), layer * mapElements);
  }
  const input = createStorageBufferFrom(device, 'KernelSuite.rollout.input', values);
  const output = createStorageBuffer(device, 'KernelSuite.rollout.output', mapElements * 4);
  const encode = (encoder: GPUCommandEncoder) =>
    rollout.encode(encoder, { layers: { buffer: input, format: 'float32', elementOffset: 0 }, size: frames, layerStart: 0, layerEnd: layers, output });
  const result = await measureCase(
    {
      id: 'rollout-float32',
      label: 'attention rollout (matrix products)',
      work: `${layers} layers of ${frames} x ${frames} (${layers - 1} products), f32, ${rollout.shape} product`,
      format: 'float32',
      bytes: layers * mapElements * 4 + (layers - 1) * mapElements * 12,
      flops: (layers - 1) * 2 * frames ** 3,
      note,
      encode,
      encodeWarm: () => {},
      peers: [
        { id: 'rollout.cpu.ts', label: 'rolloutCpu (float64 reference)', run: () => rolloutCpu(values, frames, 0, layers) },
        { id: 'rolloutKernels.ts', label: 'rolloutOnHost (the host path, float64)', run: () => rolloutOnHost(values, frames, 0, layers) },
      ],
    },
    timer,
    { ...config, cpuReps: Math.min(config.cpuReps, 2) },
  );
  // One step of the running product, what a layer move costs with the products kept per layer (rolloutMap.ts):
  // the prepare of Â for the next layer and one product Â · R.
  const previous = createStorageBuffer(device, 'KernelSuite.rollout.previous', rollout.stepSizeBytes(frames));
  const stepOutput = createStorageBuffer(device, 'KernelSuite.rollout.stepOutput', rollout.stepSizeBytes(frames));
  const step = await measureCase(
    {
      id: 'rollout-step-float32',
      label: 'attention rollout, one layer step (prepare and one product)',
      work: `Â · R for ${frames} x ${frames}, f32, ${rollout.shape} product`,
      format: 'float32',
      bytes: mapElements * 4 * 2 + mapElements * 12,
      flops: 2 * frames ** 3,
      note,
      encode: (encoder) =>
        rollout.encodeStep(encoder, { layer: { buffer: input, format: 'float32', elementOffset: 0 }, previous, size: frames, output: stepOutput }),
      encodeWarm: () => {},
      peers: [
        { id: 'rollout.cpu.ts', label: 'rolloutCpu of two layers (float64 reference)', run: () => rolloutCpu(values, frames, 0, 2) },
        { id: 'rolloutKernels.ts', label: 'rolloutOnHost of two layers (the host path, float64)', run: () => rolloutOnHost(values, frames, 0, 2) },
      ],
    },
    timer,
    { ...config, cpuReps: Math.min(config.cpuReps, 2) },
  );
  input.destroy();
  output.destroy();
  previous.destroy();
  stepOutput.destroy();
  return [result, step];
}

/** Wall time of one rollout dispatch of `frames` frames (pipeline warm-up included once). */
async function rolloutAt(device: GPUDevice, rollout: RolloutPass, timer: GpuTimer, frames: number, layers: number): Promise<{ ms: number }> {
  const values = new Float32Array(layers * frames * frames).fill(1 / frames);
  const input = createStorageBufferFrom(device, 'KernelSuite.rolloutProbe.input', values);
  const output = createStorageBuffer(device, 'KernelSuite.rolloutProbe.output', frames * frames * 4);
  const encode = (encoder: GPUCommandEncoder) =>
    rollout.encode(encoder, { layers: { buffer: input, format: 'float32', elementOffset: 0 }, size: frames, layerStart: 0, layerEnd: layers, output });
  await timer.measure(encode);
  const { wallMs, gpuMs } = await timer.measure(encode);
  input.destroy();
  output.destroy();
  return { ms: gpuMs ?? wallMs };
}
