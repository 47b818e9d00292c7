/**
 * BlockPoolPass against blockPoolCpu: a hand-made map with non-finite values, k = 1 as the identity, random maps of
 * odd sizes with k from 1 to larger than the map in both storage formats, and a 1501 x 1501 case whose dispatch is
 * folded into two dimensions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageBuffer, readFloat32 } from '../../src/gpu/buffers.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { PassDestroyedError } from '../../src/compute/passSupport.ts';
import { BlockPoolPass, blockPoolShape } from '../../src/compute/blockPool.ts';
import { blockPoolCpu } from '../../src/compute/blockPool.cpu.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { getTestDevice, withDevice } from '../helpers/gpuDevice.ts';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../src/data/float16.ts';
import { expectClose, makeAttentionMaps, makeRandom, TOLERANCE, uploadAttention } from '../helpers/computeCheck.ts';

let pass: BlockPoolPass;
beforeAll(async () => {
  pass = await BlockPoolPass.create(await getTestDevice(), readShaderSources());
});
afterAll(() => pass?.destroy());

async function poolOnGpu(
  values: Float32Array,
  rows: number,
  cols: number,
  blockSize: number,
  format: StorageFormat,
  maps = 1,
  pad = 0,
): Promise<{ mean: Float32Array; max: Float32Array }> {
  return withDevice(async (device) => {
    const input = uploadAttention(device, 'test.input', values, format, pad);
    const bytes = BlockPoolPass.outputSizeBytes(rows, cols, blockSize, maps);
    const meanOutput = createStorageBuffer(device, 'test.mean', bytes);
    const maxOutput = createStorageBuffer(device, 'test.max', bytes);
    try {
      const encoder = device.createCommandEncoder({ label: 'test.encoder' });
      pass.encode(encoder, { input, rows, cols, blockSize, maps, meanOutput, maxOutput });
      device.queue.submit([encoder.finish()]);
      return { mean: await readFloat32(device, meanOutput, bytes / 4), max: await readFloat32(device, maxOutput, bytes / 4) };
    } finally {
      for (const buffer of [input.buffer, meanOutput, maxOutput]) buffer.destroy();
    }
  });
}

async function checkAgainstCpu(
  values: Float32Array,
  rows: number,
  cols: number,
  blockSize: number,
  format: StorageFormat,
  maps = 1,
  pad = 0,
): Promise<void> {
  const expected = blockPoolCpu(values, rows, cols, blockSize, maps);
  const actual = await poolOnGpu(values, rows, cols, blockSize, format, maps, pad);
  expectClose(actual.mean, expected.mean, TOLERANCE[format], `mean (k=${blockSize}, ${format})`);
  expectClose(actual.max, expected.max, TOLERANCE[format], `max (k=${blockSize}, ${format})`);
}

describe(BlockPoolPass.name, () => {
  it('pools a hand-made 3 x 7 map with k = 2: partial blocks, NaN and infinities skipped', async () => {
    // prettier-ignore
    const values = new Float32Array([
      1, 2, 3, 3, NaN, 0, -1,
      4, Infinity, 5, 5, NaN, NaN, -Infinity,
      7, 8, 9, NaN, NaN, 0, 2,
    ]);
    const { mean, max } = await poolOnGpu(values, 3, 7, 2, 'float32');
    expect(blockPoolShape(3, 7, 2)).toEqual({ rows: 2, cols: 4 });
    // Blocks: [1 2 4] [3 3 5 5] [0] [-1] / [7 8] [9] [0] [2]
    expectClose(mean, new Float32Array([7 / 3, 4, 0, -1, 7.5, 9, 0, 2]), TOLERANCE.float32, 'mean');
    expect(Array.from(max)).toEqual([4, 5, 0, -1, 8, 9, 0, 2]);
    const allBad = await poolOnGpu(new Float32Array([NaN, Infinity, 1, -Infinity]), 2, 2, 1, 'float32');
    expect(Array.from(allBad.mean)).toEqual([NaN, NaN, 1, NaN]);
    expect(Array.from(allBad.max)).toEqual([NaN, NaN, 1, NaN]);
  });

  it('is the identity for k = 1 (float32 exactly, float16 as decoded)', async () => {
    const values = makeAttentionMaps(makeRandom(11), 1, 7, 9);
    const float32 = await poolOnGpu(values, 7, 9, 1, 'float32', 1, 1);
    expect(Array.from(float32.mean)).toEqual(Array.from(values));
    expect(Array.from(float32.max)).toEqual(Array.from(values));
    const float16 = await poolOnGpu(values, 7, 9, 1, 'float16', 1, 1);
    const decoded = Array.from(values, (value) => float16BitsToFloat32(float32ToFloat16Bits(value)));
    expect(Array.from(float16.mean)).toEqual(decoded);
    expect(Array.from(float16.max)).toEqual(decoded);
  });

  for (const format of ['float32', 'float16'] as const) {
    it(`matches the reference on 1 x 1 and 7 x 7 maps for k = 1, 2, 3, 7, 8 (${format})`, async () => {
      await checkAgainstCpu(new Float32Array([0.5]), 1, 1, 1, format);
      await checkAgainstCpu(new Float32Array([0.5]), 1, 1, 3, format);
      const values = makeAttentionMaps(makeRandom(77), 2, 7, 7);
      for (const blockSize of [1, 2, 3, 7, 8]) await checkAgainstCpu(values, 7, 7, blockSize, format, 2, 3);
    });

    it(`matches the reference on 2 maps of 149 x 151 for k = 1, 4, 5, 16, 37, 149, 200 (${format})`, async () => {
      const values = makeAttentionMaps(makeRandom(149), 2, 149, 151);
      // 333 filler values first: the view is bound from a 256-byte-aligned offset inside the buffer.
      for (const blockSize of [1, 4, 5, 16, 37, 149, 200]) await checkAgainstCpu(values, 149, 151, blockSize, format, 2, 333);
    });
  }

  it('matches the reference on 2 maps of 1501 x 1501 for k = 1 (folded dispatch) and k = 64', async () => {
    const values = makeAttentionMaps(makeRandom(1501), 2, 1501, 1501);
    // 2 x 1501^2 blocks / 64 per workgroup = 70,413 workgroups: more than 65,535 in one dimension.
    await checkAgainstCpu(values, 1501, 1501, 1, 'float32', 2);
    await checkAgainstCpu(values, 1501, 1501, 64, 'float16', 2, 1);
  });

  it('rejects k = 0, a too small output and use after destroy', async () => {
    const device = await getTestDevice();
    const spare = await BlockPoolPass.create(device, readShaderSources());
    const input = uploadAttention(device, 'test.input', new Float32Array(16), 'float32');
    const small = createStorageBuffer(device, 'test.small', 4);
    const encoder = device.createCommandEncoder({ label: 'test.unused' });
    try {
      const args = { input, rows: 4, cols: 4, meanOutput: small, maxOutput: small };
      expect(() => spare.encode(encoder, { ...args, blockSize: 0 })).toThrow(RangeError);
      expect(() => spare.encode(encoder, { ...args, blockSize: 2 })).toThrow(/meanOutput needs 16 bytes/);
      spare.destroy();
      spare.destroy();
      expect(() => spare.encode(encoder, { ...args, blockSize: 4 })).toThrow(PassDestroyedError);
    } finally {
      input.buffer.destroy();
      small.destroy();
    }
  });
});
