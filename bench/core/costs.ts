/**
 * The work one control change gives the GPU, counted rather than timed, so that it can be judged on any adapter:
 * command buffers submitted, blocking readbacks before the new frame, compute dispatches, the bytes the kernels
 * declare they read and write (src/gpu/workCounters.ts), and main-thread milliseconds.
 *
 * Each change is made the way the viewer makes it (src/ui/viewRun.ts computeAndDraw, the very function): every map
 * and its stats by engine.computeMaps, the colour ranges by ColorRangePass and the frame, in one command buffer; the
 * colour bar's numbers read back after the frame (not counted). `<change>PerCell` keeps the viewer's old path as the
 * baseline of the same run: for every cell computeMap then computeStats, the first cell's stats read back, then the
 * frame. A "zoom frame" is the frame alone.
 *
 * kernelBytes is set against a minimum: every map read once from storage (the normalised columns of each output
 * row when softmaxed) and every output written once as f32. The goal of issue 12 is kernelBytes within 2x of it,
 * 1 submit and 0 blocking readbacks whatever the number of maps.
 *
 * Runs in Node and in the page: nothing here touches node: modules or the DOM.
 */
import type { AttentionEngine, AttentionMapRequest, ComputedMap, ComputedStats, WorkCounts } from '../../src/engine.ts';
import { MAP_STATS_MIN_WORD } from '../../src/engine.ts';
import { resolveAttentionSelection } from '../../src/compute/mapRequest.ts';
import { fullCrop, normalisedColumns } from '../../src/compute/region.ts';
import type { AttentionShape } from '../../src/data/tensor.ts';
import { storageBytes, type StorageFormat } from '../../src/gpu/storageFormat.ts';
import { workSince } from '../../src/gpu/workCounters.ts';
import { ColorRangePass, readGathered } from '../../src/compute/colorRange.ts';
import { computeAndDraw } from '../../src/ui/viewRun.ts';
import type { GpuTimer } from './gpuTimer.ts';
import { layoutSingle, type BenchScene, type FrameTarget } from './render.ts';

/** What one change cost. */
export interface ChangeCost extends WorkCounts {
  /** Maps the change computes. */
  readonly maps: number;
  /**
   * Main-thread milliseconds from the change to the frame done on the GPU (Node: event-loop busy time, which
   * includes Dawn's polling while it waits); absent without a clock.
   */
  readonly jsMs?: number;
  /** The least kernelBytes the change needs: each input read once, each output written once. */
  readonly minimumKernelBytes: number;
  /** kernelBytes / minimumKernelBytes (goal: at most 2). */
  readonly kernelBytesOfMinimum: number;
  /** What was changed, in words. */
  readonly what: string;
}

/** What a change left on screen, freed when the next change replaces it: maps, stats and the viewer's ranges buffer. */
export interface Shown {
  readonly cells: readonly { map: ComputedMap; stats: ComputedStats }[];
  readonly ranges?: GPUBuffer;
}

/** Reads a main-thread busy-time clock in ms (Node: performance.eventLoopUtilization().active). */
export type MainThreadClock = () => number;

/** The least bytes an attention request's kernels must move: each selected map read once, the output written once. */
export function minimumBytesOf(request: AttentionMapRequest, shape: AttentionShape, format: StorageFormat): number {
  const crop = request.crop ?? fullCrop(shape.rows, shape.cols);
  const outRows = crop.rowEnd - crop.rowStart;
  const outCols = crop.colEnd - crop.colStart;
  const [normStart, normEnd] = normalisedColumns(request.softmax, crop, shape.cols);
  const readCols = request.softmax === 'none' ? outCols : Math.max(outCols, normEnd - normStart);
  const { layers, heads } = resolveAttentionSelection(request, shape);
  return layers.length * heads.length * storageBytes(format, outRows * readCols) + outRows * outCols * 4;
}

/**
 * Shows `requests` as the viewer did before it used computeMaps (one cell each), counting the work from the first
 * computeMap to the frame's submit. The maps and stats it made are returned for the caller to free.
 */
export async function measurePerCellChange(
  engine: AttentionEngine,
  requests: readonly AttentionMapRequest[],
  frame: { scene: BenchScene; target: FrameTarget; timer: GpuTimer },
  what: string,
  clock?: MainThreadClock,
): Promise<{ cost: ChangeCost; shown: Shown }> {
  const before = engine.workCounts;
  const busyBefore = clock?.();
  const shown: { map: ComputedMap; stats: ComputedStats }[] = [];
  for (const request of requests) {
    const map = await engine.computeMap(request);
    const stats = await engine.computeStats(map, { bins: 0 });
    shown.push({ map, stats });
  }
  await shown[0]?.stats.read();
  const first = shown[0];
  if (first) showFirstMap(frame, first.map, first.stats.stats, MAP_STATS_MIN_WORD);
  // The frame's own work is counted (one submit); its timing is the render suite's business.
  await frame.scene.drawFrame(frame.target, frame.timer);
  const busyAfter = clock?.();
  return { cost: changeCost(engine, requests, workSince(before, engine.workCounts), busyBefore, busyAfter, what), shown: { cells: shown } };
}

