/**
 * Windowed pyramid levels (src/view/pyramidWindow.ts, src/compute/pyramid.ts windowRequest): a level built over a
 * window of the map (the map's request cut to the window's frames, then block-pooled) holds exactly the whole
 * level's cells over that window, bit for bit, on the engine: for raw and row-softmaxed maps, a map that already has
 * a crop (the viewer's word crop, at an offset that is not a multiple of f), a difference, and partial last blocks.
 * Both are also checked against the plain TypeScript reference (pyramidLevelCpu of the float64 map).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMapCpu } from '../../src/compute/mapRequest.cpu.ts';
import { pyramidLevelCpu } from '../../src/compute/pyramid.cpu.ts';
import { pyramidLevelRequest, windowRequest } from '../../src/compute/pyramid.ts';
import { AttentionEngine, type MapRequest } from '../../src/engine.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { levelCells } from '../../src/view/pyramidLevel.ts';
import { levelWindow, windowFrames, type LevelWindow } from '../../src/view/pyramidWindow.ts';
import { ABSOLUTE_FLOOR, SHADERS, TOLERANCE, expectClose, makeRandom, makeRecordingSource, readKeptMap, type RecordingSource } from './support.ts';

// 45 frames: levels 2, 4 and 8 end in a partial block; windows snapped to 2 level cells.
const SHAPE = { layers: 1, heads: 2, rows: 45, cols: 45 };
const TILE = 2;

describe('windowed pyramid levels', () => {
  let engine: AttentionEngine;
  let source: RecordingSource;

  beforeAll(async () => {
    source = makeRecordingSource('window.npy', SHAPE, makeRandom(31));
    engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS });
    engine.addTensor('t', source);
  });

  afterAll(() => engine?.destroy());

  const kept = (request: MapRequest) => readKeptMap(engine, request);

  /** The window's cells cut from a whole level of `levelColumns` columns. */
  function cut(level: Float32Array, levelColumns: number, window: LevelWindow): Float32Array {
    const out: number[] = [];
    for (let row = window.rowStart; row < window.rowEnd; row++) out.push(...level.subarray(row * levelColumns + window.colStart, row * levelColumns + window.colEnd));
    return Float32Array.from(out);
  }

  const whole = { tensorId: 't', layer: 0 } as const;
  const cases: [string, MapRequest, number][] = [
    ['a raw map', { ...whole, head: 0, softmax: 'none' }, 45],
    ['a row-softmaxed map', { ...whole, head: 1, softmax: 'row' }, 45],
    // A word crop of frames 7..43 (37 frames): its level blocks start at frame 7, not at a multiple of f.
    ['a cropped row-softmaxed map', { ...whole, head: 1, softmax: 'row', crop: { rowStart: 7, rowEnd: 44, colStart: 7, colEnd: 44 } }, 37],
    ['a difference', { kind: 'difference', minuend: { ...whole, head: 0, softmax: 'row' }, subtrahend: { ...whole, head: 1, softmax: 'row' } }, 45],
  ];

  it.each(cases)('a window of each level equals the whole level over it, bit for bit (%s)', async (_name, map, frames) => {
    const tensors = () => ({ shape: source.shape, layer: () => source.layerValues(0) });
    const reference = Float32Array.from(computeMapCpu(map, tensors).values);
    // A view of frames 24.5..33.2 (rows) x 20..frames (columns, to the map's end): windows in the middle and at the edge.
    const visible = { rowStart: 24.5, rowEnd: 33.2, colStart: 20, colEnd: frames };
    for (const factor of [1, 2, 4, 8]) {
      const window = levelWindow(visible, frames, frames, factor, TILE);
      expect(window, `level ${factor} has a window`).toBeDefined();
      const cells = levelCells(frames, factor);
      expect(window!.rowStart % TILE).toBe(0);
      expect(window!.colEnd).toBe(cells);
      const wholeLevel = await kept(pyramidLevelRequest(map, factor, 'mean'));
      const frameRect = windowFrames(window!, frames, frames);
      // The window starts on a multiple of f, so its blocks are the whole level's.
      expect(frameRect.rowStart % factor).toBe(0);
      expect(frameRect.colStart % factor).toBe(0);
      const windowed = await kept(pyramidLevelRequest(windowRequest(map, frameRect)!, factor, 'mean'));
      expect({ rows: windowed.rows, cols: windowed.cols }).toEqual({ rows: window!.rowEnd - window!.rowStart, cols: window!.colEnd - window!.colStart });
      expect(windowed.values, `level ${factor}`).toEqual(cut(wholeLevel.values, cells, window!));
      const floor = map.kind === 'difference' || (map as { softmax?: string }).softmax === 'none' ? 1 : ABSOLUTE_FLOOR.float32;
      expectClose(windowed.values, cut(pyramidLevelCpu(reference, frames, frames, factor, 'mean'), cells, window!), TOLERANCE.float32, floor);
    }
  });

  it('cuts a crop-softmaxed request only when it has no crop (a window would renormalise its rows)', () => {
    const frames = { rowStart: 4, rowEnd: 8, colStart: 0, colEnd: 16 };
    expect(windowRequest({ ...whole, head: 0, softmax: 'crop' }, frames)).toEqual({ ...whole, head: 0, softmax: 'row', crop: frames });
    expect(windowRequest({ ...whole, head: 0, softmax: 'crop', crop: { rowStart: 2, rowEnd: 30, colStart: 2, colEnd: 30 } }, frames)).toBeUndefined();
    expect(windowRequest({ kind: 'blockPool', source: { ...whole, head: 0, softmax: 'row' }, block: 2, stat: 'mean' }, frames)).toBeUndefined();
    expect(windowRequest({ ...whole, head: 0, softmax: 'row', crop: { rowStart: 2, rowEnd: 30, colStart: 3, colEnd: 31 } }, frames)).toEqual({
      ...whole,
      head: 0,
      softmax: 'row',
      crop: { rowStart: 6, rowEnd: 10, colStart: 3, colEnd: 19 },
    });
  });
});
