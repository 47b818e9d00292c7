/**
 * The axis labels and boundary lines of a figure in map pixels, from a plan's marks (src/view/plan.ts: phone,
 * boundary and word labels and boundary lines, in map cells): labels thinned so they do not overlap, lines at cell
 * edges. Pure; the maps are square, so one set serves both axes, except word labels: written horizontally on both,
 * they need their width along the columns but only a line's height down the rows, so each axis is thinned by its
 * own extent and its word labels are marked with the axis they belong to.
 */
import type { MapMarks } from '../view/plan.ts';
import { boundaryGaps, layoutAxisLabels, readableBoundaries } from '../view/axisLabels.ts';
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
export const wordLabelSpan = (text: string) => text.length * 8 + 8;
/** Down the rows a word label needs the height of its bold 13-pixel line, plus a gap. */
const WORD_ROW_SPAN = 16;

/**
 * The marks of a map drawn `mapSize` pixels wide; `zoomed` (map cells to figure pixels) draws part of it, as the
 * viewer's zoomed export does, leaving out what falls outside.
 */
export function figureAxesOf(marks: MapMarks, mapSize: number, zoomed?: (position: number) => number): FigureAxes {
  // The axis spans marks.span cells: a partial last pooled block is narrower than the others.
  const pixelsPerCell = mapSize / (marks.span > 0 ? marks.span : 1);
  const toPx = zoomed ?? ((position: number) => position * pixelsPerCell);
  const inside = (px: number) => px >= 0 && px <= mapSize;
  // As on screen (MapScene): lines too dense to place anything are left out rather than hide the map.
  const readable = readableBoundaries(boundaryGaps(marks.phoneBoundaries, marks.wordBoundaries), Math.abs(toPx(1) - toPx(0)));
  const axis = { toPx, startPx: 0, endPx: mapSize, labelSpan: () => PHONE_LABEL_SPAN };
  const phones = layoutAxisLabels(marks.phoneLabels, marks.boundaryLabels, axis);
  const columnWords = layoutAxisLabels(marks.wordLabels, [], { ...axis, labelSpan: wordLabelSpan });
  const rowWords = layoutAxisLabels(marks.wordLabels, [], { ...axis, labelSpan: () => WORD_ROW_SPAN });
  return {
    labels: [
      ...phones.map((l) => ({ text: l.text, px: l.px, kind: l.kind })),
      ...columnWords.map((l) => ({ text: l.text, px: l.px, kind: 'word' as const, axis: 'column' as const })),
      ...rowWords.map((l) => ({ text: l.text, px: l.px, kind: 'word' as const, axis: 'row' as const })),
    ],
    phoneBoundaries: readable.phones ? marks.phoneBoundaries.map(toPx).filter(inside) : [],
    wordBoundaries: readable.words ? marks.wordBoundaries.map(toPx).filter(inside) : [],
  };
}

/** A grid's word labels are 9-pixel type, 9/13 of a figure's: they need that share of wordLabelSpan along the columns. */
const GRID_WORD_SCALE = 9 / 13;
/** Down a grid's rows a word label needs its 9-pixel line, plus a gap. */
const GRID_WORD_ROW_SPAN = 11;

/** A word label of a grid: its centre in cell pixels. */
export interface GridWordLabel {
  readonly text: string;
  readonly px: number;
}

/**
 * The word labels of a grid whose maps are `cellSize` pixels wide, placed along the maps' span (a partial last pooled
 * block is narrower, as in figureAxesOf) and thinned by each axis's own extent: along the columns by the words'
 * width, down the rows by a line's height.
 */
export function gridWordLabels(marks: MapMarks, cellSize: number): { readonly columns: GridWordLabel[]; readonly rows: GridWordLabel[] } {
  const pixelsPerCell = cellSize / (marks.span > 0 ? marks.span : 1);
  const axis = { toPx: (position: number) => position * pixelsPerCell, startPx: 0, endPx: cellSize };
  const placed = (labelSpan: (text: string) => number) =>
    layoutAxisLabels(marks.wordLabels, [], { ...axis, labelSpan }).map((label) => ({ text: label.text, px: label.px }));
  return { columns: placed((text) => wordLabelSpan(text) * GRID_WORD_SCALE), rows: placed(() => GRID_WORD_ROW_SPAN) };
}
