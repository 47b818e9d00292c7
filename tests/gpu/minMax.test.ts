import { afterAll, describe, expect, it } from 'vitest';
import { HistogramPass, percentileFromHistogram, readHistogram, createHistogramBuffer } from '../../src/compute/histogram.ts';
import { histogramCpu } from '../../src/compute/histogram.cpu.ts';
import { MinMaxPass, createMapStatsBuffer, readMapStats, type MapStats } from '../../src/compute/minMax.ts';
import { minMaxCpu } from '../../src/compute/minMax.cpu.ts';
import { fullCrop, type Crop } from '../../src/compute/region.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { withDevice } from '../helpers/gpuDevice.ts';
import { SHADERS, makeRandom, randomValues, roundToFloat16, uploadValues } from './support.ts';

let minMax: MinMaxPass | undefined;
let histogram: HistogramPass | undefined;
afterAll(() => {
  minMax?.destroy();
  histogram?.destroy();
});

/** MinMaxPass then HistogramPass on a region of one map; both results read back. */
async function gpuStats(
  values: Float32Array,
  rows: number,
  cols: number,
  region: Crop,
  format: StorageFormat,
  bins: number,
): Promise<{ stats: MapStats; counts: Uint32Array }> {
  return withDevice(async (device) => {
    minMax ??= new MinMaxPass(device, SHADERS);
    histogram ??= new HistogramPass(device, SHADERS);
    await minMax.ready(format);
    await histogram.ready(format, bins);
    const input = uploadValues(device, 'test.map', values, format);
    const stats = createMapStatsBuffer(device, 'test.stats');
    const counts = createHistogramBuffer(device, 'test.histogram', bins);
    try {
      const encoder = device.createCommandEncoder({ label: 'test.encoder' });
      const job = { input, rows, cols, region };
      minMax.encode(encoder, job, stats);
      histogram.encode(encoder, job, stats, counts, bins);
      device.queue.submit([encoder.finish()]);
      return { stats: await readMapStats(device, stats), counts: await readHistogram(device, counts, bins) };
    } finally {
      input.buffer.destroy();
      stats.destroy();
      counts.destroy();
    }
  });
}

/**
 * Checks GPU histogram counts against the values: a value within `slack` bins of a bin edge may land on either
 * side (the GPU divides with 2.5 ulp of error, the reference in float64), so for each edge the number of values
 * the GPU puts below it must lie between the values surely below and the values possibly below.
 */
function expectHistogram(counts: Uint32Array, values: ArrayLike<number>, cols: number, region: Crop, low: number, high: number) {
  const bins = counts.length;
  const slack = 1e-3;
  const surelyBelow = new Float64Array(bins + 1);
  const possiblyBelow = new Float64Array(bins + 1);
  let total = 0;
  for (let row = region.rowStart; row < region.rowEnd; row++) {
    for (let col = region.colStart; col < region.colEnd; col++) {
      const value = values[row * cols + col];
      if (!Number.isFinite(value)) continue;
      total++;
      const halfRange = high * 0.5 - low * 0.5;
      const position = halfRange > 0 ? Math.min(Math.max((value * 0.5 - low * 0.5) / halfRange, 0), 1) * bins : 0;
      const lowest = Math.min(Math.max(Math.floor(position - slack), 0), bins - 1);
      const highest = Math.min(Math.max(Math.floor(position + slack), 0), bins - 1);
      // Edge k separates bins k-1 and k: the value is surely below every edge above its highest bin, and possibly
      // below every edge above its lowest (counted here at the first such edge, summed over edges below).
      surelyBelow[highest + 1]++;
      possiblyBelow[lowest + 1]++;
    }
  }
  for (let edge = 1; edge <= bins; edge++) {
    surelyBelow[edge] += surelyBelow[edge - 1];
    possiblyBelow[edge] += possiblyBelow[edge - 1];
  }
  let below = 0;
  for (let edge = 1; edge <= bins; edge++) {
    below += counts[edge - 1];
    if (below < surelyBelow[edge] || below > possiblyBelow[edge]) {
      throw new Error(`edge ${edge}: ${below} values below on the GPU, expected ${surelyBelow[edge]}..${possiblyBelow[edge]}`);
    }
  }
  expect(below).toBe(total);
}

