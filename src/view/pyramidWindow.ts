/**
 * Windowed pyramid levels, as HiGlass fetches only the tiles in view: when a cell is zoomed in so that only part of
 * its map is on screen, it draws its wanted level over a window of that level (a rectangle of level cells around
 * what is visible) instead of the whole level. A grid zoomed in step (every map showing frames 300-400, say) then
 * needs each map's visible window at full resolution (640 x 100^2 f32 = 25 MB for large-v3's model view), not each
 * whole map (640 x 1500^2 = 5.4 GiB), so it fits the budget and is drawn sharp.
 *
 * Windows are snapped outward to a grid of WINDOW_TILE level cells, so that small pans keep using the same window,
 * and start on a multiple of the level's factor f in frames: a window's level cells are exactly the whole level's
 * cells over it (the same f x f blocks of frames), so drawing from a window or from the whole level gives the same
 * pixels. Pure.
 */
import { levelCells } from './pyramidLevel.ts';

/** Level cells a window's edges are snapped to (outward), so that a small pan reuses the window on hand. */
export const WINDOW_TILE = 64;

/** A rectangle of a map in frames, ends exclusive; may be fractional (what a viewport shows). */
export interface FrameRect {
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly colStart: number;
  readonly colEnd: number;
}

/** Part of level `factor`: level cells [rowStart, rowEnd) x [colStart, colEnd), integers, ends exclusive. */
export interface LevelWindow {
  readonly factor: number;
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly colStart: number;
  readonly colEnd: number;
}

/**
 * The frames of a rows x cols map that a viewport of width x height pixels shows, when frames map to viewport pixels
 * by `x = scaleX * frame + offsetX` (and the same in y): the map's part under the viewport, or undefined when none
 * of the map is in it.
 */
export function visibleFrames(
  transform: { readonly scaleX: number; readonly scaleY: number; readonly offsetX: number; readonly offsetY: number },
  viewport: { readonly width: number; readonly height: number },
  rows: number,
  cols: number,
): FrameRect | undefined {
  const along = (scale: number, offset: number, pixels: number, frames: number): [number, number] => {
    const a = (0 - offset) / scale;
    const b = (pixels - offset) / scale;
    return [Math.max(0, Math.min(a, b)), Math.min(frames, Math.max(a, b))];
  };
  const [colStart, colEnd] = along(transform.scaleX, transform.offsetX, viewport.width, cols);
  const [rowStart, rowEnd] = along(transform.scaleY, transform.offsetY, viewport.height, rows);
  return colEnd > colStart && rowEnd > rowStart ? { rowStart, rowEnd, colStart, colEnd } : undefined;
}

/**
 * Level cells along one axis that drawing `[start, end)` frames at level `factor` reads: the cells holding them and
 * one more on each side (smooth drawing interpolates towards the neighbour; a pixel's footprint may reach it).
 */
function neededCells(start: number, end: number, factor: number, frames: number): [number, number] {
  return [Math.max(0, Math.floor(start / factor) - 1), Math.min(levelCells(frames, factor), Math.ceil(end / factor) + 1)];
}

/**
 * The window of level `factor` a cell showing `visible` of a rows x cols map asks for: the level cells it reads,
 * snapped outward to multiples of `tile` level cells (cut at the level's edge). Undefined when that is the whole
 * level: the whole level is asked for then, as without windows.
 */
export function levelWindow(visible: FrameRect, rows: number, cols: number, factor: number, tile = WINDOW_TILE): LevelWindow | undefined {
  if (!Number.isInteger(tile) || tile < 1) throw new RangeError(`levelWindow: tile must be an integer >= 1, got ${tile}`);
  const snap = ([start, end]: [number, number], cells: number): [number, number] => [Math.floor(start / tile) * tile, Math.min(cells, Math.ceil(end / tile) * tile)];
  const levelRows = levelCells(rows, factor);
  const levelCols = levelCells(cols, factor);
  const [rowStart, rowEnd] = snap(neededCells(visible.rowStart, visible.rowEnd, factor, rows), levelRows);
  const [colStart, colEnd] = snap(neededCells(visible.colStart, visible.colEnd, factor, cols), levelCols);
  const whole = rowStart === 0 && colStart === 0 && rowEnd === levelRows && colEnd === levelCols;
  return whole ? undefined : { factor, rowStart, rowEnd, colStart, colEnd };
}

/** Whether `window` holds every level cell that drawing `visible` of a rows x cols map at its level reads. */
export function windowCovers(window: LevelWindow, visible: FrameRect, rows: number, cols: number): boolean {
  const [rowStart, rowEnd] = neededCells(visible.rowStart, visible.rowEnd, window.factor, rows);
  const [colStart, colEnd] = neededCells(visible.colStart, visible.colEnd, window.factor, cols);
  return window.rowStart <= rowStart && window.rowEnd >= rowEnd && window.colStart <= colStart && window.colEnd >= colEnd;
}

/** Bytes of a window's f32 level cells. */
export function windowBytes(window: LevelWindow): number {
  return (window.rowEnd - window.rowStart) * (window.colEnd - window.colStart) * 4;
}

/**
 * The frames of a rows x cols map a window's level cells pool: rows [rowStart * f, min(rowEnd * f, rows)) and the
 * same for columns. Its start is a multiple of f, so pooling these frames in f x f blocks gives the window's cells.
 */
export function windowFrames(window: LevelWindow, rows: number, cols: number): { rowStart: number; rowEnd: number; colStart: number; colEnd: number } {
  const f = window.factor;
  return { rowStart: window.rowStart * f, rowEnd: Math.min(rows, window.rowEnd * f), colStart: window.colStart * f, colEnd: Math.min(cols, window.colEnd * f) };
}

/** A short name of a window, for cache keys and logs: "f4 r64-192 c0-128". */
export function windowName(window: LevelWindow): string {
  return `f${window.factor} r${window.rowStart}-${window.rowEnd} c${window.colStart}-${window.colEnd}`;
}
