/**
 * One run of a view in the live viewer: the plan's maps and their stats computed by engine.computeMaps, each map's
 * colour range made on the GPU (ColorRangePass) and the frame recorded into the same command buffer, so a control
 * change is one submit with nothing read back before it is on screen. The colour bar's numbers come after the frame:
 * the gathered stats are read back (one readback whatever the number of maps; two with a percentile scale's
 * histograms) and the shared rule (makeColorScale) gives the bar its ends and ticks.
 *
 * A grid too large for all its full maps at once (./pyramidCells.ts pyramidGroups: the model view of a large model) is
 * computed in groups instead, one submit each, keeping the stats and, pooled from each full map while it is alive, the
 * pyramid level its first frame draws; that frame, one more submit, draws every cell from its pyramid.
 *
 * Progress: after each map is recorded and after each step of a long map (rollout: one product per layer). Cancel:
 * aborting the signal stops before the next map, step or group; GPU work already submitted (finished rollout steps,
 * groups) completes.
 * Also here, pure: which params changes need new maps, and the plan of the params over the loaded utterances.
 */
import type { PyramidLevels } from '../render/pyramidLevels.ts';
import { readGathered, type ColorRangePass, type ColorRangeRule, type EncodedColorRanges } from '../compute/colorRange.ts';
import type { WordSelection } from '../data/frames.ts';
import { ComputeCancelledError, type AttentionEngine, type ComputedMap, type ComputedStats, type ComputeMapsProgress, type MapRequest, type MapShape, type MapWithStats } from '../engine.ts';
import type { ColormapName } from '../view/spec.ts';
import { submitCounted, workSince, type WorkCounts } from '../gpu/workCounters.ts';
import type { SceneCell } from '../render/mapScene.ts';
import type { ColorScale } from '../view/colorScale.ts';
import { makeColorScale } from '../view/colorScale.ts';
import type { MapMarks, PlannedCell, ViewPlan } from '../view/plan.ts';
import { planView, spanOf } from '../view/plan.ts';
import type { ColorbarSpec } from './colorbar.ts';
import type { Rect } from './layout.ts';
import type { LoadedUtterance } from './loadFiles.ts';
import type { LoadedNames, ViewerParams } from './params.ts';
import { otherUtterance, specFromParams } from './params.ts';
import { cellLevelRequest, cellPyramid, pyramidGroups } from './pyramidCells.ts';
import type { LevelKey } from '../render/pyramidLevels.ts';
import type { FrameRect } from '../view/pyramidWindow.ts';

/** Histogram bins per map when the scale is a percentile clip. */
const PERCENTILE_BINS = 256;

/** One map on screen: a planned cell with its labels and lines, its place, its computed map and its colour range. */
export interface Cell extends PlannedCell {
  readonly marks: MapMarks;
  /** The words behind its frames, and the first frame of its rows and columns (0 for a pooled map). */
  readonly selection?: WordSelection;
  readonly frameOrigin: number;
  /** A pooled map's rows and columns are segments: their labels. */
  readonly segmentLabels?: readonly string[];
  rect: Rect;
  rows: number;
  cols: number;
  map?: ComputedMap;
  /** A grid cell's pyramid (./pyramidCells.ts): drawn from once it holds a level; the full map is then freed. */
  levels?: PyramidLevels;
  stats?: ComputedStats;
  /** Its colours' [low, high] on the GPU: words rangeWord and rangeWord + 1 of rangeBuffer (shared by the cells of a run). */
  rangeBuffer?: GPUBuffer;
  rangeWord: number;
  /** Drawn on a log scale. */
  log: boolean;
  /** The values its bottom and top colours stand for (shared by a grid unless per-map): known after the frame. */
  scale?: ColorScale;
}

/** What the viewer reports once a view is on screen, for the title, the colour bar, the debug panel and tests. */
export interface ViewInfo {
  utterance: LoadedUtterance;
  plan: ViewPlan;
  selection?: WordSelection;
  /** First frame of the first map's rows and columns (the crop start). */
  frameOrigin: number;
  rows: number;
  cols: number;
  cells: readonly Cell[];
  /** One colour bar: the view's scale (a per-map grid: the first map's, its ends "min" and "max"). */
  colorbar: ColorbarSpec;
  /** What the control change cost up to its frame's submit (before the colour bar's readback). */
  work: WorkCounts;
}

