/**
 * Positions on a map's axis -> frames of the utterance (src/ui/axisFrames.ts), for maps of frames, of blocks of
 * frames (--pool k) and of segments, on plans made by planView. The synthetic utterance (as in tests/view/plan.test.ts):
 * 16 frames, phones h# 0-2, p1 2-4, p2 4-6, p3 6-9, p4 9-12, h# 12-16; words "a" 2-6 and "b" 6-12. Every expected
 * frame is counted by hand; the segment cells are also checked against the frames the plan's pooling request averages.
 */
import { describe, expect, it } from 'vitest';
import type { Alignment } from '../../src/data/alignment.ts';
import type { AttentionShape } from '../../src/data/tensor.ts';
import type { AxisPiece } from '../../src/ui/axisFrames.ts';
import { axisPieces, cellFrames, frameAt, joinPieces } from '../../src/ui/axisFrames.ts';
import type { PlanUtterance } from '../../src/view/plan.ts';
import { planView } from '../../src/view/plan.ts';
import type { ViewOptionValues } from '../../src/view/spec.ts';
import { parseViewSpec } from '../../src/view/spec.ts';

const SPF = 320;
const SHAPE: AttentionShape = { layers: 1, heads: 1, rows: 16, cols: 16 };
const PHONES: [string, number, number][] = [
  ['h#', 0, 2],
  ['p1', 2, 4],
  ['p2', 4, 6],
  ['p3', 6, 9],
  ['p4', 9, 12],
  ['h#', 12, 16],
];
const WORDS: [string, number, number][] = [
  ['a', 2, 6],
  ['b', 6, 12],
];
const segments = (list: [string, number, number][]) => list.map(([label, start, stop]) => ({ label, startSample: start * SPF, endSample: stop * SPF }));
const ALIGNMENT: Alignment = { source: 'timit', text: 'a b', phones: segments(PHONES), words: segments(WORDS) };
const UTTERANCE: PlanUtterance = {
  name: 'utt',
  attention: { fileName: 'utt.npy', shape: SHAPE } as PlanUtterance['attention'],
  alignment: ALIGNMENT,
  spf: { samplesPerFrame: SPF, source: 'user' },
  audioFileName: 'utt.wav',
};

/** The frames of a cell, without its times. */
function framesOf(pieces: AxisPiece[], index: number) {
  const span = cellFrames(pieces, index);
  return span && { startFrame: span.startFrame, endFrame: span.endFrame };
}

function piecesOf(options: ViewOptionValues, utterance = UTTERANCE) {
  const plan = planView(parseViewSpec(options), utterance, { tensorId: 'u' });
  return { plan, pieces: axisPieces(plan.axes, plan.crop, SPF / 16000) };
}

