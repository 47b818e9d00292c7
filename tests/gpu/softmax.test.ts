/**
 * SoftmaxPass in both of its shapes (src/gpu/workgroupShape.ts), each forced on its own device: the GPU's workgroup
 * per row (softmax.wgsl) and the software adapters' invocation per row (softmaxRows.wgsl), against softmaxCpu.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftmaxPass } from '../../src/compute/softmax.ts';
import { softmaxCpu } from '../../src/compute/softmax.cpu.ts';
import { fullCrop, type Crop, type SoftmaxScope } from '../../src/compute/region.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { HARDWARE_SHAPE, setWorkgroupShape, SOFTWARE_SHAPE, type WorkgroupShape } from '../../src/gpu/workgroupShape.ts';
import { requestNodeAdapter } from '../../src/node/dawn.ts';
import { withDevice, withValidation } from '../helpers/gpuDevice.ts';
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

const SHAPES: Record<string, WorkgroupShape> = { 'GPU shape': HARDWARE_SHAPE, 'software shape': SOFTWARE_SHAPE };

for (const [shapeName, shape] of Object.entries(SHAPES)) {
  describe(`${SoftmaxPass.name}, ${shapeName}`, () => {
    // One pass per shape: SwiftShader takes about half a second to compile each pipeline.
    let device: GPUDevice;
    let pass: SoftmaxPass;
    beforeAll(async () => {
      device = await (await requestNodeAdapter()).requestDevice({ label: `softmax.${shapeName}` });
      // Before the pass exists: it reads the shape when it compiles.
      setWorkgroupShape(device, shape);
      pass = new SoftmaxPass(device, SHADERS);
    });
    afterAll(() => {
      pass?.destroy();
      device?.destroy();
    });

    /** Runs SoftmaxPass on one map (optionally placed after `before` other values) and returns the output. */
    async function gpuSoftmax(
      values: Float32Array,
      rows: number,
      cols: number,
      crop: Crop,
      scope: SoftmaxScope,
      format: StorageFormat,
      before = 0,
    ): Promise<Float32Array> {
      return withValidation(device, async (device) => {
        const padded = new Float32Array(before + values.length);
        padded.set(values, before);
        const input = uploadValues(device, 'test.attention', padded, format);
        const count = (crop.rowEnd - crop.rowStart) * (crop.colEnd - crop.colStart);
        const output = createOutput(device, 'test.output', count);
        try {
          await pass.ready(format);
          return await runAndRead(
            device,
            (encoder) => pass.encode(encoder, { input: { ...input, elementOffset: before }, rows, cols, crop, scope, output }),
            output,
            count,
          );
        } finally {
          input.buffer.destroy();
          output.destroy();
        }
      });
    }

    // 3 x 7 by hand: ties, -inf, a row of zeros; softmax of zeros is uniform.
    const handMade = new Float32Array([
      1, 2, 2, -Infinity, 0, 3, 3, // ties at the max, one -inf
      0, 0, 0, 0, 0, 0, 0, // uniform
      -1e30, 5, -Infinity, 88, 88, -3, 1e-3, // extreme spread: exp(x - max) underflows to 0 for most
    ]);

    for (const scope of ['none', 'row', 'crop'] as const) {
      it(`matches the reference on a hand-made 3 x 7 map, scope '${scope}', whole map and a crop`, async () => {
        for (const crop of [fullCrop(3, 7), { rowStart: 1, rowEnd: 3, colStart: 2, colEnd: 6 }]) {
          const gpu = await gpuSoftmax(handMade, 3, 7, crop, scope, 'float32');
          expectClose(gpu, softmaxCpu(handMade, 3, 7, crop, scope), TOLERANCE.float32, ABSOLUTE_FLOOR.float32);
        }
      });
    }

    it('gives rows that sum to 1 over the crop with scope crop, and to at most 1 with scope row', async () => {
      const values = randomValues(5 * 9, makeRandom(3));
      const crop = { rowStart: 1, rowEnd: 4, colStart: 2, colEnd: 7 };
      for (const scope of ['crop', 'row'] as const) {
        const gpu = await gpuSoftmax(values, 5, 9, crop, scope, 'float32');
        for (let row = 0; row < 3; row++) {
          const sum = gpu.subarray(row * 5, row * 5 + 5).reduce((a, b) => a + b, 0);
          if (scope === 'crop') expect(sum).toBeCloseTo(1, 5);
          else expect(sum).toBeLessThan(1);
        }
      }
    });

    it('follows torch for non-finite values: NaN or +inf makes the row NaN, -inf weighs 0, all -inf is NaN', async () => {
      const values = new Float32Array([
        1, NaN, 2, 3, // NaN -> whole row NaN
        1, Infinity, 2, 3, // +inf -> whole row NaN (torch: inf - inf)
        -Infinity, 0, -Infinity, 0, // -inf -> 0, the rest 0.5 each
        -Infinity, -Infinity, -Infinity, -Infinity, // no finite value -> NaN
        0, 1, 2, NaN, // NaN outside the crop's columns: scope 'crop' is not affected, scope 'row' is
      ]);
      const crop = { rowStart: 0, rowEnd: 5, colStart: 0, colEnd: 3 };
      // float16 storage keeps NaN and infinities (packFloat16Pairs and unpack2x16float), so the rules are the same.
      for (const [scope, format] of [['row', 'float32'], ['crop', 'float32'], ['row', 'float16'], ['crop', 'float16']] as const) {
        const gpu = await gpuSoftmax(values, 5, 4, crop, scope, format);
        const expected = softmaxCpu(values, 5, 4, crop, scope);
        expectClose(gpu, expected, TOLERANCE[format], ABSOLUTE_FLOOR[format]);
        expect(Array.from(gpu.subarray(0, 6)).every(Number.isNaN)).toBe(true);
        // Scope 'crop' sees columns 0..2 only, where one 0 is left beside two -inf.
        expect(Array.from(gpu.subarray(6, 9))).toEqual(scope === 'row' ? [0, 0.5, 0] : [0, 1, 0]);
        expect(Array.from(gpu.subarray(9, 12)).every(Number.isNaN)).toBe(true);
        expect(Array.from(gpu.subarray(12, 15)).every(Number.isNaN)).toBe(scope === 'row');
      }
      // Without softmax, values are copied as they are, non-finite ones included.
      for (const format of ['float32', 'float16'] as const) {
        const copied = await gpuSoftmax(values, 5, 4, fullCrop(5, 4), 'none', format);
        expectClose(copied, values, 0, ABSOLUTE_FLOOR.float32);
      }
    });

    // Sizes not divisible by the workgroup (256): 1, 7, 149, and 1501 columns (few rows to keep SwiftShader quick).
    const sizes: [rows: number, cols: number][] = [
      [1, 1],
      [7, 7],
      [149, 149],
      [3, 1501],
    ];
    for (const format of ['float32', 'float16'] as const) {
      for (const [rows, cols] of sizes) {
        it(`matches the reference on a random ${rows} x ${cols} map stored as ${format}`, async () => {
          const random = makeRandom(rows * 7919 + cols);
          // float16 holds attention probabilities in [0, 1) to 2^-12 relative: softmax of those stays within 1e-3.
          const values = format === 'float32' ? randomValues(rows * cols, random) : randomValues(rows * cols, random, 0, 1);
          const crop = {
            rowStart: Math.floor(rows / 3),
            rowEnd: rows,
            colStart: Math.floor(cols / 4),
            colEnd: cols - Math.floor(cols / 5),
          };
          // An odd offset checks that float16 maps may start in the high half of a word.
          for (const scope of ['none', 'row', 'crop'] as const) {
            const gpu = await gpuSoftmax(values, rows, cols, crop, scope, format, 3);
            expectClose(gpu, softmaxCpu(values, rows, cols, crop, scope), TOLERANCE[format], ABSOLUTE_FLOOR[format]);
          }
        });
      }
    }

    it('matches the reference on one 1500 x 1500 map (Whisper size), scope row', async () => {
      const values = randomValues(1500 * 1500, makeRandom(1500), -8, 8);
      const crop = fullCrop(1500, 1500);
      const gpu = await gpuSoftmax(values, 1500, 1500, crop, 'row', 'float32');
      expectClose(gpu, softmaxCpu(values, 1500, 1500, crop, 'row'), TOLERANCE.float32, ABSOLUTE_FLOOR.float32);
    });

  });
}

describe(SoftmaxPass.name, () => {
  it('throws a named error when used after destroy(), and destroy() may be called twice', async () => {
    await withDevice(async (device) => {
      const pass = new SoftmaxPass(device, SHADERS);
      pass.destroy();
      pass.destroy();
      const encoder = device.createCommandEncoder();
      const output = createOutput(device, 'test.output', 1);
      expect(() =>
        pass.encode(encoder, {
          input: { buffer: output, format: 'float32', elementOffset: 0 },
          rows: 1,
          cols: 1,
          crop: fullCrop(1, 1),
          scope: 'row',
          output,
        }),
      ).toThrowError(/SoftmaxPass was used after destroy/);
      output.destroy();
    });
  });
});
