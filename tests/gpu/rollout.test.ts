/**
 * RolloutPass against rolloutCpu: hand-made layers with a zero row and NaN, random head-averaged maps of sizes that
 * the 64-wide tiles do not divide (1, 7, 65, 149, 257), layer ranges, one view per layer, both storage formats.
 * encodeStep (one step of the running product) is checked against encode in tests/gpu/rolloutCache.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageBuffer, readFloat32 } from '../../src/gpu/buffers.ts';
import type { AttentionView, StorageFormat } from '../../src/gpu/storageFormat.ts';
import { PassDestroyedError } from '../../src/compute/passSupport.ts';
import { RolloutPass } from '../../src/compute/rollout.ts';
import { rolloutCpu } from '../../src/compute/rollout.cpu.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { getTestDevice, withDevice } from '../helpers/gpuDevice.ts';
import { expectClose, makeAttentionMaps, makeRandom, TOLERANCE, uploadAttention } from '../helpers/computeCheck.ts';

let pass: RolloutPass;
beforeAll(async () => {
  pass = await RolloutPass.create(await getTestDevice(), readShaderSources());
});
afterAll(() => pass?.destroy());

/** Runs the rollout of layers [layerStart, layerEnd) on the GPU, with all layers in one view or one view per layer. */
async function rolloutOnGpu(
  layers: Float32Array,
  size: number,
  layerStart: number,
  layerEnd: number,
  format: StorageFormat,
  { pad = 0, viewPerLayer = false } = {},
): Promise<Float32Array> {
  return withDevice(async (device) => {
    const mapValues = size * size;
    const views: AttentionView[] = viewPerLayer
      ? Array.from({ length: layers.length / mapValues }, (_, layer) =>
          uploadAttention(device, `test.layer${layer}`, layers.subarray(layer * mapValues, (layer + 1) * mapValues), format, pad),
        )
      : [uploadAttention(device, 'test.layers', layers, format, pad)];
    const output = createStorageBuffer(device, 'test.output', RolloutPass.outputSizeBytes(size));
    try {
      const encoder = device.createCommandEncoder({ label: 'test.encoder' });
      pass.encode(encoder, { layers: viewPerLayer ? views : views[0], size, layerStart, layerEnd, output });
      device.queue.submit([encoder.finish()]);
      return await readFloat32(device, output, mapValues);
    } finally {
      for (const view of views) view.buffer.destroy();
      output.destroy();
    }
  });
}

async function checkAgainstCpu(
  layers: Float32Array,
  size: number,
  layerStart: number,
  layerEnd: number,
  format: StorageFormat,
  options: { pad?: number; viewPerLayer?: boolean } = {},
): Promise<void> {
  const expected = rolloutCpu(layers, size, layerStart, layerEnd);
  const actual = await rolloutOnGpu(layers, size, layerStart, layerEnd, format, options);
  expectClose(actual, expected, TOLERANCE[format], `rollout ${size}x${size}, layers [${layerStart}, ${layerEnd}) (${format})`);
  // Every row of a product of row-stochastic matrices sums to 1.
  for (let row = 0; row < size; row += Math.max(1, Math.floor(size / 7))) {
    const sum = actual.subarray(row * size, (row + 1) * size).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 4);
  }
}