/** A run on screen (its stats may still be gathered for the colour bar). */
export type ShownRun = Omit<ViewRun, 'work'>;

/** What a run gives the viewer: its cells, the ranges buffer they share, and what its frame cost. */
export interface ViewRun {
  readonly cells: Cell[];
  readonly ranges: GPUBuffer;
  /** Work from the start of the run up to its frame's submit (before the colour bar's readback), less otherSubmits. */
  readonly work: WorkCounts;
  /** The scale over all maps (the colour bar's when shared); set by readColorbar(). */
  shared?: ColorScale;
  /** The gathered stats, until readColorbar() has read and freed them. */
  gathered?: EncodedColorRanges;
  /**
   * Its cells draw from map pyramids: a grid computed in groups, its full maps already freed (their pyramids made
   * by runView when given GridPyramids, else to be attached: attachPyramids).
   */
  readonly pyramids: boolean;
}

/** What runView needs to give a grid computed in groups its pyramids, filled for the first frame. */
export interface GridPyramids {
  /**
   * What each cell's first frame will ask of its pyramid, the cells placed as that frame will place them (the
   * viewer: MapCanvas.firstLevels, MapScene's own decision): the level factor and the frames in view; undefined for a
   * cell the frame does not draw. `unzoomed`: what it would ask with the zoom reset.
   */
  readonly firstLevels: (cells: readonly Cell[], unzoomed?: boolean) => readonly ({ readonly factor: number; readonly frames?: FrameRect } | undefined)[];
  /** A level a later frame asked for has arrived (redraw), or could not be built. */
  readonly onReady: () => void;
  readonly onError: (error: Error) => void;
}

/** What computeAndDraw needs besides the requests. */
export interface ComputeAndDrawOptions {
  readonly colorRange: ColorRangePass;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ComputeMapsProgress) => void;
  /** Submits made meanwhile for other work, not counted as this change's: the viewer's redraws of the old maps. */
  readonly otherSubmits?: () => number;
  /** Records the frame of the maps, coloured from `ranges` (map i at words 2i, 2i + 1), into `encoder`. */
  readonly draw: (encoder: GPUCommandEncoder, results: readonly MapWithStats[], ranges: EncodedColorRanges) => void;
}

/**
 * The viewer's path for a control change (also what bench/core/costs.ts measures): `requests` and their stats by
 * engine.computeMaps, the colour ranges by ColorRangePass, and the frame, all in its one command buffer. Returns the
 * maps and ranges (the caller's) and the work up to the frame's submit. Rejects with ComputeCancelledError when
 * aborted; then, and on any error, everything made is freed.
 */
export async function computeAndDraw(
  engine: AttentionEngine,
  requests: readonly MapRequest[],
  rule: ColorRangeRule,
  { colorRange, signal, onProgress, otherSubmits = () => 0, draw }: ComputeAndDrawOptions,
): Promise<{ results: MapWithStats[]; ranges: EncodedColorRanges; work: WorkCounts }> {
  const bins = rule.percentile ? PERCENTILE_BINS : 0;
  const workSoFar = countWork(engine, otherSubmits);
  let ranges: EncodedColorRanges | undefined;
  const finish = (encoder: GPUCommandEncoder, results: readonly MapWithStats[]) => {
    ranges = encodeRanges(colorRange, encoder, results.map((result) => result.stats!), rule, bins);
    try {
      draw(encoder, results, ranges);
    } catch (error) {
      // computeMaps frees the maps when the frame cannot be recorded; the ranges are ours to free.
      [ranges.ranges, ...ranges.scratch].forEach((buffer) => buffer.destroy());
      throw error;
    }
  };
  const results = await engine.computeMaps(requests, { stats: { bins }, finish, signal, onProgress });
  return { results, ranges: ranges!, work: workSoFar() };
}

/** Counts the engine's work from now on: what it returns is the work since, less the submits of `otherSubmits` (the viewer's redraws) meanwhile. */
function countWork(engine: AttentionEngine, otherSubmits: () => number): () => WorkCounts {
  const before = engine.workCounts;
  const othersBefore = otherSubmits();
  return () => {
    const work = workSince(before, engine.workCounts);
    return { ...work, submits: work.submits - (otherSubmits() - othersBefore) };
  };
}

