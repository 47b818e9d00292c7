/**
 * The phone and word tiers beside a map draw their boundaries on the map's cell edges (README: boundaries lie on
 * cell edges "in the map, the tiers, every export"): every tier boundary's pixel is one of the map's boundary
 * lines, and every map line has its tier boundary, for the LDC93S1 TIMIT sample in frames, blocks and pooled views.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Alignment, Segment } from '../../src/data/alignment.ts';
import { selectAllFrames, selectWords, type WordSelection } from '../../src/data/frames.ts';
import { parseTimitSegments } from '../../src/data/timit.ts';
import { axisPieces, joinPieces, type AxisPiece } from '../../src/ui/axisFrames.ts';
import { segmentsOnFrameEdges, tierBoundaryTimes, timeToPixel, visibleStretches, type PageAxis } from '../../src/ui/strips.ts';
import type { Crop } from '../../src/compute/region.ts';
import { marksOf, type MapMarks, type PlanAxes } from '../../src/view/plan.ts';

const SAMPLES = new URL('../../demo/public/samples/timit/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, SAMPLES), 'utf8');
const alignment: Alignment = {
  source: 'timit',
  text: '',
  phones: parseTimitSegments(read('LDC93S1.phn'), 'LDC93S1.phn'),
  words: parseTimitSegments(read('LDC93S1.wrd'), 'LDC93S1.wrd'),
};
/** Whisper's 320 samples (20 ms) a frame; LDC93S1's 46720 samples are 146 frames. */
const SPF = 320;
const FRAMES = 146;
const SECONDS_PER_FRAME = SPF / 16000;
/** The map on the page: cell c at 40 + 7.5 c pixels. */
const page = (marks: MapMarks): PageAxis => ({ offset: 40, scale: 7.5, from: 40, to: 40 + 7.5 * marks.span });

function cropOf(selection: WordSelection): Crop {
  const { startFrame, frameCount } = selection.crop;
  return { rowStart: startFrame, rowEnd: startFrame + frameCount, colStart: startFrame, colEnd: startFrame + frameCount };
}

/** The pixels of a tier's boundary lines strictly inside the map, as drawTier places them over its stretches. */
function tierLinePixels(segments: readonly Segment[], pieces: readonly AxisPiece[], axis: PageAxis, snap = true): number[] {
  const drawn = snap ? segmentsOnFrameEdges(segments, SPF, false) : segments;
  const pixels = visibleStretches(pieces, axis, 'frames', SECONDS_PER_FRAME).flatMap((stretch) => {
    const along = { start: stretch.at, length: stretch.length };
    return tierBoundaryTimes(drawn, stretch).map((time) => timeToPixel(time, stretch, along));
  });
  return distinct(pixels.filter((pixel) => pixel > axis.from + 1e-6 && pixel < axis.to - 1e-6));
}

/** The map's lines strictly inside it, in pixels. */
function mapLinePixels(cells: readonly number[], axis: PageAxis): number[] {
  return distinct(cells.map((cell) => axis.offset + cell * axis.scale).filter((pixel) => pixel > axis.from + 1e-6 && pixel < axis.to - 1e-6));
}

/** Sorted, with pixels closer than 1e-6 merged (stretch ends meet at the same edge from both sides). */
function distinct(pixels: number[]): number[] {
  const sorted = [...pixels].sort((a, b) => a - b);
  return sorted.filter((pixel, i) => i === 0 || pixel - sorted[i - 1] > 1e-6).map((pixel) => Math.round(pixel * 1e6) / 1e6);
}

function view(selection: WordSelection, axes: PlanAxes) {
  const crop = cropOf(selection);
  const marks = marksOf(axes, selection, crop, crop.rowEnd - crop.rowStart);
  const pieces = axisPieces(axes, crop, SECONDS_PER_FRAME);
  const wordEdges = new Set(selection.words.flatMap((word) => [word.startFrame, word.stopFrame]));
  return { marks, pieces, wordPieces: joinPieces(pieces, wordEdges), axis: page(marks) };
}

describe('tier boundaries on the map cell edges (LDC93S1)', () => {
  const all = selectAllFrames(alignment, SPF, FRAMES);

  it('all frames: every phone and word boundary of the tiers is one of the map lines, and every line has one', () => {
    const { marks, pieces, wordPieces, axis } = view(all, { kind: 'frames', framesPerCell: 1 });
    const phoneLines = mapLinePixels(marks.phoneBoundaries, axis);
    expect(phoneLines.length).toBeGreaterThan(30);
    expect(tierLinePixels(alignment.phones, pieces, axis)).toEqual(phoneLines);
    expect(tierLinePixels(alignment.words, wordPieces, axis)).toEqual(mapLinePixels(marks.wordBoundaries, axis));
  });

  it('the segments\' own times (the old tiers) miss the map lines: eh/dcl at 27.41 frames against the line at 27', () => {
    const { marks, pieces, axis } = view(all, { kind: 'frames', framesPerCell: 1 });
    const unsnapped = tierLinePixels(alignment.phones, pieces, axis, false);
    expect(unsnapped).not.toEqual(mapLinePixels(marks.phoneBoundaries, axis));
    const ehDcl = alignment.phones.findIndex((phone, i) => phone.label === 'eh' && alignment.phones[i + 1]?.label === 'dcl');
    const seconds = alignment.phones[ehDcl].endSample / 16000;
    expect(seconds / SECONDS_PER_FRAME).toBeCloseTo(27.41, 2);
    expect(unsnapped).toContainEqual(Math.round((axis.offset + (seconds / SECONDS_PER_FRAME) * axis.scale) * 1e6) / 1e6);
    expect(tierLinePixels(alignment.phones, pieces, axis)).toContainEqual(axis.offset + 27 * axis.scale);
  });

  it('a word range (crop) and blocks of 4 frames: the tier lines are the map lines', () => {
    const words = selectWords(alignment, SPF, 1, 4);
    for (const framesPerCell of [1, 4]) {
      const { marks, pieces, axis } = view(words, { kind: 'frames', framesPerCell });
      expect(tierLinePixels(alignment.phones, pieces, axis)).toEqual(mapLinePixels(marks.phoneBoundaries, axis));
      // The map draws the selected words' edges; the tier also the edges of words overlapping the crop's ends.
      expect(tierLinePixels(alignment.words, pieces, axis)).toEqual(expect.arrayContaining(mapLinePixels(marks.wordBoundaries, axis)));
    }
  });

  it('pooled onto phones: the tiers\' lines are the cell edges the map draws', () => {
    const segments = all.phones;
    const { marks, pieces, wordPieces, axis } = view(all, { kind: 'segments', unit: 'phones', segments });
    const lines = mapLinePixels([...marks.phoneBoundaries, ...marks.wordBoundaries], axis);
    expect(lines).toHaveLength(segments.length - 1);
    expect(tierLinePixels(alignment.phones, pieces, axis)).toEqual(lines);
    expect(tierLinePixels(alignment.words, wordPieces, axis)).toEqual(mapLinePixels(marks.wordBoundaries, axis));
  });
});
