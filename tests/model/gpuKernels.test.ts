/**
 * The model kernels (shaders/model/*.wgsl) against their float64 references (src/model/ops/*.cpu.ts), at small,
 * deliberately ragged sizes so partial tiles and workgroups are exercised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packFloat16Pairs } from '../../src/data/float16.ts';
import { createStorageBufferFrom, readBufferBytes, readFloat32 } from '../../src/gpu/buffers.ts';
import { conv1dCpu, transposeCpu } from '../../src/model/ops/conv1d.cpu.ts';
import { elementwiseCpu } from '../../src/model/ops/elementwise.cpu.ts';
import { erf, geluCpu, geluTanhCpu } from '../../src/model/ops/gelu.cpu.ts';
import { encodeLinear } from '../../src/model/ops/matmul.ts';
import { linearCpu, matmulCpu } from '../../src/model/ops/matmul.cpu.ts';
import { ModelPasses } from '../../src/model/ops/modelPasses.ts';
import { channelNormCpu, layerNormCpu } from '../../src/model/ops/normalize.cpu.ts';
import { softmaxRowsCpu } from '../../src/model/ops/softmaxRows.cpu.ts';
import { getTestDevice } from '../helpers/gpuDevice.ts';
import { makeRandom, randomValues, SHADERS } from '../gpu/support.ts';

let device: GPUDevice;
let passes: ModelPasses;
const made: GPUBuffer[] = [];

beforeAll(async () => {
  device = await getTestDevice();
  passes = await ModelPasses.create(device, SHADERS);
});
afterAll(() => {
  passes?.destroy();
  made.forEach((buffer) => buffer.destroy());
});

function upload(values: ArrayLike<number>): GPUBuffer {
  const buffer = createStorageBufferFrom(device, 'test.input', Float32Array.from(values));
  made.push(buffer);
  return buffer;
}

function scratch(count: number, initial?: ArrayLike<number>): GPUBuffer {
  return upload(initial ?? new Float32Array(count));
}

/** Records, submits and reads back `count` values of `output`, failing on any validation error. */
async function run(record: (encoder: GPUCommandEncoder) => void, output: GPUBuffer, count: number): Promise<Float32Array> {
  device.pushErrorScope('validation');
  const encoder = device.createCommandEncoder();
  record(encoder);
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  return readFloat32(device, output, count);
}

/** Largest |gpu - reference| / max(|reference|, 1). */
function worstError(gpu: ArrayLike<number>, reference: ArrayLike<number>): number {
  expect(gpu.length).toBe(reference.length);
  let worst = 0;
  for (let i = 0; i < gpu.length; i++) worst = Math.max(worst, Math.abs(gpu[i] - reference[i]) / Math.max(Math.abs(reference[i]), 1));
  return worst;
}

describe('GELU (erf form) and its float64 reference', () => {
  it('the float64 erf matches known values', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erf(-2)).toBeCloseTo(-0.9953222650189527, 15);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 15);
  });

  it('the WGSL GELU is within 2e-7 of the exact form from -10 to 10, and far from the tanh form', async () => {
    const xs = Float32Array.from({ length: 4001 }, (_, i) => -10 + i / 200);
    const output = scratch(xs.length);
    const gpu = await run((encoder) => passes.elementwise.encode(encoder, { input: upload(xs), count: xs.length, activation: 'gelu', output }), output, xs.length);
    let worst = 0;
    let worstTanh = 0;
    for (let i = 0; i < xs.length; i++) {
      worst = Math.max(worst, Math.abs(gpu[i] - geluCpu(xs[i])) / Math.max(1, Math.abs(xs[i])));
      worstTanh = Math.max(worstTanh, Math.abs(geluTanhCpu(xs[i]) - geluCpu(xs[i])));
    }
    expect(worst).toBeLessThan(2e-7);
    expect(worstTanh).toBeGreaterThan(1e-4);
  });
});

