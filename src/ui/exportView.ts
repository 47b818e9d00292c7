/**
 * Export of the current view as a figure: SVG (each map as an embedded raster, with vector boundary lines, labels,
 * colour bar and title) or PNG (the maps' pixels with that SVG's vector layer drawn over them). One map or a grid
 * (heads, model, pair). The title is the one on screen (viewTitle).
 */
import type { FigureLabel } from '../figure/figureSvg.ts';
import { FIGURE_MARGIN, figureSize, makeFigureSvg } from '../figure/figureSvg.ts';
import { GRID_MARGIN, gridSize, makeGridSvg } from '../figure/gridSvg.ts';
import { makeColormapLut } from '../render/colormaps.ts';
import { layoutAxisLabels } from '../view/axisLabels.ts';
import { formatValue } from '../view/formatValue.ts';
import { colorbarTicks } from './colorbar.ts';
import type { ViewerParams } from './params.ts';
import type { ViewInfo, Viewer } from './viewer.ts';
import { boundaryPositions, headName, segmentEdges } from './viewPlan.ts';

/** Side of the exported map in SVG pixels (a grid's maps: GRID_CELL_SIZE each). */
export const EXPORT_MAP_SIZE = 640;
export const GRID_CELL_SIZE = 200;

/**
 * The figure's title, on screen and in every export: the words (or "all frames"), then the utterance, what the
 * maps are (layer and head, or the view), the softmax and the colour scale.
 */
export function viewTitle(viewer: Viewer): { title: string; subtitle: string } {
  const info = viewer.info!;
  return describeView(viewer.params, info);
}

export function describeView(params: ViewerParams, info: Pick<ViewInfo, 'utterance' | 'selection' | 'cells'>): { title: string; subtitle: string } {
  const words = info.selection?.words.map((w) => w.label).filter((label) => label.trim() !== '').join(' ') ?? '';
  const title = params.full ? `All frames of '${words || info.utterance.name}'` : `Word(s): '${words}'`;
  const cell = info.cells[0];
  const head = (h: typeof params.head) => (h === 'mean' ? 'mean of heads' : `head ${h}`);
  const what = (() => {
    switch (params.view) {
      case 'heads':
        return `Encoder attention layer ${params.layer}, every head and their mean`;
      case 'model':
        return 'Encoder attention, every layer (rows) x head (columns)';
      case 'pooled':
        return `Encoder attention layer ${params.layer}, ${head(params.head)}, pooled onto ${params.poolUnit} (${params.poolStat} of each block)`;
      case 'difference':
        return `Difference ${cell?.title ?? ''}`;
      case 'pair':
        return `Layer ${params.layer}, ${head(params.head)}: ${info.cells.map((c) => c.title.split(' L')[0]).join(' beside ')}`;
      case 'rollout':
        return `Attention rollout through layer ${params.layer} (${headName(params.head) === 'mean' ? 'mean of heads' : `head ${params.head}`}${params.rolloutCrop === 'within' ? ', within the crop' : ''})`;
      default:
        return `Encoder attention layer ${params.layer}, ${head(params.head)}`;
    }
  })();
  const softmax = params.softmax === 'none' ? 'no softmax' : params.softmax === 'row' ? 'softmax over rows' : 'softmax within the crop';
  const scale =
    params.scale === 'log' && params.view !== 'difference'
      ? 'log scale'
      : params.scale === 'percentile'
        ? `p${params.clipLow}–p${params.clipHigh} scale`
        : 'linear scale';
  const grid = info.cells.length > 1 ? (params.colorRange === 'per-map' ? ', each map its own colour range' : ', one colour scale for all maps') : '';
  const synthetic = info.utterance.synthetic ? ' | SYNTHETIC attention, not model output' : '';
  return { title, subtitle: `Utterance: ${info.utterance.name} | ${what} | ${softmax} | ${scale}${grid}${synthetic}` };
}

export async function exportViewSvg(viewer: Viewer, mapSize = EXPORT_MAP_SIZE): Promise<string> {
  const info = requireInfo(viewer);
  if (info.cells.length > 1) {
    const rasters = await Promise.all(info.cells.map((cell) => viewer.renderCellRaster(cell, GRID_CELL_SIZE)));
    return makeGridSvg(gridSpec(viewer, rasters.map((pixels) => pixelsToDataUrl(pixels, GRID_CELL_SIZE, GRID_CELL_SIZE))));
  }
  const pixels = await viewer.renderCellRaster(info.cells[0], mapSize);
  return makeFigureSvg(figureSpec(viewer, mapSize, pixelsToDataUrl(pixels, mapSize, mapSize)));
}

function requireInfo(viewer: Viewer): ViewInfo {
  const info = viewer.info;
  if (!info || info.cells.length === 0) throw new Error('nothing is shown yet to export');
  return info;
}

/** The colour bar of the figure: the one on screen, its ends labelled as there ("p5 0.012" when clipped). */
function figureColorbar(info: ViewInfo) {
  const ticks = colorbarTicks(info.colorbar);
  return { lut: makeColormapLut(info.colorbar.colormap), low: ticks[0].text, high: ticks[ticks.length - 1].text, label: info.colorbar.label };
}

