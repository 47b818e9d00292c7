// The benchmark page (demo/bench.html): the engine and the render passes in the page, on its canvas, with the
// same suites as `npm run bench` (bench/core/*), a table of the results and a plot of frame times.
// bench/browser.ts opens it in Chromium and collects window.steveBench.result; a person can open it in any browser
// with WebGPU (?quick for a short run, ?wait to start it with the button).
import { SHADER_SOURCES } from '../shaders/index.ts';
import { makeBlobSource } from '../src/data/byteSource.ts';
import { openAttention } from '../src/data/openAttention.ts';
import type { AttentionShape } from '../src/data/tensor.ts';
import { AttentionEngine } from '../src/engine.ts';
import { describeGpuAdapter } from '../src/gpu/device.ts';
import { runControlSuite, timeFirstMap, type ControlResult, type FirstMapTime } from '../bench/core/controls.ts';
import { runCostSuite, type ChangeCost } from '../bench/core/costs.ts';
import { GpuTimer, withTimestampQuery } from '../bench/core/gpuTimer.ts';
import { runThroughputSuite, summarizeLoad, TYPED_ARRAY_SET, type ThroughputResult } from '../bench/core/io.ts';
import { runKernelSuite, type KernelSuiteResult } from '../bench/core/kernels.ts';
import { samplePageMemory, snapshot, type MemorySnapshot } from '../bench/core/memory.ts';
import { BenchScene, runRenderSuite, type FrameTarget, type RenderSuiteResult } from '../bench/core/render.ts';
import {
  isSoftwareAdapter,
  makeComparisons,
  reportSections,
  RESULT_SCHEMA,
  summarizeFirstMaps,
  type AdapterReport,
  type BenchCase,
  type BenchResult,
  type FirstMapResult,
  type ReportSection,
} from '../bench/core/results.ts';
import { now } from '../bench/core/stats.ts';
import { formatShape, makeNpyBytes, WHISPER_BASE, WHISPER_LARGE_V3, withFrames } from '../bench/core/synthetic.ts';

/** What the driver (bench/browser.ts) and the console can reach. */
interface BenchHandle {
  result?: BenchResult;
  error?: string;
  log: string[];
  run(): Promise<BenchResult>;
}

const CANVAS_WIDTH = 1400;
const CANVAS_HEIGHT = 900;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`bench.html has no #${id}`);
  return found as T;
}

const status = element('status');
const handle: BenchHandle = { log: [], run };
(window as unknown as { steveBench: BenchHandle }).steveBench = handle;

function log(line: string): void {
  handle.log.push(line);
  status.textContent = line;
  console.log(`[bench] ${line}`);
}

/**
 * The page's sizes: Whisper base at full size by default; ?quick uses 300 frames and fewer repetitions. Tests shrink
 * it further with ?frames=, ?modelFrames=, ?framesPerScene= and ?reps=.
 */
function pagePlan(search: URLSearchParams) {
  const quick = search.has('quick');
  const number = (name: string, fallback: number) => {
    const value = Number(search.get(name) ?? fallback);
    if (!(Number.isInteger(value) && value >= 1)) throw new Error(`?${name} must be a positive integer, got ${search.get(name)}`);
    return value;
  };
  const reps = number('reps', quick ? 2 : 3);
  return {
    quick,
    /** Shape of the generated files when none are picked. */
    base: withFrames(WHISPER_BASE, number('frames', quick ? 300 : 1500)),
    modelFrames: number('modelFrames', quick ? 100 : 300),
    firstMapReps: reps,
    reps,
    maxMsPerCase: quick ? 1500 : 6000,
    framesPerScene: number('framesPerScene', quick ? 6 : 24),
    /** ?loadOnly: the read + parse + upload suite alone (bench/node/loadBench.ts --browser). */
    loadOnly: search.has('loadOnly'),
  };
}

/** A file the page benchmarks: one picked in #bench-files (a disk-backed File), or a Blob generated here. */
interface BenchFile {
  readonly name: string;
  readonly blob: Blob;
  readonly shape: AttentionShape;
  readonly generated: boolean;
}

/**
 * The files to benchmark: those picked in #bench-files (bench/browser.ts uploads a 1-layer and a 6-layer Whisper
 * base file there), else Blobs made here of 1 layer and of `base` (Chromium may fail to read back a Blob of several
 * hundred MB that it moved to disk, so big runs pick files). Sorted by layers; the last is the base case.
 */