/** A change's cost: its work, main-thread time, and kernel bytes against the least its requests must move. */
function changeCost(
  engine: AttentionEngine,
  requests: readonly AttentionMapRequest[],
  work: WorkCounts,
  busyBefore: number | undefined,
  busyAfter: number | undefined,
  what: string,
): ChangeCost {
  let minimum = 0;
  for (const request of requests) minimum += minimumBytesOf(request, engine.tensorShape(request.tensorId), engine.storage);
  return {
    ...work,
    maps: requests.length,
    jsMs: busyBefore !== undefined && busyAfter !== undefined ? busyAfter - busyBefore : undefined,
    minimumKernelBytes: minimum,
    kernelBytesOfMinimum: minimum > 0 ? work.kernelBytes / minimum : 0,
    what,
  };
}

/** The bench frame shows the change's first map, coloured from words `rangeWord`, `rangeWord + 1` of `range`. */
function showFirstMap(frame: { scene: BenchScene; target: FrameTarget }, map: ComputedMap, range: GPUBuffer, rangeWord: number): void {
  const cell = { values: map.buffer, rows: map.rows, cols: map.cols, range, rangeWord };
  if (frame.scene.cellCount === 0) frame.scene.setCells([cell], [layoutSingle(frame.target.width, frame.target.height)]);
  else frame.scene.replaceMap(0, cell);
}

/** The viewer's ColorRangePass per device. */
const colorRangePasses = new WeakMap<GPUDevice, Promise<ColorRangePass>>();

/**
 * Shows `requests` as the viewer does (computeAndDraw: one command buffer for the maps, their stats, the colour ranges
 * and the frame), counting the work up to the frame's submit; the colour bar's numbers are read after it.
 */
export async function measureViewerChange(
  engine: AttentionEngine,
  requests: readonly AttentionMapRequest[],
  frame: { scene: BenchScene; target: FrameTarget; timer: GpuTimer },
  what: string,
  clock?: MainThreadClock,
): Promise<{ cost: ChangeCost; shown: Shown }> {
  let colorRange = colorRangePasses.get(engine.device);
  if (!colorRange) colorRangePasses.set(engine.device, (colorRange = ColorRangePass.create(engine.device, frame.scene.shaders)));
  const pass = await colorRange;
  const busyBefore = clock?.();
  const { results, ranges, work } = await computeAndDraw(engine, requests, { shared: true, symmetric: false, log: false }, {
    colorRange: pass,
    draw: (encoder, results, gathered) => {
      if (results[0]) showFirstMap(frame, results[0].map, gathered.ranges, 0);
      frame.scene.encodeFrame(encoder, frame.target);
    },
  });
  await engine.device.queue.onSubmittedWorkDone();
  const busyAfter = clock?.();
  // The colour bar's numbers, after the frame.
  await readGathered(engine.device, ranges);
  ranges.scratch.forEach((buffer) => buffer.destroy());
  return {
    cost: changeCost(engine, requests, work, busyBefore, busyAfter, `${what}; as the viewer: computeMaps, GPU colour ranges and the frame in one command buffer, stats read after the frame`),
    shown: { cells: results.map(({ map, stats }) => ({ map, stats: stats! })), ranges: ranges.ranges },
  };
}

/** The cost of one frame with nothing recomputed (a zoom or pan step). */
export async function measureFrameOnly(
  engine: AttentionEngine,
  frame: { scene: BenchScene; target: FrameTarget; timer: GpuTimer },
  clock?: MainThreadClock,
): Promise<ChangeCost> {
  const before = engine.workCounts;
  const busyBefore = clock?.();
  await frame.scene.drawFrame(frame.target, frame.timer);
  const busyAfter = clock?.();
  return {
    ...workSince(before, engine.workCounts),
    maps: 0,
    jsMs: busyBefore !== undefined && busyAfter !== undefined ? busyAfter - busyBefore : undefined,
    minimumKernelBytes: 0,
    kernelBytesOfMinimum: 0,
    what: 'one zoom frame: the maps on screen drawn again with a new transform',
  };
}

/** Sizes of the cost suite. */
export interface CostSuiteConfig {
  /** The "3 words" crop (first frame, frames) that the word-range change moves by a third of its width. */
  readonly cropStart: number;
  readonly cropFrames: number;
  /** Also measure the grid of every (layer, head) of the tensor ('heads grid' or 'model view'). */
  readonly grid?: 'heads grid' | 'model view';
  /** Only the grid (the other changes are measured on another case). */
  readonly gridOnly?: boolean;
  readonly clock?: MainThreadClock;
  readonly log?: (line: string) => void;
}

