/**
 * SeparablePool (the two dispatches behind segment and block pooling) against the plain references, on what the
 * pass tests do not reach: the GPU shape (one range per thread) on this software adapter, maps pooled in chunks when
 * the row partials would outgrow the scratch buffer, and two encodes sharing that scratch in one command buffer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageBuffer, readFloat32 } from '../../src/gpu/buffers.ts';
import { blockPoolCpu, blockPoolShape } from '../../src/compute/blockPool.cpu.ts';
import { segmentPoolCpu, type FrameRange } from '../../src/compute/segmentPool.cpu.ts';
import { BAND_ROWS, createRangeBuffer, makeRangeBufferData, SeparablePool } from '../../src/compute/separablePool.ts';
import { workCountsOf, workSince } from '../../src/gpu/workCounters.ts';
import { HARDWARE_SHAPE, setWorkgroupShape, workgroupShapeOf } from '../../src/gpu/workgroupShape.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { getTestDevice, withDevice } from '../helpers/gpuDevice.ts';
import { expectClose, makeAttentionMaps, makeRandom, TOLERANCE, uploadAttention } from '../helpers/computeCheck.ts';

const ROWS = 61;
const COLS = 67;
const MAPS = 5;

/** Segments of lengths 1..maxLength covering [0, frames), plus one spanning everything and one empty. */
function segmentsOf(random: () => number, frames: number, maxLength: number): FrameRange[] {
  const segments: FrameRange[] = [];
  for (let start = 0; start < frames; ) {
    const end = Math.min(frames, start + 1 + Math.floor(random() * maxLength));
    segments.push({ start, end });
    start = end;
  }
  return [...segments, { start: 0, end: frames }, { start: 3, end: 3 }];
}

let values: Float32Array;
let rowSegments: FrameRange[];
let colSegments: FrameRange[];
beforeAll(() => {
  const random = makeRandom(61);
  values = makeAttentionMaps(random, MAPS, ROWS, COLS);
  rowSegments = segmentsOf(random, ROWS, 9);
  colSegments = segmentsOf(random, COLS, 4);
});

/**
 * Segment pooling and k x k block pooling of all maps, encoded into one command buffer by one SeparablePool. k = 13
 * splits each block into two bands (7 and 6 rows), and the last block (rows 52-60) into 7 rows and 2.
 */
async function poolBoth(pool: SeparablePool, device: GPUDevice, blockSize: number) {
  const input = uploadAttention(device, 'test.input', values, 'float32', 0);
  const rowBuffer = createRangeBuffer(device, 'test.rowSegments', rowSegments, ROWS);
  const colBuffer = createRangeBuffer(device, 'test.colSegments', colSegments, COLS);
  const segmentCells = MAPS * rowSegments.length * colSegments.length;
  const shape = blockPoolShape(ROWS, COLS, blockSize);
  const blockCells = MAPS * shape.rows * shape.cols;
  const outputs = [segmentCells, segmentCells, blockCells, blockCells].map((cells) => createStorageBuffer(device, 'test.output', cells * 4));
  try {
    const encoder = device.createCommandEncoder({ label: 'test.encoder' });
    pool.encode(encoder, {
      input, rows: ROWS, cols: COLS, maps: MAPS, owner: 'test',
      rowRanges: { kind: 'buffer', ...rowBuffer },
      colRanges: { kind: 'buffer', ...colBuffer },
      meanOutput: outputs[0], maxOutput: outputs[1],
    });
    pool.encode(encoder, {
      input, rows: ROWS, cols: COLS, maps: MAPS, owner: 'test',
      rowRanges: { kind: 'blocks', blockSize, count: shape.rows },
      colRanges: { kind: 'blocks', blockSize, count: shape.cols },
      meanOutput: outputs[2], maxOutput: outputs[3],
    });
    device.queue.submit([encoder.finish()]);
    const [segmentMean, segmentMax, blockMean, blockMax] = await Promise.all(
      outputs.map((buffer, i) => readFloat32(device, buffer, i < 2 ? segmentCells : blockCells)),
    );
    return { segmentMean, segmentMax, blockMean, blockMax };
  } finally {
    for (const buffer of [input.buffer, rowBuffer.buffer, colBuffer.buffer, ...outputs]) buffer.destroy();
  }
}

async function checkAgainstCpu(pool: SeparablePool, label: string): Promise<void> {
  for (const blockSize of [4, 13]) {
    const actual = await withDevice((device) => poolBoth(pool, device, blockSize));
    const segments = segmentPoolCpu(values, ROWS, COLS, rowSegments, colSegments, MAPS);
    const blocks = blockPoolCpu(values, ROWS, COLS, blockSize, MAPS);
    expectClose(actual.segmentMean, segments.mean, TOLERANCE.float32, `${label}: segment mean`);
    expectClose(actual.segmentMax, segments.max, TOLERANCE.float32, `${label}: segment max`);
    expectClose(actual.blockMean, blocks.mean, TOLERANCE.float32, `${label}: ${blockSize} x ${blockSize} block mean`);
    expectClose(actual.blockMax, blocks.max, TOLERANCE.float32, `${label}: ${blockSize} x ${blockSize} block max`);
  }
}

