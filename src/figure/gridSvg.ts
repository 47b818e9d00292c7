/**
 * A figure of many maps as SVG: the heads of a layer, or the whole model (layers x heads), each map an embedded
 * raster with its title and the word boundary lines, the words along the grid's bottom and left edges, and one
 * colour bar (one colour scale for every map, or per-map ranges stated in each map's title). Cells are too small
 * for phone labels. Pure, like figureSvg.ts.
 */
import { fitHeading, headingSvg, type FittedHeading } from './figureHeading.ts';
import { boundaryStrokes, escapeXml, makeColorbar, type FigureColorbar } from './figureSvg.ts';

/** One map of the grid. */
export interface GridCell {
  /** e.g. "L3 H5". */
  readonly title: string;
  /** The map as a PNG data URL, drawn over cellSize x cellSize. */
  readonly rasterHref: string;
}

/** What makeGridSvg draws. */
export interface GridSpec {
  readonly title: string;
  readonly subtitle?: string;
  readonly cells: readonly GridCell[];
  /** Cells per grid row (heads, for the model view). */
  readonly columns: number;
  /** Side of each (square) map in figure pixels. */
  readonly cellSize: number;
  /** Word boundary positions in cell pixels, drawn on every cell. */
  readonly wordBoundaries: readonly number[];
  /** Word labels (centre in cell pixels) under the bottom row, and left of the first column unless rowWordLabels. */
  readonly wordLabels?: readonly { readonly text: string; readonly px: number }[];
  /** Word labels left of the first column, when they are thinned apart from the columns' (figureAxes.ts: gridWordLabels). */
  readonly rowWordLabels?: readonly { readonly text: string; readonly px: number }[];
  readonly colorbar: FigureColorbar;
  /** Dark lines for the diverging colormap (see figureSvg.ts). */
  readonly darkLines?: boolean;
}

/** Space around and between the cells, in figure pixels; `words` is the band for the word labels on the edges. */
export const GRID_MARGIN = { left: 16, top: 56, right: 130, bottom: 16, gap: 8, cellTitle: 16, words: 64 };

/** Width of the cells side by side, without margins. */
function cellsWidth(spec: Pick<GridSpec, 'columns' | 'cellSize'>): number {
  return spec.columns * (spec.cellSize + GRID_MARGIN.gap) - GRID_MARGIN.gap;
}

/** The grid's heading over its cells and colour bar; one line of subtitle, as the cells start right under it. */
function gridHeading(spec: Pick<GridSpec, 'columns' | 'cellSize' | 'title' | 'subtitle' | 'wordLabels'>): FittedHeading {
  const m = GRID_MARGIN;
  const band = spec.wordLabels?.length ? m.words : 0;
  const contentWidth = m.left + band + cellsWidth(spec) + m.right;
  return fitHeading(spec, contentWidth, contentWidth / 2, m.left, 1);
}

/** Grid figure width and height: wide enough for the cells and colour bar, and for the heading of a narrow grid. */
export function gridSize(spec: Pick<GridSpec, 'cells' | 'columns' | 'cellSize' | 'title' | 'subtitle' | 'wordLabels'>): { width: number; height: number } {
  const rows = Math.ceil(spec.cells.length / spec.columns);
  const m = GRID_MARGIN;
  const band = spec.wordLabels?.length ? m.words : 0;
  return {
    width: gridHeading(spec).width,
    height: m.top + rows * (spec.cellSize + m.cellTitle + m.gap) - m.gap + band / 4 + m.bottom,
  };
}

/** The grid figure as an SVG document. */
export function makeGridSvg(spec: GridSpec): string {
  const { width, height } = gridSize(spec);
  const m = GRID_MARGIN;
  const size = spec.cellSize;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...headingSvg(spec.title, gridHeading(spec)),
  ];
  const band = spec.wordLabels?.length ? m.words : 0;
  const rows = Math.ceil(spec.cells.length / spec.columns);
  const strokes = boundaryStrokes(spec.darkLines);
  spec.cells.forEach((cell, i) => {
    const column = i % spec.columns;
    const row = Math.floor(i / spec.columns);
    const x = m.left + band + column * (size + m.gap);
    const y = m.top + row * (size + m.cellTitle + m.gap) + m.cellTitle;
    parts.push(`<g class="cell">`);
    parts.push(`<text x="${x + size / 2}" y="${y - 4}" font-size="11" text-anchor="middle">${escapeXml(cell.title)}</text>`);
    parts.push(
      `<image x="${x}" y="${y}" width="${size}" height="${size}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${cell.rasterHref}" xlink:href="${cell.rasterHref}"/>`,
    );
    for (const p of spec.wordBoundaries) {
      const style = strokes.word.replace('stroke-width="2"', 'stroke-width="1"');
      parts.push(`<line x1="${(x + p).toFixed(2)}" y1="${y}" x2="${(x + p).toFixed(2)}" y2="${y + size}" ${style}/>`);
      parts.push(`<line x1="${x}" y1="${(y + p).toFixed(2)}" x2="${x + size}" y2="${(y + p).toFixed(2)}" ${style}/>`);
    }
    parts.push(`<rect x="${x}" y="${y}" width="${size}" height="${size}" fill="none" stroke="#333" stroke-width="1"/>`);
    // Words on the grid's edges: under the last row's maps (columns) and left of the first column's (rows).
    const lastInColumn = row === rows - 1 || i + spec.columns >= spec.cells.length;
    for (const label of lastInColumn ? (spec.wordLabels ?? []) : []) {
      parts.push(`<text class="word-label" x="${(x + label.px).toFixed(2)}" y="${y + size + 11}" font-size="9" text-anchor="middle">${escapeXml(label.text)}</text>`);
    }
    for (const label of column === 0 && spec.wordLabels?.length ? (spec.rowWordLabels ?? spec.wordLabels) : []) {
      parts.push(`<text class="word-label" x="${x - 4}" y="${(y + label.px + 3).toFixed(2)}" font-size="9" text-anchor="end">${escapeXml(label.text)}</text>`);
    }
    parts.push('</g>');
  });
  parts.push(makeColorbar(spec.colorbar, m.left + band + cellsWidth(spec) + 24, m.top + m.cellTitle, Math.min(height - m.top - m.cellTitle - m.bottom, 320)));
  parts.push('</svg>');
  return parts.join('\n');
}
