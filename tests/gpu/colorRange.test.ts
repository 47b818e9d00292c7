import { afterAll, describe, expect, it } from 'vitest';
import { ColorRangePass, readGathered, type ColorRangeRule } from '../../src/compute/colorRange.ts';
import { createHistogramBuffer, HistogramPass, readHistogram } from '../../src/compute/histogram.ts';
import { createMapStatsBuffer, MinMaxPass, readMapStats } from '../../src/compute/minMax.ts';
import { fullCrop } from '../../src/compute/region.ts';
import { readFloat32 } from '../../src/gpu/buffers.ts';
import { makeColorScale, type RangePolicy } from '../../src/view/colorScale.ts';
import { withDevice } from '../helpers/gpuDevice.ts';
import { SHADERS, makeRandom, randomValues, uploadValues } from './support.ts';

const BINS = 64;
let passes: { minMax: MinMaxPass; histogram: HistogramPass; range: ColorRangePass } | undefined;
afterAll(() => {
  passes?.minMax.destroy();
  passes?.histogram.destroy();
  passes?.range.destroy();
});

/** Three maps of different ranges (one without any finite value, which every rule must skip). */
function makeMaps(positive: boolean): { values: Float32Array; rows: number; cols: number }[] {
  const random = makeRandom(positive ? 7 : 11);
  const skewed = (values: Float32Array) => values.map((v) => (positive ? v ** 3 : v * Math.abs(v)));
  const maps = [
    { values: skewed(randomValues(20 * 24, random, positive ? 0.001 : -1, 1)), rows: 20, cols: 24 },
    { values: skewed(randomValues(16 * 16, random, positive ? 0.0001 : -0.3, 0.6)), rows: 16, cols: 16 },
    { values: new Float32Array(6 * 5).fill(NaN), rows: 6, cols: 5 },
  ];
  return maps;
}

/** The GPU ranges of `maps` under `rule`, and makeColorScale's low and high from the same stats read back. */
async function rangesOf(maps: ReturnType<typeof makeMaps>, policy: RangePolicy) {
  return withDevice(async (device) => {
    passes ??= { minMax: new MinMaxPass(device, SHADERS), histogram: new HistogramPass(device, SHADERS), range: await ColorRangePass.create(device, SHADERS) };
    await passes.minMax.ready('float32');
    await passes.histogram.ready('float32', BINS);
    const made: GPUBuffer[] = [];
    try {
      const encoder = device.createCommandEncoder({ label: 'test.encoder' });
      const inputs = maps.map((map, i) => {
        const input = uploadValues(device, `test.map${i}`, map.values, 'float32');
        const stats = createMapStatsBuffer(device, `test.stats${i}`);
        const histogram = createHistogramBuffer(device, `test.histogram${i}`, BINS);
        made.push(input.buffer, stats, histogram);
        const job = { input, rows: map.rows, cols: map.cols, region: fullCrop(map.rows, map.cols) };
        passes!.minMax.encode(encoder, job, stats);
        passes!.histogram.encode(encoder, job, stats, histogram, BINS);
        return { stats, histogram };
      });
      const rule: ColorRangeRule = {
        shared: policy.shared,
        symmetric: policy.symmetric,
        log: policy.scale === 'log' && !policy.symmetric,
        percentile: policy.scale === 'percentile' ? [policy.clip[0] / 100, policy.clip[1] / 100] : undefined,
      };
      const encoded = passes.range.encode(encoder, inputs, rule, BINS);
      made.push(encoded.ranges, ...encoded.scratch);
      device.queue.submit([encoder.finish()]);
      const gpu = await readFloat32(device, encoded.ranges, maps.length * 2);
      const read = await Promise.all(inputs.map(async (input) => ({ ...(await readMapStats(device, input.stats)), histogram: await readHistogram(device, input.histogram, BINS) })));
      // What the viewer reads for its colour bar: the gathered copies, equal to each map's own buffers.
      const gathered = await readGathered(device, encoded);
      expect(gathered.map((g) => [g.min, g.max, g.finiteCount, g.nanCount])).toEqual(read.map((r) => [r.min, r.max, r.finiteCount, r.nanCount]));
      if (rule.percentile) expect(gathered.map((g) => [...g.histogram])).toEqual(read.map((r) => [...r.histogram]));
      const shared = makeColorScale(policy, read);
      const expected = read.map((stats) => (policy.shared ? shared : makeColorScale(policy, [stats])));
      return { gpu, expected };
    } finally {
      made.forEach((buffer) => buffer.destroy());
    }
  });
}

const POLICIES: (Omit<RangePolicy, 'shared'> & { positive: boolean })[] = [
  { scale: 'linear', clip: [0, 100], symmetric: false, positive: false },
  { scale: 'log', clip: [0, 100], symmetric: false, positive: true },
  { scale: 'percentile', clip: [5, 95], symmetric: false, positive: false },
  { scale: 'percentile', clip: [1, 99], symmetric: false, positive: true },
  { scale: 'linear', clip: [0, 100], symmetric: true, positive: false },
  { scale: 'percentile', clip: [2, 98], symmetric: true, positive: false },
];

describe(ColorRangePass.name, () => {
  for (const shared of [true, false]) {
    for (const { positive, ...rest } of POLICIES) {
      const policy: RangePolicy = { ...rest, shared };
      it(`gives makeColorScale's low and high: ${policy.scale}${policy.symmetric ? ' symmetric' : ''} p${policy.clip.join('-')}, ${shared ? 'shared' : 'per map'}`, async () => {
        const { gpu, expected } = await rangesOf(makeMaps(positive), policy);
        expected.forEach((scale, i) => {
          const tolerance = 1e-5 * Math.max(Math.abs(scale.high), Math.abs(scale.low), 1e-30);
          expect(Math.abs(gpu[2 * i] - scale.low), `map ${i} low ${gpu[2 * i]} vs ${scale.low}`).toBeLessThanOrEqual(tolerance);
          expect(Math.abs(gpu[2 * i + 1] - scale.high), `map ${i} high ${gpu[2 * i + 1]} vs ${scale.high}`).toBeLessThanOrEqual(tolerance);
        });
        // The rule did something: a shared range is the same for all maps, per-map ranges differ, and a percentile
        // range lies inside the values' min..max.
        if (shared) expect([gpu[2], gpu[3]]).toEqual([gpu[0], gpu[1]]);
        else expect([gpu[2], gpu[3]]).not.toEqual([gpu[0], gpu[1]]);
        if (policy.scale === 'percentile' && !policy.symmetric) expect(gpu[1]).toBeLessThan(Math.max(...makeMaps(positive)[0].values));
      });
    }
  }
});
