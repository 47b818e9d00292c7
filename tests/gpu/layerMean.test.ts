import { afterAll, describe, it } from 'vitest';
import { LayerMeanPass } from '../../src/compute/layerMean.ts';
import { layerMeanCpu } from '../../src/compute/layerMean.cpu.ts';
import type { SoftmaxScope } from '../../src/compute/region.ts';
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

let pass: LayerMeanPass | undefined;
afterAll(() => pass?.destroy());

describe(LayerMeanPass.name, () => {
  const cases: [rows: number, cols: number, format: StorageFormat][] = [
    [7, 7, 'float32'],
    [149, 149, 'float32'],
    [2, 1501, 'float32'],
    [7, 7, 'float16'],
    [2, 1501, 'float16'],
  ];
  for (const [rows, cols, format] of cases) {
    it(`matches the reference for 3 layers x 4 heads of ${rows} x ${cols} (${format}), one head and head subsets, in one batch and in two`, async () => {
      const random = makeRandom(rows + cols * 3);
      const layers = Array.from({ length: 3 }, () =>
        format === 'float32' ? randomValues(4 * rows * cols, random) : randomValues(4 * rows * cols, random, 0, 1),
      );
      const crop = { rowStart: Math.floor(rows / 2), rowEnd: rows, colStart: 1, colEnd: cols };
      const count = (crop.rowEnd - crop.rowStart) * (crop.colEnd - crop.colStart);
      await withDevice(async (device) => {
        pass ??= new LayerMeanPass(device, SHADERS);
        await pass.ready(format);
        const inputs = layers.map((layer, index) => uploadValues(device, `test.layer${index}`, layer, format));
        const output = createOutput(device, 'test.output', count);
        try {
          for (const scope of ['none', 'row', 'crop'] as SoftmaxScope[]) {
            const floor = scope === 'none' && format === 'float32' ? 1 : ABSOLUTE_FLOOR[format];
            for (const heads of [[1], [0, 1, 2, 3], [3, 1]]) {
              const parts = inputs.map((input) => ({ input, mapOffsets: heads.map((head) => head * rows * cols) }));
              const job = { totalMaps: 3 * heads.length, rows, cols, crop, scope, output };
              const expected = layerMeanCpu(layers, heads, rows, cols, crop, scope);
              const oneBatch = await runAndRead(device, (encoder) => pass!.encode(encoder, { ...job, parts, accumulate: false }), output, count);
              expectClose(oneBatch, expected, TOLERANCE[format], floor);
              // Two submits, as the engine does when only some layers fit in memory at once.
              await runAndRead(device, (encoder) => pass!.encode(encoder, { ...job, parts: parts.slice(0, 1), accumulate: false }), output, 1);
              const twoBatches = await runAndRead(device, (encoder) => pass!.encode(encoder, { ...job, parts: parts.slice(1), accumulate: true }), output, count);
              expectClose(twoBatches, expected, TOLERANCE[format], floor);
            }
          }
        } finally {
          inputs.forEach((input) => input.buffer.destroy());
          output.destroy();
        }
      });
    });
  }
});