/** A grid's maps with their titles (and their own ranges when each map has one), word lines, and one colour bar. */
function gridSpec(viewer: Viewer, hrefs: readonly string[]) {
  const info = requireInfo(viewer);
  const params = viewer.params;
  const { title, subtitle } = viewTitle(viewer);
  const first = info.cells[0];
  const toCell = (position: number) => (position / first.cols) * GRID_CELL_SIZE;
  const words = first.selection && !first.segmentLabels ? boundaryPositions(first.selection, first.frameOrigin).words : [];
  return {
    title,
    subtitle,
    cells: info.cells.map((cell, i) => ({ title: cellTitle(cell.title, cell.range, params), rasterHref: hrefs[i] })),
    columns: viewer.gridColumns(),
    cellSize: GRID_CELL_SIZE,
    wordBoundaries: info.cells.every((cell) => cell.cols === first.cols) ? words.map(toCell).filter((p) => p > 0 && p < GRID_CELL_SIZE) : [],
    colorbar: params.colorRange === 'per-map' ? { ...figureColorbar(info), low: 'min', high: 'max', label: `${info.colorbar.label} (each map its range)` } : figureColorbar(info),
  };
}

/** A grid map's title; with per-map colour ranges, the range its colours span. */
export function cellTitle(title: string, range: readonly [number, number] | undefined, params: Pick<ViewerParams, 'colorRange'>): string {
  return params.colorRange === 'per-map' && range ? `${title} [${formatValue(range[0])}, ${formatValue(range[1])}]` : title;
}

/** The figure's labels, lines, colour bar and title for the current view; the raster is passed in. */
function figureSpec(viewer: Viewer, mapSize: number, rasterHref: string | undefined) {
  const info = requireInfo(viewer);
  const cell = info.cells[0];
  // Frame position (absolute frame coordinates) -> figure map pixels, through the same zoom as the screen.
  const transform = viewer.mapToCanvas(cell);
  const scaleX = mapSize / cell.rect.width;
  const scaleY = mapSize / cell.rect.height;
  const toX = (position: number) => (transform[0] * (position - cell.frameOrigin) + transform[6] - cell.rect.x) * scaleX;
  const toY = (position: number) => (transform[4] * (position - cell.frameOrigin) + transform[7] - cell.rect.y) * scaleY;
  const selection = cell.selection;
  const segmentLabels = cell.segmentLabels;
  const labels = (toPx: (p: number) => number): FigureLabel[] => {
    const axis = { toPx, startPx: 0, endPx: mapSize, labelSpan: () => 13 };
    if (segmentLabels) {
      // A pooled map's axes are its segments: a label at each row's or column's centre.
      return layoutAxisLabels(segmentLabels.map((label, index) => ({ position: index + 0.5, label })), [], axis).map((l) => ({ text: l.text, px: l.px, kind: 'major' as const }));
    }
    if (!selection) return [];
    const phones = layoutAxisLabels(selection.majorTicks, selection.minorTicks, axis).map((l) => ({ text: l.text, px: l.px, kind: l.kind }));
    const wordTicks = selection.words.map((w) => ({ position: (w.startFrame + w.stopFrame + 1) / 2, label: w.label }));
    const words = layoutAxisLabels(wordTicks, [], { ...axis, labelSpan: (text) => text.length * 8 + 8 }).map((l) => ({ text: l.text, px: l.px, kind: 'word' as const }));
    return [...phones, ...words];
  };
  const inside = (p: number) => p >= 0 && p <= mapSize;
  // A pooled map's lines are its segment edges; a map of frames has the alignment's boundaries.
  const lines = segmentLabels
    ? segmentEdges(segmentLabels.length)
    : selection
      ? boundaryPositions(selection, 0)
      : { phones: [], words: [] };
  const { title, subtitle } = viewTitle(viewer);
  return {
    title,
    subtitle,
    mapSize,
    rasterHref,
    columnLabels: labels(toX),
    rowLabels: labels(toY),
    phoneBoundaries: lines.phones.map(toX).filter(inside),
    wordBoundaries: lines.words.map(toX).filter(inside),
    colorbar: figureColorbar(info),
  };
}

/**
 * The figure as PNG at `scale` (2: an 1800-pixel-wide figure for print): the map pixels are drawn straight onto the
 * canvas, then the figure's vector layer (an SVG without the rasters) over them. Rasterising the full SVG instead
 * would depend on the browser having decoded the SVG's embedded images by the time it is drawn, which it may not have.
 */
export async function exportViewPng(viewer: Viewer, scale = 2): Promise<Blob> {
  const info = requireInfo(viewer);
  const grid = info.cells.length > 1;
  const size = grid ? GRID_CELL_SIZE : EXPORT_MAP_SIZE;
  const rasters = await Promise.all(info.cells.map((cell) => viewer.renderCellRaster(cell, size)));
  let vectors: string;
  let width: number;
  let height: number;
  let places: { x: number; y: number }[];
  if (grid) {
    // Transparent cells: the vector layer without images, then the maps placed where the grid puts them.
    const spec = gridSpec(viewer, rasters.map(() => ''));
    vectors = makeGridSvg(spec).replace(/<image [^>]*\/>/g, '').replace(/<rect width="\d+" height="\d+" fill="#ffffff"\/>/, '');
    ({ width, height } = gridSize(spec));
    places = info.cells.map((_, i) => ({
      x: GRID_MARGIN.left + (i % spec.columns) * (size + GRID_MARGIN.gap),
      y: GRID_MARGIN.top + Math.floor(i / spec.columns) * (size + GRID_MARGIN.cellTitle + GRID_MARGIN.gap) + GRID_MARGIN.cellTitle,
    }));
  } else {
    vectors = makeFigureSvg(figureSpec(viewer, size, undefined));
    ({ width, height } = figureSize(size));
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
  const context = canvas.getContext('2d')!;
  context.putImageData(new ImageData(new Uint8ClampedArray(pixels.buffer as ArrayBuffer, pixels.byteOffset, pixels.byteLength), width, height), 0, 0);
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
