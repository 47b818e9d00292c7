/**
 * The viewer's grids of many maps (the model view, every head of a layer) drawn from map pyramids: each cell keeps
 * only its colour range; the levels its zoom needs are built on the engine and kept under its budget
 * (src/compute/pyramid.ts, src/render/pyramidLevels.ts). Whisper large-v3's model view would otherwise hold 640
 * full maps of 1500^2 (5.4 GiB).
 */
import type { AttentionEngine, MapRequest, PoolStatistic } from '../engine.ts';
import type { ViewPlan } from '../view/plan.ts';
import type { LevelWindow } from '../view/pyramidWindow.ts';
import { createTaskLimiter, cutsIntoWindows, levelRequest, PyramidLevels, type LevelKey } from '../render/pyramidLevels.ts';

/** Level builds at once, across every cell: each holds a full map (a window: its frames only) on the GPU while it is pooled. */
const BUILDS_AT_ONCE = 4;
const buildQueue = createTaskLimiter(BUILDS_AT_ONCE);
/** Level builds queued or running, across every cell. */
const building = new Set<Promise<unknown>>();

/** Level builds queued or running now. */
export function levelBuildsInFlight(): number {
  return building.size;
}

/** Resolves once no level build queued or running (failed ones included) is left. */
export async function levelBuildsSettled(): Promise<void> {
  while (building.size > 0) await Promise.allSettled([...building]);
}

/** The views whose maps are a grid, small on screen, that may draw from pyramids. */
const GRID_VIEWS: ReadonlySet<string> = new Set(['model', 'heads']);

/**
 * Whether a plan's cells draw from map pyramids, decided from its maps' sizes before any is computed, and if so the
 * groups its maps are computed in: grids (many maps, small on screen) whose full maps together take more than a
 * frame's level budget are computed in groups of at most groupBytes() of full maps (./viewRun.ts), never holding all
 * of them at once. Undefined for other plans: their maps are computed together and kept (smaller grids: nothing to
 * save, and no level builds running into the next control change).
 */
export async function pyramidGroups(
  engine: AttentionEngine,
  plan: Pick<ViewPlan, 'spec' | 'cells'>,
): Promise<{ groups: [number, number][]; shapes: { rows: number; cols: number }[] } | undefined> {
  if (!GRID_VIEWS.has(plan.spec.view)) return undefined;
  const shapes = await Promise.all(plan.cells.map((cell) => engine.outputShape(cell.request)));
  const fullBytes = shapes.reduce((sum, shape) => sum + mapBytes(shape), 0);
  return fullBytes > frameLevelBudget(engine) ? { groups: mapGroups(shapes, groupBytes(engine)), shapes } : undefined;
}

/** Bytes of a rows x cols map of f32. */
function mapBytes(shape: { readonly rows: number; readonly cols: number }): number {
  return shape.rows * shape.cols * 4;
}

/**
 * Bytes of full maps a pyramid grid computes at once (a group): a quarter of the engine's budget, so that a group,
 * the uploads it is computed from and the levels kept for the frame fit together.
 */
function groupBytes(engine: AttentionEngine): number {
  return Math.floor(engine.memory.budgetBytes / 4);
}

/**
 * `shapes` cut into consecutive groups, each [start, end) of indices, whose maps together take at most `limit`
 * bytes (a map larger than that alone).
 */
export function mapGroups(shapes: readonly { readonly rows: number; readonly cols: number }[], limit: number): [number, number][] {
  const groups: [number, number][] = [];
  let start = 0;
  let bytes = 0;
  shapes.forEach((shape, index) => {
    if (index > start && bytes + mapBytes(shape) > limit) {
      groups.push([start, index]);
      start = index;
      bytes = 0;
    }
    bytes += mapBytes(shape);
  });
  if (start < shapes.length) groups.push([start, shapes.length]);
  return groups;
}

/**
 * A cell's pyramid of `request`'s rows x cols map: levels pooled by `stat`, built when first drawn; zoomed into
 * part of the map, over a window of it (the request cut to the window's frames: windowRequest) when the request can
 * be cut so, else whole.
 */
export function cellPyramid(
  engine: AttentionEngine,
  request: MapRequest,
  shape: { readonly rows: number; readonly cols: number },
  onReady: () => void,
  onError: (error: Error) => void,
  stat: PoolStatistic = 'mean',
): PyramidLevels {
  const keep = (factor: number, window?: LevelWindow) => {
    const build = buildQueue(() => engine.keepMap(cellLevelRequest(request, shape, { factor, window }, stat)));
    building.add(build);
    const done = () => building.delete(build);
    build.then(done, done);
    return build;
  };
  return new PyramidLevels(keep, onReady, onError, cutsIntoWindows(request, shape) ? shape : undefined);
}

/** The engine request of level `key` of a cell's rows x cols map of `request`: what its pyramid's builds keep. */
export function cellLevelRequest(request: MapRequest, shape: { readonly rows: number; readonly cols: number }, key: LevelKey, stat: PoolStatistic = 'mean'): MapRequest {
  return levelRequest(request, shape, key.factor, stat, key.window);
}

/**
 * Bytes the levels one frame draws may take together: half the engine's budget, so that the uploads the levels are
 * built from fit beside them.
 */
export function frameLevelBudget(engine: AttentionEngine): number {
  return Math.floor(engine.memory.budgetBytes / 2);
}

/**
 * After a pyramid grid's first frame, when runView was given no GridPyramids (its cells then have none: their first
 * frame drew nothing), its cells draw from pyramids; `onReady` redraws as levels arrive.
 */
export function attachPyramids(
  engine: AttentionEngine,
  cells: readonly { request: MapRequest; rows: number; cols: number; levels?: PyramidLevels }[],
  onReady: () => void,
  onError: (error: Error) => void,
): void {
  for (const cell of cells) cell.levels = cellPyramid(engine, cell.request, cell, onReady, onError);
}
