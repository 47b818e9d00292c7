/**
 * Checks on one attention map (rows x cols, row-major): is it a softmax output, and what range do its values
 * span. The CLI reports non-finite values rather than failing on them, so statistics skip and count them.
 */
import { ELEMENT_BYTES, decodeElements } from './elements.ts';
import type { AttentionSource, StoredDType } from './tensor.ts';

/**
 * How far a row sum may stray from 1 and still count as softmaxed. float16 keeps 11 significant bits, so each
 * stored value is off by at most 2^-11 relative and a row of positive values sums to within ~5e-4 of 1: 1e-3.
 * bfloat16 keeps only 8 bits (2^-9 ~ 2e-3 relative per value), so a row dominated by one value can be off by
 * ~2e-3: 4e-3. float32 and float64 files: 1e-4, which also absorbs float32 summation in the model.
 */
export function softmaxTolerance(dtype: StoredDType): number {
  return dtype === 'float16' ? 1e-3 : dtype === 'bfloat16' ? 4e-3 : 1e-4;
}

/**
 * True when `map` (rows x cols, row-major) has only finite values >= 0 and every row (the softmax axis: STEVE's
 * softmax(dim=-1)) sums to 1 within `tolerance`. Sums are accumulated in float64 so long rows add no error of
 * their own. A map whose length is not rows x cols is not softmaxed.
 */
export function isSoftmaxed(map: Float32Array, rows: number, cols: number, tolerance: number): boolean {
  if (rows <= 0 || cols <= 0 || map.length !== rows * cols) return false;
  for (let start = 0; start < map.length; start += cols) {
    let sum = 0;
    for (let i = start; i < start + cols; i++) {
      const value = map[i];
      // Written so that NaN fails too.
      if (!(value >= 0) || value === Infinity) return false;
      sum += value;
    }
    if (!(Math.abs(sum - 1) <= tolerance)) return false;
  }
  return true;
}

/** Which map isHeadSoftmaxed tests (layer 0, head 0 by default) and the tolerance (softmaxTolerance(dtype) by default). */
export interface SoftmaxCheckOptions {
  readonly layer?: number;
  readonly head?: number;
  readonly tolerance?: number;
}

/** Rows isHeadSoftmaxed reads at a time after the first row (a few MB at most, through one reused buffer). */
const SOFTMAX_CHECK_ROWS = 256;

/**
 * Tests one map of `source` with isSoftmaxed, with the tolerance for the file's dtype by default. A source with its
 * stored values (every file) is read a block of rows at a time into one reused buffer, the first row alone, and the
 * test stops at the first row that fails: a file of logits is told after one row, and no map-sized array is made
 * (a `steve render` read a whole 9 MB map for this, then read the map it draws).
 */
export async function isHeadSoftmaxed(source: AttentionSource, options: SoftmaxCheckOptions = {}): Promise<boolean> {
  const { layers, heads, rows, cols } = source.shape;
  const layer = options.layer ?? 0;
  const head = options.head ?? 0;
  const tolerance = options.tolerance ?? softmaxTolerance(source.dtype);
  const stored = source.stored;
  const inRange = (index: number, count: number) => Number.isInteger(index) && index >= 0 && index < count;
  // Without stored values, or for a map that does not exist (readHead says so, naming the file), the whole map.
  if (!stored || !inRange(layer, layers) || !inRange(head, heads) || rows <= 0 || cols <= 0) {
    return isSoftmaxed(await source.readHead(layer, head), rows, cols, tolerance);
  }
  const rowBytes = cols * ELEMENT_BYTES[stored.dtype];
  const block = new Uint8Array(rowBytes * Math.min(rows, SOFTMAX_CHECK_ROWS));
  for (let row = 0; row < rows; ) {
    const count = row === 0 ? 1 : Math.min(SOFTMAX_CHECK_ROWS, rows - row);
    const bytes = block.subarray(0, count * rowBytes);
    await stored.readInto(layer, (head * rows + row) * cols, bytes);
    if (!isSoftmaxed(decodeElements(bytes, stored), count, cols, tolerance)) return false;
    row += count;
  }
  return true;
}

/** Range of the finite values of a map, and how many values are NaN or +-Inf. */
export interface MapStats {
  /** Smallest finite value; NaN when there is none. */
  readonly min: number;
  /** Largest finite value; NaN when there is none. */
  readonly max: number;
  /** Mean of the finite values; NaN when there is none. */
  readonly mean: number;
  /** Number of NaN and +-Inf values (left out of min, max and mean). */
  readonly nonFinite: number;
}

/** min, max and mean over the finite values of `map`, and the count of non-finite ones. */
export function computeMapStats(map: Float32Array): MapStats {
  let [min, max, sum, finite] = [Infinity, -Infinity, 0, 0];
  for (let i = 0; i < map.length; i++) {
    const value = map[i];
    if (!Number.isFinite(value)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
    sum += value;
    finite++;
  }
  if (finite === 0) return { min: NaN, max: NaN, mean: NaN, nonFinite: map.length };
  return { min, max, mean: sum / finite, nonFinite: map.length - finite };
}
