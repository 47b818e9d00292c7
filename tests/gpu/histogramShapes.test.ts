/**
 * HistogramPass in both workgroup shapes (src/gpu/workgroupShape.ts), each forced on its own device, on maps built so
 * that every value lies at a bin's centre: the counts must then equal histogramCpu's exactly. The maps reach what
 * histogram.wgsl does beyond plain binning: runs of values in one bin (counted in registers and added when the run
 * ends), non-finite values at every position of a quad inside and between runs, quads and single values (float32
 * rows of odd length, float16 storage), and ranges at both ends of f32 (wider than the largest float, and so narrow
 * near the smallest normal float that bins / range overflows).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHistogramBuffer, HistogramPass, readHistogram } from '../../src/compute/histogram.ts';
import { histogramCpu } from '../../src/compute/histogram.cpu.ts';
import { createMapStatsBuffer, MinMaxPass, readMapStats } from '../../src/compute/minMax.ts';
import { fullCrop, type Crop } from '../../src/compute/region.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { HARDWARE_SHAPE, setWorkgroupShape, SOFTWARE_SHAPE, type WorkgroupShape } from '../../src/gpu/workgroupShape.ts';
import { requestNodeAdapter } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { makeRandom, uploadValues } from './support.ts';

// The GPU shape with 2 workgroups too: blocks long enough for the kernel's four-quad loop steps at 256 threads.
const SHAPES: Record<string, WorkgroupShape> = {
  'GPU shape': HARDWARE_SHAPE,
  'GPU shape, 2 workgroups': { ...HARDWARE_SHAPE, reductionWorkgroups: 2 },
  'software shape': SOFTWARE_SHAPE,
};

/**
 * A rows x cols map of `bins` bins over [0, 1] (0 and 1 included, so min and max are the bin range), every other
 * value at a bin centre: long runs in one bin (most of them in bin 0, as in a softmaxed map), short runs elsewhere,
 * and NaN and infinities scattered through both.
 */
function runMap(rows: number, cols: number, bins: number, seed: number): Float32Array {
  const random = makeRandom(seed);
  const values = new Float32Array(rows * cols);
  let index = 0;
  while (index < values.length) {
    const bin = random() < 0.6 ? 0 : Math.floor(random() * bins);
    const length = 1 + Math.floor(random() * (random() < 0.5 ? 40 : 5));
    values.fill((bin + 0.5) / bins, index, index + length);
    index += length;
  }
  for (let index = 0; index < values.length; index += 1 + Math.floor(random() * 23)) values[index] = [NaN, Infinity, -Infinity][index % 3];
  values[3] = 0;
  values[values.length - 2] = 1;
  return values;
}

