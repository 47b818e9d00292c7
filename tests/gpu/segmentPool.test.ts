/**
 * SegmentPoolPass against segmentPoolCpu: hand-made maps with non-finite values, random maps of odd sizes in both
 * storage formats, and TIMIT's overlapping words and empty phones at Whisper's frame rate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageBuffer, readFloat32 } from '../../src/gpu/buffers.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { PassDestroyedError } from '../../src/compute/passSupport.ts';
import type { FrameRange } from '../../src/compute/segmentPool.ts';
import { SegmentPoolPass } from '../../src/compute/segmentPool.ts';
import { createRangeBuffer, makeRangeBufferData } from '../../src/compute/separablePool.ts';
import { segmentPoolCpu } from '../../src/compute/segmentPool.cpu.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { getTestDevice, withDevice } from '../helpers/gpuDevice.ts';
import { expectClose, makeAttentionMaps, makeRandom, TOLERANCE, uploadAttention } from '../helpers/computeCheck.ts';

/** Whisper's samples per frame at 16 kHz (20 ms). */
const SAMPLES_PER_FRAME = 320;
/** LDC93S1.wrd (TIMIT sample): word intervals in samples; "had" and "your" overlap. */
const TIMIT_WORDS: [number, number][] = [
  [3050, 5723], [5723, 10337], [9190, 11517], [11517, 16334], [16334, 21199], [21199, 22560],
  [22560, 28064], [28064, 33360], [33754, 37556], [37556, 40313], [40313, 44586],
];
/** LDC93S1.phn boundaries in samples; at 320 samples per frame "d" (12500-12640) is an empty segment. */
const TIMIT_PHONE_BOUNDS = [
  0, 3050, 4559, 5723, 6642, 8772, 9190, 10337, 11517, 12500, 12640, 14714, 15870, 16334, 18088, 20417, 21199, 22560,
  22920, 23271, 24229, 25566, 27156, 28064, 29660, 31719, 33360, 33754, 34715, 36080, 36326, 37556, 39561, 40313,
  42059, 43479, 44586, 46720,
];

const toFrames = ([start, end]: [number, number]): FrameRange => ({
  start: Math.floor(start / SAMPLES_PER_FRAME),
  end: Math.floor(end / SAMPLES_PER_FRAME),
});

/** Consecutive segments of random lengths 1..maxLength covering [0, frames). */
function randomSegments(random: () => number, frames: number, maxLength: number): FrameRange[] {
  const segments: FrameRange[] = [];
  for (let start = 0; start < frames; ) {
    const end = Math.min(frames, start + 1 + Math.floor(random() * maxLength));
    segments.push({ start, end });
    start = end;
  }
  return segments;
}

let pass: SegmentPoolPass;
beforeAll(async () => {
  pass = await SegmentPoolPass.create(await getTestDevice(), readShaderSources());
});
afterAll(() => pass?.destroy());

/** Runs the pass on `values` uploaded in `format` (after `pad` filler values) and reads both outputs back. */
async function poolOnGpu(
  device: GPUDevice,
  values: Float32Array,
  rows: number,
  cols: number,
  rowSegments: FrameRange[],
  colSegments: FrameRange[],
  format: StorageFormat,
  maps = 1,
  pad = 0,
): Promise<{ mean: Float32Array; max: Float32Array }> {
  const input = uploadAttention(device, 'test.input', values, format, pad);
  const rowBuffer = createRangeBuffer(device, 'test.rowSegments', rowSegments, rows);
  const colBuffer = createRangeBuffer(device, 'test.colSegments', colSegments, cols);
  const bytes = SegmentPoolPass.outputSizeBytes(rowSegments.length, colSegments.length, maps);
  const meanOutput = createStorageBuffer(device, 'test.mean', bytes);
  const maxOutput = createStorageBuffer(device, 'test.max', bytes);
  try {
    const encoder = device.createCommandEncoder({ label: 'test.encoder' });
    pass.encode(encoder, { input, rows, cols, maps, rowSegments: rowBuffer, colSegments: colBuffer, meanOutput, maxOutput });
    device.queue.submit([encoder.finish()]);
    const count = bytes / 4;
    return { mean: await readFloat32(device, meanOutput, count), max: await readFloat32(device, maxOutput, count) };
  } finally {
    for (const buffer of [input.buffer, rowBuffer.buffer, colBuffer.buffer, meanOutput, maxOutput]) buffer.destroy();
  }
}

async function checkAgainstCpu(
  values: Float32Array,
  rows: number,
  cols: number,
  rowSegments: FrameRange[],
  colSegments: FrameRange[],
  format: StorageFormat,
  maps = 1,
  pad = 0,
): Promise<void> {
  const expected = segmentPoolCpu(values, rows, cols, rowSegments, colSegments, maps);
  const actual = await withDevice((device) => poolOnGpu(device, values, rows, cols, rowSegments, colSegments, format, maps, pad));
  expectClose(actual.mean, expected.mean, TOLERANCE[format], `mean (${format})`);
  expectClose(actual.max, expected.max, TOLERANCE[format], `max (${format})`);
}

