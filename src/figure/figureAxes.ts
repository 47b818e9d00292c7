/**
 * The axis labels and boundary lines of an exported figure, from STEVE's word selection: phones and "previous,next"
 * boundary labels thinned so they do not overlap, word labels, and the phone and word boundary lines, all in map
 * pixels. Pure, for the command line's figures; the map is square, so one set serves both axes.
 */
import type { FrameSegment, WordSelection } from '../data/frames.ts';
import { layoutAxisLabels } from '../view/axisLabels.ts';
import type { FigureLabel } from './figureSvg.ts';

/** Labels along one axis and the boundary lines across the map, in map pixels. */
export interface FigureAxes {
  readonly labels: readonly FigureLabel[];
  readonly phoneBoundaries: readonly number[];
  readonly wordBoundaries: readonly number[];
}

/** Pixels a phone label needs along an axis: its 12-pixel font height, as the labels run across the axis. */
const PHONE_LABEL_SPAN = 13;
/** Word labels are written along the axis: about 8 pixels per character of the bold 13-pixel font, plus a gap. */
const wordLabelSpan = (text: string) => text.length * 8 + 8;

/**
 * Axes of a map whose rows and columns are frames. `toPx` takes a frame position (frame coordinates of the
 * utterance: frame f covers [f, f + 1)) to map pixels, so a crop, a zoom or k x k block pooling is just another toPx.
 */
export function frameFigureAxes(selection: WordSelection, toPx: (position: number) => number, mapSize: number): FigureAxes {
  const axis = { toPx, startPx: 0, endPx: mapSize, labelSpan: () => PHONE_LABEL_SPAN };
  const phones = layoutAxisLabels(selection.majorTicks, selection.minorTicks, axis);
  // A word's label sits over its frames: the middle of [startFrame, stopFrame + 1).
  const wordTicks = selection.words.map((word) => ({ position: (word.startFrame + word.stopFrame + 1) / 2, label: word.label }));
  const words = layoutAxisLabels(wordTicks, [], { ...axis, labelSpan: wordLabelSpan });
  const inside = (px: number) => px >= 0 && px <= mapSize;
  return {
    labels: [...phones.map((l) => ({ text: l.text, px: l.px, kind: l.kind })), ...words.map((l) => ({ text: l.text, px: l.px, kind: 'word' as const }))],
    phoneBoundaries: selection.phoneBoundaries.map(toPx).filter(inside),
    wordBoundaries: selection.wordBoundaries.map(toPx).filter(inside),
  };
}

/**
 * Axes of a map pooled onto segments: cell i is segments[i]. Pooled onto phones, each cell is labelled with its
 * phone, words are labelled over their phones and word boundaries fall on the cell edges where a word starts;
 * pooled onto words, each cell is a word and every cell edge is a word boundary.
 */
export function segmentFigureAxes(
  segments: readonly FrameSegment[],
  unit: 'phones' | 'words',
  words: readonly FrameSegment[],
  mapSize: number,
): FigureAxes {
  const cell = mapSize / Math.max(1, segments.length);
  const toPx = (position: number) => position * cell;
  const axis = { toPx, startPx: 0, endPx: mapSize };
  const centres = segments.map((segment, i) => ({ position: i + 0.5, label: segment.label }));
  const edges = Array.from({ length: segments.length + 1 }, (_, i) => i * cell);
  if (unit === 'words') {
    const labels = layoutAxisLabels(centres, [], { ...axis, labelSpan: wordLabelSpan });
    return { labels: labels.map((l) => ({ text: l.text, px: l.px, kind: 'word' as const })), phoneBoundaries: [], wordBoundaries: edges };
  }
  const phoneLabels = layoutAxisLabels(centres, [], { ...axis, labelSpan: () => PHONE_LABEL_SPAN });
  // The phones of each word, as STEVE's crop keeps them: those lying wholly inside the word's frames.
  const spans = words
    .map((word) => {
      const inside = segments.flatMap((phone, i) => (phone.startFrame >= word.startFrame && phone.stopFrame <= word.stopFrame ? [i] : []));
      return inside.length ? { label: word.label, first: inside[0], last: inside[inside.length - 1] } : undefined;
    })
    .filter((span) => span !== undefined);
  const wordTicks = spans.map((span) => ({ position: (span.first + span.last + 1) / 2, label: span.label }));
  const wordLabels = layoutAxisLabels(wordTicks, [], { ...axis, labelSpan: wordLabelSpan });
  const wordEdges = new Set(spans.flatMap((span) => [span.first * cell, (span.last + 1) * cell]));
  return {
    labels: [
      ...phoneLabels.map((l) => ({ text: l.text, px: l.px, kind: 'major' as const })),
      ...wordLabels.map((l) => ({ text: l.text, px: l.px, kind: 'word' as const })),
    ],
    phoneBoundaries: edges.slice(1, -1).filter((px) => !wordEdges.has(px)),
    wordBoundaries: [...wordEdges].sort((a, b) => a - b),
  };
}
