import { afterAll, describe, expect, it } from 'vitest';
import { DifferencePass } from '../../src/compute/difference.ts';
import { differenceCpu } from '../../src/compute/difference.cpu.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { withDevice } from '../helpers/gpuDevice.ts';
import { SHADERS, TOLERANCE, createOutput, expectClose, makeRandom, randomValues, roundToFloat16, runAndRead, uploadValues } from './support.ts';

let pass: DifferencePass | undefined;
afterAll(() => pass?.destroy());

/** minuend (stored in `format`, after `before` other values) - subtrahend (f32). */
async function gpuDifference(minuend: Float32Array, subtrahend: Float32Array, format: StorageFormat, before = 0) {
  return withDevice(async (device) => {
    pass ??= new DifferencePass(device, SHADERS);
    await pass.ready(format);
    const padded = new Float32Array(before + minuend.length);
    padded.set(minuend, before);
    const a = uploadValues(device, 'test.minuend', padded, format);
    const b = uploadValues(device, 'test.subtrahend', subtrahend, 'float32');
    const output = createOutput(device, 'test.output', minuend.length);
    try {
      return await runAndRead(
        device,
        (encoder) =>
          pass!.encode(encoder, {
            minuend: { ...a, elementOffset: before },
            subtrahend: b.buffer,
            count: minuend.length,
            output,
          }),
        output,
        minuend.length,
      );
    } finally {
      a.buffer.destroy();
      b.buffer.destroy();
      output.destroy();
    }
  });
}

describe(DifferencePass.name, () => {
  for (const format of ['float32', 'float16'] as const) {
    for (const count of [1, 7, 149 * 149, 3 * 1501]) {
      it(`matches the reference on ${count} random values, minuend stored as ${format}`, async () => {
        const random = makeRandom(count);
        const a = randomValues(count, random, 0, 1);
        const b = randomValues(count, random, 0, 1);
        const gpu = await gpuDifference(a, b, format, 5);
        // Differences of values in [0, 1) cancel: compare against the inputs' scale (floor 1).
        expectClose(gpu, differenceCpu(a, b), TOLERANCE[format], 1);
        if (format === 'float16') expectClose(gpu, differenceCpu(roundToFloat16(a), b), TOLERANCE.float32, 1);
      });
    }
  }

  it('follows IEEE 754 for non-finite values', async () => {
    const a = new Float32Array([NaN, 1, Infinity, Infinity, -Infinity, 1, 2]);
    const b = new Float32Array([1, NaN, Infinity, -Infinity, -Infinity, Infinity, 2]);
    const gpu = await gpuDifference(a, b, 'float32');
    expectClose(gpu, differenceCpu(a, b), 0, 1);
    expect(Array.from(gpu)).toEqual([NaN, NaN, NaN, Infinity, NaN, -Infinity, 0]);
  });
});