describe(SegmentPoolPass.name, () => {
  it('pools a hand-made 3 x 7 map with ties, NaN, infinities, an empty and a clamped segment', async () => {
    // prettier-ignore
    const values = new Float32Array([
      1, 2, 3, 3, NaN, 0, -1,
      4, Infinity, 5, 5, 6, 0, -Infinity,
      7, 8, 9, NaN, NaN, 0, 2,
    ]);
    const rowSegments = [{ start: 0, end: 2 }, { start: 1, end: 3 }, { start: 2, end: 2 }];
    const colSegments = [{ start: 0, end: 2 }, { start: 3, end: 5 }, { start: 6, end: 99 }];
    const { mean, max } = await withDevice((device) =>
      poolOnGpu(device, values, 3, 7, rowSegments, colSegments, 'float32'),
    );
    // Rows 0-1 x cols 0-1: 1, 2, 4 (inf skipped). Rows 0-1 x cols 3-4: 3, 5, 6 (NaN skipped).
    // Rows 0-1 x col 6 (end 99 clamped to 7): -1 (-inf skipped). Rows 1-2 x cols 0-1: 4, 7, 8 (inf skipped).
    // Rows 1-2 x cols 3-4: 5, 6 (two NaN skipped). Rows 1-2 x col 6: 2 (-inf skipped).
    // Row segment [2, 2) is empty: NaN everywhere.
    const expectedMean = new Float32Array([7 / 3, 14 / 3, -1, 19 / 3, 5.5, 2, NaN, NaN, NaN]);
    expectClose(mean, expectedMean, TOLERANCE.float32, 'mean');
    expect(Array.from(max)).toEqual([4, 6, -1, 8, 6, 2, NaN, NaN, NaN]);
  });

  it('gives NaN for a block whose values are all non-finite', async () => {
    const values = new Float32Array([NaN, Infinity, -Infinity, NaN]);
    const segments = [{ start: 0, end: 2 }];
    const { mean, max } = await withDevice((device) => poolOnGpu(device, values, 2, 2, segments, segments, 'float16'));
    expect(Array.from(mean)).toEqual([NaN]);
    expect(Array.from(max)).toEqual([NaN]);
  });

  for (const format of ['float32', 'float16'] as const) {
    it(`matches the reference on a 1 x 1 map and on 7 x 7 maps with every 1-frame segment (${format})`, async () => {
      await checkAgainstCpu(new Float32Array([0.25]), 1, 1, [{ start: 0, end: 1 }], [{ start: 0, end: 1 }], format);
      const random = makeRandom(7);
      const values = makeAttentionMaps(random, 2, 7, 7);
      const single = Array.from({ length: 7 }, (_, i) => ({ start: i, end: i + 1 }));
      await checkAgainstCpu(values, 7, 7, single, [...single, { start: 0, end: 7 }], format, 2, 3);
    });

    it(`matches the reference on 3 maps of 149 x 151 with random segments up to 100 frames (${format})`, async () => {
      const random = makeRandom(149);
      const values = makeAttentionMaps(random, 3, 149, 151);
      const rowSegments = randomSegments(random, 149, 12);
      const colSegments = [...randomSegments(random, 151, 30), { start: 20, end: 120 }, { start: 0, end: 151 }];
      // 1001 filler values first: the view is bound from a 256-byte-aligned offset inside the buffer.
      await checkAgainstCpu(values, 149, 151, rowSegments, colSegments, format, 3, 1001);
    });

    it(`matches the reference on TIMIT words (overlapping) x phones (one empty) (${format})`, async () => {
      const phones = TIMIT_PHONE_BOUNDS.slice(1).map((end, i) => toFrames([TIMIT_PHONE_BOUNDS[i], end]));
      const words = TIMIT_WORDS.map(toFrames);
      expect(words[1].end).toBeGreaterThan(words[2].start);
      expect(phones.some((phone) => phone.start === phone.end)).toBe(true);
      const values = makeAttentionMaps(makeRandom(1993), 2, 149, 149);
      await checkAgainstCpu(values, 149, 149, words, phones, format, 2);
      await checkAgainstCpu(values, 149, 149, phones, words, format, 2);
    });
  }

  it('matches the reference on a 1500 x 1500 map with TIMIT-sized phone segments', async () => {
    const random = makeRandom(1500);
    const values = makeAttentionMaps(random, 1, 1500, 1500);
    const segments = randomSegments(random, 1500, 50);
    await checkAgainstCpu(values, 1500, 1500, segments, segments, 'float32', 1, 1);
  });

  it('rejects reversed segments and use after destroy', async () => {
    expect(() => makeRangeBufferData([{ start: 3, end: 2 }], 10)).toThrow(/range 0 end/);
    expect(() => makeRangeBufferData([{ start: 0.5, end: 2 }], 10)).toThrow(RangeError);
    const device = await getTestDevice();
    const spare = await SegmentPoolPass.create(device, readShaderSources());
    spare.destroy();
    spare.destroy();
    const encoder = device.createCommandEncoder({ label: 'test.unused' });
    expect(() =>
      spare.encode(encoder, {} as Parameters<SegmentPoolPass['encode']>[1]),
    ).toThrow(PassDestroyedError);
  });
});
