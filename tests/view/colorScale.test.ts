/**
 * The colour scale every front end uses: values from statistics written out by hand here (and, for percentiles, from
 * sorting the values themselves), never from the code under test.
 */
import { describe, expect, it } from 'vitest';
import type { MapValueStats, RangePolicy } from '../../src/view/colorScale.ts';
import { LOG_FLOOR_RATIO, linearTicks, logTicks, makeColorScale, mergedPercentile, scalePosition } from '../../src/view/colorScale.ts';

const LINEAR: RangePolicy = { scale: 'linear', clip: [1, 99], symmetric: false, shared: true };

/** Stats of `values` with a `bins`-bin histogram over [min, max], as the GPU histogram pass bins them. */
function statsOf(values: readonly number[], bins = 1000): MapValueStats {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const histogram = new Array<number>(bins).fill(0);
  for (const value of values) histogram[Math.min(bins - 1, Math.floor(((value - min) / (max - min)) * bins))]++;
  return { min, max, histogram };
}

describe('makeColorScale', () => {
  it('spans min to max of every map together when shared: a faint map is not stretched to full colour', () => {
    const faint = { min: 0.0035, max: 0.0051 };
    const vivid = { min: 0, max: 0.64 };
    const scale = makeColorScale(LINEAR, [faint, vivid]);
    expect([scale.low, scale.high]).toEqual([0, 0.64]);
    expect(scalePosition(scale, 0.0051)).toBeLessThan(0.01);
    const alone = makeColorScale(LINEAR, [faint]);
    expect([alone.low, alone.high]).toEqual([0.0035, 0.0051]);
  });

  it('clips to percentiles of all maps together and says "p5–p95"', () => {
    const a = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const b = Array.from({ length: 1000 }, (_, i) => 1 + i / 1000);
    const scale = makeColorScale({ ...LINEAR, scale: 'percentile', clip: [5, 95] }, [statsOf(a), statsOf(b)]);
    // Sorted, the 2000 values put the 5th percentile at 0.1 and the 95th at 1.9.
    expect(scale.low).toBeCloseTo(0.1, 2);
    expect(scale.high).toBeCloseTo(1.9, 2);
    expect(scale.note).toBe('p5–p95');
    expect(scale.lowLabel).toMatch(/^p5 0\.(1|0999)$/);
    expect(scale.highLabel).toMatch(/^p95 1\.(9|899)$/);
  });

  it('is symmetric about 0 for differences, whatever the scale asked', () => {
    const scale = makeColorScale({ ...LINEAR, symmetric: true }, [{ min: -0.02, max: 0.08 }]);
    expect([scale.low, scale.high]).toEqual([-0.08, 0.08]);
    expect(scale.log).toBe(false);
    expect(scalePosition(scale, 0)).toBe(0.5);
  });

  it('floors a log scale at max x 1e-6, as the shader does, with ticks at powers of ten', () => {
    const scale = makeColorScale({ ...LINEAR, scale: 'log' }, [{ min: 0, max: 0.5 }]);
    expect(scale.log).toBe(true);
    expect(scale.low).toBeCloseTo(0.5 * LOG_FLOOR_RATIO, 15);
    expect(scale.ticks.map((tick) => tick.label)).toEqual(['1e-6', '1e-5', '1e-4', '1e-3', '1e-2', '1e-1']);
    expect(scalePosition(scale, 0.5)).toBe(1);
    expect(scalePosition(scale, 0.5e-3)).toBeCloseTo(0.5, 10);
    expect(scale.note).toBe('log');
  });

  it('marks a clamped log floor as clipped ("≤ …"), and only when data lies below it', () => {
    const clipped = makeColorScale({ ...LINEAR, scale: 'log' }, [{ min: 1e-13, max: 0.751 }]);
    expect(clipped.low).toBeCloseTo(7.51e-7, 20);
    expect(clipped.lowLabel).toBe('≤ 7.51e-7');
    const whole = makeColorScale({ ...LINEAR, scale: 'log' }, [{ min: 0.01, max: 0.751 }]);
    expect(whole.low).toBe(0.01);
    expect(whole.lowLabel.startsWith('≤')).toBe(false);
  });
});

describe('ticks and percentiles', () => {
  it('puts linear ticks at round steps inside the range', () => {
    expect(linearTicks(0, 0.64).map((tick) => tick.value)).toEqual([0, 0.2, 0.4, 0.6]);
    expect(linearTicks(-0.08, 0.08).map((tick) => tick.value)).toEqual([-0.05, 0, 0.05]);
    expect(logTicks(0.002, 3).map((tick) => tick.value)).toEqual([0.01, 0.1, 1]);
  });

  it('prints ticks and ends of a nearly uniform map with the digits that tell them apart', () => {
    // A head close to uniform over 1500 keys: every value near 1/1500.
    const scale = makeColorScale(LINEAR, [{ min: 6.66998e-4, max: 6.67121e-4 }]);
    expect(scale.ticks.map((tick) => tick.label)).toEqual(['6.6700e-4', '6.6705e-4', '6.6710e-4']);
    expect([scale.lowLabel, scale.highLabel]).toEqual(['6.6700e-4', '6.6712e-4']);
    // An ordinary range keeps the usual digits.
    expect(linearTicks(0, 0.64).map((tick) => tick.label)).toEqual(['0', '0.2', '0.4', '0.6']);
    expect(makeColorScale(LINEAR, [{ min: 1e-5, max: 0.0123 }]).highLabel).toBe('0.0123');
  });

  it('finds the percentile of one map as sorting its values does', () => {
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 500);
    const sorted = [...values].sort((a, b) => a - b);
    // As exact as the bins: within one value of the 500 (the spacing of the values).
    expect(Math.abs(mergedPercentile([statsOf(values)], 0.25) - sorted[125])).toBeLessThan(1);
    expect(() => mergedPercentile([{ min: 0, max: 1 }], 0.5)).toThrow(/histogram/);
  });
});
