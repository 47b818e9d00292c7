/**
 * Which axis labels to show at the current zoom: labels follow the view and thin out instead of overlapping.
 * Phone labels (major ticks) win over boundary labels (minor ticks, "previous,next"), which fill the gaps between.
 */
import type { AxisTick } from '../data/frames.ts';
import type { VisibleFrames } from './displayNote.ts';

export interface PlacedLabel {
  readonly text: string;
  /** Pixel position along the axis (centre of the label). */
  readonly px: number;
  readonly kind: 'major' | 'minor';
}

export interface AxisLayout {
  /** Frame position (frame coordinates) -> pixel along the axis. */
  toPx: (position: number) => number;
  /** Visible pixel range of the axis. */
  startPx: number;
  endPx: number;
  /** Pixels a label of n characters needs along the axis (its width on a horizontal axis, its height on a vertical one). */
  labelSpan: (text: string) => number;
  /** Free pixels kept between neighbouring labels. */
  gapPx?: number;
}

/**
 * Where a tick's label goes: at its position, or, for a label of a segment whose centre the zoom has moved out of
 * view while part of the segment is still in it, at the middle of that part (so the frames at the view's edges stay
 * named). Unzoomed, every centre is in view and nothing moves.
 */
function inView(tick: AxisTick, layout: AxisLayout): number {
  const px = layout.toPx(tick.position);
  if ((px >= layout.startPx && px <= layout.endPx) || tick.from === undefined || tick.to === undefined) return px;
  const [a, b] = [layout.toPx(tick.from), layout.toPx(tick.to)].sort((x, y) => x - y);
  const low = Math.max(a, layout.startPx);
  const high = Math.min(b, layout.endPx);
  return low < high ? (low + high) / 2 : px;
}

/** Labels that fit: majors greedily left to right, then minors wherever they do not collide with a kept label. */
export function layoutAxisLabels(majors: readonly AxisTick[], minors: readonly AxisTick[], layout: AxisLayout): PlacedLabel[] {
  const gap = layout.gapPx ?? 4;
  const kept: { start: number; end: number; label: PlacedLabel }[] = [];
  const fits = (start: number, end: number) => kept.every((k) => end + gap <= k.start || start >= k.end + gap);
  const place = (ticks: readonly AxisTick[], kind: PlacedLabel['kind']) => {
    const placed = ticks
      .map((tick) => ({ tick, px: inView(tick, layout) }))
      .filter(({ px }) => px >= layout.startPx && px <= layout.endPx)
      .sort((a, b) => a.px - b.px);
    for (const { tick, px } of placed) {
      if (!tick.label) continue;
      const half = layout.labelSpan(tick.label) / 2;
      if (fits(px - half, px + half)) kept.push({ start: px - half, end: px + half, label: { text: tick.label, px, kind } });
    }
  };
  place(majors, 'major');
  place(minors, 'minor');
  return kept.map((k) => k.label).sort((a, b) => a.px - b.px);
}

/**
 * What a cell of a zoomed grid says, beside its title, of the part of its map it shows (every cell of a grid shows
 * the same part: without this, a zoomed cell looks like a whole map): "frames 656-843" when its rows and columns
 * show the same frames, else "rows 656-843, cols 700-887"; the numbers alone when only they fit in `roomPx`, nothing
 * when not even they do (the display note names the frames in any case). Ends are inclusive, as the note's.
 */
export function zoomedCellFrames(visible: VisibleFrames, unit: string, roomPx: number, labelSpan: (text: string) => number): string | undefined {
  const rows = `${visible.rowStart}-${visible.rowEnd - 1}`;
  const cols = `${visible.colStart}-${visible.colEnd - 1}`;
  const candidates = rows === cols ? [`${unit} ${rows}`, rows] : [`rows ${rows}, cols ${cols}`, `${rows} × ${cols}`];
  return candidates.find((text) => labelSpan(text) <= roomPx);
}

/**
 * Fewest pixels between neighbouring boundary lines (phones and words together) for the phone lines to be drawn, and
 * between word lines for the word lines, taken at the median gap, so that lines bunched in part of the map (an
 * utterance's 140 frames at the start of Whisper's 1500) count as dense: denser than that, as in a 60-pixel cell of a
 * model view over 130 frames with ~47 boundaries, the lines cover the attention they are meant to place.
 */
export const MIN_PHONE_LINE_SPACING_PX = 6;
export const MIN_WORD_LINE_SPACING_PX = 8;

/** Median gaps, in map cells, between neighbouring boundaries: all of them, and the words' alone (Infinity for < 2). */
export interface BoundaryGaps {
  readonly all: number;
  readonly words: number;
}

/** The gaps of boundaries at these positions (map cells); computed once per set of lines, not per frame. */
export function boundaryGaps(phonePositions: readonly number[], wordPositions: readonly number[]): BoundaryGaps {
  return { all: medianGap([...phonePositions, ...wordPositions]), words: medianGap(wordPositions) };
}

function medianGap(positions: readonly number[]): number {
  const sorted = [...new Set(positions)].sort((a, b) => a - b);
  if (sorted.length < 2) return Infinity;
  const gaps = sorted.slice(1).map((position, i) => position - sorted[i]).sort((a, b) => a - b);
  return gaps[Math.floor((gaps.length - 1) / 2)];
}

/** Which boundary lines help at `pixelsPerCell` (a map cell's width on screen or in the figure). */
export function readableBoundaries(gaps: BoundaryGaps, pixelsPerCell: number): { phones: boolean; words: boolean } {
  return {
    phones: gaps.all * pixelsPerCell >= MIN_PHONE_LINE_SPACING_PX,
    words: gaps.words * pixelsPerCell >= MIN_WORD_LINE_SPACING_PX,
  };
}
