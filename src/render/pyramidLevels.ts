/**
 * A map's pyramid levels as a scene cell draws them (MapScene's SceneLevels): levels are asked for as the zoom
 * needs them, kept pinned while a frame may draw them, and let go after the frame that no longer draws them (they
 * then stay in the engine's cache, under its budget, until evicted least recently used first: AttentionEngine.keepMap).
 * Until the wanted level arrives the nearest one on hand is drawn, as HiGlass shows a coarser tile meanwhile.
 */
import type { SceneLevel, SceneLevels } from './mapScene.ts';

/** A level kept for the cell: its buffer, pinned until release(). */
export interface PinnedLevel {
  readonly buffer: GPUBuffer;
  release(): void;
}

/** What a cell's pyramid needs from below: the level for a factor, built if needed (engine.keepMap of its request). */
export type KeepLevel = (factor: number) => Promise<PinnedLevel>;

export class PyramidLevels implements SceneLevels {
  readonly #keep: KeepLevel;
  readonly #onReady: () => void;
  readonly #onError: (error: Error) => void;
  readonly #held = new Map<number, PinnedLevel>();
  readonly #loading = new Map<number, Promise<void>>();
  /** Factors that could not be built: not asked for again, so a failing level does not retry every frame. */
  readonly #failed = new Set<number>();
  /** Factors drawn since the last frameDone(). */
  readonly #drawn = new Set<number>();
  /**
   * Factors that arrived since the last frameDone(): no frame has had the chance to draw them yet (one may arrive
   * while a frame that asked for it is still in flight), so that frameDone() keeps them.
   */
  readonly #arrived = new Set<number>();
  #destroyed = false;

  /** `onReady` runs when an asked-for level arrives (redraw); `onError` when one cannot be built. */
  constructor(keep: KeepLevel, onReady: () => void, onError: (error: Error) => void = () => {}) {
    this.#keep = keep;
    this.#onReady = onReady;
    this.#onError = onError;
  }

  /** Resolves once no level asked for so far is still being built (benchmarks and tests wait on it). */
  async whenSettled(): Promise<void> {
    while (this.#loading.size > 0) await Promise.all(this.#loading.values());
  }

  /** Factors held now (pinned), finest first. */
  get heldFactors(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  levelFor(wantedFactor: number): SceneLevel | undefined {
    if (!this.#held.has(wantedFactor)) this.#ask(wantedFactor);
    const factor = this.#held.has(wantedFactor) ? wantedFactor : this.#nearestHeld(wantedFactor);
    if (factor === undefined) return undefined;
    this.#drawn.add(factor);
    return { values: this.#held.get(factor)!.buffer, factor };
  }

  frameDone(): void {
    for (const [factor, level] of this.#held) {
      if (this.#drawn.has(factor) || this.#arrived.has(factor)) continue;
      level.release();
      this.#held.delete(factor);
    }
    this.#drawn.clear();
    this.#arrived.clear();
  }

  /** Lets go of every level (call after the last frame that drew them is submitted). */
  destroy(): void {
    this.#destroyed = true;
    for (const level of this.#held.values()) level.release();
    this.#held.clear();
  }

  #ask(factor: number): void {
    if (this.#destroyed || this.#loading.has(factor) || this.#failed.has(factor)) return;
    const loading = this.#keep(factor).then(
      (level) => {
        this.#loading.delete(factor);
        if (this.#destroyed || this.#held.has(factor)) return level.release();
        this.#held.set(factor, level);
        this.#arrived.add(factor);
        this.#onReady();
      },
      (error: unknown) => {
        this.#loading.delete(factor);
        this.#failed.add(factor);
        if (!this.#destroyed) this.#onError(error instanceof Error ? error : new Error(String(error)));
      },
    );
    this.#loading.set(factor, loading);
  }

  /** The held factor closest to `factor` in scale (ratio); between two as close, the finer. */
  #nearestHeld(factor: number): number | undefined {
    let best: number | undefined;
    let bestDistance = Infinity;
    for (const held of this.heldFactors) {
      const distance = Math.abs(Math.log2(held / factor));
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