describe(makeRangeBufferData.name, () => {
  it('cuts bands at every bound, inside covered frames only, at most BAND_ROWS long, clamped to the axis', () => {
    // Frames 0-19, 2-4 and 30-39 (clamped to 30-34 on a 35-frame axis); frames 20-29 are in no range.
    const ranges = [{ start: 0, end: 20 }, { start: 2, end: 5 }, { start: 30, end: 40 }, { start: 7, end: 7 }];
    const made = makeRangeBufferData(ranges, 35);
    const pairs = (from: number, to: number) => Array.from(made.data.subarray(2 * from, 2 * to));
    expect(BAND_ROWS).toBe(8);
    // The ranges' bounds as given (the kernels clamp them), each range's run of bands, then the bands.
    expect(pairs(0, 4)).toEqual([0, 20, 2, 5, 30, 40, 7, 7]);
    expect(pairs(4, 8)).toEqual([0, 4, 1, 2, 4, 5, 0, 0]);
    expect(pairs(8, 8 + made.bandCount)).toEqual([0, 2, 2, 5, 5, 13, 13, 20, 30, 35]);
    expect(made).toMatchObject({ count: 4, coveredFrames: 28, bandCount: 5, bandFrames: 25, rangeBands: 6 });
  });

  it('makes every range exactly the union of its run of bands, for random overlapping ranges', () => {
    const random = makeRandom(7);
    for (let trial = 0; trial < 50; trial++) {
      const frames = 1 + Math.floor(random() * 60);
      const ranges = Array.from({ length: 1 + Math.floor(random() * 12) }, () => {
        const start = Math.floor(random() * (frames + 5));
        return { start, end: start + Math.floor(random() * 30) };
      });
      const made = makeRangeBufferData(ranges, frames);
      const band = (index: number) => [made.data[2 * (2 * ranges.length + index)], made.data[2 * (2 * ranges.length + index) + 1]];
      ranges.forEach((range, index) => {
        const [first, end] = [made.data[2 * (ranges.length + index)], made.data[2 * (ranges.length + index) + 1]];
        const covered: number[] = [];
        for (let b = first; b < end; b++) {
          const [start, stop] = band(b);
          expect(stop - start).toBeLessThanOrEqual(BAND_ROWS);
          for (let frame = start; frame < stop; frame++) covered.push(frame);
        }
        const expected: number[] = [];
        for (let frame = range.start; frame < Math.min(range.end, frames); frame++) expected.push(frame);
        expect(covered, `trial ${trial}, range ${index}`).toEqual(expected);
      });
    }
  });
});

describe(SeparablePool.name, () => {
  const pools: SeparablePool[] = [];
  afterAll(() => pools.forEach((pool) => pool.destroy()));

  it('matches the references with the shape of this adapter and with the GPU shape (one range per thread)', async () => {
    const device = await getTestDevice();
    const pool = await SeparablePool.create(device, readShaderSources(), 'test.pool');
    pools.push(pool);
    await checkAgainstCpu(pool, 'adapter shape');
    const adapterShape = workgroupShapeOf(device);
    setWorkgroupShape(device, HARDWARE_SHAPE);
    try {
      await checkAgainstCpu(pool, 'GPU shape');
    } finally {
      setWorkgroupShape(device, adapterShape);
    }
  });

  it('pools in chunks of maps when the band partials of all maps outgrow the scratch cap', async () => {
    // Partials are 12 bytes per band and column range: 16 bands of 4 rows x 17 four-column blocks take 3264 bytes
    // per map and at least 9 bands x 19 segments 2052, so a 5000-byte cap pools 2 maps at a time or fewer.
    const pool = await SeparablePool.create(await getTestDevice(), readShaderSources(), 'test.chunkedPool', 5_000);
    pools.push(pool);
    await checkAgainstCpu(pool, 'chunked');
  });

  it('declares kernel bytes within 2x of the minimum for 5-frame phones and 4 x 4 blocks of a 1500-frame map', async () => {
    // The minimum: the map read once and both outputs written once. Between the stages go 12-byte partials, one
    // per band (not per row) and column range.
    const device = await getTestDevice();
    const pool = await SeparablePool.create(device, readShaderSources(), 'test.bytesPool');
    pools.push(pool);
    const frames = 1500;
    const phones = Array.from({ length: frames / 5 }, (_, i) => ({ start: 5 * i, end: 5 * i + 5 }));
    const phoneBuffer = createRangeBuffer(device, 'test.phones', phones, frames);
    const input = createStorageBuffer(device, 'test.map', frames * frames * 4);
    const output = (cells: number) => createStorageBuffer(device, 'test.output', cells * 4);
    const outputs = [output(300 * 300), output(300 * 300), output(375 * 375), output(375 * 375)];
    const view = { buffer: input, format: 'float32', elementOffset: 0 } as const;
    try {
      const cases = [
        { ranges: { kind: 'buffer', ...phoneBuffer } as const, cells: 300 * 300, out: outputs.slice(0, 2) },
        { ranges: { kind: 'blocks', blockSize: 4, count: 375 } as const, cells: 375 * 375, out: outputs.slice(2) },
      ];
      for (const { ranges, cells, out } of cases) {
        const before = workCountsOf(device);
        const encoder = device.createCommandEncoder({ label: 'test.bytes' });
        pool.encode(encoder, { input: view, rows: frames, cols: frames, maps: 1, rowRanges: ranges, colRanges: ranges, meanOutput: out[0], maxOutput: out[1], owner: 'test' });
        encoder.finish();
        const minimum = frames * frames * 4 + 2 * cells * 4;
        const { kernelBytes } = workSince(before, workCountsOf(device));
        expect(kernelBytes / minimum, ranges.kind).toBeGreaterThanOrEqual(1);
        expect(kernelBytes / minimum, ranges.kind).toBeLessThanOrEqual(2);
      }
    } finally {
      for (const buffer of [phoneBuffer.buffer, input, ...outputs]) buffer.destroy();
    }
  });
});