/** Each map's colour range from its stats (ColorRangePass, on the GPU), recorded into `encoder`. */
function encodeRanges(colorRange: ColorRangePass, encoder: GPUCommandEncoder, stats: readonly ComputedStats[], rule: ColorRangeRule, bins: number): EncodedColorRanges {
  return colorRange.encode(encoder, stats.map((mapStats) => ({ stats: mapStats.stats, histogram: mapStats.histogram })), rule, bins, 'Viewer.range');
}

/** runView's options: `show` puts the run on screen and records its frame; `pyramids` (a grid computed in groups) see GridPyramids. */
type GroupOptions = Omit<ComputeAndDrawOptions, 'draw'> & { readonly show: (encoder: GPUCommandEncoder, run: ShownRun) => void; readonly pyramids?: GridPyramids };

/**
 * Computes the plan's maps and shows them through `show` in one submit (computeAndDraw), as cells; a grid whose full
 * maps are too large to hold at once (pyramidGroups) in groups, then its frame (computeInGroups).
 */
export async function runView(
  engine: AttentionEngine,
  plan: ViewPlan,
  options: GroupOptions,
): Promise<ViewRun> {
  const rule = rangeRule(plan);
  const grouping = await pyramidGroups(engine, plan);
  if (grouping) return computeInGroups(engine, plan, grouping, rule, options);
  let run: ShownRun | undefined;
  const draw = (encoder: GPUCommandEncoder, results: readonly MapWithStats[], gathered: EncodedColorRanges) => {
    const cells = results.map(({ map, stats }, i) => planCell(plan, i, map, map, stats!, gathered.ranges, rule));
    run = { cells, ranges: gathered.ranges, gathered, pyramids: false };
    options.show(encoder, run);
  };
  const { work } = await computeAndDraw(engine, plan.cells.map((cell) => cell.request), rule, { ...options, draw });
  return { ...run!, work };
}

/**
 * A pyramid grid's run: each group of maps (`groups`, [start, end) of the plan's cells) and their stats by
 * engine.computeMaps, the group's maps freed, and its GPU work waited for, before the next, so that full maps of one
 * group at most are alive at once; the stats are kept (small). With `pyramids`, each cell gets its pyramid first, and
 * the level its first frame will draw (GridPyramids.firstLevels) is pooled from its full map in the same submit
 * (computeMaps' keep: the kernels and request a later build would use, so the same values and the same engine cache
 * entry) and held by its pyramid: no map is computed again for the first frame. A grid shown zoomed wants windows of
 * its levels, which are not made so: each cell gets the whole level it would draw unzoomed instead, which its first
 * frame draws (coarser, and said so) while the pyramid builds the window, as when a user zooms into a grid. Then the colour
 * ranges from every map's stats (the same as computed together: the bar is unchanged) and the frame, one more submit.
 */