async function benchFiles(base: AttentionShape): Promise<BenchFile[]> {
  const picked = [...(element<HTMLInputElement>('bench-files').files ?? [])];
  const files: BenchFile[] = picked.length > 0
    ? await Promise.all(picked.map(async (file) => ({ name: file.name, blob: file as Blob, shape: (await openAttention(makeBlobSource(file))).shape, generated: false })))
    : [1, base.layers].map((layers) => {
        const shape = { ...base, layers };
        log(`making a ${formatShape(shape)} .npy Blob`);
        return { name: `synthetic-${layers}-layers.npy`, blob: npyBlob(shape), shape, generated: true };
      });
  return files.sort((a, b) => a.shape.layers - b.shape.layers);
}

/** The page's canvas as a FrameTarget: each frame draws into the texture the canvas hands out. */
function canvasTarget(canvas: HTMLCanvasElement, device: GPUDevice): FrameTarget {
  canvas.width = CANVAS_WIDTH;
  canvas.height = CANVAS_HEIGHT;
  const context = canvas.getContext('webgpu') as GPUCanvasContext;
  const format = navigator.gpu.getPreferredCanvasFormat();
  context.configure({ device, format, alphaMode: 'premultiplied' });
  return {
    kind: 'canvas',
    width: canvas.width,
    height: canvas.height,
    format,
    nextView: () => context.getCurrentTexture().createView(),
    destroy: () => context.unconfigure(),
  };
}

const nextAnimationFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));

function reportAdapter(adapter: GPUAdapter): AdapterReport {
  const description = describeGpuAdapter(adapter);
  const info = adapter.info;
  return {
    description,
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    driverDescription: info?.description ?? '',
    features: [...adapter.features].sort(),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    software: isSoftwareAdapter(description),
  };
}