for (const [name, shape] of Object.entries(SHAPES)) {
  describe(`HistogramPass, ${name}`, () => {
    let device: GPUDevice;
    let minMax: MinMaxPass;
    let histogram: HistogramPass;
    beforeAll(async () => {
      device = await (await requestNodeAdapter()).requestDevice({ label: `histogramShapes.${name}` });
      setWorkgroupShape(device, shape);
      const shaders = readShaderSources();
      minMax = new MinMaxPass(device, shaders);
      histogram = new HistogramPass(device, shaders);
    });
    afterAll(() => {
      minMax?.destroy();
      histogram?.destroy();
      device?.destroy();
    });

    /** Min/max then the histogram of `region`, read back; the min and max must be `low` and `high`. */
    async function counts(values: Float32Array, rows: number, cols: number, region: Crop, format: StorageFormat, bins: number, low: number, high: number) {
      await Promise.all([minMax.ready(format), histogram.ready(format, bins)]);
      const input = uploadValues(device, 'test.map', values, format);
      const stats = createMapStatsBuffer(device, 'test.stats');
      const output = createHistogramBuffer(device, 'test.histogram', bins);
      try {
        device.pushErrorScope('validation');
        const encoder = device.createCommandEncoder({ label: 'test.encoder' });
        const job = { input, rows, cols, region };
        minMax.encode(encoder, job, stats);
        histogram.encode(encoder, job, stats, output, bins);
        device.queue.submit([encoder.finish()]);
        const read = await readMapStats(device, stats);
        const result = await readHistogram(device, output, bins);
        expect((await device.popErrorScope())?.message).toBeUndefined();
        expect([read.min, read.max]).toEqual([low, high]);
        return result;
      } finally {
        for (const buffer of [input.buffer, stats, output]) buffer.destroy();
      }
    }

    it('counts runs of one bin, broken by non-finite values, exactly as the reference (quads, singles, float16)', async () => {
      for (const [rows, cols, format] of [[37, 64, 'float32'], [131, 64, 'float32'], [23, 41, 'float32'], [19, 33, 'float16']] as const) {
        const bins = 16;
        const values = runMap(rows, cols, bins, rows * cols);
        const whole = await counts(values, rows, cols, fullCrop(rows, cols), format, bins, 0, 1);
        const expected = histogramCpu(values, rows, cols, fullCrop(rows, cols), 0, 1, bins);
        expect([...whole]).toEqual([...expected]);
        expect(expected[0]).toBeGreaterThan(expected.reduce((sum, count) => sum + count, 0) / 3);
      }
    });

    it('puts values outside the stats range in the end bins, as the reference does', async () => {
      await histogram.ready('float32', 8);
      const values = Float32Array.from({ length: 45 }, (_, index) => -1 + index / 11);
      const input = uploadValues(device, 'test.map', values, 'float32');
      const stats = createMapStatsBuffer(device, 'test.stats');
      const output = createHistogramBuffer(device, 'test.histogram', 8);
      try {
        // Stats of another region: min 0.25, max 0.75 (words 6 and 7), while the values run from -1 to 3.
        device.queue.writeBuffer(stats, 24, new Float32Array([0.25, 0.75]));
        const encoder = device.createCommandEncoder({ label: 'test.encoder' });
        histogram.encode(encoder, { input, rows: 5, cols: 9, region: fullCrop(5, 9) }, stats, output, 8);
        device.queue.submit([encoder.finish()]);
        const got = await readHistogram(device, output, 8);
        const expected = histogramCpu(values, 5, 9, fullCrop(5, 9), 0.25, 0.75, 8);
        expect([...got]).toEqual([...expected]);
        expect([expected[0], expected[7]]).toEqual([values.filter((value) => value < 0.3125).length, values.filter((value) => value >= 0.6875).length]);
      } finally {
        for (const buffer of [input.buffer, stats, output]) buffer.destroy();
      }
    });

    it('bins ranges wider than the largest float and narrower than bins / the largest float', async () => {
      // Wide: max - min overflows f32; centres of 8 bins between -3e38 and 3e38.
      const wideLow = Math.fround(-3e38);
      const wideHigh = Math.fround(3e38);
      const wide = Float32Array.from({ length: 40 }, (_, index) => wideLow + ((index % 8) + 0.5) * ((wideHigh - wideLow) / 8));
      wide[0] = wideLow;
      wide[39] = wideHigh;
      expect([...(await counts(wide, 5, 8, fullCrop(5, 8), 'float32', 8, wideLow, wideHigh))]).toEqual([...histogramCpu(wide, 5, 8, fullCrop(5, 8), wideLow, wideHigh, 8)]);
      // Narrow: 2^-126 + m * 2^-149 (exact in f32) for m in [0, 64]: bins / range is 2^148, past f32's largest.
      const narrow = Float32Array.from({ length: 65 }, (_, m) => 2 ** -126 + m * 2 ** -149);
      const [low, high] = [narrow[0], narrow[64]];
      const bins = 16;
      // Reordered so that quads and singles hold values of different bins (5 x 13 rows).
      const shuffled = Float32Array.from(narrow.map((_, index) => narrow[(index * 17) % 65]));
      const got = await counts(shuffled, 5, 13, fullCrop(5, 13), 'float32', bins, low, high);
      expect([...got]).toEqual([...histogramCpu(shuffled, 5, 13, fullCrop(5, 13), low, high, bins)]);
    });
  });
}
