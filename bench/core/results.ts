/**
 * The result of a benchmark run (written as JSON to bench/results/<date>-<adapter>.json) and its presentation as
 * tables: the same sections print as text in Node and render as HTML in the page.
 * Pure: no node: modules, no DOM.
 */
import type { AttentionShape } from '../../src/data/tensor.ts';
import type { ControlResult, FirstMapTime } from './controls.ts';
import type { ChangeCost } from './costs.ts';
import type { LoadSummary, ThroughputResult } from './io.ts';
import type { KernelSuiteResult } from './kernels.ts';
import type { MemorySnapshot } from './memory.ts';
import type { RenderSuiteResult } from './render.ts';
import { summarize, type Summary } from './stats.ts';
import { formatShape } from './synthetic.ts';

/** Version of the JSON layout; bump when a field changes meaning. */
export const RESULT_SCHEMA = 'steve-bench/1';

/** The adapter a run used, as the platform describes it. */
export interface AdapterReport {
  /** One line: vendor / architecture / device / description. */
  readonly description: string;
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly driverDescription: string;
  readonly features: readonly string[];
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
  /** A CPU emulation (SwiftShader, llvmpipe, WARP): its timings say nothing about GPU speed. */
  readonly software: boolean;
}

/** A tensor shape the run used, and why. */
export interface BenchCase {
  readonly id: string;
  readonly label: string;
  readonly shape: AttentionShape;
  readonly file?: string;
  readonly fileBytes?: number;
  /** Set when the shape is scaled down from the model it stands for. */
  readonly scaledFrom?: string;
}

/** Time to the first map of one file, over a few openings. */
export interface FirstMapResult {
  readonly file: string;
  readonly fileBytes: number;
  readonly shape: AttentionShape;
  readonly view: string;
  readonly openMs: Summary;
  readonly mapMs: Summary;
  readonly frameMs: Summary;
  readonly totalMs: Summary;
}

/** Time of one STEVE (matplotlib) update region, for the comparison. */
export interface StevePeerRegion {
  readonly frames: readonly [number, number];
  readonly figurePixels: readonly [number, number];
  readonly softmaxMs: Summary;
  readonly drawMs: Summary;
  readonly totalMs: Summary;
}

/** What bench/steve_matplotlib.py reported (bench/node/steve.ts adds more fields). */
export interface StevePeerResult {
  readonly python: string;
  readonly numpy: string;
  readonly matplotlib: string;
  readonly backend: string;
  /** How softmax was computed (numpy here, since torch is not installed). */
  readonly softmax: string;
  readonly regions: { readonly full: StevePeerRegion; readonly crop: StevePeerRegion };
}

/** Ours against a peer, on the same data in the same run. */
export interface Comparison {
  readonly id: string;
  readonly what: string;
  readonly oursLabel: string;
  readonly oursMs: number;
  readonly peerLabel: string;
  readonly peerMs: number;
  /** peerMs / oursMs: above 1 we are faster. */
  readonly speedup: number;
}

/** One whole run. */
export interface BenchResult {
  readonly schema: typeof RESULT_SCHEMA;
  readonly suite: 'node' | 'browser';
  /** ISO 8601, when the run started. */
  readonly date: string;
  readonly durationMs: number;
  readonly adapter: AdapterReport;
  readonly host: {
    readonly platform: string;
    readonly runtime: string;
    readonly cpuModel?: string;
    readonly cpus?: number;
    readonly memoryBytes?: number;
    /** 1-minute load average at the start and the end: other work on the machine slows a software adapter. */
    readonly loadAverage?: { readonly start: number; readonly end: number };
  };
  readonly options: Readonly<Record<string, unknown>>;
  readonly notes: readonly string[];
  readonly cases: readonly BenchCase[];
  readonly throughput: readonly ThroughputResult[];
  /** Issue 12's load target: load.engineOfMemcpy (Node) or load.pageEngineOfMemcpy (page), from bench/core/io.ts. */
  readonly load?: LoadSummary;
  readonly firstMap: readonly FirstMapResult[];
  readonly kernels: readonly ({ readonly caseId: string } & KernelSuiteResult)[];
  readonly render?: RenderSuiteResult;
  readonly controls: readonly ({ readonly caseId: string } & ControlResult)[];
  /** Work per control change (bench/core/costs.ts), by change: head, softmax, layerResident, layerFromFile, wordRange, zoomFrame, headsGrid, modelView. */
  readonly costs?: Readonly<Record<string, { readonly caseId: string } & ChangeCost>>;
  readonly memory: readonly MemorySnapshot[];
  readonly steve?: StevePeerResult | { readonly skipped: string };
  readonly comparisons: readonly Comparison[];
}