/** A tensor as a .npy Blob, read through makeBlobSource as a dropped file would be. */
function npyBlob(shape: AttentionShape): Blob {
  return new Blob([makeNpyBytes(shape) as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
}

async function run(): Promise<BenchResult> {
  const started = now();
  const date = new Date().toISOString();
  const plan = pagePlan(new URLSearchParams(location.search));
  if (!navigator.gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('requestAdapter() returned null');
  const adapterReport = reportAdapter(adapter);
  log(`adapter: ${adapterReport.description}`);
  const engine = await AttentionEngine.create({ gpu: withTimestampQuery(navigator.gpu), shaders: SHADER_SOURCES, storage: 'float32' });
  const device = engine.device;
  const timer = new GpuTimer(device);
  const target = canvasTarget(element<HTMLCanvasElement>('bench-canvas'), device);
  const scene = await BenchScene.create(device, SHADER_SOURCES, target.format);
  const memory: MemorySnapshot[] = [snapshot('start', samplePageMemory)];
  const files = await benchFiles(plan.base);
  const baseFile = files[files.length - 1];
  const base = baseFile.shape;
  // The "3 words" crop of the Node suite: 60 frames from frame 300 (nearer the start in shorter maps).
  const cropFrames = Math.min(60, base.rows);
  const cropStart = Math.min(300, base.rows - cropFrames, Math.floor(base.rows / 5));
  const crop = { rowStart: cropStart, rowEnd: cropStart + cropFrames, colStart: cropStart, colEnd: cropStart + cropFrames };
  const notes = [
    base.rows === 1500 && base.heads === 8 ? 'Whisper base at its real shape (6 x 8 x 1500 x 1500).' : `${formatShape(base)} rather than Whisper base at 1500 frames: not the issue's numbers.`,
    baseFile.generated
      ? 'Files are Blobs made in the page (synthetic float32 .npy), read by slices through makeBlobSource.'
      : 'Files are disk-backed Files picked in the page (bench/browser.ts uploads synthetic .npy files), read by slices through makeBlobSource as a dropped file is.',
    `The model view uses ${WHISPER_LARGE_V3.layers * WHISPER_LARGE_V3.heads} maps of ${plan.modelFrames} frames (large-v3's 32 x 20 heads; fewer frames than 1500).`,
    'The page runs the base case only; the Node suite (npm run bench) adds the large-shaped case and the STEVE peer.',
  ];
  const cases: BenchCase[] = [];
  const throughput: ThroughputResult[] = [];
  const firstMap: FirstMapResult[] = [];
  let kernels: KernelSuiteResult | undefined;
  let render: RenderSuiteResult | undefined;
  let controls: ControlResult[] = [];
  let costs: Record<string, ChangeCost> = {};
  try {
    const baseSource = () => makeBlobSource(baseFile.blob, baseFile.name);
    cases.push({ id: 'base', label: 'Whisper base', shape: base, file: baseFile.name, fileBytes: baseFile.blob.size, scaledFrom: base.rows === 1500 ? undefined : formatShape(WHISPER_BASE) });
    // The two ways a page can read a File into memory it holds, measured against each other (issue 12).
    const readVariants = [
      { id: 'read-into-slices', label: 'read into held memory, parallel Blob.slice', source: makeBlobSource(baseFile.blob, baseFile.name, 'slices') },
      { id: 'read-into-stream', label: 'read into held memory, File.stream()', source: makeBlobSource(baseFile.blob, baseFile.name, 'stream') },
    ];
    throughput.push(await runThroughputSuite(engine, baseSource(), [TYPED_ARRAY_SET], { layers: base.layers, copyReps: 5, readVariants, log }));
    memory.push(snapshot('after the throughput suite', samplePageMemory, engine.memory));

    const warm = await timeFirstMap(engine, () => openAttention(baseSource()), 'warm-up', { layer: 0, head: 0, softmax: 'row', crop }, scene, target, timer);
    log(`warm-up first map: ${warm.totalMs.toFixed(0)} ms (pipelines compiled)`);
    for (const file of plan.loadOnly ? [] : files) {
      log(`time to first map of ${file.name} (${formatShape(file.shape)})`);
      const times: FirstMapTime[] = [];
      for (let rep = 0; rep < plan.firstMapReps; rep++) {
        times.push(await timeFirstMap(engine, () => openAttention(makeBlobSource(file.blob, file.name)), 'first-map', { layer: 0, head: 0, softmax: 'row', crop }, scene, target, timer));
      }
      firstMap.push(summarizeFirstMaps(file.name, file.blob.size, file.shape, `layer 0 head 0, softmax, ${cropFrames}-frame crop`, times));
    }

    kernels = plan.loadOnly ? undefined : await runKernelSuite(device, SHADER_SOURCES, adapterReport.description, {
      frames: base.rows,
      heads: base.heads,
      rolloutFrames: base.rows,
      rolloutLayers: 2,
      reps: plan.reps,
      cpuReps: plan.reps,
      maxMsPerCase: plan.maxMsPerCase,
      log,
    });

    if (!plan.loadOnly) engine.addTensor('base', await openAttention(baseSource()));
    controls = plan.loadOnly ? [] : await runControlSuite(engine, 'base', scene, target, timer, { reps: plan.reps, cropStart, cropFrames, log });
    // Work per change, counted as in the Node suite. No `clock`: a page has no main-thread busy-time clock (Node's
    // eventLoopUtilization), so `jsMs` is left out here rather than estimated.
    costs = plan.loadOnly ? {} : await runCostSuite(engine, 'base', { scene, target, timer }, { grid: 'heads grid', cropStart, cropFrames, log });
    memory.push(snapshot('every layer resident after the control changes', samplePageMemory, engine.memory));
    if (!plan.loadOnly) engine.removeTensor('base');

    render = plan.loadOnly ? undefined : await runRenderSuite(device, SHADER_SOURCES, target, {
      frames: base.rows,
      gridMaps: WHISPER_BASE.layers * WHISPER_BASE.heads,
      gridColumns: WHISPER_BASE.heads,
      modelMaps: WHISPER_LARGE_V3.layers * WHISPER_LARGE_V3.heads,
      modelColumns: WHISPER_LARGE_V3.heads,
      modelFrames: plan.modelFrames,
      framesPerScene: plan.framesPerScene,
      log,
      betweenFrames: nextAnimationFrame,
      onSceneReady: (sceneId, bytes) => memory.push(snapshot(`render ${sceneId}: its maps on the GPU`, samplePageMemory, engine.memory, bytes)),
    });
  } finally {
    scene.destroy();
    timer.destroy();
    engine.destroy();
  }
  const kernelSuites = kernels ? [{ caseId: 'base', ...kernels }] : [];
  const controlResults = controls.map((control) => ({ caseId: 'base', ...control }));
  const result: BenchResult = {
    schema: RESULT_SCHEMA,
    suite: 'browser',
    date,
    durationMs: now() - started,
    adapter: adapterReport,
    host: { platform: navigator.platform, runtime: navigator.userAgent, cpus: navigator.hardwareConcurrency },
    options: { quick: plan.quick, query: location.search },
    notes,
    cases,
    throughput,
    load: summarizeLoad(throughput, 'page'),
    firstMap,
    kernels: kernelSuites,
    render,
    controls: controlResults,
    costs: Object.fromEntries(Object.entries(costs).map(([id, cost]) => [id, { caseId: 'base', ...cost }])),
    memory,
    comparisons: makeComparisons({ kernels: kernelSuites, controls: controlResults }),
  };
  showTables(reportSections(result));
  if (render) plotFrameTimes(element<HTMLCanvasElement>('plot'), render);
  return result;
}

/** The report's sections as HTML tables. */
function showTables(sections: readonly ReportSection[]): void {
  const container = element('tables');
  container.replaceChildren();
  for (const section of sections) {
    const heading = document.createElement('h2');
    heading.textContent = section.title;
    const table = document.createElement('table');
    const head = table.createTHead().insertRow();
    for (const header of section.headers) head.append(Object.assign(document.createElement('th'), { textContent: header }));
    const body = table.createTBody();
    for (const row of section.rows) {
      const tr = body.insertRow();
      for (const cell of row) tr.insertCell().textContent = cell;
    }
    container.append(heading, table);
    for (const note of section.notes ?? []) container.append(Object.assign(document.createElement('p'), { className: 'note', textContent: note }));
  }
}

const PLOT_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** Frame time of every frame of each scene, one line per scene, on a 2D canvas. */
function plotFrameTimes(canvas: HTMLCanvasElement, render: RenderSuiteResult): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  const margin = { left: 60, right: 10, top: 24, bottom: 30 };
  const frames = Math.max(...render.scenes.map((scene) => scene.series.length), 1);
  const maxMs = Math.max(...render.scenes.flatMap((scene) => scene.series), 1) * 1.05;
  const x = (frame: number) => margin.left + (frame / Math.max(1, frames - 1)) * (width - margin.left - margin.right);
  const y = (ms: number) => height - margin.bottom - (ms / maxMs) * (height - margin.top - margin.bottom);
  context.clearRect(0, 0, width, height);
  context.font = '12px sans-serif';
  context.strokeStyle = '#888';
  context.fillStyle = '#333';
  context.beginPath();
  context.moveTo(margin.left, margin.top);
  context.lineTo(margin.left, height - margin.bottom);
  context.lineTo(width - margin.right, height - margin.bottom);
  context.stroke();
  for (let tick = 0; tick <= 4; tick++) {
    const ms = (maxMs * tick) / 4;
    context.fillText(`${ms.toFixed(0)} ms`, 4, y(ms) + 4);
  }
  context.fillText('frame (zoom in, then pan)', width / 2 - 70, height - 8);
  render.scenes.forEach((scene, index) => {
    context.strokeStyle = PLOT_COLOURS[index % PLOT_COLOURS.length];
    context.fillStyle = context.strokeStyle;
    context.beginPath();
    scene.series.forEach((ms, frame) => (frame === 0 ? context.moveTo(x(frame), y(ms)) : context.lineTo(x(frame), y(ms))));
    context.stroke();
    context.fillText(`${scene.label} (median ${scene.frameMs.median.toFixed(0)} ms)`, margin.left + 10 + index * 300, 14);
  });
}

async function start(): Promise<void> {
  document.body.dataset.benchDone = 'running';
  try {
    handle.result = await run();
    log(`done in ${(handle.result.durationMs / 1000).toFixed(1)} s on ${handle.result.adapter.description}`);
    document.body.dataset.benchDone = 'yes';
  } catch (error) {
    handle.error = (error as Error).stack ?? String(error);
    log(`failed: ${(error as Error).message}`);
    document.body.dataset.benchDone = 'error';
  }
}

element<HTMLButtonElement>('run').addEventListener('click', () => void start());
// ?wait: the driver (or a person) picks files first, then presses Run.
if (new URLSearchParams(location.search).has('wait')) {
  document.body.dataset.benchDone = 'idle';
  log('waiting: pick .npy files (optional), then press Run');
} else {
  void start();
}
