/**
 * Export of the current view as a figure: SVG (each map as an embedded raster, with vector boundary lines, labels,
 * colour bar and title) or PNG (the maps' pixels with that SVG's vector layer drawn over them). One map, a grid
 * (heads, model), or two utterances' maps side by side (pair). Title, subtitle, labels, lines and colour-bar label
 * come from the view's plan, as in `steve render`'s figures, so the same view reads the same in both.
 */
import { zoomedPart, zoomUnit } from '../view/displayNote.ts';
import { figureAxesOf, gridWordLabels } from '../figure/figureAxes.ts';
import type { FigureColorbar } from '../figure/figureSvg.ts';
import { FIGURE_MARGIN, figureSize, makeFigureSvg } from '../figure/figureSvg.ts';
import type { GridSpec } from '../figure/gridSvg.ts';
import { GRID_MARGIN, gridSize, makeGridSvg } from '../figure/gridSvg.ts';
import type { PairPanel, PairSpec } from '../figure/pairSvg.ts';
import { DEFAULT_PAIR_MAP_SIZE, makePairSvg, pairLayout } from '../figure/pairSvg.ts';
import { makeColormapLut } from '../view/colormaps.ts';
import { formatValue } from '../view/formatValue.ts';
import { SUBTITLE_SEPARATOR } from '../view/titles.ts';
import { colorbarLabels } from './colorbar.ts';
import type { Cell, ViewInfo, Viewer } from './viewer.ts';

/** Side of the exported map in SVG pixels; a grid's maps are GRID_CELL_SIZE each. */
export const EXPORT_MAP_SIZE = 640;
export const GRID_CELL_SIZE = 200;

/** The figure's title and subtitle, on screen and in every export (the plan's). */
export function viewTitle(info: ViewInfo): { title: string; subtitle: string } {
  const synthetic = info.utterance.synthetic ? `${SUBTITLE_SEPARATOR}SYNTHETIC attention, not model output` : '';
  return { title: info.plan.title, subtitle: info.plan.subtitle + synthetic };
}

/** A grid map's title; with per-map colour ranges, the range its colours span (as `steve render` writes it). */
export function cellTitle(cell: Pick<Cell, 'title' | 'scale'>, info: ViewInfo): string {
  return info.plan.range.shared || info.cells.length < 2 || !cell.scale ? cell.title : `${cell.title} (${formatValue(cell.scale.low)}–${formatValue(cell.scale.high)})`;
}

export async function exportViewSvg(viewer: Viewer, mapSize = EXPORT_MAP_SIZE): Promise<string> {
  const info = requireInfo(viewer);
  if (isPair(info)) {
    const rasters = await Promise.all(info.cells.map((cell) => viewer.renderCellRaster(cell, DEFAULT_PAIR_MAP_SIZE, false)));
    return makePairSvg(pairSpec(info, rasters.map((pixels) => pixelsToDataUrl(pixels, DEFAULT_PAIR_MAP_SIZE, DEFAULT_PAIR_MAP_SIZE))));
  }
  if (info.cells.length > 1) {
    const rasters = await Promise.all(info.cells.map((cell) => viewer.renderCellRaster(cell, GRID_CELL_SIZE, false)));
    return makeGridSvg(gridSpec(info, viewer.gridColumns(), rasters.map((pixels) => pixelsToDataUrl(pixels, GRID_CELL_SIZE, GRID_CELL_SIZE))));
  }
  const pixels = await viewer.renderCellRaster(info.cells[0], mapSize);
  return makeFigureSvg(figureSpec(viewer, info, mapSize, pixelsToDataUrl(pixels, mapSize, mapSize)));
}

function requireInfo(viewer: Viewer): ViewInfo {
  const info = viewer.info;
  if (!info || info.cells.length === 0) throw new Error('nothing is shown yet to export');
  return info;
}

/** The colour bar of the figure: the one on screen. */
function figureColorbar(info: ViewInfo): FigureColorbar {
  const { colorbar } = info;
  const labels = colorbarLabels(colorbar);
  return {
    lut: makeColormapLut(colorbar.colormap),
    low: labels[0].text,
    high: labels[labels.length - 1].text,
    ticks: colorbar.ends ? [] : colorbar.scale.ticks,
    label: colorbar.label,
  };
}

/** A grid's maps with their titles, word lines and labels on the edges, and one colour bar. */
function gridSpec(info: ViewInfo, columns: number, hrefs: readonly string[]): GridSpec {
  const { plan } = info;
  const axes = figureAxesOf(plan.marks, GRID_CELL_SIZE);
  const wordLabels = gridWordLabels(plan.marks, GRID_CELL_SIZE);
  const { title, subtitle } = viewTitle(info);
  return {
    title,
    subtitle,
    cells: info.cells.map((cell, i) => ({ title: cellTitle(cell, info), rasterHref: hrefs[i] })),
    columns,
    cellSize: GRID_CELL_SIZE,
    wordBoundaries: axes.wordBoundaries,
    wordLabels: wordLabels.columns,
    rowWordLabels: wordLabels.rows,
    darkLines: info.colorbar.colormap === 'diverging',
    colorbar: figureColorbar(info),
  };
}

/** Two utterances side by side (--view pair). */
function isPair(info: ViewInfo): boolean {
  return info.plan.spec.view === 'pair' && info.cells.length === 2;
}

