/**
 * The colour scale of a view: which values the bottom and top colours stand for, and the colour bar's ticks and
 * labels. One rule for every front end: the viewer, `steve render` and the benchmark give it the maps' statistics
 * (min, max, histogram: src/compute/minMax.ts and histogram.ts) and draw with its low and high.
 *
 * - linear: the maps' min to max.
 * - percentile: the `clip` percentiles of the maps' values ("p1–p99" on the bar); values outside take the end colours.
 * - log: log10 from max(min, max x LOG_FLOOR_RATIO) to max, as the heatmap shader clamps; ticks at powers of ten.
 * - symmetric (differences): -b to b with b the largest magnitude, so white is 0 whatever the range.
 * A shared scale (a grid's default) is computed over all maps together; per-map, over each map alone.
 * Pure.
 */
import { formatValue } from './formatValue.ts';
import type { ScaleName } from './spec.ts';

/** The heatmap shader clamps values below max x 1e-6 to the bottom colour on a log scale. */
export const LOG_FLOOR_RATIO = 1e-6;

/** What a colour scale is computed from: a map's min, max and (for percentiles) its histogram over [min, max]. */
export interface MapValueStats {
  readonly min: number;
  readonly max: number;
  /** Counts of equal-width bins over [min, max]; needed for scale 'percentile'. */
  readonly histogram?: ArrayLike<number>;
}

/** How a plan wants its colours scaled (ViewPlan.range). */
export interface RangePolicy {
  readonly scale: ScaleName;
  /** Percentiles (0..100) for scale 'percentile'. */
  readonly clip: readonly [number, number];
  /** Symmetric about 0 (differences: diverging colormap, never log). */
  readonly symmetric: boolean;
  /** One scale for every map of the view (true), or one per map. */
  readonly shared: boolean;
}

/** A colour bar tick. */
export interface ColorTick {
  readonly value: number;
  readonly label: string;
  /** 0 at the bottom colour, 1 at the top. */
  readonly at: number;
}

/** The values the colours stand for. */
export interface ColorScale {
  /** Value at the bottom and top colour (log: the floor and the max). */
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  /** What the bar's ends say: "0.0012" or, clipped, "p1 0.0012". */
  readonly lowLabel: string;
  readonly highLabel: string;
  /** Ticks between and at the ends, bottom first. */
  readonly ticks: readonly ColorTick[];
  /** "p1–p99" for a percentile scale, "log" for a log scale, "" otherwise: added to the colour bar's label. */
  readonly note: string;
}

/** The colour scale of maps with these statistics (all of them for a shared scale, one for a per-map scale). */
export function makeColorScale(policy: RangePolicy, stats: readonly MapValueStats[]): ColorScale {
  const finite = stats.filter((s) => Number.isFinite(s.min) && Number.isFinite(s.max));
  let min = finite.length ? Math.min(...finite.map((s) => s.min)) : 0;
  let max = finite.length ? Math.max(...finite.map((s) => s.max)) : 0;
  const percentile = policy.scale === 'percentile';
  const note = percentile ? `p${policy.clip[0]}–p${policy.clip[1]}` : policy.scale === 'log' && !policy.symmetric ? 'log' : '';
  if (percentile && max > min) {
    [min, max] = [mergedPercentile(finite, policy.clip[0] / 100), mergedPercentile(finite, policy.clip[1] / 100)];
  }
  if (policy.symmetric) {
    const bound = Math.max(Math.abs(min), Math.abs(max)) || 1;
    return linearScale(-bound, bound, note, percentile ? policy.clip : undefined);
  }
  if (policy.scale === 'log' && max > 0) {
    const floor = max * LOG_FLOOR_RATIO;
    const low = Math.max(min, floor);
    // Values below the floor share the bottom colour: say so, or the bar claims the data ends there.
    const lowLabel = min < floor ? `≤ ${formatValue(low)}` : formatValue(low);
    return { low, high: max, log: true, lowLabel, highLabel: formatValue(max), ticks: logTicks(low, max), note };
  }
  return linearScale(min, max, note, percentile ? policy.clip : undefined);
}

