/**
 * Export of the current view as a figure: SVG (the map as an embedded raster, with vector boundary lines, labels,
 * colour bar and title) or PNG (that SVG rasterised by the browser at a chosen scale).
 */
import type { FigureLabel } from '../figure/figureSvg.ts';
import { FIGURE_MARGIN, figureSize, makeFigureSvg } from '../figure/figureSvg.ts';
import { makeColormapLut } from '../render/colormaps.ts';
import { layoutAxisLabels } from '../view/axisLabels.ts';
import { formatValue } from '../view/formatValue.ts';
import type { Viewer } from './viewer.ts';
import { boundaryPositions } from './viewer.ts';

/** Side of the exported map in SVG pixels. */
export const EXPORT_MAP_SIZE = 640;

/** STEVE's figure title: the words, the utterance, the layer and head. */
export function viewTitle(viewer: Viewer): { title: string; subtitle: string } {
  const info = viewer.info!;
  const params = viewer.params;
  const words = info.selection && !params.fullMap ? info.selection.words.map((w) => w.label).join(' ') : 'all frames';
  const cell = info.cells[0];
  const head = cell.head < 0 ? 'mean of heads' : `head ${cell.head}`;
  const what = params.view === 'difference' ? cell.title : `Encoder attention layer ${cell.layer}, ${head}`;
  const softmax = params.softmax === 'none' ? 'no softmax' : params.softmax === 'row' ? 'softmax over rows' : 'softmax within the crop';
  const synthetic = info.utterance.synthetic ? ' | SYNTHETIC attention, not model output' : '';
  return { title: `Word(s): '${words}'`, subtitle: `Utterance: ${info.utterance.name} | ${what} | ${softmax}${synthetic}` };
}

export async function exportViewSvg(viewer: Viewer, mapSize = EXPORT_MAP_SIZE): Promise<string> {
  const pixels = await renderRaster(viewer, mapSize);
  return makeFigureSvg(figureSpec(viewer, mapSize, pixelsToDataUrl(pixels, mapSize, mapSize)));
}

async function renderRaster(viewer: Viewer, mapSize: number): Promise<Uint8Array> {
  const info = viewer.info;
  if (!info || info.cells.length !== 1) throw new Error('export works on a single map: choose the "map", "difference" or another single view');
  return viewer.renderCellRaster(info.cells[0], mapSize);
}

/** The figure's labels, lines, colour bar and title for the current view; the raster is passed in. */
function figureSpec(viewer: Viewer, mapSize: number, rasterHref: string | undefined) {
  const info = viewer.info!;
  const cell = info.cells[0];
  // Frame position (absolute frame coordinates) -> figure map pixels, through the same zoom as the screen.
  const transform = viewer.mapToCanvas(cell);
  const scaleX = mapSize / cell.rect.width;
  const scaleY = mapSize / cell.rect.height;
  const toX = (position: number) => (transform[0] * (position - info.frameOrigin) + transform[6] - cell.rect.x) * scaleX;
  const toY = (position: number) => (transform[4] * (position - info.frameOrigin) + transform[7] - cell.rect.y) * scaleY;
  const selection = info.selection;
  const labels = (toPx: (p: number) => number): FigureLabel[] => {
    if (!selection) return [];
    const axis = { toPx, startPx: 0, endPx: mapSize, labelSpan: () => 13 };
    const phones = layoutAxisLabels(selection.majorTicks, selection.minorTicks, axis).map((l) => ({ text: l.text, px: l.px, kind: l.kind }));
    const wordTicks = selection.words.map((w) => ({ position: (w.startFrame + w.stopFrame + 1) / 2, label: w.label }));
    const words = layoutAxisLabels(wordTicks, [], { ...axis, labelSpan: (text) => text.length * 8 + 8 }).map((l) => ({ text: l.text, px: l.px, kind: 'word' as const }));
    return [...phones, ...words];
  };
  const boundaries = selection ? boundaryPositions(selection, 0) : { phones: [], words: [] };
  const inside = (p: number) => p >= 0 && p <= mapSize;
  const params = viewer.params;
  const difference = params.view === 'difference';
  const bound = Math.max(Math.abs(info.range[0]), Math.abs(info.range[1]));
  const [low, high] = difference ? [-bound, bound] : info.range;
  const { title, subtitle } = viewTitle(viewer);
  return {
    title,
    subtitle,
    mapSize,
    rasterHref,
    columnLabels: labels(toX),
    rowLabels: labels(toY),
    phoneBoundaries: boundaries.phones.map(toX).filter(inside),
    wordBoundaries: boundaries.words.map(toX).filter(inside),
    colorbar: {
      lut: makeColormapLut(difference ? 'diverging' : params.colormap),
      low: formatValue(low),
      high: formatValue(high),
      label: difference ? 'difference' : params.softmax === 'none' ? 'attention (as stored)' : 'attention (softmax)',
    },
  };
}

/**
 * The figure as PNG at `scale` (2: an 1800-pixel-wide figure for print): the map pixels are drawn straight onto the
 * canvas, then the figure's vector layer (an SVG without the raster) over them. Rasterising the full SVG instead
 * would depend on the browser having decoded the SVG's embedded image by the time it is drawn, which it may not have.
 */
export async function exportViewPng(viewer: Viewer, scale = 2): Promise<Blob> {
  const pixels = await renderRaster(viewer, EXPORT_MAP_SIZE);
  const vectors = makeFigureSvg(figureSpec(viewer, EXPORT_MAP_SIZE, undefined));
  const { width, height } = figureSize(EXPORT_MAP_SIZE);
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
    const map = await createImageBitmap(new ImageData(new Uint8ClampedArray(pixels.buffer as ArrayBuffer, pixels.byteOffset, pixels.byteLength), EXPORT_MAP_SIZE, EXPORT_MAP_SIZE));
    // Frames stay crisp cells when the map is scaled up, as in the SVG (image-rendering: pixelated).
    context.imageSmoothingEnabled = false;
    context.drawImage(map, FIGURE_MARGIN.left, FIGURE_MARGIN.top, EXPORT_MAP_SIZE, EXPORT_MAP_SIZE);
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

