/**
 * The host path's kernels (src/compute/cpu/mapKernels.ts) against the plain `.cpu.ts` references they tighten,
 * including every non-finite rule: NaN and +inf rows, -inf cells, rows with no finite value, all-equal regions.
 */
import { describe, expect, it } from 'vitest';
import { addSoftmaxedCrop, differenceOf, meanOfSoftmaxedCrops, regionHistogram, regionStats } from '../../src/compute/cpu/mapKernels.ts';
import { differenceCpu } from '../../src/compute/difference.cpu.ts';
import { histogramCpu } from '../../src/compute/histogram.cpu.ts';
import { layerMeanCpu } from '../../src/compute/layerMean.cpu.ts';
import { minMaxCpu } from '../../src/compute/minMax.cpu.ts';
import { fullCrop, type SoftmaxScope } from '../../src/compute/region.ts';
import { softmaxCpu } from '../../src/compute/softmax.cpu.ts';
import { expectClose, makeRandom, randomValues } from '../gpu/support.ts';

const ROWS = 9;
const COLS = 11;
const CROPS = [fullCrop(ROWS, COLS), { rowStart: 2, rowEnd: 7, colStart: 3, colEnd: 10 }];
const SCOPES: SoftmaxScope[] = ['none', 'row', 'crop'];

/** A map with a NaN in row 1, +inf in row 2, -inf cells in rows 3 and 4, and row 5 all -inf. */
function mapWithNonFinite(seed: number): Float32Array {
  const map = randomValues(ROWS * COLS, makeRandom(seed));
  map[1 * COLS + 4] = NaN;
  map[2 * COLS + 9] = Infinity;
  map[3 * COLS + 0] = -Infinity;
  map[4 * COLS + 5] = -Infinity;
  map.fill(-Infinity, 5 * COLS, 6 * COLS);
  return map;
}

/** Equal as float32, NaN where the reference has NaN. */
function expectEqualF32(actual: Float32Array, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  expectClose(actual, expected, 1e-6, 1e-12);
}

describe('host map kernels', () => {
  for (const scope of SCOPES) {
    it(`one map, softmax '${scope}', whole and cropped, equals softmaxCpu`, () => {
      const map = mapWithNonFinite(1);
      for (const crop of CROPS) {
        const out = new Float32Array((crop.rowEnd - crop.rowStart) * (crop.colEnd - crop.colStart));
        addSoftmaxedCrop(map, COLS, crop, scope, 1, out, false);
        const expected = softmaxCpu(map, ROWS, COLS, crop, scope);
        expectEqualF32(out, expected);
        // The non-finite rules are exact, not within a tolerance.
        expected.forEach((value, index) => expect(Number.isNaN(out[index])).toBe(Number.isNaN(value)));
      }
    });

    it(`means over layers x heads with softmax '${scope}' equal layerMeanCpu`, async () => {
      const heads = 3;
      const layers = [randomValues(heads * ROWS * COLS, makeRandom(2)), randomValues(heads * ROWS * COLS, makeRandom(3))];
      const chosen = [0, 2];
      for (const crop of CROPS) {
        const maps = layers.flatMap((layer) => chosen.map((head) => layer.subarray(head * ROWS * COLS, (head + 1) * ROWS * COLS)));
        const out = await meanOfSoftmaxedCrops(maps, maps.length, COLS, crop, scope);
        expectClose(out, layerMeanCpu(layers, chosen, ROWS, COLS, crop, scope), 1e-6, scope === 'none' ? 1 : 1e-12);
      }
    });
  }

  it('the difference equals differenceCpu bit for bit', () => {
    const a = mapWithNonFinite(4);
    const b = randomValues(ROWS * COLS, makeRandom(5));
    const expected = Float32Array.from(differenceCpu(a, b));
    expect(Array.from(differenceOf(a, b))).toEqual(Array.from(expected));
  });

  it('region stats equal minMaxCpu, with and without non-finite values, and for a region of none', () => {
    const maps = [randomValues(ROWS * COLS, makeRandom(6)), mapWithNonFinite(7), new Float32Array(ROWS * COLS).fill(NaN)];
    for (const map of maps) {
      for (const region of [...CROPS, { rowStart: 5, rowEnd: 6, colStart: 0, colEnd: COLS }]) {
        expect(regionStats(map, COLS, region)).toEqual(minMaxCpu(map, ROWS, COLS, region));
      }
    }
  });

  it('region histograms equal histogramCpu, including an all-equal region', () => {
    const map = mapWithNonFinite(8);
    for (const region of CROPS) {
      const { min, max } = minMaxCpu(map, ROWS, COLS, region);
      for (const bins of [1, 7, 256]) {
        expect(regionHistogram(map, COLS, region, min, max, bins)).toEqual(histogramCpu(map, ROWS, COLS, region, min, max, bins));
      }
    }
    const flat = new Float32Array(ROWS * COLS).fill(0.25);
    expect(regionHistogram(flat, COLS, CROPS[0], 0.25, 0.25, 8)).toEqual(histogramCpu(flat, ROWS, COLS, CROPS[0], 0.25, 0.25, 8));
  });
});
