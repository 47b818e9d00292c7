/**
 * Timing samples and their summaries. Benchmarks report medians (robust to the odd slow run a garbage collection
 * or a busy neighbour causes) with min, p95 and the sample count beside them, so a reader can judge the spread.
 */

/** Summary of repeated measurements of one quantity (milliseconds unless the field says otherwise). */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly p95: number;
}

/** Summarises samples. Precondition: at least one sample. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return {
    n: sorted.length,
    median,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    p95: at(0.95),
  };
}

/** How many times to run a measurement. */
export interface Repetitions {
  /** Runs before measuring: pipeline compilation, first-touch page faults and JIT warm-up stay out of the numbers. */
  readonly warmup: number;
  /** Measured runs (at least 1). */
  readonly reps: number;
  /**
   * Stop early once this many milliseconds of measured runs have passed (at least one run is always measured),
   * so that a slow kernel on a software adapter does not blow the suite's time budget.
   */
  readonly maxMs?: number;
}

/** Runs `run` per `repetitions` and returns the measured samples, in milliseconds, of whatever `run` resolves to. */
export async function repeat(repetitions: Repetitions, run: () => Promise<number>): Promise<number[]> {
  for (let index = 0; index < repetitions.warmup; index++) await run();
  const samples: number[] = [];
  const started = now();
  for (let index = 0; index < Math.max(1, repetitions.reps); index++) {
    samples.push(await run());
    if (repetitions.maxMs !== undefined && now() - started > repetitions.maxMs) break;
  }
  return samples;
}

/** Wall time of `work`, in milliseconds. */
export async function wallMs(work: () => Promise<unknown> | unknown): Promise<number> {
  const start = now();
  await work();
  return now() - start;
}

/** performance.now(): monotonic milliseconds, in Node and in the page. */
export function now(): number {
  return performance.now();
}

/** Megabytes (10^6 bytes) per second for `bytes` moved in `ms` milliseconds. */
export function mbPerSec(bytes: number, ms: number): number {
  return ms > 0 ? bytes / 1e6 / (ms / 1e3) : NaN;
}

/** Gigabytes (10^9 bytes) per second for `bytes` moved in `ms` milliseconds. */
export function gbPerSec(bytes: number, ms: number): number {
  return ms > 0 ? bytes / 1e9 / (ms / 1e3) : NaN;
}