/** Summarises first-map times of several openings of one file. */
export function summarizeFirstMaps(file: string, fileBytes: number, shape: AttentionShape, view: string, times: readonly FirstMapTime[]): FirstMapResult {
  return {
    file,
    fileBytes,
    shape,
    view,
    openMs: summarize(times.map((time) => time.openMs)),
    mapMs: summarize(times.map((time) => time.mapMs)),
    frameMs: summarize(times.map((time) => time.frameMs)),
    totalMs: summarize(times.map((time) => time.totalMs)),
  };
}

/** Whether an adapter description names a CPU emulation. */
export function isSoftwareAdapter(description: string): boolean {
  return /swiftshader|llvmpipe|lavapipe|warp|software/i.test(description);
}

/**
 * Ours against the peers measured in the same run: STEVE's update (full map and crop) against our head change,
 * and each kernel against its plain-JS peers (the fastest one).
 */
export function makeComparisons(result: Pick<BenchResult, 'kernels' | 'controls' | 'steve'>): Comparison[] {
  const comparisons: Comparison[] = [];
  const steve = result.steve && 'regions' in result.steve ? result.steve : undefined;
  if (steve) {
    for (const region of ['full', 'crop'] as const) {
      const ours = result.controls.find((control) => control.id === `head-${region}`);
      if (!ours) continue;
      const peer = steve.regions[region];
      comparisons.push({
        id: `steve-update-${region}`,
        what: `update after a head change, ${region === 'full' ? 'full map' : 'crop'} (${peer.frames[1] - peer.frames[0] + 1} frames), softmax on`,
        oursLabel: 'engine: softmax + min/max + frame',
        oursMs: ours.totalMs.median,
        peerLabel: 'STEVE: numpy softmax + imshow(bessel) + set_clim + Agg draw',
        peerMs: peer.totalMs.median,
        speedup: peer.totalMs.median / ours.totalMs.median,
      });
    }
  }
  for (const suite of result.kernels) {
    for (const kernel of suite.kernels) {
      if (kernel.peers.length === 0) continue;
      const fastest = kernel.peers.reduce((best, peer) => (peer.ms.median < best.ms.median ? peer : best));
      comparisons.push({
        id: `${suite.caseId}.${kernel.id}`,
        what: `${kernel.label}: ${kernel.work}`,
        oursLabel: 'GPU dispatch (wall)',
        oursMs: kernel.wallMs.median,
        peerLabel: fastest.label,
        peerMs: fastest.ms.median,
        speedup: fastest.ms.median / kernel.wallMs.median,
      });
    }
  }
  return comparisons;
}

/** A table of the report. */
export interface ReportSection {
  readonly title: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly notes?: readonly string[];
}

/** Milliseconds with three significant digits ("0.412 ms", "12.3 ms", "4210 ms"). */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms >= 100) return `${Math.round(ms)} ms`;
  return `${ms.toPrecision(3)} ms`;
}

