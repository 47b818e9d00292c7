/**
 * HeadStatsPass against headStatsCpu: hand-made maps whose statistics are known in closed form, rows that are
 * unnormalised, zero or non-finite, random and diagonal-heavy maps of odd sizes in both storage formats, several
 * layers gathered into one output, and one 1500 x 1500 case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageBuffer, readFloat32 } from '../../src/gpu/buffers.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { PassDestroyedError } from '../../src/compute/passSupport.ts';
import { HeadStatsPass, msPerFrameFromSpf } from '../../src/compute/headStats.ts';
import { headStatsCpu } from '../../src/compute/headStats.cpu.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { getTestDevice, withDevice } from '../helpers/gpuDevice.ts';
import { expectClose, makeAttentionMaps, makeRandom, TOLERANCE, uploadAttention } from '../helpers/computeCheck.ts';

const WHISPER_MS_PER_FRAME = msPerFrameFromSpf(320);

let pass: HeadStatsPass;
beforeAll(async () => {
  pass = await HeadStatsPass.create(await getTestDevice(), readShaderSources());
});
afterAll(() => pass?.destroy());

async function statsOnGpu(
  values: Float32Array,
  maps: number,
  rows: number,
  cols: number,
  format: StorageFormat,
  { nearFrames, pad = 0, msPerFrame = WHISPER_MS_PER_FRAME }: { nearFrames?: number; pad?: number; msPerFrame?: number } = {},
): Promise<Float32Array> {
  return withDevice(async (device) => {
    const input = uploadAttention(device, 'test.input', values, format, pad);
    const output = createStorageBuffer(device, 'test.output', HeadStatsPass.outputSizeBytes(maps));
    try {
      const encoder = device.createCommandEncoder({ label: 'test.encoder' });
      pass.encode(encoder, { input, maps, rows, cols, msPerFrame, nearFrames, output });
      device.queue.submit([encoder.finish()]);
      return await readFloat32(device, output, maps * 4);
    } finally {
      input.buffer.destroy();
      output.destroy();
    }
  });
}

/** Tolerances: entropy is a difference of two sums, so it gets an absolute floor a little above float32 rounding. */
function statsTolerance(format: StorageFormat): { relative: number; absolute: number } {
  return { relative: TOLERANCE[format].relative, absolute: format === 'float32' ? 2e-6 : 2e-4 };
}

async function checkAgainstCpu(
  values: Float32Array,
  maps: number,
  rows: number,
  cols: number,
  format: StorageFormat,
  options: { nearFrames?: number; pad?: number } = {},
): Promise<void> {
  const expected = headStatsCpu(values, maps, rows, cols, { msPerFrame: WHISPER_MS_PER_FRAME, nearFrames: options.nearFrames });
  const actual = await statsOnGpu(values, maps, rows, cols, format, options);
  expectClose(actual, expected, statsTolerance(format), `head stats ${maps} x ${rows} x ${cols} (${format})`);
}

/** Maps whose rows decay with the distance from the diagonal, at a random width per map (local heads). */
function makeLocalMaps(random: () => number, maps: number, size: number): Float32Array {
  const values = new Float32Array(maps * size * size);
  for (let map = 0; map < maps; map++) {
    const width = 0.5 + 20 * random();
    for (let row = 0; row < size; row++) {
      let sum = 0;
      for (let col = 0; col < size; col++) {
        const value = Math.exp(-Math.abs(row - col) / width) * (0.5 + random());
        values[(map * size + row) * size + col] = value;
        sum += value;
      }
      for (let col = 0; col < size; col++) values[(map * size + row) * size + col] /= sum;
    }
  }
  return values;
}