/** Where `value` falls on the scale: 0 at the bottom colour, 1 at the top (clamped), as the shader computes it. */
export function scalePosition(scale: ColorScale, value: number): number {
  if (scale.high <= scale.low) return 0.5;
  const t = scale.log
    ? (Math.log10(Math.max(value, scale.low)) - Math.log10(scale.low)) / (Math.log10(scale.high) - Math.log10(scale.low))
    : (value - scale.low) / (scale.high - scale.low);
  return Math.min(Math.max(t, 0), 1);
}

/**
 * The `fraction` quantile of the values of several maps together, from each map's histogram: each bin's count is
 * spread evenly over its value interval, so the answer is as exact as the bins (1/256 of a map's range by default).
 */
export function mergedPercentile(stats: readonly MapValueStats[], fraction: number): number {
  const bins: { low: number; high: number; count: number }[] = [];
  for (const s of stats) {
    const histogram = s.histogram;
    if (!histogram || histogram.length === 0) throw new Error('a percentile colour scale needs each map\'s histogram');
    const width = (s.max - s.min) / histogram.length;
    for (let b = 0; b < histogram.length; b++) if (histogram[b] > 0) bins.push({ low: s.min + b * width, high: s.min + (b + 1) * width, count: histogram[b] });
  }
  const total = bins.reduce((sum, bin) => sum + bin.count, 0);
  if (total === 0) return NaN;
  const target = Math.min(Math.max(fraction, 0), 1) * total;
  // Below v, a bin holds count x (v - low) / (high - low) (all of it for a zero-width bin at or below v): the
  // quantile is where the total below reaches target. Bisection over the value range (monotone).
  const below = (v: number) =>
    bins.reduce((sum, bin) => sum + (bin.high <= bin.low ? (v >= bin.low ? bin.count : 0) : bin.count * Math.min(Math.max((v - bin.low) / (bin.high - bin.low), 0), 1)), 0);
  let lo = Math.min(...bins.map((bin) => bin.low));
  let hi = Math.max(...bins.map((bin) => bin.high));
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (below(mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

function linearScale(low: number, high: number, note: string, clip: readonly [number, number] | undefined): ColorScale {
  const prefix = (p: number) => (clip ? `p${p} ` : '');
  const ticks = linearTicks(low, high);
  // The ends are printed to the ticks' resolution, so that they differ from each other and from the ticks.
  const resolution = tickStep(low, high);
  return {
    low,
    high,
    log: false,
    lowLabel: prefix(clip?.[0] ?? 0) + formatValue(low, resolution),
    highLabel: prefix(clip?.[1] ?? 0) + formatValue(high, resolution),
    ticks,
    note,
  };
}

/** The spacing of linearTicks over [low, high]: 1, 2 or 5 x 10^k, about a quarter of the range. */
function tickStep(low: number, high: number): number {
  const rough = (high - low) / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough)!;
}

/** About five round ticks (1, 2 or 5 x 10^k apart) inside [low, high]. */
export function linearTicks(low: number, high: number): ColorTick[] {
  if (!(high > low)) return [{ value: low, label: formatValue(low), at: 0.5 }];
  const step = tickStep(low, high);
  const ticks: ColorTick[] = [];
  for (let k = Math.ceil(low / step); k * step <= high + step * 1e-9; k++) {
    const value = Number((k * step).toPrecision(12));
    ticks.push({ value, label: formatValue(value, step), at: (value - low) / (high - low) });
  }
  return ticks;
}

/** Ticks at the powers of ten inside [low, high] (low > 0). */
export function logTicks(low: number, high: number): ColorTick[] {
  if (!(high > low) || !(low > 0)) return [{ value: high, label: formatValue(high), at: 0.5 }];
  const span = Math.log10(high) - Math.log10(low);
  const ticks: ColorTick[] = [];
  for (let k = Math.ceil(Math.log10(low) - 1e-9); k <= Math.floor(Math.log10(high) + 1e-9); k++) {
    ticks.push({ value: 10 ** k, label: `1e${k}`, at: (k - Math.log10(low)) / span });
  }
  return ticks;
}