describe('MatmulPass', () => {
  const random = makeRandom(11);

  it('is a linear layer with bias, scale, GELU and a residual add, at ragged sizes', async () => {
    const [rows, inFeatures, outFeatures] = [70, 37, 81];
    const input = randomValues(rows * inFeatures, random, -1, 1);
    const weight = randomValues(outFeatures * inFeatures, random, -0.5, 0.5);
    const bias = randomValues(outFeatures, random, -1, 1);
    const residual = randomValues(rows * outFeatures, random, -1, 1);
    const output = scratch(rows * outFeatures, residual);
    const gpu = await run(
      (encoder) =>
        encodeLinear(passes.matmul, encoder, {
          input: upload(input),
          rows,
          inFeatures,
          weight: upload(weight),
          bias: upload(bias),
          outFeatures,
          output,
          scale: 0.3,
          activation: 'gelu',
          accumulate: true,
        }),
      output,
      rows * outFeatures,
    );
    const expected = linearCpu(input, rows, inFeatures, weight, outFeatures, bias, 0.3, 'gelu').map((value, i) => value + residual[i]);
    expect(worstError(gpu, expected)).toBeLessThan(1e-5);
  });

  it('computes per-head q . k^T and probabilities . V from column slices (batched, strided)', async () => {
    const [frames, heads, headDim] = [67, 3, 8];
    const width = heads * headDim;
    const q = randomValues(frames * width, random, -1, 1);
    const k = randomValues(frames * width, random, -1, 1);
    const scores = scratch(heads * frames * frames);
    const gpuScores = await run(
      (encoder) =>
        passes.matmul.encode(encoder, {
          m: frames,
          n: frames,
          k: headDim,
          batches: heads,
          a: { buffer: upload(q), rowStride: width, batchStride: headDim },
          b: { buffer: upload(k), rowStride: width, batchStride: headDim },
          c: { buffer: scores, rowStride: frames, batchStride: frames * frames },
        }),
      scores,
      heads * frames * frames,
    );
    const expectedScores = new Float64Array(heads * frames * frames);
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < frames; i++)
        for (let j = 0; j < frames; j++) {
          let sum = 0;
          for (let d = 0; d < headDim; d++) sum += q[i * width + h * headDim + d] * k[j * width + h * headDim + d];
          expectedScores[(h * frames + i) * frames + j] = sum;
        }
    expect(worstError(gpuScores, expectedScores)).toBeLessThan(1e-5);

    const v = randomValues(frames * width, random, -1, 1);
    const context = scratch(frames * width);
    const gpuContext = await run(
      (encoder) =>
        passes.matmul.encode(encoder, {
          m: frames,
          n: headDim,
          k: frames,
          batches: heads,
          a: { buffer: scores, rowStride: frames, batchStride: frames * frames },
          b: { buffer: upload(v), rowStride: 1, innerStride: width, batchStride: headDim },
          c: { buffer: context, rowStride: width, batchStride: headDim },
        }),
      context,
      frames * width,
    );
    const expectedContext = new Float64Array(frames * width);
    matmulCpu({
      m: frames,
      n: headDim,
      k: frames,
      batches: heads,
      a: { data: gpuScores, rowStride: frames, batchStride: frames * frames },
      b: { data: v, rowStride: 1, innerStride: width, batchStride: headDim },
      c: { data: expectedContext, rowStride: width, batchStride: headDim },
    });
    expect(worstError(gpuContext, expectedContext)).toBeLessThan(1e-5);
  });

  it('rejects an output too small for the job', () => {
    const encoder = device.createCommandEncoder();
    const [small, large] = [scratch(4), scratch(8)];
    expect(() =>
      encodeLinear(passes.matmul, encoder, { input: large, rows: 2, inFeatures: 2, weight: large, outFeatures: 3, output: small }),
    ).toThrow(/C needs 6 f32 values/);
  });
});

describe('Conv1dPass', () => {
  const random = makeRandom(12);

  it('matches F.conv1d with stride, padding and groups, channels-first in, frames-first out, GELU', async () => {
    const [inChannels, outChannels, inLength, kernelSize, stride, padding, groups] = [6, 4, 29, 4, 2, 2, 2];
    const input = randomValues(inChannels * inLength, random, -1, 1);
    const weight = randomValues((outChannels * inChannels * kernelSize) / groups, random, -0.5, 0.5);
    const bias = randomValues(outChannels, random, -1, 1);
    const outLength = Math.floor((inLength + 2 * padding - kernelSize) / stride) + 1;
    const output = scratch(outChannels * outLength);
    const gpu = await run(
      (encoder) =>
        passes.conv1d.encode(encoder, {
          input: upload(input),
          inputLayout: 'channelsFirst',
          inChannels,
          inLength,
          weight: upload(weight),
          bias: upload(bias),
          outChannels,
          kernelSize,
          stride,
          padding,
          groups,
          output,
          outputLayout: 'framesFirst',
          activation: 'gelu',
        }),
      output,
      outChannels * outLength,
    );
    const expected = conv1dCpu({ input, inChannels, inLength, weight, bias, outChannels, kernelSize, stride, padding, groups, activation: 'gelu' });
    expect(worstError(gpu, transposeCpu(expected, outChannels, outLength))).toBeLessThan(1e-5);
  });

  it('is the positional conv: frames-first in and out, even kernel with the last frame dropped, added to the input', async () => {
    const [channels, frames, kernelSize, groups] = [8, 13, 4, 4];
    const hidden = randomValues(frames * channels, random, -1, 1);
    const weight = randomValues((channels * channels * kernelSize) / groups, random, -0.5, 0.5);
    const output = scratch(frames * channels, hidden);
    const gpu = await run(
      (encoder) =>
        passes.conv1d.encode(encoder, {
          input: upload(hidden),
          inputLayout: 'framesFirst',
          inChannels: channels,
          inLength: frames,
          weight: upload(weight),
          outChannels: channels,
          kernelSize,
          padding: kernelSize / 2,
          groups,
          outLength: frames,
          output,
          outputLayout: 'framesFirst',
          activation: 'gelu',
          accumulate: true,
        }),
      output,
      frames * channels,
    );
    const full = conv1dCpu({
      input: transposeCpu(hidden, frames, channels),
      inChannels: channels,
      inLength: frames,
      weight,
      outChannels: channels,
      kernelSize,
      padding: kernelSize / 2,
      groups,
      activation: 'gelu',
    });
    const fullLength = frames + 1;
    const expected = new Float64Array(frames * channels);
    for (let t = 0; t < frames; t++) for (let c = 0; c < channels; c++) expected[t * channels + c] = hidden[t * channels + c] + full[c * fullLength + t];
    expect(worstError(gpu, expected)).toBeLessThan(1e-5);
  });
});

