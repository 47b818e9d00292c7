/**
 * A map's pyramid levels as a scene cell draws them (MapScene's SceneLevels): levels are asked for as the zoom
 * needs them, kept pinned while a frame may draw them, and let go after the frame that no longer draws them (they
 * then stay in the engine's cache, under its budget, until evicted least recently used first: AttentionEngine.keepMap).
 * Until the wanted level arrives the nearest one on hand is drawn, as HiGlass shows a coarser tile meanwhile.
 *
 * With `windows` (the map's size, when its request can be cut: src/compute/pyramid.ts windowRequest), a cell zoomed
 * into part of its map asks for its level over a window of it only (src/view/pyramidWindow.ts), as HiGlass fetches
 * only the tiles in view. A window on hand that still covers what is visible keeps being drawn (small pans and zooms
 * within the level ask for nothing); while a new window is built, a window on hand that covers the view is drawn,
 * else the coarsest whole level on hand, which such a cell keeps pinned for that.
 */
import type { MapRequest } from '../compute/mapRequest.ts';
import { pyramidLevelRequest, windowRequest } from '../compute/pyramid.ts';
import type { PoolStatistic } from '../compute/segmentPoolMap.ts';
import type { SceneLevel, SceneLevels } from './mapScene.ts';
import { levelBytes } from '../view/pyramidLevel.ts';
import { levelWindow, windowBytes, windowCovers, windowFrames, windowName, type FrameRect, type LevelWindow } from '../view/pyramidWindow.ts';

/** A level kept for the cell: its buffer, pinned until release(). */
export interface PinnedLevel {
  readonly buffer: GPUBuffer;
  /** Its level cells (the engine's KeptMap has them): what heldBytes counts. */
  readonly rows?: number;
  readonly cols?: number;
  release(): void;
}

/**
 * What a cell's pyramid needs from below: the level for a factor, over `window` only when given (else the whole
 * level), built if needed (engine.keepMap of its request).
 */
export type KeepLevel = (factor: number, window?: LevelWindow) => Promise<PinnedLevel>;

/**
 * The engine request for level `factor` of `source`'s rows x cols map: over `window` only when given (the request
 * cut to the window's frames, then pooled: src/compute/pyramid.ts windowRequest), else the whole level.
 */
export function levelRequest(source: MapRequest, shape: { readonly rows: number; readonly cols: number }, factor: number, stat: PoolStatistic, window?: LevelWindow): MapRequest {
  if (!window) return pyramidLevelRequest(source, factor, stat);
  const cut = windowRequest(source, windowFrames(window, shape.rows, shape.cols));
  if (!cut) throw new Error(`pyramid: a window of level ${factor} was asked of a map whose request cannot be cut (kind ${source.kind ?? 'attention'})`);
  return pyramidLevelRequest(cut, factor, stat);
}

/** Whether `source`'s rows x cols map can be drawn from windows of its levels (PyramidLevels' `windows`). */
export function cutsIntoWindows(source: MapRequest, shape: { readonly rows: number; readonly cols: number }): boolean {
  return windowRequest(source, { rowStart: 0, rowEnd: shape.rows, colStart: 0, colEnd: shape.cols }) !== undefined;
}

/** A level held (or asked for): whole when `window` is undefined. */
export interface LevelKey {
  readonly factor: number;
  readonly window?: LevelWindow;
}

const keyName = (key: LevelKey): string => (key.window ? windowName(key.window) : `f${key.factor}`);