describe('axisFrames', () => {
  it('a map of frames: cell i is frame crop start + i', () => {
    const { plan, pieces } = piecesOf({ view: 'map', words: '0:1' });
    // STEVE's crop of words 0..1 keeps frames 2 ..= 12.
    expect(plan.crop.colStart).toBe(2);
    expect(plan.crop.colEnd).toBe(13);
    expect(framesOf(pieces, 0)).toEqual({ startFrame: 2, endFrame: 3 });
    expect(framesOf(pieces, 10)).toEqual({ startFrame: 12, endFrame: 13 });
    expect(framesOf(pieces, 11)).toBeUndefined();
    expect(frameAt(pieces, 3.5)).toBe(5.5);
  });

  it('--pool 4: cell i is frames 4i .. 4i + 3 of the crop, the last block short', () => {
    const { plan, pieces } = piecesOf({ view: 'pooled', pool: '4', words: '0:1' });
    expect(plan.axes).toEqual({ kind: 'frames', framesPerCell: 4 });
    // 11 frames (2 ..= 12): blocks 2-5, 6-9, 10-12.
    expect(framesOf(pieces, 0)).toEqual({ startFrame: 2, endFrame: 6 });
    expect(framesOf(pieces, 1)).toEqual({ startFrame: 6, endFrame: 10 });
    expect(framesOf(pieces, 2)).toEqual({ startFrame: 10, endFrame: 13 });
    expect(framesOf(pieces, 3)).toBeUndefined();
    // Positions inside a block are spread over its frames: a quarter into block 1 is frame 7.
    expect(frameAt(pieces, 1.25)).toBe(7);
    // The map is drawn 11 / 4 cells wide: past that there are no frames.
    expect(frameAt(pieces, 2.7)).toBeCloseTo(12.8, 12);
    expect(frameAt(pieces, 2.76)).toBeUndefined();
  });

  it('pooled onto phones: cell i is phone i, the frames its pooled value is the mean of', () => {
    const { plan, pieces } = piecesOf({ view: 'pooled', pool: 'phones', words: '0:1' });
    if (plan.axes.kind !== 'segments') throw new Error('expected segment axes');
    expect(plan.axes.segments.map((s) => s.label)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect([0, 1, 2, 3].map((i) => framesOf(pieces, i))).toEqual([
      { startFrame: 2, endFrame: 4 },
      { startFrame: 4, endFrame: 6 },
      { startFrame: 6, endFrame: 9 },
      { startFrame: 9, endFrame: 12 },
    ]);
    expect(framesOf(pieces, 4)).toBeUndefined();
    // The same frames as the pooling request (its ranges count from the crop's first frame).
    const request = plan.cells[0].request;
    if (request.kind !== 'segmentPool') throw new Error('expected a segment pool');
    expect(request.rowSegments.map((r) => ({ startFrame: r.start + 2, endFrame: r.end + 2 }))).toEqual([0, 1, 2, 3].map((i) => framesOf(pieces, i)));
    // Half-way into p3 (3 frames) is frame 7.5; cells are equal on screen, phones are not.
    expect(frameAt(pieces, 2.5)).toBe(7.5);
    expect(frameAt(pieces, 3.5)).toBe(10.5);
  });

  it('pooled onto words, every frame: the words and the silences around them', () => {
    const { plan, pieces } = piecesOf({ view: 'pooled', pool: 'words', full: true });
    if (plan.axes.kind !== 'segments') throw new Error('expected segment axes');
    const labels = plan.axes.segments.map((s) => s.label);
    const spans = labels.map((_, i) => framesOf(pieces, i));
    expect(spans[labels.indexOf('a')]).toEqual({ startFrame: 2, endFrame: 6 });
    expect(spans[labels.indexOf('b')]).toEqual({ startFrame: 6, endFrame: 12 });
  });

  it('the words tier over phone cells is drawn once per word', () => {
    const { pieces } = piecesOf({ view: 'pooled', pool: 'phones', words: '0:1' });
    const joined = joinPieces(pieces, new Set([2, 6, 12]));
    expect(joined).toEqual([
      { fromCell: 0, toCell: 2, startFrame: 2, endFrame: 6, startSec: 0.04, endSec: 0.12 },
      { fromCell: 2, toCell: 4, startFrame: 6, endFrame: 12, startSec: 0.12, endSec: 0.24 },
    ]);
    // Without boundaries everything joins; with a boundary at every edge nothing does.
    expect(joinPieces(pieces, new Set())).toHaveLength(1);
    expect(joinPieces(pieces, new Set([4, 6, 9, 12]))).toEqual(pieces);
  });

  it('a block cell\'s audio is its frames\'; a segment cell\'s audio is the segment\'s own, not its rounded frames', () => {
    const { pieces: blocks } = piecesOf({ view: 'pooled', pool: '4', words: '0:1' });
    const block = cellFrames(blocks, 2)!;
    expect([block.startSec, block.endSec]).toEqual([0.2, 0.26]);
    // p2 ends (and p3 starts) 100 samples into frame 6: both still round to frame 6.
    const moved: Alignment = { ...ALIGNMENT, phones: ALIGNMENT.phones.map((p, i) => (i === 2 ? { ...p, endSample: 6 * SPF + 100 } : i === 3 ? { ...p, startSample: 6 * SPF + 100 } : p)) };
    const { pieces } = piecesOf({ view: 'pooled', pool: 'phones', words: '0:1' }, { ...UTTERANCE, alignment: moved });
    expect(framesOf(pieces, 1)).toEqual({ startFrame: 4, endFrame: 6 });
    const p2 = cellFrames(pieces, 1)!;
    const p3 = cellFrames(pieces, 2)!;
    expect([p2.startSec, p2.endSec, p3.startSec]).toEqual([0.08, (6 * SPF + 100) / 16000, (6 * SPF + 100) / 16000]);
  });
});