/** Bytes in binary units ("432 MiB"). */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 || Math.abs(value) >= 100 ? Math.round(value) : value.toPrecision(3)} ${units[unit]}`;
}

/** A rate with three significant digits. */
export function formatRate(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return `${value >= 100 ? Math.round(value) : value.toPrecision(3)} ${unit}`;
}

/** "34x" when we are faster, "0.25x (4.0x slower)" when not. */
export function formatSpeedup(speedup: number): string {
  if (!Number.isFinite(speedup)) return '-';
  if (speedup >= 1) return `${speedup >= 10 ? Math.round(speedup) : speedup.toFixed(1)}x`;
  return `${speedup.toFixed(2)}x (${(1 / speedup).toFixed(1)}x slower)`;
}

/** Median and p95 as "12.3 ms (p95 14.0 ms)". */
function medianP95(summary: Summary | undefined): string {
  if (!summary) return '-';
  return summary.n > 2 ? `${formatMs(summary.median)} (p95 ${formatMs(summary.p95)})` : formatMs(summary.median);
}

/** The report's tables, in reading order. */
export function reportSections(result: BenchResult): ReportSection[] {
  const sections: ReportSection[] = [];
  sections.push({
    title: 'Run',
    headers: ['', ''],
    rows: [
      ['suite', result.suite],
      ['date', result.date],
      ['adapter', `${result.adapter.description}${result.adapter.software ? ' (software: a CPU emulation of a GPU)' : ''}`],
      ['timestamp-query', result.adapter.features.includes('timestamp-query') ? 'yes' : 'no (wall time around onSubmittedWorkDone)'],
      ['host', [result.host.platform, result.host.cpuModel, result.host.cpus && `${result.host.cpus} cores`, result.host.memoryBytes && formatBytes(result.host.memoryBytes), result.host.runtime].filter(Boolean).join(', ')],
      ...(result.host.loadAverage ? [['load average (1 min)', `${result.host.loadAverage.start.toFixed(2)} at start, ${result.host.loadAverage.end.toFixed(2)} at end`]] : []),
      ['duration', formatMs(result.durationMs)],
      ...result.cases.map((benchCase) => [
        `case ${benchCase.id}`,
        `${benchCase.label}: ${formatShape(benchCase.shape)}${benchCase.fileBytes ? `, ${formatBytes(benchCase.fileBytes)} file` : ''}${benchCase.scaledFrom ? ` (scaled from ${benchCase.scaledFrom})` : ''}`,
      ]),
    ],
    notes: result.notes,
  });
  if (result.throughput.length > 0) {
    sections.push({
      title: '1. Read + parse + upload throughput (vs a memory copy of the same bytes, same run)',
      headers: ['file', 'step', 'bytes', 'median', 'MB/s', 'of memcpy'],
      rows: result.throughput.flatMap((file) => [
        ...file.memcpy.map((step) => [fileName(file.file), `memcpy: ${step.label}`, formatBytes(step.bytes), formatMs(step.ms.median), formatRate(step.mbPerSec, 'MB/s'), '']),
        ...(file.firstTouch ? [file.firstTouch] : []).map((step) => [
          fileName(file.file),
          `first touch: ${step.label}`,
          formatBytes(step.bytes),
          formatMs(step.ms.median),
          formatRate(step.mbPerSec, 'MB/s'),
          `${((step.shareOfMemcpy ?? 0) * 100).toPrecision(3)}%`,
        ]),
        ...file.steps.map((step) => [
          fileName(file.file),
          step.label,
          formatBytes(step.bytes),
          formatMs(step.ms.median),
          formatRate(step.mbPerSec, 'MB/s'),
          step.shareOfMemcpy === undefined ? '' : `${(step.shareOfMemcpy * 100).toPrecision(3)}%`,
        ]),
      ]),
    });
  }
  if (result.firstMap.length > 0) {
    sections.push({
      title: '1b. Time to first map of a file read by slices (should not grow with file size)',
      headers: ['file', 'size', 'shape', 'view', 'open', 'map (read+upload+compute)', 'frame', 'total'],
      rows: result.firstMap.map((first) => [
        fileName(first.file),
        formatBytes(first.fileBytes),
        formatShape(first.shape),
        first.view,
        formatMs(first.openMs.median),
        formatMs(first.mapMs.median),
        formatMs(first.frameMs.median),
        medianP95(first.totalMs),
      ]),
    });
  }
  for (const suite of result.kernels) {
    const bandwidth = 'gbPerSec' in suite.deviceBandwidth ? `${suite.deviceBandwidth.gbPerSec} GB/s (${suite.deviceBandwidth.source})` : suite.deviceBandwidth.unknown;
    sections.push({
      title: `2. Compute kernels, case ${suite.caseId} (${suite.timestampQuery ? 'GPU timestamps' : 'wall time'}; device bandwidth: ${bandwidth})`,
      headers: ['kernel', 'work', 'GPU', 'wall', 'GB/s', 'peer (plain JS)', 'peer', 'speedup'],
      rows: suite.kernels.flatMap((kernel) => {
        const first = [
          kernel.label,
          kernel.work,
          formatMs(kernel.gpuMs?.median),
          formatMs(kernel.wallMs.median),
          `${formatRate(kernel.gbPerSec, 'GB/s')}${kernel.bandwidthShare !== undefined ? ` (${(kernel.bandwidthShare * 100).toPrecision(2)}%)` : ''}${kernel.gflopPerSec !== undefined ? `, ${formatRate(kernel.gflopPerSec, 'GFLOP/s')}` : ''}`,
        ];
        if (kernel.peers.length === 0) return [[...first, '', '', '']];
        return kernel.peers.map((peer, index) => [...(index === 0 ? first : ['', '', '', '', '']), peer.label, formatMs(peer.ms.median), formatSpeedup(peer.speedup)]);
      }),
      notes: suite.kernels.filter((kernel) => kernel.note).map((kernel) => `${kernel.label}: ${kernel.note}`),
    });
  }
  if (result.render) {
    const render = result.render;
    sections.push({
      title: `3. Rendering while zooming and panning (${render.target.width} x ${render.target.height} ${render.target.kind}, ${render.target.format})`,
      headers: ['scene', 'maps', 'frames/map side', 'cell px', 'map memory', 'frame (wall)', 'GPU', 'fps'],
      rows: render.scenes.map((scene) => [
        scene.label,
        String(scene.maps),
        String(scene.mapFrames),
        String(scene.cellPixels),
        formatBytes(scene.mapBytes),
        medianP95(scene.frameMs),
        formatMs(scene.gpuMs?.median),
        formatRate(scene.fps, 'fps'),
      ]),
      notes: render.scenes.filter((scene) => scene.note).map((scene) => `${scene.label}: ${scene.note}`),
    });
  }
  if (result.controls.length > 0) {
    sections.push({
      title: '3b. Control change to new frame (engine: computeMap + computeStats + range read back + frame)',
      headers: ['case', 'region', 'change', 'total', 'map', 'frame'],
      rows: result.controls.map((control) => [control.caseId, control.region, control.label, medianP95(control.totalMs), formatMs(control.mapMs.median), formatMs(control.frameMs.median)]),
    });
  }
  if (result.costs && Object.keys(result.costs).length > 0) {
    sections.push({
      title: '3c. Work per control change (goal: 1 submit, 0 blocking readbacks, kernel bytes within 2x of the minimum)',
      headers: ['change', 'case', 'maps', 'submits', 'blocking readbacks', 'dispatches', 'kernel bytes', 'of minimum', 'main thread'],
      rows: Object.entries(result.costs).map(([id, cost]) => [
        id,
        cost.caseId,
        String(cost.maps),
        String(cost.submits),
        String(cost.blockingReadbacks),
        String(cost.dispatches),
        formatBytes(cost.kernelBytes),
        cost.minimumKernelBytes > 0 ? `${cost.kernelBytesOfMinimum.toFixed(2)}x` : '-',
        formatMs(cost.jsMs),
      ]),
      notes: Object.entries(result.costs).map(([id, cost]) => `${id}: ${cost.what}`),
    });
  }
  if (result.steve) {
    if ('regions' in result.steve) {
      const steve = result.steve;
      sections.push({
        title: "Peer: STEVE's per-update path (numpy softmax, imshow interpolation='bessel', set_clim, Agg canvas draw)",
        headers: ['region', 'figure px', 'softmax', 'draw', 'STEVE total', 'ours (head change)', 'speedup'],
        rows: (['full', 'crop'] as const).map((region) => {
          const peer = steve.regions[region];
          const ours = result.controls.find((control) => control.id === `head-${region}`);
          return [
            `${region} (frames ${peer.frames[0]}..${peer.frames[1]})`,
            peer.figurePixels.join(' x '),
            formatMs(peer.softmaxMs.median),
            formatMs(peer.drawMs.median),
            formatMs(peer.totalMs.median),
            formatMs(ours?.totalMs.median),
            ours ? formatSpeedup(peer.totalMs.median / ours.totalMs.median) : '-',
          ];
        }),
        notes: [
          `softmax: ${steve.softmax}; Python ${steve.python}, numpy ${steve.numpy}, matplotlib ${steve.matplotlib} (${steve.backend} backend)`,
          'STEVE draws with fig.canvas.draw_idle(); the script calls fig.canvas.draw() so that the drawing itself is timed.',
        ],
      });
    } else {
      sections.push({ title: "Peer: STEVE's per-update path", headers: [''], rows: [[`not measured: ${result.steve.skipped}`]] });
    }
  }
  if (result.memory.length > 0) {
    sections.push({
      title: '4. Memory (JS heap and GPU bytes resident)',
      headers: ['when', 'JS heap used', 'RSS', 'ArrayBuffers', 'engine resident (budget)', 'bench GPU buffers'],
      rows: result.memory.map((entry) => [
        entry.label,
        formatBytes(entry.host.jsHeapUsedBytes),
        formatBytes(entry.host.rssBytes),
        formatBytes(entry.host.arrayBuffersBytes),
        entry.engine ? `${formatBytes(entry.engine.residentBytes)} (${formatBytes(entry.engine.budgetBytes)}), ${entry.engine.chunks} chunk(s)` : '-',
        formatBytes(entry.benchGpuBytes),
      ]),
    });
  }
  if (result.comparisons.length > 0) {
    sections.push({
      title: 'Ratios to the peers (same data, same run; speedup = peer time / our time)',
      headers: ['what', 'ours', 'peer', 'speedup'],
      rows: result.comparisons.map((comparison) => [
        comparison.what,
        `${comparison.oursLabel}: ${formatMs(comparison.oursMs)}`,
        `${comparison.peerLabel}: ${formatMs(comparison.peerMs)}`,
        formatSpeedup(comparison.speedup),
      ]),
      notes: result.adapter.software
        ? ['The adapter is a CPU emulation of a GPU: these ratios compare two CPU programs and prove nothing about GPU speed.']
        : [],
    });
  }
  return sections;
}

/** Sections as aligned plain-text tables. */
export function formatText(sections: readonly ReportSection[]): string {
  const out: string[] = [];
  for (const section of sections) {
    out.push('', `== ${section.title}`);
    const table = [section.headers, ...section.rows].map((row) => row.map((cell) => cell ?? ''));
    const widths = section.headers.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
    table.forEach((row, index) => {
      out.push(row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ').trimEnd());
      if (index === 0 && section.headers.some((header) => header)) out.push(widths.map((width) => '-'.repeat(width)).join('  '));
    });
    for (const note of section.notes ?? []) out.push(`  note: ${note}`);
  }
  return out.join('\n');
}

/** The part of a path after the last slash. */
function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** "2025-06-01-google-swiftshader": a file name for a result. */
export function resultFileStem(date: string, adapter: AdapterReport, suite: 'node' | 'browser'): string {
  const day = date.slice(0, 19).replace(/:/g, '').replace('T', '-');
  const slug = [adapter.vendor, adapter.architecture || adapter.device]
    .filter(Boolean)
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `${day}-${slug || 'unknown-adapter'}${suite === 'browser' ? '-browser' : ''}`;
}
