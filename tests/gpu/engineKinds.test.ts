/**
 * The analysis request kinds through the engine ('segmentPool', 'blockPool', 'rollout', 'headStats'): engine.readMap
 * against the passes' CPU references composed in TypeScript (softmax -> crop -> head mean -> pool / rollout /
 * statistics), on random 2 layers x 3 heads x 37 x 37 tensors and a 147-frame tensor pooled over the TIMIT sample's
 * real phones at 320 samples per frame; one engine with float16 storage; invalid requests.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { blockPoolCpu } from '../../src/compute/blockPool.cpu.ts';
import { SegmentPoolPass } from '../../src/compute/segmentPool.ts';
import { headMeanCpu } from '../../src/compute/headMean.cpu.ts';
import { HEAD_STATS_FIELDS, headStatsCpu, msPerFrameFromSpf } from '../../src/compute/headStats.cpu.ts';
import type { HeadStatsMapRequest } from '../../src/compute/headStatsMap.ts';
import { computeMapCpu, type TensorValues } from '../../src/compute/mapRequest.cpu.ts';
import { minMaxCpu } from '../../src/compute/minMax.cpu.ts';
import { fullCrop, type Crop } from '../../src/compute/region.ts';
import { rolloutCpu } from '../../src/compute/rollout.cpu.ts';
import type { RolloutMapRequest } from '../../src/compute/rolloutMap.ts';
import { segmentPoolCpu, type FrameRange } from '../../src/compute/segmentPool.cpu.ts';
import { softmaxCpu } from '../../src/compute/softmax.cpu.ts';
import type { Alignment } from '../../src/data/alignment.ts';
import { selectWords, toFrameSegments } from '../../src/data/frames.ts';
import { parseTimitSegments } from '../../src/data/timit.ts';
import { AttentionEngine, BUILT_IN_KINDS, MapRequestError, type AttentionEngineOptions, type MapRequest } from '../../src/engine.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import {
  ABSOLUTE_FLOOR,
  SHADERS,
  TOLERANCE,
  expectClose,
  makeRandom,
  makeRecordingSource,
  roundToFloat16,
  type RecordingSource,
} from './support.ts';

const SHAPE = { layers: 2, heads: 3, rows: 37, cols: 37 };
/** The TIMIT sample (LDC93S1, 46720 samples) at Whisper's 320 samples per frame: frames 0 ..= 146. */
const TIMIT_SHAPE = { layers: 2, heads: 3, rows: 147, cols: 147 };
const SPF = 320;

function createEngine(options: Partial<AttentionEngineOptions> = {}): Promise<AttentionEngine> {
  return AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, ...options });
}

/** Tensors for the references, as the GPU sees them (rounded to float16 for float16 storage). */
type Tensors = (tensorId: string) => TensorValues;

function tensorsOf(sources: Record<string, RecordingSource>, rounded = false): Tensors {
  return (id) => ({
    shape: sources[id].shape,
    layer: (layer) => (rounded ? roundToFloat16(sources[id].layerValues(layer)) : sources[id].layerValues(layer)),
  });
}

