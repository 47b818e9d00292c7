/**
 * The viewer's grids of many maps (the model view, every head of a layer) drawn from map pyramids: each cell keeps
 * only its colour range; the levels its zoom needs are built on the engine and kept under its budget
 * (src/compute/pyramid.ts, src/render/pyramidLevels.ts). Whisper large-v3's model view would otherwise hold 640
 * full maps of 1500^2 (5.4 GiB).
 */
import type { AttentionEngine, MapRequest, PoolStatistic } from '../engine.ts';
import type { LevelWindow } from '../view/pyramidWindow.ts';
import { createTaskLimiter, cutsIntoWindows, levelRequest, PyramidLevels } from '../render/pyramidLevels.ts';

/** Level builds at once, across every cell: each holds a full map (a window: its frames only) on the GPU while it is pooled. */
const BUILDS_AT_ONCE = 4;
const buildQueue = createTaskLimiter(BUILDS_AT_ONCE);

/**
 * Whether a view's cells switch to pyramids after their first frame: grids (many maps, small on screen) whose full
 * maps together take more than a frame's level budget. Smaller grids keep their full maps: nothing to save, and no
 * level builds running into the next control change.
 */
export function drawsPyramid(view: string, cells: readonly { rows: number; cols: number }[], engine: AttentionEngine): boolean {
  const fullBytes = cells.reduce((sum, cell) => sum + cell.rows * cell.cols * 4, 0);
  return (view === 'model' || view === 'heads') && fullBytes > frameLevelBudget(engine);
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
  const keep = (factor: number, window?: LevelWindow) => buildQueue(() => engine.keepMap(levelRequest(request, shape, factor, stat, window)));
  return new PyramidLevels(keep, onReady, onError, cutsIntoWindows(request, shape) ? shape : undefined);
}

/**
 * Bytes the levels one frame draws may take together: half the engine's budget, so that the uploads the levels are
 * built from fit beside them.
 */
export function frameLevelBudget(engine: AttentionEngine): number {
  return Math.floor(engine.memory.budgetBytes / 2);
}

/**
 * After a grid's first frame (drawn from its full maps in the view's one submit, the colour bar read): its cells draw
 * from pyramids from now on, and each full map is freed as soon as its pyramid holds a level, so that a large model
 * view keeps only the levels its zoom needs. `onReady` redraws; `onMapsFreed` re-places the cells (a freed map is no
 * longer theirs to draw) and redraws.
 */
export function attachPyramids(
  engine: AttentionEngine,
  cells: readonly { request: MapRequest; rows: number; cols: number; map?: { destroy(): void }; levels?: PyramidLevels }[],
  onReady: () => void,
  onMapsFreed: () => void,
  onError: (error: Error) => void,
): void {
  for (const cell of cells) {
    const levels = cellPyramid(
      engine,
      cell.request,
      cell,
      () => {
        if (cell.levels === levels && cell.map && levels.heldFactors.length > 0) {
          const full = cell.map;
          cell.map = undefined;
          onMapsFreed();
          // Frames already submitted keep their own reference: destroying after the submit is safe.
          full.destroy();
        } else onReady();
      },
      onError,
    );
    cell.levels = levels;
  }
}