/**
 * The costs of the changes of issue 12 on one tensor: head, softmax toggle, layer (resident and read from the
 * file), word range, one zoom frame, and the grid of all maps. Leaves the engine's budget as it found it.
 */
export async function runCostSuite(
  engine: AttentionEngine,
  tensorId: string,
  frame: { scene: BenchScene; target: FrameTarget; timer: GpuTimer },
  config: CostSuiteConfig,
): Promise<Record<string, ChangeCost>> {
  const log = config.log ?? (() => {});
  const shape = engine.tensorShape(tensorId);
  const costs: Record<string, ChangeCost> = {};
  let shown: Shown = { cells: [] };
  const free = ({ cells, ranges }: Shown) => (cells.forEach((cell) => (cell.map.destroy(), cell.stats.destroy())), ranges?.destroy());
  // Each change twice: as the viewer makes it, then by the old per-cell path (`<id>PerCell`) on the same maps.
  const change = async (id: string, requests: AttentionMapRequest[], what: string, perCell = true) => {
    for (const [key, measure] of [[id, measureViewerChange], ...(perCell ? [[`${id}PerCell`, measurePerCellChange] as const] : [])] as const) {
      const result = await measure(engine, requests, frame, what, config.clock);
      free(shown);
      shown = result.shown;
      costs[key] = result.cost;
    }
  };
  const view = (layer: number, head: number, softmax: 'none' | 'row', crop?: AttentionMapRequest['crop']): AttentionMapRequest => ({
    kind: 'attention',
    tensorId,
    layer,
    head,
    softmax,
    crop,
  });
  const budget = engine.memory.budgetBytes;
  const heads = Math.min(2, shape.heads);
  try {
    frame.scene.setCells([], []);
    if (!config.gridOnly) {
      log('costs: head, softmax, layer, word range, zoom frame');
      // Warm: pipelines compiled, layer 0 uploaded.
      await change('warm', [view(0, 0, 'row')], 'warm-up');
      delete costs.warmPerCell;
      await change('head', [view(0, heads - 1, 'row')], 'head change, full map, softmax on, layer resident');
      await change('softmax', [view(0, heads - 1, 'none')], 'softmax off, full map');
      await engine.prefetch(tensorId);
      const otherLayer = Math.min(1, shape.layers - 1);
      await change('layerResident', [view(otherLayer, heads - 1, 'row')], 'layer change, full map, layer resident');
      if (shape.layers > 2) {
        // Budget of one layer: the next layer is read from the file and uploaded inside the change.
        engine.setBudget(storageBytes(engine.storage, shape.heads * shape.rows * shape.cols));
        await change('layerFromFile', [view(2, heads - 1, 'row')], 'layer change, full map, layer read from the file and uploaded', false);
        // Layer 2 is now the one resident layer: the per-cell change goes to layer 1, read from the file again.
        const last = await measurePerCellChange(engine, [view(1, heads - 1, 'row')], frame, 'layer change, full map, layer read from the file and uploaded', config.clock);
        free(shown);
        shown = last.shown;
        costs.layerFromFilePerCell = last.cost;
        engine.setBudget(budget);
      }
      const cropFrames = Math.min(config.cropFrames, shape.rows);
      const start = Math.min(config.cropStart, shape.rows - cropFrames);
      const moved = Math.min(start + Math.max(1, Math.floor(cropFrames / 3)), shape.rows - cropFrames);
      const crop = (first: number) => ({ rowStart: first, rowEnd: first + cropFrames, colStart: first, colEnd: first + cropFrames });
      await change('warmRange', [view(2 % shape.layers, 0, 'row', crop(start))], 'warm-up');
      await change('wordRange', [view(2 % shape.layers, 0, 'row', crop(moved))], `word range moved by ${moved - start} frames (${cropFrames}-frame crop, softmax over the whole row)`);
      costs.zoomFrame = await measureFrameOnly(engine, frame, config.clock);
      delete costs.warm;
      delete costs.warmRange;
      delete costs.warmRangePerCell;
    }
    if (config.grid) {
      log(`costs: ${config.grid} (${shape.layers * shape.heads} maps)`);
      const all: AttentionMapRequest[] = [];
      for (let layer = 0; layer < shape.layers; layer++) for (let head = 0; head < shape.heads; head++) all.push(view(layer, head, 'row'));
      const id = config.grid === 'heads grid' ? 'headsGrid' : 'modelView';
      await change(id, all, `${config.grid}: every layer x head of ${shape.layers} x ${shape.heads}, ${shape.rows}-frame maps, softmax on`);
    }
  } finally {
    engine.setBudget(budget);
    free(shown);
    frame.scene.setCells([], []);
  }
  return costs;
}
