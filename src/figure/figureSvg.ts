/**
 * A publication figure of one map as SVG: the colour-mapped map as an embedded raster, with phone and word boundary
 * lines, axis labels, a colour bar and a title as vector elements, so they stay sharp at any print size.
 * Pure: the browser's export and the command line build the same SVG (the browser rasterises it for PNG export).
 */
import { escapeXml, fitHeading, headingSvg, type FittedHeading } from './figureHeading.ts';

export interface FigureLabel {
  readonly text: string;
  /** Position along the axis in map pixels (0 at the map's top/left edge). */
  readonly px: number;
  readonly kind: 'major' | 'minor' | 'word';
  /** Only along this axis (word labels, thinned by their extent along each: figureAxes.ts); on both when absent. */
  readonly axis?: 'column' | 'row';
}

export interface FigureSpec {
  readonly title: string;
  readonly subtitle?: string;
  /** Side of the (square) map in figure pixels. */
  readonly mapSize: number;
  /**
   * The map as a PNG data URL (or any href an SVG <image> takes), drawn over mapSize x mapSize. Undefined leaves the
   * map area empty and the background transparent: the vector layer alone, for drawing over a raster placed by other
   * means (the browser's PNG export does, as an SVG image's embedded images may still be decoding when it is drawn).
   */
  readonly rasterHref?: string;
  /** Labels along the columns (drawn above the map) and the rows (left of it); the map is symmetric, so often equal. */
  readonly columnLabels: readonly FigureLabel[];
  readonly rowLabels: readonly FigureLabel[];
  /** Boundary positions in map pixels. */
  readonly phoneBoundaries: readonly number[];
  readonly wordBoundaries: readonly number[];
  readonly colorbar: FigureColorbar;
  /** Dark lines for maps on the diverging colormap, whose white middle would hide STEVE's white word lines. */
  readonly darkLines?: boolean;
}

/** A colour bar: its colours, end labels, ticks and the quantity it names. */
export interface FigureColorbar {
  /** 256 RGBA entries, lowest value first. */
  readonly lut: Uint8Array;
  readonly low: string;
  readonly high: string;
  readonly label: string;
  /** Ticks between the ends: `at` 0 at the bottom colour, 1 at the top (src/view/colorScale.ts). */
  readonly ticks?: readonly { readonly at: number; readonly label: string }[];
}

/** Stroke attributes of the boundary lines: STEVE's (phones thin and dark, words wider and white), or all dark. */
export function boundaryStrokes(darkLines: boolean | undefined): { phone: string; word: string } {
  return darkLines
    ? { phone: 'stroke="#000" stroke-opacity="0.45" stroke-width="1"', word: 'stroke="#1a1a1a" stroke-opacity="0.9" stroke-width="2"' }
    : { phone: 'stroke="#000" stroke-opacity="0.55" stroke-width="1"', word: 'stroke="#fff" stroke-opacity="0.9" stroke-width="2"' };
}

/** Space around the map for labels, title and colour bar, in figure pixels. */
export const FIGURE_MARGIN = { left: 150, top: 190, right: 130, bottom: 24 };

export { escapeXml };

const hex = (lut: Uint8Array, index: number) =>
  `#${[0, 1, 2].map((c) => lut[index * 4 + c].toString(16).padStart(2, '0')).join('')}`;

/** Lines of subtitle a single map's figure has room for between its title and its column word labels. */
const FIGURE_SUBTITLE_LINES = 2;

/** Space kept between the heading and the figure's edges. */
const HEADING_PAD = 8;

/** The heading of a single map's figure, fitted to it (figureHeading.ts): its map stays at FIGURE_MARGIN's place. */
function figureHeading(mapSize: number, heading: { readonly title: string; readonly subtitle?: string }): FittedHeading {
  const contentWidth = FIGURE_MARGIN.left + mapSize + FIGURE_MARGIN.right;
  return fitHeading(heading, contentWidth, FIGURE_MARGIN.left + mapSize / 2, HEADING_PAD, FIGURE_SUBTITLE_LINES);
}