/** A pair's two maps, each with its own utterance's labels and lines (as `steve render` draws them), and one colour bar. */
function pairSpec(info: ViewInfo, hrefs: readonly (string | undefined)[]): PairSpec {
  const panel = (cell: Cell, i: number): PairPanel => {
    const axes = figureAxesOf(cell.marks, DEFAULT_PAIR_MAP_SIZE);
    const { labels, phoneBoundaries, wordBoundaries } = axes;
    return { title: cellTitle(cell, info), rasterHref: hrefs[i], columnLabels: labels, rowLabels: labels, phoneBoundaries, wordBoundaries };
  };
  const { title, subtitle } = viewTitle(info);
  return {
    title,
    subtitle,
    mapSize: DEFAULT_PAIR_MAP_SIZE,
    panels: [panel(info.cells[0], 0), panel(info.cells[1], 1)],
    darkLines: info.colorbar.colormap === 'diverging',
    colorbar: figureColorbar(info),
  };
}

/** The single map's labels, lines, colour bar and title; labels and lines follow the screen's zoom. */
function figureSpec(viewer: Viewer, info: ViewInfo, mapSize: number, rasterHref: string | undefined) {
  const cell = info.cells[0];
  const transform = viewer.mapToCanvas(cell);
  const zoomed = Math.abs(transform[0] - cell.rect.width / cell.cols) > 1e-9 || Math.abs(transform[6] - cell.rect.x) > 1e-9 || Math.abs(transform[7] - cell.rect.y) > 1e-9;
  // Unzoomed, exactly `steve render`'s axes; zoomed, the same marks through the screen's transform.
  const axes = figureAxesOf(cell.marks, mapSize, zoomed ? (p) => ((transform[0] * p + transform[6] - cell.rect.x) * mapSize) / cell.rect.width : undefined);
  const { title, subtitle: selectionSubtitle } = viewTitle(info);
  // The title names the whole selection; a zoomed export says which part of it the figure shows.
  const visible = viewer.visibleFrames();
  const subtitle = visible ? [selectionSubtitle, zoomedPart(visible, zoomUnit(info.plan.axes))].join(SUBTITLE_SEPARATOR) : selectionSubtitle;
  return {
    title,
    subtitle,
    mapSize,
    rasterHref,
    columnLabels: axes.labels,
    rowLabels: axes.labels,
    phoneBoundaries: axes.phoneBoundaries,
    wordBoundaries: axes.wordBoundaries,
    darkLines: info.colorbar.colormap === 'diverging',
    colorbar: figureColorbar(info),
  };
}

/**
 * The figure as PNG at `scale` (2: print resolution): the maps' pixels drawn straight onto the canvas, then the
 * figure's vector layer (the SVG without its rasters) over them. Rasterising the full SVG instead would depend on
 * the browser having decoded its embedded images by the time it is drawn, which it may not have.
 */
export async function exportViewPng(viewer: Viewer, scale = 2): Promise<Blob> {
  const info = requireInfo(viewer);
  const pair = isPair(info);
  const grid = info.cells.length > 1;
  const size = pair ? DEFAULT_PAIR_MAP_SIZE : grid ? GRID_CELL_SIZE : EXPORT_MAP_SIZE;
  // A grid's and a pair's labels and lines are the whole selection's, so are their rasters; one map follows the zoom.
  const rasters = await Promise.all(info.cells.map((cell) => viewer.renderCellRaster(cell, size, !pair && !grid)));
  let vectors: string;
  let width: number;
  let height: number;
  let places: readonly { x: number; y: number }[];
  if (pair) {
    // Without rasters the pair's SVG is its vector layer alone, on a transparent background.
    const spec = pairSpec(info, [undefined, undefined]);
    vectors = makePairSvg(spec);
    ({ width, height, maps: places } = pairLayout(spec));
  } else if (grid) {
    const spec = gridSpec(info, viewer.gridColumns(), rasters.map(() => ''));
    // The vector layer: no images, no white background (the maps go under it).
    vectors = makeGridSvg(spec).replace(/<image [^>]*\/>/g, '').replace(/<rect width="\d+" height="\d+" fill="#ffffff"\/>/, '');
    ({ width, height } = gridSize(spec));
    const band = spec.wordLabels?.length ? GRID_MARGIN.words : 0;
    places = info.cells.map((_, i) => ({
      x: GRID_MARGIN.left + band + (i % spec.columns) * (size + GRID_MARGIN.gap),
      y: GRID_MARGIN.top + Math.floor(i / spec.columns) * (size + GRID_MARGIN.cellTitle + GRID_MARGIN.gap) + GRID_MARGIN.cellTitle,
    }));
  } else {
    const spec = figureSpec(viewer, info, size, undefined);
    vectors = makeFigureSvg(spec);
    ({ width, height } = figureSize(size, spec));
    places = [{ x: FIGURE_MARGIN.left, y: FIGURE_MARGIN.top }];
  }
  const url = URL.createObjectURL(new Blob([vectors], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = width * scale;
    canvas.height = height * scale;
    const context = canvas.getContext('2d')!;
    context.scale(scale, scale);
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, width, height);
    // Frames stay crisp cells when the map is scaled up, as in the SVG (image-rendering: pixelated).
    context.imageSmoothingEnabled = false;
    for (const [i, pixels] of rasters.entries()) {
      const map = await createImageBitmap(new ImageData(new Uint8ClampedArray(pixels.buffer as ArrayBuffer, pixels.byteOffset, pixels.byteLength), size, size));
      context.drawImage(map, places[i].x, places[i].y, size, size);
    }
    context.imageSmoothingEnabled = true;
    context.drawImage(image, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

function pixelsToDataUrl(pixels: Uint8Array, width: number, height: number): string {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(pixels.buffer as ArrayBuffer, pixels.byteOffset, pixels.byteLength), width, height), 0, 0);
  return canvas.toDataURL('image/png');
}

/** Saves a blob or text as a download. */
export function download(name: string, content: Blob | string, type = 'image/svg+xml'): void {
  const blob = typeof content === 'string' ? new Blob([content], { type }) : content;
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