export class PyramidLevels implements SceneLevels {
  readonly #keep: KeepLevel;
  readonly #onReady: () => void;
  readonly #onError: (error: Error) => void;
  readonly #windows: { readonly rows: number; readonly cols: number } | undefined;
  readonly #held = new Map<string, { key: LevelKey; level: PinnedLevel }>();
  readonly #loading = new Map<string, Promise<void>>();
  /** Levels that could not be built: not asked for again, so a failing level does not retry every frame. */
  readonly #failed = new Set<string>();
  /** Levels drawn (or kept as the fallback) since the last frameDone(). */
  readonly #drawn = new Set<string>();
  /**
   * Levels that arrived since the last frameDone(): no frame has had the chance to draw them yet (one may arrive
   * while a frame that asked for it is still in flight), so that frameDone() keeps them.
   */
  readonly #arrived = new Set<string>();
  #destroyed = false;

  /**
   * `onReady` runs when an asked-for level arrives (redraw); `onError` when one cannot be built. `windows`: the
   * map's size in frames, when levels may be asked for over windows of it; whole levels only when left out.
   */
  constructor(keep: KeepLevel, onReady: () => void, onError: (error: Error) => void = () => {}, windows?: { readonly rows: number; readonly cols: number }) {
    this.#keep = keep;
    this.#onReady = onReady;
    this.#onError = onError;
    this.#windows = windows;
  }