/**
 * Figure width and height for a map size, and, given the heading, as wide as the heading needs (a subtitle too long
 * for two lines over a small map); the map's place does not change.
 */
export function figureSize(mapSize: number, heading?: { readonly title: string; readonly subtitle?: string }): { width: number; height: number } {
  return {
    width: heading ? figureHeading(mapSize, heading).width : FIGURE_MARGIN.left + mapSize + FIGURE_MARGIN.right,
    height: FIGURE_MARGIN.top + mapSize + FIGURE_MARGIN.bottom,
  };
}

/** The figure of one map as an SVG document (see the file comment). */
export function makeFigureSvg(spec: FigureSpec): string {
  const fitted = figureHeading(spec.mapSize, spec);
  const width = fitted.width;
  const { height } = figureSize(spec.mapSize);
  const left = FIGURE_MARGIN.left;
  const top = FIGURE_MARGIN.top;
  const size = spec.mapSize;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">`,
    spec.rasterHref === undefined ? '' : `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...headingSvg(spec.title, fitted),
  ];
  parts.push(...mapPanelSvg(spec, left, top));
  parts.push(makeColorbar(spec.colorbar, left + size + 24, top, Math.min(size, 320)));
  parts.push('</svg>');
  return parts.join('\n');
}

/** What mapPanelSvg draws: one map with its boundary lines and axis labels (a FigureSpec without titles and bar). */
export type MapPanel = Pick<FigureSpec, 'mapSize' | 'rasterHref' | 'columnLabels' | 'rowLabels' | 'phoneBoundaries' | 'wordBoundaries' | 'darkLines'>;

/** Right end of the row word labels when they stand beside their map: clear of the phone labels (up to ~40 pixels). */
const ROW_WORDS_BESIDE = 50;

/**
 * One map with its top-left corner at (left, top): raster, boundary lines, frame, and labels above it (columns) and
 * left of it (rows), which need FIGURE_MARGIN.top above and FIGURE_MARGIN.left beside the map. The row word labels
 * start at the margin's left edge, or (`rowWordsBeside`: a map with another map to its left, whose edge they would
 * seem to label) end just left of the phone labels.
 */
export function mapPanelSvg(panel: MapPanel, left: number, top: number, rowWordsBeside = false): string[] {
  const size = panel.mapSize;
  const parts: string[] = [];
  if (panel.rasterHref !== undefined) {
    parts.push(
      `<image x="${left}" y="${top}" width="${size}" height="${size}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${panel.rasterHref}" xlink:href="${panel.rasterHref}"/>`,
    );
  }
  // Boundary lines on cell edges, as STEVE styles them: phones thin and dark, words wider and white.
  const strokes = boundaryStrokes(panel.darkLines);
  const line = (x1: number, y1: number, x2: number, y2: number, style: string) =>
    `<line x1="${x1.toFixed(2)}" y1="${y1.toFixed(2)}" x2="${x2.toFixed(2)}" y2="${y2.toFixed(2)}" ${style}/>`;
  parts.push('<g class="phone-boundaries">');
  for (const p of panel.phoneBoundaries) {
    parts.push(line(left + p, top, left + p, top + size, strokes.phone));
    parts.push(line(left, top + p, left + size, top + p, strokes.phone));
  }
  parts.push('</g><g class="word-boundaries">');
  for (const p of panel.wordBoundaries) {
    parts.push(line(left + p, top, left + p, top + size, strokes.word));
    parts.push(line(left, top + p, left + size, top + p, strokes.word));
  }
  parts.push(`</g><rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#333" stroke-width="1"/>`);
  // Which axis is which, in the empty corner above the row labels: a map's rows are the queries (README "Rows and columns").
  parts.push(
    `<g class="axis-note" font-size="10" fill="#666" text-anchor="end"><text x="${left - 10}" y="${top - 22}">rows: queries</text><text x="${left - 10}" y="${top - 10}">columns: keys</text></g>`,
  );
  // Column labels above the map, written upwards as STEVE rotates them; row labels to the left.
  parts.push('<g class="column-labels">');
  for (const label of panel.columnLabels.filter((l) => l.axis !== 'row')) {
    const x = left + label.px;
    if (label.kind === 'word') {
      parts.push(`<text x="${x.toFixed(2)}" y="${top - 100}" font-size="13" font-weight="bold" text-anchor="middle">${escapeXml(label.text)}</text>`);
    } else {
      const fontSize = label.kind === 'major' ? 12 : 9;
      const fill = label.kind === 'major' ? '#000' : '#666';
      parts.push(
        `<text transform="translate(${(x + fontSize / 3).toFixed(2)},${top - 6}) rotate(-90)" font-size="${fontSize}" fill="${fill}">${escapeXml(label.text)}</text>`,
      );
      parts.push(line(x, top, x, top - (label.kind === 'major' ? 4 : 2), 'stroke="#333"'));
    }
  }
  parts.push('</g><g class="row-labels">');
  for (const label of panel.rowLabels.filter((l) => l.axis !== 'column')) {
    const y = top + label.px;
    if (label.kind === 'word') {
      const place = rowWordsBeside ? `x="${left - ROW_WORDS_BESIDE}" text-anchor="end"` : `x="${left - FIGURE_MARGIN.left + 8}"`;
      parts.push(`<text ${place} y="${(y + 4).toFixed(2)}" font-size="13" font-weight="bold">${escapeXml(label.text)}</text>`);
    } else {
      const fontSize = label.kind === 'major' ? 12 : 9;
      const fill = label.kind === 'major' ? '#000' : '#666';
      parts.push(`<text x="${left - 6}" y="${(y + fontSize / 3).toFixed(2)}" font-size="${fontSize}" fill="${fill}" text-anchor="end">${escapeXml(label.text)}</text>`);
      parts.push(line(left, y, left - (label.kind === 'major' ? 4 : 2), y, 'stroke="#333"'));
    }
  }
  parts.push('</g>');
  return parts;
}