describe(`${MinMaxPass.name} and ${HistogramPass.name}`, () => {
  const sizes: [rows: number, cols: number][] = [
    [1, 1],
    [7, 7],
    [149, 149],
    [3, 1501],
  ];
  for (const format of ['float32', 'float16'] as const) {
    for (const [rows, cols] of sizes) {
      it(`match the references on a random ${rows} x ${cols} map (${format}), whole and cropped`, async () => {
        const values = randomValues(rows * cols, makeRandom(rows * 13 + cols), -3, 5);
        // What the GPU sees: float16 storage rounds, and min/max are then exact values of the rounded map.
        const seen = format === 'float16' ? roundToFloat16(values) : values;
        const regions = [fullCrop(rows, cols), { rowStart: Math.floor(rows / 2), rowEnd: rows, colStart: 0, colEnd: Math.ceil(cols / 3) }];
        for (const region of regions) {
          const { stats, counts } = await gpuStats(values, rows, cols, region, format, 256);
          const expected = minMaxCpu(seen, rows, cols, region);
          expect(stats).toEqual(expected);
          expectHistogram(counts, seen, cols, region, expected.min, expected.max);
        }
      });
    }
  }

  it('ignore and count non-finite values, so a NaN cannot poison the colour scale', async () => {
    const values = new Float32Array([NaN, 0.25, -Infinity, 1, Infinity, -0.5, NaN, 0.75, 0]);
    const { stats, counts } = await gpuStats(values, 3, 3, fullCrop(3, 3), 'float32', 4);
    expect(stats).toEqual({ min: -0.5, max: 1, finiteCount: 5, nanCount: 2, posInfCount: 1, negInfCount: 1 });
    expect(stats).toEqual(minMaxCpu(values, 3, 3, fullCrop(3, 3)));
    // Bins of width 0.375 from -0.5, edges at -0.125, 0.25, 0.625: {-0.5}, {0}, {0.25}, {0.75, 1}.
    expect(Array.from(counts)).toEqual([1, 1, 1, 2]);
    expect(Array.from(counts)).toEqual(Array.from(histogramCpu(values, 3, 3, fullCrop(3, 3), -0.5, 1, 4)));
  });

  it('read single values before and after the 16-byte quads of each row: unaligned map start and crop, NaN and inf anywhere', async () => {
    const rows = 9;
    const cols = 23;
    const offset = 5; // the map starts mid-quad in its buffer
    const values = randomValues(rows * cols, makeRandom(5), -2, 2);
    // Non-finite values at every position of a quad and at both ends of rows.
    for (const [index, value] of [[0, NaN], [1, Infinity], [22, -Infinity], [23, NaN], [48, Infinity], [50, NaN], [51, -Infinity], [206, NaN]] as const) {
      values[index] = value;
    }
    const padded = new Float32Array(offset + values.length + 3);
    padded.set(values, offset);
    const seen = await withDevice(async (device) => {
      minMax ??= new MinMaxPass(device, SHADERS);
      await minMax.ready('float32');
      const upload = uploadValues(device, 'test.padded', padded, 'float32');
      const stats = createMapStatsBuffer(device, 'test.stats');
      try {
        const results: MapStats[] = [];
        for (const region of [fullCrop(rows, cols), { rowStart: 1, rowEnd: 8, colStart: 3, colEnd: 20 }, { rowStart: 0, rowEnd: 9, colStart: 1, colEnd: 6 }]) {
          const encoder = device.createCommandEncoder({ label: 'test.encoder' });
          minMax.encode(encoder, { input: { ...upload, elementOffset: offset }, rows, cols, region }, stats);
          device.queue.submit([encoder.finish()]);
          results.push(await readMapStats(device, stats));
          expect(results.at(-1)).toEqual(minMaxCpu(values, rows, cols, region));
        }
        return results;
      } finally {
        upload.buffer.destroy();
        stats.destroy();
      }
    });
    expect(seen[0]).toMatchObject({ nanCount: 4, posInfCount: 2, negInfCount: 2 });
  });

  it('report NaN min and max for a region without finite values, and bin a constant region in bin 0', async () => {
    const values = new Float32Array([NaN, Infinity, 2, 2]);
    const empty = await gpuStats(values, 2, 2, { rowStart: 0, rowEnd: 1, colStart: 0, colEnd: 2 }, 'float32', 8);
    expect(Number.isNaN(empty.stats.min) && Number.isNaN(empty.stats.max)).toBe(true);
    expect(Array.from(empty.counts).every((count) => count === 0)).toBe(true);
    const constant = await gpuStats(values, 2, 2, { rowStart: 1, rowEnd: 2, colStart: 0, colEnd: 2 }, 'float32', 8);
    expect(constant.stats).toMatchObject({ min: 2, max: 2, finiteCount: 2 });
    expect(constant.counts[0]).toBe(2);
  });

  it('match the references on one 1500 x 1500 map with 1024 bins, cropped as a viewer would', async () => {
    const values = randomValues(1500 * 1500, makeRandom(99), 0, 1);
    for (let index = 0; index < values.length; index += 9973) values[index] = NaN;
    const region = { rowStart: 100, rowEnd: 1400, colStart: 7, colEnd: 1500 };
    const { stats, counts } = await gpuStats(values, 1500, 1500, region, 'float32', 1024);
    const expected = minMaxCpu(values, 1500, 1500, region);
    expect(stats).toEqual(expected);
    expectHistogram(counts, values, 1500, region, expected.min, expected.max);
  });
});

describe(percentileFromHistogram.name, () => {
  it('interpolates inside the bin where the cumulative count crosses the fraction', () => {
    // 10 values in 5 bins over [0, 10): 2 per bin.
    const counts = [2, 2, 2, 2, 2];
    expect(percentileFromHistogram(counts, 0, 10, 0)).toBe(0);
    expect(percentileFromHistogram(counts, 0, 10, 0.5)).toBeCloseTo(5, 10);
    expect(percentileFromHistogram(counts, 0, 10, 0.99)).toBeCloseTo(9.9, 10);
    expect(percentileFromHistogram([0, 0], 0, 1, 0.5)).toBeNaN();
  });
});