  /** Resolves once no level asked for so far is still being built (benchmarks and tests wait on it). */
  async whenSettled(): Promise<void> {
    while (this.#loading.size > 0) await Promise.all(this.#loading.values());
  }

  /** Factors held now (pinned, whole or windows), finest first. */
  get heldFactors(): number[] {
    return [...new Set([...this.#held.values()].map(({ key }) => key.factor))].sort((a, b) => a - b);
  }

  /** Windows held now (pinned). */
  get heldWindows(): LevelWindow[] {
    return [...this.#held.values()].flatMap(({ key }) => (key.window ? [key.window] : []));
  }

  /** Bytes of the levels held now (pinned), as their cells (PinnedLevel rows x cols) say. */
  get heldBytes(): number {
    return [...this.#held.values()].reduce((sum, { level }) => sum + (level.rows ?? 0) * (level.cols ?? 0) * 4, 0);
  }

  /**
   * The level drawing `factor` over `visible` asks for (what levelFor would ask of `keep`): a window of it, or the
   * whole level. A grid computed in groups builds it from each full map before the first frame (src/ui/viewRun.ts).
   */
  wantedLevel(factor: number, visible?: FrameRect): LevelKey {
    return this.#wantedKey(factor, visible);
  }

  /**
   * Takes `level`, built elsewhere (pinned, the caller's pin now the pyramid's), as its level `key`: the next frame
   * draws it without asking `keep` for it. One already held or lost to destroy() is released instead.
   */
  hold(key: LevelKey, level: PinnedLevel): void {
    const name = keyName(key);
    if (this.#destroyed || this.#held.has(name)) return level.release();
    this.#held.set(name, { key, level });
    this.#arrived.add(name);
  }

  levelFor(wantedFactor: number, visible?: FrameRect): SceneLevel | undefined {
    const wanted = this.#wantedKey(wantedFactor, visible);
    const name = keyName(wanted);
    const fallback = wanted.window ? this.#fallback() : undefined;
    if (fallback) this.#drawn.add(keyName(fallback.key));
    if (!this.#held.has(name)) this.#ask(wanted);
    const drawn = this.#held.get(name) ?? this.#nearestHeld(wantedFactor, visible);
    if (drawn === undefined) return undefined;
    this.#drawn.add(keyName(drawn.key));
    return { values: drawn.level.buffer, factor: drawn.key.factor, window: drawn.key.window };
  }

  /**
   * Bytes drawing level `factor` over `visible` pins: the window it would draw and the whole level kept with it,
   * or the whole level. MapScene fits a frame's levels to its budget with it.
   */
  bytesFor(factor: number, visible: FrameRect | undefined, rows: number, cols: number): number {
    const wanted = this.#wantedKey(factor, visible);
    if (!wanted.window) return levelBytes(rows, cols, factor);
    const fallback = this.#fallback();
    return windowBytes(wanted.window) + (fallback ? this.#bytesOf(fallback.key) : 0);
  }

  frameDone(): void {
    for (const [name, { level }] of this.#held) {
      if (this.#drawn.has(name) || this.#arrived.has(name)) continue;
      level.release();
      this.#held.delete(name);
    }
    this.#drawn.clear();
    this.#arrived.clear();
  }

  /** Lets go of every level (call after the last frame that drew them is submitted). */
  destroy(): void {
    this.#destroyed = true;
    for (const { level } of this.#held.values()) level.release();
    this.#held.clear();
  }

  /**
   * What drawing `factor` over `visible` wants: a held window of that factor covering it (smallest first), else a
   * new window around it, else (no windows, or the window would be the whole level) the whole level.
   */
  #wantedKey(factor: number, visible: FrameRect | undefined): LevelKey {
    if (!this.#windows || !visible) return { factor };
    const { rows, cols } = this.#windows;
    const covering = [...this.#held.values()]
      .filter(({ key }) => key.factor === factor && key.window && windowCovers(key.window, visible, rows, cols))
      .sort((a, b) => windowBytes(a.key.window!) - windowBytes(b.key.window!));
    if (covering.length > 0) return covering[0].key;
    const window = levelWindow(visible, rows, cols, factor);
    return window ? { factor, window } : { factor };
  }

  /**
   * A cell drawing windows keeps the coarsest whole level it holds (from before it zoomed in), drawn while a window
   * it pans or zooms to is built; none is built for that.
   */
  #fallback(): { key: LevelKey; level: PinnedLevel } | undefined {
    return [...this.#held.values()].filter(({ key }) => !key.window).sort((a, b) => b.key.factor - a.key.factor)[0];
  }

  #bytesOf(key: LevelKey): number {
    if (key.window) return windowBytes(key.window);
    return this.#windows ? levelBytes(this.#windows.rows, this.#windows.cols, key.factor) : 0;
  }

  #ask(key: LevelKey): void {
    const name = keyName(key);
    if (this.#destroyed || this.#loading.has(name) || this.#failed.has(name)) return;
    const loading = this.#keep(key.factor, key.window).then(
      (level) => {
        this.#loading.delete(name);
        if (this.#destroyed || this.#held.has(name)) return level.release();
        this.#held.set(name, { key, level });
        this.#arrived.add(name);
        this.#onReady();
      },
      (error: unknown) => {
        this.#loading.delete(name);
        this.#failed.add(name);
        if (!this.#destroyed) this.#onError(error instanceof Error ? error : new Error(String(error)));
      },
    );
    this.#loading.set(name, loading);
  }

  /**
   * What to draw while the wanted level is not on hand: the held level closest to `factor` in scale (ratio; between
   * two as close, the finer) among whole levels and windows that cover `visible`; a window beats a whole level as close.
   */
  #nearestHeld(factor: number, visible: FrameRect | undefined): { key: LevelKey; level: PinnedLevel } | undefined {
    let best: { key: LevelKey; level: PinnedLevel } | undefined;
    let bestDistance = Infinity;
    const candidates = [...this.#held.values()]
      .filter(({ key }) => !key.window || (visible && this.#windows && windowCovers(key.window, visible, this.#windows.rows, this.#windows.cols)))
      .sort((a, b) => a.key.factor - b.key.factor || Number(!a.key.window) - Number(!b.key.window));
    for (const held of candidates) {
      const distance = Math.abs(Math.log2(held.key.factor / factor));
      if (distance < bestDistance) {
        best = held;
        bestDistance = distance;
      }
    }
    return best;
  }
}

/**
 * Runs at most `limit` of the tasks given to it at once, the others in the order given: the pyramids of a grid ask
 * for hundreds of levels in one frame, and each build holds a full map on the GPU while it pools it (640 large-v3
 * maps at once would hold 5.8 GB).
 */
export function createTaskLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`createTaskLimiter: limit must be an integer >= 1, got ${limit}`);
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