/** A vertical colour bar at (x, y): 64 bands of the colormap, high at the top, with its limits, ticks and label. */
export function makeColorbar(colorbar: FigureColorbar, x: number, y: number, height: number): string {
  const { lut, low, high, label } = colorbar;
  const bands = 64;
  const bandHeight = height / bands;
  const parts = ['<g class="colorbar">'];
  for (let band = 0; band < bands; band++) {
    const index = Math.round(((bands - 1 - band) / (bands - 1)) * 255);
    parts.push(`<rect x="${x}" y="${(y + band * bandHeight).toFixed(2)}" width="16" height="${(bandHeight + 0.5).toFixed(2)}" fill="${hex(lut, index)}"/>`);
  }
  parts.push(`<rect x="${x}" y="${y}" width="16" height="${height}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${x + 20}" y="${y + 9}" font-size="11">${escapeXml(high)}</text>`);
  parts.push(`<text x="${x + 20}" y="${y + height}" font-size="11">${escapeXml(low)}</text>`);
  // Inner ticks, where they keep clear of the end labels.
  for (const tick of colorbar.ticks ?? []) {
    const ty = y + (1 - tick.at) * height;
    if (ty < y + 16 || ty > y + height - 14) continue;
    parts.push(`<line class="colorbar-tick" x1="${x + 16}" y1="${ty.toFixed(2)}" x2="${x + 19}" y2="${ty.toFixed(2)}" stroke="#333"/>`);
    parts.push(`<text x="${x + 20}" y="${(ty + 4).toFixed(2)}" font-size="10" fill="#333">${escapeXml(tick.label)}</text>`);
  }
  parts.push(`<text transform="translate(${x + 96},${y + height / 2}) rotate(-90)" font-size="11" text-anchor="middle">${escapeXml(label)}</text>`);
  parts.push('</g>');
  return parts.join('\n');
}