describe(RolloutPass.name, () => {
  it('adds the residual, renormalises rows and multiplies layers in order (hand-made 2 x 2)', async () => {
    // Layer 0: rows swap frames. Layer 1: row 0 has no finite mass (identity row), row 1 is (0.5, 0.5).
    const layers = new Float32Array([0, 1, 1, 0, NaN, 0, 0.5, 0.5]);
    // Â0 = [[.5, .5], [.5, .5]]; Â1 = [[1, 0], [.25, .75]]; R = Â1 · Â0 = Â0.
    expect(Array.from(await rolloutOnGpu(layers, 2, 0, 1, 'float32'))).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(await rolloutOnGpu(layers, 2, 1, 2, 'float32'))).toEqual([1, 0, 0.25, 0.75]);
    expect(Array.from(await rolloutOnGpu(layers, 2, 0, 2, 'float32'))).toEqual([0.5, 0.5, 0.5, 0.5]);
    // The order matters: with Â0 = [[1, 0], [.25, .75]] first and Â1 = [[.5, .5], [.5, .5]] second, R = Â1 · Â0.
    const swapped = new Float32Array([NaN, 0, 0.5, 0.5, 0, 1, 1, 0]);
    expectClose(
      await rolloutOnGpu(swapped, 2, 0, 2, 'float32'),
      new Float32Array([0.625, 0.375, 0.625, 0.375]),
      TOLERANCE.float32,
      'Â1 · Â0',
    );
  });

  for (const format of ['float32', 'float16'] as const) {
    it(`matches the reference for 1, 7 and 65 frames, all layers and sub-ranges (${format})`, async () => {
      const random = makeRandom(65);
      await checkAgainstCpu(makeAttentionMaps(random, 3, 1, 1), 1, 0, 3, format);
      const seven = makeAttentionMaps(random, 4, 7, 7);
      await checkAgainstCpu(seven, 7, 0, 4, format, { pad: 3 });
      await checkAgainstCpu(seven, 7, 1, 3, format, { viewPerLayer: true, pad: 1 });
      const sixtyFive = makeAttentionMaps(random, 3, 65, 65);
      await checkAgainstCpu(sixtyFive, 65, 0, 3, format);
      await checkAgainstCpu(sixtyFive, 65, 1, 3, format, { pad: 555 });
    });

    it(`matches the reference for 149 frames x 4 layers, layers [1, 4) as separate views (${format})`, async () => {
      const layers = makeAttentionMaps(makeRandom(149), 4, 149, 149);
      await checkAgainstCpu(layers, 149, 1, 4, format, { viewPerLayer: true, pad: 5 });
    });
  }

  it('matches the reference for 257 frames x 3 layers (float32)', async () => {
    await checkAgainstCpu(makeAttentionMaps(makeRandom(257), 3, 257, 257), 257, 0, 3, 'float32', { pad: 1 });
  });

  it('matches the reference for 1500 frames x 2 layers (float16, Whisper base size)', async () => {
    await checkAgainstCpu(makeAttentionMaps(makeRandom(1500), 2, 1500, 1500), 1500, 0, 2, 'float16');
  });

  it('rejects an empty layer range, a too small output, missing layer views and use after destroy', async () => {
    const device = await getTestDevice();
    const spare = await RolloutPass.create(device, readShaderSources());
    const layers = uploadAttention(device, 'test.layers', new Float32Array(8), 'float32');
    const output = createStorageBuffer(device, 'test.output', 16);
    const tiny = createStorageBuffer(device, 'test.tiny', 4);
    const encoder = device.createCommandEncoder({ label: 'test.unused' });
    try {
      const args = { layers, size: 2, layerStart: 1, layerEnd: 2, output };
      expect(() => spare.encode(encoder, { ...args, layerEnd: 1 })).toThrow(RangeError);
      expect(() => spare.encode(encoder, { ...args, output: tiny })).toThrow(/output needs 16 bytes/);
      expect(() => spare.encode(encoder, { ...args, layers: [layers] })).toThrow(/past the 1 layer views/);
      expect(() => spare.encodeStep(encoder, { layer: layers, previous: output, size: 2, output })).toThrow(/must not be its previous/);
      expect(() => spare.encodeStep(encoder, { layer: layers, previous: tiny, size: 2, output })).toThrow(/previous needs 16 bytes/);
      spare.destroy();
      spare.destroy();
      expect(() => spare.encode(encoder, args)).toThrow(PassDestroyedError);
    } finally {
      for (const buffer of [layers.buffer, output, tiny]) buffer.destroy();
    }
  });
});
