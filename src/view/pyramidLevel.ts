/**
 * Which level of a map's multiresolution pyramid a view draws (as HiGlass picks a tile zoom level): the coarsest
 * level that still has at least about one cell per device pixel, so that nothing finer than a pixel is fetched or
 * built, and nothing coarser than a pixel is shown. Level f holds the map block-pooled over f x f frames
 * (src/compute/pyramid.ts), ceil(frames / f) cells a side; f = 1 is the map itself.
 */

/** Each level pools BASE x BASE cells of the level below it: factors 1, 2, 4, 8, ... */
export const PYRAMID_BASE = 2;

/**
 * Block sizes of a pyramid over a map of `frames` frames a side: 1, base, base^2, ... up to the first level of a
 * single cell (a coarser one would be the same cell again).
 */
export function pyramidFactors(frames: number, base = PYRAMID_BASE): number[] {
  if (!Number.isInteger(frames) || frames < 1) throw new RangeError(`pyramidFactors: frames must be an integer >= 1, got ${frames}`);
  if (!Number.isInteger(base) || base < 2) throw new RangeError(`pyramidFactors: base must be an integer >= 2, got ${base}`);
  const factors = [1];
  while (factors[factors.length - 1] < frames) factors.push(factors[factors.length - 1] * base);
  return factors;
}

/**
 * Pixel slack in the "one cell per device pixel" rule: a level whose cells are up to 1 + LEVEL_SLACK device pixels
 * wide still counts as fine enough, so that float noise in a zoom at exactly 1:1 does not flip between levels.
 */
const LEVEL_SLACK = 1e-6;

/**
 * The pyramid level (its block size f) for a map of `frames` frames a side shown at `pixelsPerFrame` CSS pixels per
 * frame on a screen of `devicePixelRatio`: the largest f whose cells, f frames each, are at most one device pixel
 * wide (so a device pixel shows at least ~1 cell). Zoomed in past one frame per device pixel this is 1 (full
 * resolution); zoomed out it is the coarsest level that still resolves every pixel.
 */
export function chooseLevelFactor(frames: number, pixelsPerFrame: number, devicePixelRatio = 1, base = PYRAMID_BASE): number {
  if (!(pixelsPerFrame > 0) || !Number.isFinite(pixelsPerFrame)) {
    throw new RangeError(`chooseLevelFactor: pixelsPerFrame must be a finite number > 0, got ${pixelsPerFrame}`);
  }
  if (!(devicePixelRatio > 0) || !Number.isFinite(devicePixelRatio)) {
    throw new RangeError(`chooseLevelFactor: devicePixelRatio must be a finite number > 0, got ${devicePixelRatio}`);
  }
  const devicePixelsPerFrame = pixelsPerFrame * devicePixelRatio;
  let chosen = 1;
  for (const factor of pyramidFactors(frames, base)) {
    if (factor * devicePixelsPerFrame <= 1 + LEVEL_SLACK) chosen = factor;
  }
  return chosen;
}

/** Cells a side of level `factor` of a `frames`-frame map: ceil(frames / factor), the last covering what remains. */
export function levelCells(frames: number, factor: number): number {
  return Math.ceil(frames / factor);
}

/** One visible map's wanted level: its size in frames and the factor chooseLevelFactor gave. */
export interface WantedLevel {
  readonly rows: number;
  readonly cols: number;
  readonly factor: number;
  /**
   * Bytes the map's level at a factor takes while drawn: a cell drawing a window of the level (./pyramidWindow.ts)
   * pins the window, not the whole level. The whole level's bytes (levelBytes) when left out.
   */
  readonly bytesAt?: (factor: number) => number;
}

/** Bytes of level `factor` of a rows x cols f32 map. */
export function levelBytes(rows: number, cols: number, factor: number): number {
  return levelCells(rows, factor) * levelCells(cols, factor) * 4;
}

/**
 * The wanted levels of the maps on screen, made coarser together (each factor times `base`, as often as needed)
 * until they fit in `budgetBytes` at once: the levels a frame draws are pinned, so they must fit the budget
 * together. A grid zoomed in step (every map at full resolution) then draws coarser levels than one cell per
 * device pixel rather than exceed the budget; a view zoomed into few maps (the rest culled) gets what it wants.
 * A single map's full resolution is never refused: no level goes coarser than a map's one-cell level. Cells that
 * draw windows count their windows' bytes (WantedLevel.bytesAt), so a grid zoomed in step to a small window of every
 * map keeps full resolution where whole levels would not fit.
 */
export function fitLevelsToBudget(wanted: readonly WantedLevel[], budgetBytes: number, base = PYRAMID_BASE): number[] {
  let factors = wanted.map((level) => level.factor);
  const bytes = (level: WantedLevel, factor: number) => (level.bytesAt ? level.bytesAt(factor) : levelBytes(level.rows, level.cols, factor));
  const total = () => wanted.reduce((sum, level, index) => sum + bytes(level, factors[index]), 0);
  while (total() > budgetBytes) {
    const coarser = wanted.map((level, index) => {
      const largest = pyramidFactors(Math.max(level.rows, level.cols), base).at(-1)!;
      return Math.min(largest, factors[index] * base);
    });
    if (coarser.every((factor, index) => factor === factors[index])) break;
    factors = coarser;
  }
  return factors;
}