describe('NormalizePass', () => {
  const random = makeRandom(13);

  it('layer norm over each frame, with an offset mean and a GELU', async () => {
    const [frames, channels] = [5, 300];
    const input = randomValues(frames * channels, random, 2, 4);
    const gamma = randomValues(channels, random, 0.5, 1.5);
    const beta = randomValues(channels, random, -0.5, 0.5);
    const output = scratch(frames * channels);
    const gpu = await run(
      (encoder) =>
        passes.normalize.encodeLayerNorm(encoder, { input: upload(input), frames, channels, gamma: upload(gamma), beta: upload(beta), eps: 1e-5, output, activation: 'gelu' }),
      output,
      frames * channels,
    );
    expect(worstError(gpu, layerNormCpu(input, frames, channels, gamma, beta, 1e-5, 'gelu'))).toBeLessThan(2e-5);
  });

  it('group norm with one group per channel, over time (more frames than a workgroup)', async () => {
    const [frames, channels] = [700, 3];
    const input = randomValues(frames * channels, random, -3, 5);
    const gamma = randomValues(channels, random, 0.5, 1.5);
    const beta = randomValues(channels, random, -0.5, 0.5);
    const output = scratch(frames * channels);
    const gpu = await run(
      (encoder) => passes.normalize.encodeChannelNorm(encoder, { input: upload(input), frames, channels, gamma: upload(gamma), beta: upload(beta), eps: 1e-5, output }),
      output,
      frames * channels,
    );
    expect(worstError(gpu, channelNormCpu(input, frames, channels, gamma, beta, 1e-5))).toBeLessThan(2e-5);
  });
});

describe('ElementwisePass, SoftmaxRowsPass, PackFloat16Pass', () => {
  const random = makeRandom(14);

  it('adds a periodic addend after scaling', async () => {
    const input = randomValues(300, random);
    const addend = randomValues(60, random);
    const output = scratch(300);
    const gpu = await run(
      (encoder) => passes.elementwise.encode(encoder, { input: upload(input), count: 300, scale: 0.5, addend: { buffer: upload(addend), offset: 10, period: 50 }, output }),
      output,
      300,
    );
    expect(worstError(gpu, elementwiseCpu(input, 0.5, { data: addend, offset: 10, period: 50 }))).toBeLessThan(1e-6);
  });

  it('softmaxes each row in place', async () => {
    const [rows, cols] = [9, 301];
    const values = randomValues(rows * cols, random, -8, 8);
    const buffer = scratch(rows * cols + 5, Float32Array.from([...new Float32Array(5), ...values]));
    const gpu = await run((encoder) => passes.softmaxRows.encode(encoder, { values: buffer, offset: 5, rows, cols }), buffer, rows * cols + 5);
    expect(Array.from(gpu.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
    const expected = softmaxRowsCpu(values, rows, cols);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(gpu[5 + i] - expected[i]));
    expect(worst).toBeLessThan(1e-7);
  });

  it('packs f32 into the engine float16 words exactly as packFloat16Pairs', async () => {
    const values = randomValues(101, random, -100, 100);
    const output = scratch(60);
    await run((encoder) => passes.packFloat16.encode(encoder, { input: upload(values), count: 101, output, outputOffset: 3 }), output, 60);
    const words = new Uint32Array(await readBufferBytes(device, output, 51 * 4, 3 * 4));
    expect(Array.from(words)).toEqual(Array.from(packFloat16Pairs(values)));
  });
});
