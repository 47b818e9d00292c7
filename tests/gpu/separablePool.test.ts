/**
 * SeparablePool (the two dispatches behind segment and block pooling) against the plain references, on what the
 * pass tests do not reach: the GPU shape (one range per thread) on this software adapter, maps pooled in chunks when
 * the row partials would outgrow the scratch buffer, and two encodes sharing that scratch in one command buffer.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createStorageBuffer, readFloat32 } from '../../src/gpu/buffers.ts';
import { blockPoolCpu, blockPoolShape } from '../../src/compute/blockPool.cpu.ts';
import { createSegmentBoundsBuffer } from '../../src/compute/segmentPool.ts';
import { segmentPoolCpu, type FrameRange } from '../../src/compute/segmentPool.cpu.ts';
import { SeparablePool } from '../../src/compute/separablePool.ts';
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

/** Segment pooling and 4 x 4 block pooling of all maps, encoded into one command buffer by one SeparablePool. */
async function poolBoth(pool: SeparablePool, device: GPUDevice) {
  const input = uploadAttention(device, 'test.input', values, 'float32', 0);
  const rowBuffer = createSegmentBoundsBuffer(device, 'test.rowSegments', rowSegments);
  const colBuffer = createSegmentBoundsBuffer(device, 'test.colSegments', colSegments);
  const segmentCells = MAPS * rowSegments.length * colSegments.length;
  const shape = blockPoolShape(ROWS, COLS, 4);
  const blockCells = MAPS * shape.rows * shape.cols;
  const outputs = [segmentCells, segmentCells, blockCells, blockCells].map((cells) => createStorageBuffer(device, 'test.output', cells * 4));
  try {
    const encoder = device.createCommandEncoder({ label: 'test.encoder' });
    pool.encode(encoder, {
      input, rows: ROWS, cols: COLS, maps: MAPS, owner: 'test',
      rowRanges: { kind: 'buffer', buffer: rowBuffer.buffer, count: rowSegments.length, coveredFrames: rowBuffer.coveredFrames! },
      colRanges: { kind: 'buffer', buffer: colBuffer.buffer, count: colSegments.length, coveredFrames: colBuffer.coveredFrames! },
      meanOutput: outputs[0], maxOutput: outputs[1],
    });
    pool.encode(encoder, {
      input, rows: ROWS, cols: COLS, maps: MAPS, owner: 'test',
      rowRanges: { kind: 'blocks', blockSize: 4, count: shape.rows },
      colRanges: { kind: 'blocks', blockSize: 4, count: shape.cols },
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
  const actual = await withDevice((device) => poolBoth(pool, device));
  const segments = segmentPoolCpu(values, ROWS, COLS, rowSegments, colSegments, MAPS);
  const blocks = blockPoolCpu(values, ROWS, COLS, 4, MAPS);
  expectClose(actual.segmentMean, segments.mean, TOLERANCE.float32, `${label}: segment mean`);
  expectClose(actual.segmentMax, segments.max, TOLERANCE.float32, `${label}: segment max`);
  expectClose(actual.blockMean, blocks.mean, TOLERANCE.float32, `${label}: block mean`);
  expectClose(actual.blockMax, blocks.max, TOLERANCE.float32, `${label}: block max`);
}

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

  it('pools in chunks of maps when the row partials of all maps outgrow the scratch cap', async () => {
    // Row partials are 12 bytes per row and column range: 61 rows x 17 four-column blocks take 12 444 bytes per map
    // and 61 x (at least 19) segments at least 13 908, so a 30 000-byte cap pools 2 maps at a time or fewer.
    const pool = await SeparablePool.create(await getTestDevice(), readShaderSources(), 'test.chunkedPool', 30_000);
    pools.push(pool);
    await checkAgainstCpu(pool, 'chunked');
  });
});