async function computeInGroups(
  engine: AttentionEngine,
  plan: ViewPlan,
  { groups, shapes }: { readonly groups: readonly [number, number][]; readonly shapes: readonly MapShape[] },
  rule: ColorRangeRule,
  { colorRange, signal, onProgress, otherSubmits = () => 0, show, pyramids }: GroupOptions,
): Promise<ViewRun> {
  const bins = rule.percentile ? PERCENTILE_BINS : 0;
  const workSoFar = countWork(engine, otherSubmits);
  const total = plan.cells.length;
  const cells = shapes.map((shape, i) => planCell(plan, i, shape, undefined, undefined, undefined, rule));
  const release = () => cells.forEach((cell) => (cell.levels?.destroy(), cell.stats?.destroy()));
  try {
    const firstKeys = pyramids ? firstLevelKeys(engine, cells, pyramids) : [];
    for (const [start, end] of groups) {
      // The previous group's maps, destroyed after their submit, are freed once the GPU is done with them.
      if (start > 0) await engine.device.queue.onSubmittedWorkDone();
      const results = await engine.computeMaps(
        cells.slice(start, end).map((cell) => cell.request),
        {
          stats: { bins },
          signal,
          onProgress: onProgress && ((progress) => onProgress({ ...progress, done: start + progress.done, total })),
          keep: (i) => {
            const key = firstKeys[start + i];
            return key ? [cellLevelRequest(cells[start + i].request, shapes[start + i], key)] : [];
          },
        },
      );
      results.forEach(({ map, stats, kept }, i) => {
        const cell = cells[start + i];
        cell.stats = stats;
        if (kept?.[0]) cell.levels!.hold(firstKeys[start + i]!, kept[0]);
        map.destroy();
      });
    }
    if (signal?.aborted) throw new ComputeCancelledError();
    const encoder = engine.device.createCommandEncoder({ label: 'Viewer.frame' });
    const gathered = encodeRanges(colorRange, encoder, cells.map((cell) => cell.stats!), rule, bins);
    try {
      cells.forEach((cell) => (cell.rangeBuffer = gathered.ranges));
      const run: ShownRun = { cells, ranges: gathered.ranges, gathered, pyramids: true };
      show(encoder, run);
      submitCounted(engine.device, [encoder.finish()]);
      return { ...run, work: workSoFar() };
    } catch (error) {
      [gathered.ranges, ...gathered.scratch].forEach((buffer) => buffer.destroy());
      throw error;
    }
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * Gives each cell its pyramid and returns, per cell, the level to pool from its full map for its first frame: the
 * whole level that frame asks for, or when it asks for a window (zoomed), the whole level it would ask for unzoomed;
 * undefined when that is no level at all (a cell not drawn) or the map itself (one frame per cell).
 */
function firstLevelKeys(engine: AttentionEngine, cells: Cell[], { firstLevels, onReady, onError }: GridPyramids): (LevelKey | undefined)[] {
  for (const cell of cells) cell.levels = cellPyramid(engine, cell.request, cell, onReady, onError);
  let unzoomed: ReturnType<GridPyramids['firstLevels']> | undefined;
  return firstLevels(cells).map((first, i): LevelKey | undefined => {
    let key = first && cells[i].levels!.wantedLevel(first.factor, first.frames);
    if (key?.window) {
      unzoomed ??= firstLevels(cells, true);
      key = unzoomed[i] && { factor: unzoomed[i].factor };
    }
    return key && !key.window && key.factor > 1 ? key : undefined;
  });
}

/** Cell `index` of the plan: its map's size, its map (none in a pyramid grid), stats and colour range (a pyramid grid's: set as they come). */
function planCell(plan: ViewPlan, index: number, shape: MapShape, map: ComputedMap | undefined, stats: ComputedStats | undefined, ranges: GPUBuffer | undefined, rule: ColorRangeRule): Cell {
  const planned = plan.cells[index];
  return {
    ...planned,
    ...cellAxes(plan, planned),
    rect: { x: 0, y: 0, width: 1, height: 1 },
    rows: shape.rows,
    cols: shape.cols,
    map,
    stats,
    rangeBuffer: ranges,
    rangeWord: 2 * index,
    log: rule.log,
  };
}

/**
 * Reads the run's stats back (after its frame) and gives each cell its colour scale, the numbers of the colour bar.
 * The per-map stats buffers are freed: the ranges buffer holds what the frames need.
 */
export async function readColorbar(engine: AttentionEngine, plan: ViewPlan, run: ViewRun): Promise<ColorScale> {
  const gathered = run.gathered!;
  run.gathered = undefined;
  try {
    const read = await readGathered(engine.device, gathered);
    const shared = makeColorScale(plan.range, read);
    run.cells.forEach((cell, i) => {
      cell.scale = plan.range.shared ? shared : makeColorScale(plan.range, [read[i]]);
      cell.stats?.destroy();
      cell.stats = undefined;
    });
    run.shared = shared;
    return shared;
  } finally {
    gathered.scratch.forEach((buffer) => buffer.destroy());
  }
}

/** The ViewInfo of a run whose colour bar has been read (readColorbar). */
export function viewInfo(utterance: LoadedUtterance, plan: ViewPlan, run: ViewRun, colormap: ColormapName): ViewInfo {
  const { cells, shared } = run;
  const perMapGrid = cells.length > 1 && !plan.range.shared;
  return {
    utterance,
    plan,
    selection: plan.selection,
    frameOrigin: cells[0]?.frameOrigin ?? 0,
    rows: cells[0]?.rows ?? 0,
    cols: cells[0]?.cols ?? 0,
    cells,
    colorbar: {
      colormap,
      scale: cells[0]?.scale ?? shared!,
      ends: perMapGrid ? ['min', 'max'] : undefined,
      label: `${plan.colorbar.label}${shared?.note ? `, ${shared.note}` : ''}${perMapGrid ? ', each map its own range' : ''}`,
    },
    work: run.work,
  };
}

/** Fields whose change needs new maps; the others (colormap, smoothing, debug) only change how the same maps look. */
const STRUCTURAL: (keyof ViewerParams)[] = [
  'utterance', 'wordStart', 'wordEnd', 'full', 'layer', 'head', 'softmax', 'view', 'poolUnit', 'poolStat',
  'compareLayer', 'compareHead', 'compareUtterance', 'scale', 'clipLow', 'clipHigh', 'rolloutCrop', 'colorRange',
];

/** Whether going from `previous` (undefined at start) to `params` needs new maps. */
export function needsNewMaps(previous: ViewerParams | undefined, params: ViewerParams): boolean {
  return !previous || STRUCTURAL.some((key) => previous[key] !== params[key]);
}

/** Whether the change shows other frames (another view, utterance or crop), so the zoom starts again. */
export function resetsZoom(previous: ViewerParams | undefined, params: ViewerParams): boolean {
  return !!previous && (previous.view !== params.view || previous.utterance !== params.utterance || previous.full !== params.full);
}

/** What a ViewSpec is spelt with: the loaded utterances' files. */
export function loadedNamesOf(utterances: readonly LoadedUtterance[]): LoadedNames {
  return {
    files: utterances.map((u) => ({ attention: u.attention.fileName, name: u.name })),
    layers: utterances[0]?.attention.shape.layers ?? 1,
    words: utterances.map((u) => u.alignment?.words.length ?? 1),
  };
}

/** The plan of the params' view over the loaded utterances (engine tensors "u0", "u1", ...). */
export function planOfParams(params: ViewerParams, utterances: readonly LoadedUtterance[], names: LoadedNames): ViewPlan {
  const utterance = utterances[params.utterance];
  const other = otherUtterance(params, utterances.length);
  return planView(specFromParams(params, names), utterance, {
    tensorId: tensorId(params.utterance),
    compare: other === undefined ? undefined : { tensorId: tensorId(other), utterance: utterances[other] },
    softmaxed: utterance.softmaxed,
  });
}

export function tensorId(utteranceIndex: number): string {
  return `u${utteranceIndex}`;
}

/** What the progress line says: the map being computed, and within a rollout the layers done. */
export function progressLine(plan: ViewPlan, { done, total, step }: ComputeMapsProgress): { done: number; total: number; title: string } {
  const title = plan.cells[Math.min(done, total - 1)]?.title ?? '';
  return { done, total, title: step ? `${title}: layer ${step.done} of ${step.total} done` : title };
}

/** Frees a run's maps, stats and ranges. */
export function releaseRun(run: Pick<ViewRun, 'cells' | 'ranges' | 'gathered'>): void {
  run.cells.forEach((cell) => (cell.map?.destroy(), cell.levels?.destroy(), cell.stats?.destroy()));
  run.ranges.destroy();
  run.gathered?.scratch.forEach((buffer) => buffer.destroy());
}

/** The plan's colour-range policy as the GPU pass takes it (percentiles as fractions). */
export function rangeRule(plan: ViewPlan): ColorRangeRule {
  const { scale, clip, symmetric, shared } = plan.range;
  return { shared, symmetric, log: scale === 'log' && !symmetric, percentile: scale === 'percentile' ? [clip[0] / 100, clip[1] / 100] : undefined };
}

/** A planned cell's labels and lines, frames and words: the plan's, or for a pair's second map its own. */
function cellAxes(plan: ViewPlan, planned: PlannedCell): Pick<Cell, 'marks' | 'selection' | 'frameOrigin' | 'segmentLabels'> {
  if (planned.other) return { marks: planned.other.marks, selection: planned.other.selection, frameOrigin: planned.other.crop.colStart };
  if (plan.axes.kind === 'segments') return { marks: plan.marks, selection: plan.selection, frameOrigin: 0, segmentLabels: plan.axes.segments.map((s) => s.label) };
  return { marks: plan.marks, selection: plan.selection, frameOrigin: plan.crop.colStart };
}

/** A cell as the scene draws it, in device pixels. */
export function sceneCell(cell: Cell, dpr = 1): SceneCell {
  return {
    map: { values: cell.map?.buffer, rows: cell.rows, cols: cell.cols, span: spanOf(cell.marks, cell.cols) },
    levels: cell.levels,
    rect: { x: cell.rect.x * dpr, y: cell.rect.y * dpr, width: cell.rect.width * dpr, height: cell.rect.height * dpr },
    range: { buffer: cell.rangeBuffer!, word: cell.rangeWord, log: cell.scale?.log ?? cell.log },
    lines: cell.marks,
  };
}