describe(HeadStatsPass.name, () => {
  it('gives closed-form values for identity, uniform and unnormalised maps', async () => {
    // Map 0: 3 x 3 identity. Map 1: uniform rows. Map 2: map 1 times 5 (rows not summing to 1).
    const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const uniform = new Array(9).fill(1 / 3);
    const values = new Float32Array([...identity, ...uniform, ...uniform.map((x) => 5 * x)]);
    const actual = await statsOnGpu(values, 3, 3, 3, 'float32', { nearFrames: 0, msPerFrame: 20 });
    // Uniform rows: distances (0+1+2)/3, (1+0+1)/3, (2+1+0)/3 average 8/9; on-diagonal share 1/3.
    const uniformStats = [Math.log(3), 8 / 9, (8 / 9) * 20, 1 / 3];
    expectClose(actual, new Float32Array([0, 0, 0, 1, ...uniformStats, ...uniformStats]), statsTolerance('float32'), 'stats');
  });

  it('leaves zero, negative and non-finite rows out, and gives NaN for a map without a valid row', async () => {
    // Map 0 (2 x 4): row 0 is (0.5, 0.5, 0, 0); row 1 is zero apart from NaN, inf and a negative value: excluded.
    // Map 1: all zero.
    const values = new Float32Array([0.5, 0.5, 0, 0, NaN, Infinity, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const actual = await statsOnGpu(values, 2, 2, 4, 'float32', { nearFrames: 0, msPerFrame: 10 });
    expectClose(actual, new Float32Array([Math.log(2), 0.5, 5, 0.5, NaN, NaN, NaN, NaN]), statsTolerance('float32'), 'stats');
    expectClose(actual, headStatsCpu(values, 2, 2, 4, { nearFrames: 0, msPerFrame: 10 }), statsTolerance('float32'), 'cpu');
  });

  for (const format of ['float32', 'float16'] as const) {
    it(`matches the reference on 1 x 1 and 8 heads of 7 x 7, for w = 0, 2, 10 (${format})`, async () => {
      await checkAgainstCpu(new Float32Array([1]), 1, 1, 1, format);
      const random = makeRandom(7);
      const values = makeAttentionMaps(random, 8, 7, 7);
      for (const nearFrames of [0, 2, 10]) await checkAgainstCpu(values, 8, 7, 7, format, { nearFrames, pad: 1 });
    });

    it(`matches the reference on 8 heads of 149 x 149, random and local (${format})`, async () => {
      const random = makeRandom(149);
      await checkAgainstCpu(makeAttentionMaps(random, 8, 149, 149), 8, 149, 149, format, { pad: 777 });
      await checkAgainstCpu(makeLocalMaps(random, 8, 149), 8, 149, 149, format, { nearFrames: 3 });
    });
  }

  it('gathers several layers into one output with firstOutputMap, reusing its scratch within one encoder', async () => {
    const random = makeRandom(3);
    const layers = [makeLocalMaps(random, 4, 37), makeAttentionMaps(random, 4, 37, 37), makeLocalMaps(random, 4, 37)];
    const actual = await withDevice(async (device) => {
      const inputs = layers.map((values, layer) => uploadAttention(device, `test.layer${layer}`, values, 'float32'));
      const output = createStorageBuffer(device, 'test.output', HeadStatsPass.outputSizeBytes(12));
      try {
        const encoder = device.createCommandEncoder({ label: 'test.encoder' });
        inputs.forEach((input, layer) =>
          pass.encode(encoder, { input, maps: 4, rows: 37, cols: 37, msPerFrame: 20, output, firstOutputMap: 4 * layer }),
        );
        device.queue.submit([encoder.finish()]);
        return await readFloat32(device, output, 48);
      } finally {
        for (const input of inputs) input.buffer.destroy();
        output.destroy();
      }
    });
    const expected = new Float32Array(48);
    layers.forEach((values, layer) => expected.set(headStatsCpu(values, 4, 37, 37, { msPerFrame: 20 }), 16 * layer));
    expectClose(actual, expected, statsTolerance('float32'), 'three layers');
  });

  it('matches the reference on 2 heads of 1500 x 1500 (float16)', async () => {
    const random = makeRandom(1500);
    const values = new Float32Array(2 * 1500 * 1500);
    values.set(makeLocalMaps(random, 1, 1500));
    values.set(makeAttentionMaps(random, 1, 1500, 1500), 1500 * 1500);
    await checkAgainstCpu(values, 2, 1500, 1500, 'float16', { pad: 1 });
  });

  it('rejects a too small output and use after destroy', async () => {
    const device = await getTestDevice();
    const spare = await HeadStatsPass.create(device, readShaderSources());
    const input = uploadAttention(device, 'test.input', new Float32Array(8), 'float32');
    const output = createStorageBuffer(device, 'test.output', 16);
    const encoder = device.createCommandEncoder({ label: 'test.unused' });
    try {
      const args = { input, maps: 2, rows: 2, cols: 2, msPerFrame: 20, output };
      expect(() => spare.encode(encoder, args)).toThrow(/output needs 32 bytes/);
      spare.destroy();
      spare.destroy();
      expect(() => spare.encode(encoder, { ...args, maps: 1 })).toThrow(PassDestroyedError);
    } finally {
      input.buffer.destroy();
      output.destroy();
    }
  });
});