/** A map in float32, the way the engine hands one request's result to the next. */
interface CpuMap {
  readonly values: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** Reference of an attention or difference request (mapRequest.cpu.ts), rounded to float32. */
function innerCpu(request: MapRequest, tensors: Tensors): CpuMap {
  const map = computeMapCpu(request, tensors);
  return { values: Float32Array.from(map.values), rows: map.rows, cols: map.cols };
}

function cropValues(map: CpuMap, crop: Crop): CpuMap {
  const rows = crop.rowEnd - crop.rowStart;
  const cols = crop.colEnd - crop.colStart;
  const values = new Float32Array(rows * cols);
  for (let row = 0; row < rows; row++) {
    values.set(map.values.subarray((crop.rowStart + row) * map.cols + crop.colStart, (crop.rowStart + row) * map.cols + crop.colEnd), row * cols);
  }
  return { values, rows, cols };
}

/** Reference of any request these tests make: the CPU references composed the way the handlers compose the passes. */
function referenceOf(request: MapRequest, tensors: Tensors): CpuMap {
  switch (request.kind) {
    case 'segmentPool': {
      const source = referenceOf(request.source, tensors);
      const pooled = segmentPoolCpu(source.values, source.rows, source.cols, request.rowSegments, request.colSegments);
      return { values: pooled[request.stat], rows: request.rowSegments.length, cols: request.colSegments.length };
    }
    case 'blockPool': {
      const source = referenceOf(request.source, tensors);
      const pooled = blockPoolCpu(source.values, source.rows, source.cols, request.block);
      return { values: pooled[request.stat], rows: Math.ceil(source.rows / request.block), cols: Math.ceil(source.cols / request.block) };
    }
    case 'rollout':
      return rolloutReference(request, tensors);
    case 'headStats':
      return headStatsReference(request, tensors);
    default:
      return innerCpu(request, tensors);
  }
}

function rolloutReference(request: RolloutMapRequest, tensors: Tensors): CpuMap {
  const tensor = tensors(request.tensorId);
  const n = tensor.shape.rows;
  const start = request.layerStart ?? 0;
  const end = request.layerEnd ?? tensor.shape.layers;
  const heads = request.heads ?? 'mean';
  const headList = heads === 'mean' ? [...Array(tensor.shape.heads).keys()] : typeof heads === 'number' ? [heads] : [...heads];
  const within = request.cropMode === 'within' && request.crop !== undefined;
  const layerCrop = within ? request.crop! : fullCrop(n, n);
  const size = layerCrop.rowEnd - layerCrop.rowStart;
  const layers = new Float32Array((end - start) * size * size);
  for (let layer = start; layer < end; layer++) {
    const mean = headMeanCpu(tensor.layer(layer), headList, n, n, layerCrop, request.softmax ?? 'row');
    layers.set(Float32Array.from(mean), (layer - start) * size * size);
  }
  const rollout = { values: rolloutCpu(layers, size, 0, end - start), rows: size, cols: size };
  return request.crop && !within ? cropValues(rollout, request.crop) : rollout;
}

function headStatsReference(request: HeadStatsMapRequest, tensors: Tensors): CpuMap {
  const tensor = tensors(request.tensorId);
  const { rows, cols, heads } = tensor.shape;
  const layers = request.layers ?? [...Array(tensor.shape.layers).keys()];
  const crop = request.crop ?? fullCrop(rows, cols);
  const size = crop.rowEnd - crop.rowStart;
  const field = HEAD_STATS_FIELDS.indexOf(request.statistic);
  const values = new Float32Array(layers.length * heads);
  layers.forEach((layer, layerIndex) => {
    const layerValues = tensor.layer(layer);
    for (let head = 0; head < heads; head++) {
      const map = Float32Array.from(softmaxCpu(layerValues.subarray(head * rows * cols, (head + 1) * rows * cols), rows, cols, crop, request.softmax));
      const stats = headStatsCpu(map, 1, size, size, { msPerFrame: request.msPerFrame, nearFrames: request.nearFrames });
      values[layerIndex * heads + head] = stats[field];
    }
  });
  return { values, rows: layers.length, cols: heads };
}

/** readMap and outputShape against the reference. `floor`: 1 where means of signed values may cancel to ~0. */
async function expectMatches(engine: AttentionEngine, tensors: Tensors, request: MapRequest, floor = ABSOLUTE_FLOOR.float32): Promise<Float32Array> {
  const expected = referenceOf(request, tensors);
  const actual = await engine.readMap(request);
  expect(await engine.outputShape(request)).toEqual({ rows: expected.rows, cols: expected.cols });
  expectClose(actual, expected.values, TOLERANCE.float32, floor);
  return actual;
}

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

function timitAlignment(): Alignment {
  const read = (name: string) => readFileSync(new URL(`../../demo/public/samples/timit/${name}`, import.meta.url), 'utf8');
  return {
    source: 'timit',
    text: '',
    phones: parseTimitSegments(read('LDC93S1.phn'), 'LDC93S1.phn'),
    words: parseTimitSegments(read('LDC93S1.wrd'), 'LDC93S1.wrd'),
  };
}

describe('AttentionEngine analysis kinds', () => {
  const sources = {
    raw: makeRecordingSource('raw.npy', SHAPE, makeRandom(101)),
    probs: makeRecordingSource('probs.npy', SHAPE, makeRandom(102), 0, 1),
    timit: makeRecordingSource('timit.npy', TIMIT_SHAPE, makeRandom(103)),
    wide: makeRecordingSource('wide.npy', { layers: 1, heads: 2, rows: 5, cols: 8 }, makeRandom(104)),
  };
  const tensors = tensorsOf(sources);
  let engine: AttentionEngine;
  beforeAll(async () => {
    engine = await createEngine();
    for (const [id, source] of Object.entries(sources)) engine.addTensor(id, source);
  });
  afterAll(() => engine?.destroy());

  it('lists the six kinds as built in', () => {
    expect(BUILT_IN_KINDS.map((handler) => handler.kind)).toEqual(['attention', 'difference', 'segmentPool', 'blockPool', 'rollout', 'headStats']);
  });

  describe('segmentPool', () => {
    const crop = { rowStart: 3, rowEnd: 34, colStart: 3, colEnd: 34 };
    it('pools cropped head means, single heads and differences, mean and max, with empty and overlapping segments', async () => {
      const random = makeRandom(7);
      const rowSegments = [...randomSegments(random, 31, 6), { start: 4, end: 4 }, { start: 2, end: 12 }];
      const colSegments = [...randomSegments(random, 31, 5), { start: 0, end: 31 }];
      for (const stat of ['mean', 'max'] as const) {
        const source: MapRequest = { tensorId: 'raw', layer: 1, head: 'mean', softmax: 'row', crop };
        const values = await expectMatches(engine, tensors, { kind: 'segmentPool', source, rowSegments, colSegments, stat });
        // The empty row segment gives a row of NaN.
        const emptyRow = rowSegments.length - 2;
        expect(Array.from(values.subarray(emptyRow * colSegments.length, (emptyRow + 1) * colSegments.length)).every(Number.isNaN)).toBe(true);
        await expectMatches(engine, tensors, {
          kind: 'segmentPool',
          source: { tensorId: 'probs', layer: 0, head: 2, softmax: 'none' },
          rowSegments: [{ start: 0, end: 37 }, { start: 10, end: 11 }],
          colSegments: randomSegments(random, 37, 9),
          stat,
        });
        await expectMatches(
          engine,
          tensors,
          {
            kind: 'segmentPool',
            source: { kind: 'difference', minuend: { tensorId: 'raw', layer: 0, head: 1, softmax: 'crop', crop }, subtrahend: source },
            rowSegments,
            colSegments,
            stat,
          },
          1,
        );
      }
    });

    it("pools a 147-frame map over the TIMIT sample's phones at 320 samples per frame, whole and for a word range", async () => {
      const alignment = timitAlignment();
      // STEVE's phone frames [startFrame, stopFrame] as half-open ranges [startFrame, stopFrame + 1).
      const phones = toFrameSegments(alignment.phones, SPF).map((phone) => ({ start: phone.startFrame, end: phone.stopFrame + 1 }));
      expect(phones.length).toBe(37);
      expect(phones[phones.length - 1]).toEqual({ start: 139, end: 147 });
      for (const stat of ['mean', 'max'] as const) {
        await expectMatches(engine, tensors, {
          kind: 'segmentPool',
          source: { tensorId: 'timit', layer: 'mean', head: 'mean', softmax: 'row' },
          rowSegments: phones,
          colSegments: phones,
          stat,
        });
      }
      // The viewer's phone-pooled view: words 1..4 ("had your dark suit"), the source cropped to them, phones relative.
      const selection = selectWords(alignment, SPF, 1, 4);
      const { startFrame, stopFrame } = selection.crop;
      const wordCrop = { rowStart: startFrame, rowEnd: stopFrame + 1, colStart: startFrame, colEnd: stopFrame + 1 };
      const relative = selection.phones.map((phone) => ({ start: phone.startFrame - startFrame, end: phone.stopFrame - startFrame + 1 }));
      expect(relative.length).toBeGreaterThan(10);
      const request: MapRequest = {
        kind: 'segmentPool',
        source: { tensorId: 'timit', layer: 1, head: 0, softmax: 'row', crop: wordCrop },
        rowSegments: relative,
        colSegments: relative,
        stat: 'mean',
      };
      const values = await expectMatches(engine, tensors, request);
      // Stats and histograms work on it like on any other map.
      const stats = await engine.readStats(request, { bins: 8 });
      expect(stats).toMatchObject(minMaxCpu(values, relative.length, relative.length, fullCrop(relative.length, relative.length)));
      expect(stats.histogram.reduce((sum, count) => sum + count, 0)).toBe(stats.finiteCount);
    });
  });

  describe('blockPool', () => {
    it('pools k x k blocks (k = 1, 4, 10, 37, 50) of attention, cropped maps and segment-pooled maps', async () => {
      for (const stat of ['mean', 'max'] as const) {
        for (const block of [1, 4, 10, 37, 50]) {
          await expectMatches(engine, tensors, { kind: 'blockPool', source: { tensorId: 'raw', layer: 0, head: 'mean', softmax: 'row' }, block, stat });
        }
        await expectMatches(
          engine,
          tensors,
          { kind: 'blockPool', source: { tensorId: 'raw', layer: [1, 0], head: [2, 1], softmax: 'none', crop: { rowStart: 2, rowEnd: 33, colStart: 5, colEnd: 37 } }, block: 3, stat },
          1,
        );
        await expectMatches(engine, tensors, {
          kind: 'blockPool',
          source: { tensorId: 'timit', layer: 1, head: 2, softmax: 'row' },
          block: 16,
          stat,
        });
        const segments = randomSegments(makeRandom(8), 37, 3);
        await expectMatches(engine, tensors, {
          kind: 'blockPool',
          source: { kind: 'segmentPool', source: { tensorId: 'probs', layer: 1, head: 'mean', softmax: 'none' }, rowSegments: segments, colSegments: segments, stat },
          block: 2,
          stat: stat === 'mean' ? 'max' : 'mean',
        });
      }
      expect(await engine.outputShape({ kind: 'blockPool', source: { tensorId: 'timit', layer: 0, head: 0, softmax: 'row' }, block: 16, stat: 'mean' })).toEqual({ rows: 10, cols: 10 });
    });
  });

  describe('rollout', () => {
    it('rolls out all layers, a layer range, head subsets and one head, with softmax row or none', async () => {
      const requests: RolloutMapRequest[] = [
        { kind: 'rollout', tensorId: 'raw' },
        { kind: 'rollout', tensorId: 'raw', layerStart: 1 },
        { kind: 'rollout', tensorId: 'raw', layerEnd: 1, heads: [2, 0] },
        { kind: 'rollout', tensorId: 'raw', heads: 1, softmax: 'row' },
        { kind: 'rollout', tensorId: 'probs', softmax: 'none' },
        { kind: 'rollout', tensorId: 'timit', heads: [0, 1] },
      ];
      for (const request of requests) {
        const values = await expectMatches(engine, tensors, request);
        // Rows of an uncropped rollout sum to 1.
        const n = Math.sqrt(values.length);
        const sum = values.subarray(0, n).reduce((total, value) => total + value, 0);
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
      }
    });

    it('crops after the rollout over all frames by default, or rolls out within the crop when asked', async () => {
      const crop = { rowStart: 4, rowEnd: 30, colStart: 10, colEnd: 37 };
      const diagonal = { rowStart: 6, rowEnd: 29, colStart: 6, colEnd: 29 };
      await expectMatches(engine, tensors, { kind: 'rollout', tensorId: 'raw', crop });
      const after = await expectMatches(engine, tensors, { kind: 'rollout', tensorId: 'raw', crop: diagonal });
      const within = await expectMatches(engine, tensors, { kind: 'rollout', tensorId: 'raw', crop: diagonal, cropMode: 'within' });
      await expectMatches(engine, tensors, { kind: 'rollout', tensorId: 'raw', crop: diagonal, cropMode: 'within', softmax: 'crop' });
      await expectMatches(engine, tensors, { kind: 'rollout', tensorId: 'raw', crop: fullCrop(37, 37), cropMode: 'after' });
      expect(after.length).toBe(within.length);
      expect(Array.from(after)).not.toEqual(Array.from(within));
    });
  });

  describe('headStats', () => {
    it('gives every statistic as a layers x heads map, softmaxed, cropped, or read directly from probabilities', async () => {
      const msPerFrame = msPerFrameFromSpf(SPF);
      const diagonal = { rowStart: 5, rowEnd: 31, colStart: 5, colEnd: 31 };
      for (const statistic of HEAD_STATS_FIELDS) {
        const base = { kind: 'headStats', tensorId: 'raw', softmax: 'row', msPerFrame, statistic } as const;
        await expectMatches(engine, tensors, base);
        await expectMatches(engine, tensors, { ...base, layers: [1, 0], crop: diagonal, nearFrames: 4 });
        await expectMatches(engine, tensors, { ...base, softmax: 'crop', crop: diagonal, nearFrames: 0 });
        await expectMatches(engine, tensors, { ...base, tensorId: 'probs', softmax: 'none' });
        await expectMatches(engine, tensors, { ...base, tensorId: 'probs', softmax: 'none', layers: [1], crop: diagonal });
      }
      expect(await engine.outputShape({ kind: 'headStats', tensorId: 'timit', layers: [1], softmax: 'row', msPerFrame, statistic: 'entropy' })).toEqual({ rows: 1, cols: 3 });
    });
  });

  it('rejects invalid requests with a MapRequestError that says what is wrong', async () => {
    const source = { tensorId: 'raw', layer: 0, head: 0, softmax: 'row' } as const;
    const cases: [MapRequest, RegExp][] = [
      [{ kind: 'segmentPool', source, rowSegments: [], colSegments: [{ start: 0, end: 1 }], stat: 'mean' }, /rowSegments is empty/],
      [{ kind: 'segmentPool', source, rowSegments: [{ start: 0, end: 38 }], colSegments: [{ start: 0, end: 1 }], stat: 'mean' }, /row segment 0 \[0, 38\) is not a range of integers with 0 <= start <= end <= 37/],
      [{ kind: 'segmentPool', source, rowSegments: [{ start: 0, end: 1 }], colSegments: [{ start: 5, end: 4 }], stat: 'max' }, /column segment 0 \[5, 4\)/],
      [{ kind: 'segmentPool', source, rowSegments: [{ start: 0.5, end: 1 }], colSegments: [{ start: 0, end: 1 }], stat: 'max' }, /row segment 0 \[0.5, 1\)/],
      [{ kind: 'segmentPool', source, rowSegments: [{ start: 0, end: 1 }], colSegments: [{ start: 0, end: 1 }], stat: 'median' as 'mean' }, /stat must be 'mean' or 'max', got "median"/],
      [{ kind: 'segmentPool', source: { ...source, layer: 5 }, rowSegments: [{ start: 0, end: 1 }], colSegments: [{ start: 0, end: 1 }], stat: 'mean' }, /raw: layer 5 does not exist/],
      [{ kind: 'blockPool', source, block: 0, stat: 'mean' }, /block must be an integer number of frames >= 1, got 0/],
      [{ kind: 'blockPool', source, block: 2.5, stat: 'max' }, /got 2.5/],
      [{ kind: 'rollout', tensorId: 'wide' }, /rollout needs square maps \(frames x frames\), but the tensor's maps are 5 x 8/],
      [{ kind: 'rollout', tensorId: 'raw', layerStart: 1, layerEnd: 1 }, /layers 1..1 \(end exclusive\) is not a non-empty range inside the tensor's 2 layers/],
      [{ kind: 'rollout', tensorId: 'raw', layerEnd: 3 }, /layers 0..3/],
      [{ kind: 'rollout', tensorId: 'raw', heads: [0, 3] }, /head 3 does not exist/],
      [{ kind: 'rollout', tensorId: 'raw', softmax: 'crop', crop: { rowStart: 0, rowEnd: 5, colStart: 0, colEnd: 5 } }, /softmax 'crop' .* only applies to rollout within the crop/],
      [{ kind: 'rollout', tensorId: 'raw', cropMode: 'within', crop: { rowStart: 0, rowEnd: 5, colStart: 1, colEnd: 6 } }, /rollout within the crop needs the crop's rows and columns to be the same frames/],
      [{ kind: 'rollout', tensorId: 'raw', crop: { rowStart: 0, rowEnd: 38, colStart: 0, colEnd: 5 } }, /is not a non-empty rectangle inside the 37 x 37 map/],
      [{ kind: 'rollout', tensorId: 'nope' }, /No tensor 'nope' has been added/],
      [{ kind: 'headStats', tensorId: 'raw', softmax: 'row', msPerFrame: 20, statistic: 'variance' as 'entropy' }, /statistic must be one of 'entropy', 'distanceFrames', 'distanceMs', 'nearDiagonalShare', got "variance"/],
      [{ kind: 'headStats', tensorId: 'raw', softmax: 'row', msPerFrame: 0, statistic: 'entropy' }, /msPerFrame must be a finite number of milliseconds > 0, got 0/],
      [{ kind: 'headStats', tensorId: 'raw', softmax: 'row', msPerFrame: 20, nearFrames: -1, statistic: 'entropy' }, /nearFrames must be an integer >= 0, got -1/],
      [{ kind: 'headStats', tensorId: 'raw', softmax: 'sigmoid' as 'row', msPerFrame: 20, statistic: 'entropy' }, /softmax must be 'none', 'row' or 'crop', got "sigmoid"/],
      [{ kind: 'headStats', tensorId: 'raw', layers: [0, 0], softmax: 'row', msPerFrame: 20, statistic: 'entropy' }, /repeats an index/],
      [{ kind: 'headStats', tensorId: 'raw', layers: [], softmax: 'row', msPerFrame: 20, statistic: 'entropy' }, /empty layer subset/],
      [{ kind: 'headStats', tensorId: 'raw', softmax: 'row', msPerFrame: 20, statistic: 'entropy', crop: { rowStart: 0, rowEnd: 9, colStart: 0, colEnd: 10 } }, /the crop's rows and columns must be the same frames/],
    ];
    for (const [request, message] of cases) {
      await expect(engine.outputShape(request), JSON.stringify(request)).rejects.toThrowError(MapRequestError);
      await expect(engine.readMap(request), JSON.stringify(request)).rejects.toThrowError(message);
    }
  });
});

describe('AttentionEngine analysis kinds: uploads and passes', () => {
  it('creates each pass once per device, and reads layer by layer within a one-layer budget and head-run uploads', async () => {
    const source = makeRecordingSource('small.npy', SHAPE, makeRandom(201));
    const layerBytes = SHAPE.heads * SHAPE.rows * SHAPE.cols * 4;
    // Room for 2 maps per upload: each layer arrives as runs of heads; the budget holds one layer.
    const engine = await createEngine({ budgetBytes: layerBytes, maxChunkBytes: 2 * SHAPE.rows * SHAPE.cols * 4 });
    const create = vi.spyOn(SegmentPoolPass, 'create');
    try {
      engine.addTensor('small', source);
      const tensors = tensorsOf({ small: source });
      const pooled = {
        kind: 'segmentPool',
        source: { tensorId: 'small', layer: 1, head: 'mean', softmax: 'row' },
        rowSegments: [{ start: 0, end: 20 }, { start: 20, end: 37 }],
        colSegments: [{ start: 0, end: 37 }],
        stat: 'max',
      } satisfies MapRequest;
      await expectMatches(engine, tensors, pooled);
      await expectMatches(engine, tensors, { ...pooled, stat: 'mean' as const });
      expect(create).toHaveBeenCalledTimes(1);
      for (const statistic of HEAD_STATS_FIELDS) {
        await expectMatches(engine, tensors, { kind: 'headStats', tensorId: 'small', softmax: 'none', msPerFrame: 20, statistic });
        await expectMatches(engine, tensors, { kind: 'headStats', tensorId: 'small', softmax: 'row', msPerFrame: 20, statistic });
      }
      await expectMatches(engine, tensors, { kind: 'rollout', tensorId: 'small' });
      expect(engine.memory.residentBytes).toBeLessThanOrEqual(layerBytes);
      expect(source.reads.every((read) => read.startsWith('head'))).toBe(true);
    } finally {
      create.mockRestore();
      engine.destroy();
    }
  });
});

describe('AttentionEngine analysis kinds with float16 storage', () => {
  it('matches the references computed on the float16-rounded values', async () => {
    const sources = { h: makeRecordingSource('h.npy', SHAPE, makeRandom(301), 0, 1) };
    const tensors = tensorsOf(sources, true);
    const engine = await createEngine({ storage: 'float16' });
    try {
      engine.addTensor('h', sources.h);
      const crop = { rowStart: 2, rowEnd: 35, colStart: 2, colEnd: 35 };
      await expectMatches(engine, tensors, {
        kind: 'segmentPool',
        source: { tensorId: 'h', layer: 1, head: 'mean', softmax: 'none', crop },
        rowSegments: randomSegments(makeRandom(9), 33, 7),
        colSegments: randomSegments(makeRandom(10), 33, 4),
        stat: 'mean',
      });
      await expectMatches(engine, tensors, { kind: 'blockPool', source: { tensorId: 'h', layer: 0, head: 1, softmax: 'row' }, block: 5, stat: 'max' });
      await expectMatches(engine, tensors, { kind: 'rollout', tensorId: 'h', softmax: 'none', crop });
      for (const statistic of HEAD_STATS_FIELDS) {
        // 'none' over the whole map reads the float16 uploads directly; 'row' goes through the softmax first.
        await expectMatches(engine, tensors, { kind: 'headStats', tensorId: 'h', softmax: 'none', msPerFrame: 20, statistic });
        await expectMatches(engine, tensors, { kind: 'headStats', tensorId: 'h', softmax: 'row', crop, msPerFrame: 20, statistic });
      }
    } finally {
      engine.destroy();
    }
  });
});
