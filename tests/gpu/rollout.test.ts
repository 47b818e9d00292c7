/**
 * RolloutPass against rolloutCpu, in both product shapes on this machine's adapter (src/gpu/workgroupShape.ts: the
 * tiled kernel a GPU runs and the register-tile kernel a software adapter runs, each forced on its own device):
 * hand-made layers with a zero row and NaN, random head-averaged maps of sizes that neither the 64-wide tiles nor the
 * 4-wide register tiles divide (1, 7, 65, 149, 257), layer ranges, one view per layer, both storage formats, and
 * encodeStep's padded step layout. encodeStep through the engine is checked in tests/gpu/rolloutCache.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageBuffer, createStorageBufferFrom, readFloat32 } from '../../src/gpu/buffers.ts';
import type { AttentionView, StorageFormat } from '../../src/gpu/storageFormat.ts';
import { HARDWARE_SHAPE, isSoftwareAdapter, setWorkgroupShape, SOFTWARE_SHAPE, type WorkgroupShape } from '../../src/gpu/workgroupShape.ts';
import { PassDestroyedError } from '../../src/compute/passSupport.ts';
import { RolloutPass, type RolloutProductShape } from '../../src/compute/rollout.ts';
import { rolloutCpu } from '../../src/compute/rollout.cpu.ts';
import { requestNodeAdapter } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { expectClose, makeAttentionMaps, makeRandom, TOLERANCE, uploadAttention } from '../helpers/computeCheck.ts';
import { withValidation } from '../helpers/gpuDevice.ts';

const SHAPES: Record<RolloutProductShape, WorkgroupShape> = { tiled: HARDWARE_SHAPE, registerTile: SOFTWARE_SHAPE };

for (const [shapeName, workgroupShape] of Object.entries(SHAPES) as [RolloutProductShape, WorkgroupShape][]) {
  describe(`RolloutPass, ${shapeName} product`, () => {
    let device: GPUDevice;
    let pass: RolloutPass;
    /** The shape RolloutPass picks on this adapter when nothing is forced. */
    let adapterShape: RolloutProductShape;
    beforeAll(async () => {
      const adapter = await requestNodeAdapter();
      adapterShape = isSoftwareAdapter(adapter.info) ? 'registerTile' : 'tiled';
      device = await adapter.requestDevice({
        label: `rollout.${shapeName}`,
        requiredFeatures: adapter.features.has('shader-f16') ? ['shader-f16'] : [],
        requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
      });
      setWorkgroupShape(device, workgroupShape);
      pass = await RolloutPass.create(device, readShaderSources());
    });
    afterAll(() => {
      pass?.destroy();
      device?.destroy();
    });

    /** Runs `fn` on this shape's device inside a validation error scope. */
    const withDevice = <T>(fn: (device: GPUDevice) => Promise<T>): Promise<T> => withValidation(device, fn);

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

    it(`compiles the ${shapeName} product`, () => {
      expect(pass.shape).toBe(shapeName);
    });

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

    // Whisper's size in the shape this adapter runs by itself only: the tiled product of 1500 frames takes minutes on
    // a software adapter.
    it('matches the reference for 1500 frames x 2 layers (float16, Whisper base size), in the adapter\'s own shape', async (context) => {
      if (adapterShape !== shapeName) context.skip();
      await checkAgainstCpu(makeAttentionMaps(makeRandom(1500), 2, 1500, 1500), 1500, 0, 2, 'float16');
    });

    it('steps in the step layout (zero padding on the register-tile product) as encode does, for 1, 6 and 37 frames', async () => {
      for (const size of [1, 6, 37]) {
        const stride = pass.stepStride(size);
        expect(stride).toBe(shapeName === 'registerTile' ? Math.ceil(size / 4) * 4 : size);
        const layers = makeAttentionMaps(makeRandom(size), 3, size, size);
        const stepped = await withDevice(async () => {
          const input = uploadAttention(device, 'test.layers', layers, 'float32');
          // Garbage in the outputs' padding, so that a step that skipped it would show.
          const garbage = () => createStorageBufferFrom(device, 'test.step', new Float32Array(stride * stride).fill(NaN));
          const products = [garbage(), garbage(), garbage()];
          try {
            const encoder = device.createCommandEncoder({ label: 'test.steps' });
            for (let layer = 0; layer < 3; layer++) {
              pass.encodeStep(encoder, {
                layer: { ...input, elementOffset: input.elementOffset + layer * size * size },
                previous: layer > 0 ? products[layer - 1] : undefined,
                size,
                output: products[layer],
              });
            }
            device.queue.submit([encoder.finish()]);
            return await readFloat32(device, products[2], stride * stride);
          } finally {
            input.buffer.destroy();
            for (const product of products) product.destroy();
          }
        });
        const expected = rolloutCpu(layers, size, 0, 3);
        const unpadded = new Float32Array(size * size);
        for (let row = 0; row < stride; row++) {
          for (let col = 0; col < stride; col++) {
            const value = stepped[row * stride + col];
            if (row < size && col < size) unpadded[row * size + col] = value;
            else expect(value, `padding (${row}, ${col}) of a ${size}-frame step`).toBe(0);
          }
        }
        expectClose(unpadded, expected, TOLERANCE.float32, `steps of ${size} frames`);
      }
    });

    it('rejects an empty layer range, a too small output, missing layer views and use after destroy', async () => {
      const spare = await RolloutPass.create(device, readShaderSources());
      const layers = uploadAttention(device, 'test.layers', new Float32Array(8), 'float32');
      const output = createStorageBuffer(device, 'test.output', spare.stepSizeBytes(2));
      const tiny = createStorageBuffer(device, 'test.tiny', 4);
      const encoder = device.createCommandEncoder({ label: 'test.unused' });
      try {
        const args = { layers, size: 2, layerStart: 1, layerEnd: 2, output };
        expect(() => spare.encode(encoder, { ...args, layerEnd: 1 })).toThrow(RangeError);
        expect(() => spare.encode(encoder, { ...args, output: tiny })).toThrow(/output needs 16 bytes/);
        expect(() => spare.encode(encoder, { ...args, layers: [layers] })).toThrow(/past the 1 layer views/);
        expect(() => spare.encodeStep(encoder, { layer: layers, previous: output, size: 2, output })).toThrow(/must not be its previous/);
        expect(() => spare.encodeStep(encoder, { layer: layers, previous: tiny, size: 2, output })).toThrow(`previous needs ${spare.stepSizeBytes(2)} bytes`);
        spare.destroy();
        spare.destroy();
        expect(() => spare.encode(encoder, args)).toThrow(PassDestroyedError);
      } finally {
        for (const buffer of [layers.buffer, output, tiny]) buffer.destroy();
      }
    });
  });
}
