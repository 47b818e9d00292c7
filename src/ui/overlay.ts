/**
 * Text over the maps, as DOM elements: axis labels of the single-map view (phones at their centres, "previous,next"
 * at boundaries, words further out), which follow zoom and thin out, and the titles of grid cells.
 * Text stays sharp at any zoom because the browser draws it, not the GPU.
 */
import type { WordSelection } from '../data/frames.ts';
import { layoutAxisLabels } from '../view/axisLabels.ts';
import type { Cell, ViewInfo, Viewer } from './viewer.ts';
import { cellTitle } from './exportView.ts';
import { GRID_EDGE, GRID_TITLE, LABEL_BAND } from './layout.ts';

/** Approximate label extent in pixels: 7 px per character at the 12 px font, plus padding. */
const labelSpan = (text: string) => text.length * 7 + 6;

export function renderOverlay(root: HTMLElement, viewer: Viewer, info: ViewInfo | undefined): void {
  root.replaceChildren();
  if (!info) return;
  const cells = info.cells;
  if (cells.length === 1 && cells[0].segmentLabels) renderSegmentAxes(root, viewer, cells[0], cells[0].segmentLabels);
  else if (cells.length === 1) renderAxes(root, viewer, cells[0], info);
  else renderGrid(root, viewer, cells);
}

/**
 * A grid: each map's title (with its own colour range when each map has one), and the words along the grid's top
 * and left edges, over the first row's columns and the first column's rows (every map of a grid shares its frames).
 */
function renderGrid(root: HTMLElement, viewer: Viewer, cells: readonly Cell[]): void {
  for (const cell of cells) root.append(makeText(cellTitle(cell.title, cell.range, viewer.params), cell.rect.x, cell.rect.y - 15, 'cell-title'));
  const columns = viewer.gridColumns();
  const first = cells[0];
  const selection = first.selection;
  if (!selection || first.segmentLabels || viewer.params.view === 'pair') return;
  const ticks = selection.words.map((word) => ({ position: (word.startFrame + word.stopFrame + 1) / 2, label: word.label }));
  for (const cell of cells.slice(0, columns)) {
    const transform = viewer.mapToCanvas(cell);
    const toX = (p: number) => transform[0] * (p - cell.frameOrigin) + transform[6];
    for (const label of layoutAxisLabels(ticks, [], { toPx: toX, startPx: cell.rect.x, endPx: cell.rect.x + cell.rect.width, labelSpan })) {
      root.append(makeText(label.text, label.px, first.rect.y - GRID_TITLE - GRID_EDGE + 4, 'word-label x grid-edge'));
    }
  }
  for (const cell of cells.filter((_, i) => i % columns === 0)) {
    const transform = viewer.mapToCanvas(cell);
    const toY = (p: number) => transform[4] * (p - cell.frameOrigin) + transform[7];
    for (const label of layoutAxisLabels(ticks, [], { toPx: toY, startPx: cell.rect.y, endPx: cell.rect.y + cell.rect.height, labelSpan })) {
      root.append(makeText(label.text, cell.rect.x - 4, label.px, 'word-label y grid-edge'));
    }
  }
}

function renderAxes(root: HTMLElement, viewer: Viewer, cell: Cell, info: ViewInfo): void {
  const selection = info.selection;
  if (!selection) return;
  const transform = viewer.mapToCanvas(cell);
  const origin = info.frameOrigin;
  // Frame coordinates of the selection are absolute; the map starts at the crop's first frame.
  const toX = (position: number) => transform[0] * (position - origin) + transform[6];
  const toY = (position: number) => transform[4] * (position - origin) + transform[7];
  const { rect } = cell;
  const xLabels = layoutAxisLabels(selection.majorTicks, selection.minorTicks, {
    toPx: toX,
    startPx: rect.x,
    endPx: rect.x + rect.width,
    // Column labels are written vertically (as STEVE rotates them): they need a line's height, not their width.
    labelSpan: () => 14,
  });
  for (const label of xLabels) {
    const element = makeText(label.text, label.px, rect.y - 6, `axis-label x ${label.kind}`);
    root.append(element);
  }
  const yLabels = layoutAxisLabels(selection.majorTicks, selection.minorTicks, {
    toPx: toY,
    startPx: rect.y,
    endPx: rect.y + rect.height,
    labelSpan: () => 14,
  });
  for (const label of yLabels) root.append(makeText(label.text, rect.x - 6, label.px, `axis-label y ${label.kind}`));
  renderWords(root, selection, toX, toY, rect);
}

/** A pooled map's axes are segments: one label at the centre of each row and column, thinned like the others. */
function renderSegmentAxes(root: HTMLElement, viewer: Viewer, cell: Cell, labels: readonly string[]): void {
  const transform = viewer.mapToCanvas(cell);
  const ticks = labels.map((label, index) => ({ position: index + 0.5, label }));
  const { rect } = cell;
  const across = layoutAxisLabels(ticks, [], { toPx: (p) => transform[0] * p + transform[6], startPx: rect.x, endPx: rect.x + rect.width, labelSpan: () => 14 });
  for (const label of across) root.append(makeText(label.text, label.px, rect.y - 6, 'axis-label x major'));
  const down = layoutAxisLabels(ticks, [], { toPx: (p) => transform[4] * p + transform[7], startPx: rect.y, endPx: rect.y + rect.height, labelSpan: () => 14 });
  for (const label of down) root.append(makeText(label.text, rect.x - 6, label.px, 'axis-label y major'));
}

/** Word labels sit outside the phone labels, centred on each word, dropped where they would overlap. */
function renderWords(root: HTMLElement, selection: WordSelection, toX: (p: number) => number, toY: (p: number) => number, rect: Cell['rect']): void {
  const ticks = selection.words.map((word) => ({ position: (word.startFrame + word.stopFrame + 1) / 2, label: word.label }));
  const across = layoutAxisLabels(ticks, [], { toPx: toX, startPx: rect.x, endPx: rect.x + rect.width, labelSpan });
  for (const label of across) root.append(makeText(label.text, label.px, rect.y - LABEL_BAND + 4, 'word-label x'));
  const down = layoutAxisLabels(ticks, [], { toPx: toY, startPx: rect.y, endPx: rect.y + rect.height, labelSpan: () => 14 });
  for (const label of down) root.append(makeText(label.text, rect.x - LABEL_BAND + 4, label.px, 'word-label y'));
}

function makeText(text: string, x: number, y: number, className: string): HTMLElement {
  const element = document.createElement('div');
  element.className = className;
  element.textContent = text;
  element.style.left = `${x}px`;
  element.style.top = `${y}px`;
  return element;
}
