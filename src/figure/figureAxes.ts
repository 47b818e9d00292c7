/**
 * The axis labels and boundary lines of a figure in map pixels, from a plan's marks (src/view/plan.ts: phone,
 * boundary and word labels and boundary lines, in map cells): labels thinned so they do not overlap, lines at cell
 * edges. Pure; the maps are square, so one set serves both axes.
 */
import type { MapMarks } from '../view/plan.ts';
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
export const wordLabelSpan = (text: string) => text.length * 8 + 8;

/** The marks of a map drawn `mapSize` pixels wide. */
export function figureAxesOf(marks: MapMarks, mapSize: number): FigureAxes {
  const pixelsPerCell = mapSize / Math.max(1, marks.cells);
  const toPx = (position: number) => position * pixelsPerCell;
  const axis = { toPx, startPx: 0, endPx: mapSize, labelSpan: () => PHONE_LABEL_SPAN };
  const phones = layoutAxisLabels(marks.phoneLabels, marks.boundaryLabels, axis);
  const words = layoutAxisLabels(marks.wordLabels, [], { ...axis, labelSpan: wordLabelSpan });
  return {
    labels: [...phones.map((l) => ({ text: l.text, px: l.px, kind: l.kind })), ...words.map((l) => ({ text: l.text, px: l.px, kind: 'word' as const }))],
    phoneBoundaries: marks.phoneBoundaries.map(toPx),
    wordBoundaries: marks.wordBoundaries.map(toPx),
  };
}
