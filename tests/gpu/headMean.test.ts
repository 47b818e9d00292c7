import { afterAll, describe, expect, it } from 'vitest';
import { HeadMeanPass, MAX_MAPS_PER_DISPATCH } from '../../src/compute/headMean.ts';
import { headMeanCpu } from '../../src/compute/headMean.cpu.ts';
import { fullCrop, type Crop, type SoftmaxScope } from '../../src/compute/region.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { withDevice } from '../helpers/gpuDevice.ts';
import {
  ABSOLUTE_FLOOR,
  SHADERS,
  TOLERANCE,
  createOutput,
  expectClose,
  makeRandom,
  randomValues,
  runAndRead,
  uploadValues,
} from './support.ts';

// One pass for the whole file: SwiftShader takes about half a second to compile each pipeline.
let pass: HeadMeanPass | undefined;
afterAll(() => pass?.destroy());

/**
 * Means over `heads` of a layer (heads x rows x cols), as one job or, with `split`, as one job per head with
 * accumulation (the way a layer uploaded head by head is averaged).
 */
async function gpuHeadMean(
  layer: Float32Array,
  heads: readonly number[],
  rows: number,
  cols: number,
  crop: Crop,
  scope: SoftmaxScope,
  format: StorageFormat,
  split = false,
): Promise<Float32Array> {
  return withDevice(async (device) => {
    const input = uploadValues(device, 'test.attention', layer, format);
    const count = (crop.rowEnd - crop.rowStart) * (crop.colEnd - crop.colStart);
    const output = createOutput(device, 'test.output', count);
    pass ??= new HeadMeanPass(device, SHADERS);
    try {
      await pass.ready(format);
      const offsets = heads.map((head) => head * rows * cols);
      const jobs = split ? offsets.map((offset) => [offset]) : [offsets];
      return await runAndRead(
        device,
        (encoder) =>
          jobs.forEach((mapOffsets, index) =>
            pass!.encode(encoder, {
              input,
              mapOffsets,
              rows,
              cols,
              crop,
              scope,
              weight: 1 / heads.length,
              accumulate: index > 0,
              output,
            }),
          ),
        output,
        count,
      );
    } finally {
      input.buffer.destroy();
      output.destroy();
    }
  });
}

describe(HeadMeanPass.name, () => {
  const sizes: [rows: number, cols: number][] = [
    [1, 1],
    [7, 7],
    [149, 149],
    [2, 1501],
    // Maps 456 values apart (a multiple of 4): float32 rows are read in quads, rows starting 0 or 2 values into one.
    [12, 38],
  ];
  for (const format of ['float32', 'float16'] as const) {
    for (const [rows, cols] of sizes) {
      it(`matches the reference on 3 random ${rows} x ${cols} heads stored as ${format}: all, a subset, split`, async () => {
        const random = makeRandom(rows * 31 + cols);
        const layer = format === 'float32' ? randomValues(3 * rows * cols, random) : randomValues(3 * rows * cols, random, 0, 1);
        const crop = { rowStart: 0, rowEnd: rows, colStart: Math.floor(cols / 3), colEnd: cols };
        for (const scope of ['none', 'row', 'crop'] as const) {
          // Means of signed values can cancel to ~0: compare those against the values' own scale.
          const floor = scope === 'none' && format === 'float32' ? 1 : ABSOLUTE_FLOOR[format];
          for (const heads of [[0, 1, 2], [2, 0]]) {
            const expected = headMeanCpu(layer, heads, rows, cols, crop, scope);
            expectClose(await gpuHeadMean(layer, heads, rows, cols, crop, scope, format), expected, TOLERANCE[format], floor);
          }
          const expected = headMeanCpu(layer, [0, 1, 2], rows, cols, crop, scope);
          const split = await gpuHeadMean(layer, [0, 1, 2], rows, cols, crop, scope, format, true);
          expectClose(split, expected, TOLERANCE[format], floor);
        }
      });
    }
  }

  it(`averages more maps than one dispatch holds (${MAX_MAPS_PER_DISPATCH + 6})`, async () => {
    const heads = MAX_MAPS_PER_DISPATCH + 6;
    const layer = randomValues(heads * 2 * 5, makeRandom(70));
    const all = Array.from({ length: heads }, (_, head) => head);
    const crop = fullCrop(2, 5);
    const gpu = await gpuHeadMean(layer, all, 2, 5, crop, 'row', 'float32');
    expectClose(gpu, headMeanCpu(layer, all, 2, 5, crop, 'row'), TOLERANCE.float32, ABSOLUTE_FLOOR.float32);
  });

  it('propagates non-finite values like IEEE 754 sums: NaN stays NaN, +inf + -inf is NaN, one infinity wins', async () => {
    // Two heads of 1 x 4: NaN | +inf with +inf | +inf with -inf | finite.
    const layer = new Float32Array([NaN, Infinity, Infinity, 1, 2, Infinity, -Infinity, 3]);
    const gpu = await gpuHeadMean(layer, [0, 1], 1, 4, fullCrop(1, 4), 'none', 'float32');
    expect(Number.isNaN(gpu[0])).toBe(true);
    expect(gpu[1]).toBe(Infinity);
    expect(Number.isNaN(gpu[2])).toBe(true);
    expect(gpu[3]).toBe(2);
    expectClose(gpu, headMeanCpu(layer, [0, 1], 1, 4, fullCrop(1, 4), 'none'), 0, 1);
    // The same added head by head (the output read back and added onto), and inside 16-byte quads of a wider row.
    expectClose(await gpuHeadMean(layer, [0, 1], 1, 4, fullCrop(1, 4), 'none', 'float32', true), gpu, 0, 1);
    const wide = new Float32Array(2 * 12).fill(0.5);
    wide.set([NaN, Infinity, Infinity, 1], 4);
    wide.set([2, Infinity, -Infinity, 3], 12 + 4);
    for (const split of [false, true]) {
      const sums = await gpuHeadMean(wide, [0, 1], 1, 12, fullCrop(1, 12), 'none', 'float32', split);
      expectClose(sums, headMeanCpu(wide, [0, 1], 1, 12, fullCrop(1, 12), 'none'), 0, 1);
      expect(sums[4]).toBeNaN();
      expect(sums[5]).toBe(Infinity);
    }
    // With softmax, a NaN row in one head makes the mean's row NaN; -inf is weight 0.
    const logits = new Float32Array([0, NaN, 0, 0, /* head 1 */ 0, -Infinity, 0, 0]);
    const soft = await gpuHeadMean(logits, [0, 1], 1, 4, fullCrop(1, 4), 'row', 'float32');
    expect(Array.from(soft).every(Number.isNaN)).toBe(true);
    const softOne = await gpuHeadMean(logits, [1], 1, 4, fullCrop(1, 4), 'row', 'float32');
    expectClose(softOne, [1 / 3, 0, 1 / 3, 1 / 3], TOLERANCE.float32, ABSOLUTE_FLOOR.float32);
  });
});
