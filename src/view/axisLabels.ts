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
 * Most a label may span along the axis, as a multiple of the part of its segment in view. Narrow words keep labels
 * about as wide as a few of their frames overhanging ("in" over 6 pixels); beyond, the label names frames it does
 * not label.
 */
export const MAX_LABEL_OVER_SEGMENT = 3;

/** A label that could go on the axis: where, with what text, and how much of the view its segment covers. */
interface Candidate {
  readonly label: PlacedLabel;
  readonly start: number;
  readonly end: number;
  /** Pixels of the view the tick's segment covers (0 for a tick without one): larger segments are labelled first. */
  readonly coverage: number;
}

/**
 * A label, then shorter with an ellipsis, keeping at least two of its characters ("da…", never "da"): what a label
 * cut by the view's edge may show, the first that fits (here and on the tiers, src/ui/strips.ts); none fitting, none.
 */
export function labelShortenings(text: string): string[] {
  const texts = [text];
  for (let keep = text.length - 1; keep >= 2; keep--) texts.push(`${text.slice(0, keep)}…`);
  return texts;
}

/**
 * Where a tick's label goes, if anywhere, its centre on its segment's visible part: at its position, or, for a
 * segment the zoom cuts, at the middle of the part still in view, so that the frames at the view's edges stay named.
 * A cut segment's label must fit in that part (else it would run past the map's edge, or sit over its neighbour's
 * frames and read as that word's): shortened with an ellipsis where that fits, left out where not. A whole segment's
 * label that would hang past the map's end moves in along its segment where it can.
 */
function candidate(tick: AxisTick, kind: PlacedLabel['kind'], layout: AxisLayout): Candidate | undefined {
  if (!tick.label) return undefined;
  const position = layout.toPx(tick.position);
  let [low, high] = [layout.startPx, layout.endPx];
  let [centreLow, centreHigh, preferred, coverage] = [position, position, position, 0];
  if (tick.from !== undefined && tick.to !== undefined) {
    const [a, b] = [layout.toPx(tick.from), layout.toPx(tick.to)].sort((x, y) => x - y);
    [centreLow, centreHigh] = [Math.max(a, layout.startPx), Math.min(b, layout.endPx)];
    if (centreLow >= centreHigh) return undefined;
    coverage = centreHigh - centreLow;
    if (a < layout.startPx || b > layout.endPx) [low, high, preferred] = [centreLow, centreHigh, (centreLow + centreHigh) / 2];
  } else if (position < layout.startPx || position > layout.endPx) {
    return undefined;
  }
  const whole = low === layout.startPx && high === layout.endPx;
  for (const text of labelShortenings(tick.label)) {
    const half = layout.labelSpan(text) / 2;
    // A label many times wider than its segment sits mostly over other words' frames and reads as theirs (a whole
    // utterance's words in the first tenth of a 30-second map, one of them kept over the cell like a heading):
    // shortened until it is not, else left out. Points have no segment to be wider than.
    if (coverage > 0 && 2 * half > MAX_LABEL_OVER_SEGMENT * coverage) continue;
    const [from, to] = [Math.max(centreLow, low + half), Math.min(centreHigh, high - half)];
    if (from > to) {
      // A whole segment or a point too near the map's end to move in: at its place, as it always was (its label's
      // extent along the axis is mostly a line's height, which may reach a little past the end).
      if (whole) return { label: { text, px: preferred, kind }, start: preferred - half, end: preferred + half, coverage };
      continue;
    }
    const px = Math.min(Math.max(preferred, from), to);
    return { label: { text, px, kind }, start: px - half, end: px + half, coverage };
  }
  return undefined;
}

/**
 * Labels that fit: majors by how much of the view their segment covers (larger first, then left to right), so that a
 * word with a sliver in view does not crowd out the one filling most of it; then minors wherever they do not collide
 * with a kept label.
 */
export function layoutAxisLabels(majors: readonly AxisTick[], minors: readonly AxisTick[], layout: AxisLayout): PlacedLabel[] {
  const gap = layout.gapPx ?? 4;
  const kept: Candidate[] = [];
  const fits = (start: number, end: number) => kept.every((k) => end + gap <= k.start || start >= k.end + gap);
  const place = (ticks: readonly AxisTick[], kind: PlacedLabel['kind']) => {
    const candidates = ticks
      .map((tick) => candidate(tick, kind, layout))
      .filter((c): c is Candidate => c !== undefined)
      .sort((a, b) => b.coverage - a.coverage || a.label.px - b.label.px);
    for (const c of candidates) if (fits(c.start, c.end)) kept.push(c);
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
const MIN_PHONE_LINE_SPACING_PX = 6;
const MIN_WORD_LINE_SPACING_PX = 8;

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
