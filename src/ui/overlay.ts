/**
 * Text over the maps, as DOM elements, from the plan's marks (labels in map cells, src/view/plan.ts): for one map,
 * phone labels and "previous,next" boundary labels beside it and the words further out, following zoom and
 * thinned so they never overlap; for a grid, each map's title and the words along the grid's top and left edges.
 * Text stays sharp at any zoom because the browser draws it, not the GPU.
 */
import type { AxisTick } from '../data/frames.ts';
import { layoutAxisLabels, zoomedCellFrames } from '../view/axisLabels.ts';
import { zoomUnit } from '../view/displayNote.ts';
import { cellTitle } from './exportView.ts';
import { GRID_EDGE, GRID_TITLE, LABEL_BAND } from './layout.ts';
import type { Cell, ViewInfo, Viewer } from './viewer.ts';

/** Approximate label extent in pixels: 7 px per character at the 12 px font, plus padding. */
const labelSpan = (text: string) => text.length * 7 + 6;
/** The same at a cell title's 11 px font. */
const titleSpan = (text: string) => text.length * 6.5 + 4;

export function renderOverlay(root: HTMLElement, viewer: Viewer, info: ViewInfo | undefined): void {
  root.replaceChildren();
  if (!info) return;
  if (info.cells.length === 1) renderAxes(root, viewer, info.cells[0]);
  else renderGrid(root, viewer, info);
}

/** Labels along the top (columns, written upwards as STEVE rotates them) and down the left (rows) of one map. */
function renderAxes(root: HTMLElement, viewer: Viewer, cell: Cell): void {
  const transform = viewer.mapToCanvas(cell);
  const toX = (position: number) => transform[0] * position + transform[6];
  const toY = (position: number) => transform[4] * position + transform[7];
  const { rect, marks } = cell;
  // Column labels are written vertically: they need a line's height along the axis, not their width.
  const across = { toPx: toX, startPx: rect.x, endPx: rect.x + rect.width, labelSpan: () => 14 };
  const down = { toPx: toY, startPx: rect.y, endPx: rect.y + rect.height, labelSpan: () => 14 };
  for (const label of layoutAxisLabels(marks.phoneLabels, marks.boundaryLabels, across)) root.append(makeText(label.text, label.px, rect.y - 6, `axis-label x ${label.kind}`));
  for (const label of layoutAxisLabels(marks.phoneLabels, marks.boundaryLabels, down)) root.append(makeText(label.text, rect.x - 6, label.px, `axis-label y ${label.kind}`));
  // Words sit outside the phone labels (a map pooled onto words has only these).
  const wordsOnly = marks.phoneLabels.length === 0;
  for (const label of layoutAxisLabels(marks.wordLabels, [], { ...across, labelSpan })) {
    root.append(makeText(label.text, label.px, wordsOnly ? rect.y - 20 : rect.y - LABEL_BAND + 4, 'word-label x'));
  }
  for (const label of layoutAxisLabels(marks.wordLabels, [], down)) {
    root.append(makeText(label.text, wordsOnly ? rect.x - 60 : rect.x - LABEL_BAND + 4, label.px, 'word-label y'));
  }
}

/**
 * A grid: each map's title (with its own colour range when each map has one) and, zoomed, the frames it shows at
 * the title's right where there is room, and the words along the grid's top and left edges, over the first row's
 * columns and the first column's rows (the maps of a grid share their frames; a pair's do not: each has its words
 * above it, and the display note names the first map's frames).
 */
function renderGrid(root: HTMLElement, viewer: Viewer, info: ViewInfo): void {
  const cells = info.cells;
  const visible = info.plan.spec.view === 'pair' ? undefined : viewer.visibleFrames();
  for (const cell of cells) {
    const title = cellTitle(cell, info);
    root.append(makeText(title, cell.rect.x, cell.rect.y - 15, 'cell-title'));
    const frames = visible && zoomedCellFrames(visible, zoomUnit(info.plan.axes), cell.rect.width - titleSpan(title) - 6, titleSpan);
    if (frames) root.append(makeText(frames, cell.rect.x + cell.rect.width, cell.rect.y - 15, 'cell-title cell-frames'));
  }
  if (info.plan.spec.view === 'pair') {
    // Each utterance of a pair has its own words, over its own map and down its left (the viewer leaves a wider gap
    // between a pair's maps for them).
    cells.forEach((cell) => {
      const transform = viewer.mapToCanvas(cell);
      const across = { toPx: (p: number) => transform[0] * p + transform[6], startPx: cell.rect.x, endPx: cell.rect.x + cell.rect.width, labelSpan };
      for (const label of layoutAxisLabels(cell.marks.wordLabels, [], across)) root.append(makeText(label.text, label.px, cell.rect.y - GRID_TITLE - GRID_EDGE + 4, 'word-label x grid-edge'));
      const down = { toPx: (p: number) => transform[4] * p + transform[7], startPx: cell.rect.y, endPx: cell.rect.y + cell.rect.height, labelSpan };
      for (const label of layoutAxisLabels(cell.marks.wordLabels, [], down)) root.append(makeText(label.text, cell.rect.x - 4, label.px, 'word-label y grid-edge'));
    });
    return;
  }
  const columns = viewer.gridColumns();
  const words: readonly AxisTick[] = info.plan.marks.wordLabels;
  const top = cells[0].rect.y - GRID_TITLE - GRID_EDGE + 4;
  // Thinned across the whole top edge, not map by map: a map's last word and the next map's first would collide.
  let freeFrom = -Infinity;
  for (const cell of cells.slice(0, columns)) {
    const transform = viewer.mapToCanvas(cell);
    const axis = { toPx: (p: number) => transform[0] * p + transform[6], startPx: cell.rect.x, endPx: cell.rect.x + cell.rect.width, labelSpan };
    for (const label of layoutAxisLabels(words, [], axis)) {
      const half = labelSpan(label.text) / 2;
      if (label.px - half < freeFrom) continue;
      freeFrom = label.px + half;
      root.append(makeText(label.text, label.px, top, 'word-label x grid-edge'));
    }
  }
  for (const cell of cells.filter((_, i) => i % columns === 0)) {
    const transform = viewer.mapToCanvas(cell);
    const axis = { toPx: (p: number) => transform[4] * p + transform[7], startPx: cell.rect.y, endPx: cell.rect.y + cell.rect.height, labelSpan };
    for (const label of layoutAxisLabels(words, [], axis)) root.append(makeText(label.text, cell.rect.x - 4, label.px, 'word-label y grid-edge'));
  }
}

function makeText(text: string, x: number, y: number, className: string): HTMLElement {
  const element = document.createElement('div');
  element.className = className;
  element.textContent = text;
  element.style.left = `${x}px`;
  element.style.top = `${y}px`;
  return element;
}
