/**
 * float16 storage narrowed on the GPU (src/gpu/packFloat16.ts) against the JS reference packFloat16Pairs, bit for
 * bit: rounding ties, overflow to Inf, subnormals, signed zeros, NaN payloads, odd lengths, and a chunk uploaded
 * through the engine's upload path.
 */
import { describe, expect, it } from 'vitest';
import { packFloat16Pairs } from '../../src/data/float16.ts';
import { createStorageBufferFrom, readBufferBytes } from '../../src/gpu/buffers.ts';
import { packFloat16OnGpu, PackFloat16Pass } from '../../src/gpu/packFloat16.ts';
import { createChunkBuffer } from '../../src/gpu/upload.ts';
import { withDevice } from '../helpers/gpuDevice.ts';
import { SHADERS, makeRandom } from './support.ts';

/** float32 values from bit patterns. */
function fromBits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

const SPECIAL = [
  ...fromBits([0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc12345, 0x80000000, 0x00000000, 0x00000001, 0x807fffff]),
  65504, 65519.99, 65520, -65520, 1e6, 6.1e-5, 6.0e-5, 5.96e-8, 2.98e-8, 2.99e-8, -1e-9,
  // Ties: 1 + 2^-11 (to even: 1), 1 + 3 * 2^-11 (to even: 1 + 2^-9), and a subnormal tie.
  1 + 2 ** -11, 1 + 3 * 2 ** -11, 3 * 2 ** -25, 2 ** -25,
];

async function gpuWords(device: GPUDevice, values: Float32Array, maxSliceValues?: number): Promise<Uint32Array> {
  const target = device.createBuffer({ size: Math.max(4, Math.ceil(values.length / 2) * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  try {
    await packFloat16OnGpu(device, SHADERS, values, target, maxSliceValues);
    return new Uint32Array(await readBufferBytes(device, target));
  } finally {
    target.destroy();
  }
}

describe(packFloat16OnGpu.name, () => {
  it('gives the words of packFloat16Pairs for special values and random ones of every magnitude, odd length', async () => {
    await withDevice(async (device) => {
      const random = makeRandom(5);
      const values = new Float32Array(SPECIAL.length + 40001);
      values.set(SPECIAL);
      for (let index = SPECIAL.length; index < values.length; index++) {
        values[index] = (random() - 0.5) * 2 ** (random() * 60 - 30);
      }
      const expected = [...packFloat16Pairs(values)];
      expect([...(await gpuWords(device, values))]).toEqual(expected);
      // In slices of 1536 values (27 of them, the last one odd): the offsets and the tail must line up too.
      expect([...(await gpuWords(device, values, 1536))]).toEqual(expected);
    });
  });

  it('the upload path: a float16 chunk made on the GPU holds the same words as one packed in JS', async () => {
    await withDevice(async (device) => {
      const values = new Float32Array(3 * 37 * 37).map((_, index) => Math.sin(index) * 10);
      const chunk = { layer: 0, firstHead: 0, headCount: 3, byteLength: Math.ceil(values.length / 2) * 4 };
      const buffer = await createChunkBuffer(device, 'test.chunk', chunk, values, 'float16', () => false, SHADERS);
      try {
        expect([...new Uint32Array(await readBufferBytes(device, buffer))]).toEqual([...packFloat16Pairs(values)]);
      } finally {
        buffer.destroy();
      }
    });
  });
});

describe('PackFloat16Pass', () => {
  it('narrows values already on the GPU from an input offset into an output word offset, bit for bit, leaving the rest', async () => {
    await withDevice(async (device) => {
      const random = makeRandom(9);
      const values = new Float32Array(SPECIAL.length + 301);
      values.set(SPECIAL);
      for (let index = SPECIAL.length; index < values.length; index++) values[index] = (random() - 0.5) * 2 ** (random() * 60 - 30);
      const inputOffset = 7;
      const outputOffset = 5;
      const padded = new Float32Array(inputOffset + values.length + 3).fill(123);
      padded.set(values, inputOffset);
      const input = createStorageBufferFrom(device, 'test.input', padded);
      const words = Math.ceil(values.length / 2);
      const output = createStorageBufferFrom(device, 'test.output', new Uint32Array(outputOffset + words + 2).fill(0xdeadbeef));
      const pass = await PackFloat16Pass.create(device, SHADERS);
      try {
        const encoder = device.createCommandEncoder();
        pass.encode(encoder, { input, inputOffset, count: values.length, output, outputOffset });
        device.queue.submit([encoder.finish()]);
        const got = [...new Uint32Array(await readBufferBytes(device, output))];
        expect(got.slice(outputOffset, outputOffset + words)).toEqual([...packFloat16Pairs(values)]);
        expect([...got.slice(0, outputOffset), ...got.slice(outputOffset + words)]).toEqual(new Array(outputOffset + 2).fill(0xdeadbeef));
        expect(() => pass.encode(device.createCommandEncoder(), { input, inputOffset, count: padded.length, output })).toThrow(/input needs/);
      } finally {
        pass.destroy();
        input.destroy();
        output.destroy();
      }
    });
  });
});
