/**
 * BlockPoolPass in both of its shapes on this machine's adapter (src/gpu/workgroupShape.ts): the two separable stages
 * a GPU runs and the one-pass kernel a software adapter runs, each forced on its own device, against blockPoolCpu.
 * The cases reach both load paths of the one-pass kernel: 16-byte quads (float32, k and the row length multiples of
 * 4, the maps starting on a quad) and single values (float16, odd sizes, a map starting mid-quad).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockPoolPass } from '../../src/compute/blockPool.ts';
import { blockPoolCpu } from '../../src/compute/blockPool.cpu.ts';
import { createStorageBuffer, readFloat32 } from '../../src/gpu/buffers.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { HARDWARE_SHAPE, setWorkgroupShape, SOFTWARE_SHAPE, type WorkgroupShape } from '../../src/gpu/workgroupShape.ts';
import { requestNodeAdapter } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { expectClose, makeAttentionMaps, makeRandom, TOLERANCE, uploadAttention } from '../helpers/computeCheck.ts';

const SHAPES: Record<string, WorkgroupShape> = { 'GPU shape (separable)': HARDWARE_SHAPE, 'software shape (one pass)': SOFTWARE_SHAPE };

for (const [name, shape] of Object.entries(SHAPES)) {
  describe(`BlockPoolPass, ${name}`, () => {
    let device: GPUDevice;
    let pass: BlockPoolPass;
    beforeAll(async () => {
      device = await (await requestNodeAdapter()).requestDevice({ label: `blockPoolShapes.${name}` });
      setWorkgroupShape(device, shape);
      pass = await BlockPoolPass.create(device, readShaderSources());
    });
    afterAll(() => {
      pass?.destroy();
      device?.destroy();
    });

    async function check(values: Float32Array, rows: number, cols: number, blockSize: number, format: StorageFormat, maps: number, pad: number) {
      const input = uploadAttention(device, 'test.input', values, format, pad);
      const bytes = BlockPoolPass.outputSizeBytes(rows, cols, blockSize, maps);
      const meanOutput = createStorageBuffer(device, 'test.mean', bytes);
      const maxOutput = createStorageBuffer(device, 'test.max', bytes);
      try {
        device.pushErrorScope('validation');
        const encoder = device.createCommandEncoder({ label: 'test.encoder' });
        pass.encode(encoder, { input, rows, cols, blockSize, maps, meanOutput, maxOutput });
        device.queue.submit([encoder.finish()]);
        const mean = await readFloat32(device, meanOutput, bytes / 4);
        const max = await readFloat32(device, maxOutput, bytes / 4);
        expect((await device.popErrorScope())?.message).toBeUndefined();
        const expected = blockPoolCpu(values, rows, cols, blockSize, maps);
        expectClose(mean, expected.mean, TOLERANCE[format], `mean (k=${blockSize}, ${format}, pad ${pad})`);
        expectClose(max, expected.max, TOLERANCE[format], `max (k=${blockSize}, ${format}, pad ${pad})`);
      } finally {
        for (const buffer of [input.buffer, meanOutput, maxOutput]) buffer.destroy();
      }
    }

    it('matches the reference with non-finite values inside quads, on whole and partial blocks', async () => {
      const values = makeAttentionMaps(makeRandom(3), 2, 12, 20);
      for (const [index, value] of [[0, NaN], [5, Infinity], [22, -Infinity], [43, NaN], [240, NaN], [241, NaN], [242, NaN], [243, NaN]] as const) {
        values[index] = value;
      }
      for (const blockSize of [4, 8, 3]) await check(values, 12, 20, blockSize, 'float32', 2, 0);
    });

    it('matches the reference on 3 maps of 36 x 148 (quads) and 2 of 37 x 151, float16 and mid-quad starts (singles)', async () => {
      const aligned = makeAttentionMaps(makeRandom(36), 3, 36, 148);
      for (const blockSize of [4, 8, 16]) await check(aligned, 36, 148, blockSize, 'float32', 3, 0);
      await check(aligned, 36, 148, 4, 'float32', 3, 1);
      await check(aligned, 36, 148, 4, 'float16', 3, 0);
      const odd = makeAttentionMaps(makeRandom(37), 2, 37, 151);
      for (const blockSize of [1, 5, 37]) await check(odd, 37, 151, blockSize, 'float32', 2, 0);
    });
  });
}
