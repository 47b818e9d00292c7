/**
 * The head atlas's figures as SVG (pure: the CLI rasterises them with resvg as `render` does, the viewer shows them
 * inline): a layers x heads heat-table of one metric with its value in every cell, and a label x label matrix (phones
 * or classes of one head) with the labels grouped by class. Cells are vector rectangles, so numbers stay sharp.
 */
import { escapeXml, makeColorbar } from './figureSvg.ts';
import { fitHeading, headingSvg, textWidth } from './figureHeading.ts';
import { formatValue } from '../view/formatValue.ts';

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

/** Colour of `value` on `lut` (256 RGBA) between low and high; light grey for a missing value. */
function cellColour(lut: Uint8Array, value: number | null, low: number, high: number): string {
  if (value === null || !Number.isFinite(value)) return '#dddddd';
  const t = high > low ? Math.min(Math.max((value - low) / (high - low), 0), 1) : 0.5;
  const i = Math.round(t * 255) * 4;
  return `#${[lut[i], lut[i + 1], lut[i + 2]].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** Black or white text, whichever reads better on the cell. */
function textColour(fill: string): string {
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(fill.slice(at, at + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? '#000' : '#fff';
}

/** The range of the finite values of a grid (0..1 when there is none). */
export function valueRange(values: readonly (readonly (number | null)[])[]): [number, number] {
  const finite = values.flat().filter((value): value is number => value !== null && Number.isFinite(value));
  return finite.length ? [Math.min(...finite), Math.max(...finite)] : [0, 1];
}

export interface HeatTableSpec {
  readonly title: string;
  readonly subtitle?: string;
  /** values[layer][head]; null where there is no value. */
  readonly values: readonly (readonly (number | null)[])[];
  readonly unit: string;
  /** 256 RGBA entries (makeColormapLut). */
  readonly lut: Uint8Array;
  /** Side of one cell in SVG pixels (default 56). */
  readonly cellSize?: number;
}

/** A layers (rows) x heads (columns) table, each cell coloured by its value and printing it. */
export function makeHeatTableSvg(spec: HeatTableSpec): string {
  const cell = spec.cellSize ?? 56;
  const layers = spec.values.length;
  const heads = spec.values[0]?.length ?? 0;
  const [low, high] = valueRange(spec.values);
  const left = 70;
  const top = 84;
  const contentWidth = Math.max(left + heads * cell + 120, 480);
  // One line of subtitle: the "head" axis title is under it.
  const heading = fitHeading(spec, contentWidth, contentWidth / 2, 20, 1);
  const width = heading.width;
  const height = top + Math.max(layers * cell, 160) + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...headingSvg(spec.title, heading),
  ];
  parts.push(`<text x="${left + (heads * cell) / 2}" y="${top - 24}" font-size="12" text-anchor="middle">head</text>`);
  parts.push(`<text transform="translate(18,${top + (layers * cell) / 2}) rotate(-90)" font-size="12" text-anchor="middle">layer</text>`);
  const fontSize = Math.max(7, Math.min(13, cell / 5.5));
  for (let head = 0; head < heads; head++) {
    parts.push(`<text x="${left + (head + 0.5) * cell}" y="${top - 6}" font-size="11" text-anchor="middle">${head}</text>`);
  }
  spec.values.forEach((row, layer) => {
    const y = top + layer * cell;
    parts.push(`<text x="${left - 8}" y="${y + cell / 2 + 4}" font-size="11" text-anchor="end">${layer}</text>`);
    row.forEach((value, head) => {
      const x = left + head * cell;
      const fill = cellColour(spec.lut, value, low, high);
      parts.push(`<rect class="cell" data-layer="${layer}" data-head="${head}" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff" stroke-width="1"/>`);
      const text = value === null ? '–' : formatValue(value);
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + fontSize / 3}" font-size="${fontSize.toFixed(1)}" text-anchor="middle" fill="${textColour(fill)}" pointer-events="none">${escapeXml(text)}</text>`);
    });
  });
  parts.push(makeColorbar({ lut: spec.lut, low: formatValue(low), high: formatValue(high), label: spec.unit }, left + heads * cell + 24, top, Math.max(layers * cell, 160)));
  parts.push('</svg>');
  return parts.join('\n');
}

export interface LabelMatrixSpec {
  readonly title: string;
  readonly subtitle?: string;
  /** Row and column labels (the same list), already grouped: equal groups are consecutive. */
  readonly labels: readonly string[];
  /** The group (class) of each label; groups are separated by lines and named along the top. */
  readonly groups: readonly string[];
  /** values[a * labels.length + b]: row a (query label), column b (key label); NaN where there is no value. */
  readonly values: ArrayLike<number>;
  readonly lut: Uint8Array;
  readonly colorbarLabel: string;
  /** Side of one cell (default 14). */
  readonly cellSize?: number;
}

/** A square label x label matrix: rows are query labels, columns key labels, grouped by class. */
export function makeLabelMatrixSvg(spec: LabelMatrixSpec): string {
  const n = spec.labels.length;
  const cell = spec.cellSize ?? (n > 24 ? 14 : 28);
  const size = n * cell;
  const left = 110;
  const top = 130;
  const values = Array.from({ length: n * n }, (_, i) => spec.values[i]);
  const finite = values.filter((value) => Number.isFinite(value));
  const missing = finite.length < values.length;
  // Room for the colour bar and its rotated label on the right, and for the whole subtitle on its one line.
  const heading = fitHeading(spec, left + size + 150, (left + size + 150) / 2, 20, 1);
  const width = heading.width;
  const barHeight = Math.max(Math.min(size, 320), 160);
  // Below the colour bar, a "no data" swatch when some cells have no value.
  const height = top + Math.max(size, barHeight + (missing ? 34 : 0)) + 20;
  const [low, high] = finite.length ? [Math.min(0, ...finite), Math.max(...finite)] : [0, 1];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...headingSvg(spec.title, heading),
  ];
  const labelSize = Math.min(11, cell * 0.8);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const value = values[a * n + b];
      const fill = cellColour(spec.lut, Number.isFinite(value) ? value : null, low, high);
      parts.push(`<rect x="${left + b * cell}" y="${top + a * cell}" width="${cell}" height="${cell}" fill="${fill}"><title>${escapeXml(`${spec.labels[a]} → ${spec.labels[b]}: ${formatValue(value)}`)}</title></rect>`);
    }
    parts.push(`<text x="${left - 4}" y="${top + (a + 0.5) * cell + labelSize / 3}" font-size="${labelSize}" text-anchor="end">${escapeXml(spec.labels[a])}</text>`);
    parts.push(`<text transform="translate(${left + (a + 0.5) * cell + labelSize / 3},${top - 4}) rotate(-90)" font-size="${labelSize}">${escapeXml(spec.labels[a])}</text>`);
  }
  // Class groups: a line between groups, the group's name above its columns' labels, on the first of two rows
  // where it clears its neighbour (left out where neither has room). When every label is its own group (a class x
  // class matrix) the labels already name the groups, so the names are not repeated.
  const namesGroups = spec.groups.some((group, i) => group !== spec.labels[i]);
  const headerRows = [top - 44, top - 58];
  const headerEnds = headerRows.map(() => -Infinity);
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && spec.groups[i] === spec.groups[start]) continue;
    if (start > 0) {
      const p = start * cell;
      parts.push(`<line x1="${left + p}" y1="${top - 40}" x2="${left + p}" y2="${top + size}" stroke="#000" stroke-width="1.5"/>`);
      parts.push(`<line x1="${left - 40}" y1="${top + p}" x2="${left + size}" y2="${top + p}" stroke="#000" stroke-width="1.5"/>`);
    }
    const centre = left + ((start + i) / 2) * cell;
    const half = textWidth(spec.groups[start], 11, true) / 2;
    const row = namesGroups ? headerEnds.findIndex((end) => end + 4 <= centre - half) : -1;
    if (row >= 0) {
      headerEnds[row] = centre + half;
      parts.push(`<text x="${centre}" y="${headerRows[row]}" font-size="11" font-weight="bold" text-anchor="middle">${escapeXml(spec.groups[start])}</text>`);
    }
    start = i;
  }
  parts.push(`<rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${left + size / 2}" y="${top + size + 16}" font-size="11" text-anchor="middle">key</text>`);
  parts.push(`<text transform="translate(14,${top + size / 2}) rotate(-90)" font-size="11" text-anchor="middle">query</text>`);
  parts.push(makeColorbar({ lut: spec.lut, low: formatValue(low), high: formatValue(high), label: spec.colorbarLabel }, left + size + 24, top, barHeight));
  if (missing) {
    // The grey of cells without a value (a label never seen as a query or key), which no colour bar shows.
    const y = top + barHeight + 14;
    parts.push(`<rect class="no-data" x="${left + size + 24}" y="${y}" width="14" height="14" fill="${cellColour(spec.lut, null, low, high)}" stroke="#333"/>`);
    parts.push(`<text x="${left + size + 42}" y="${y + 11}" font-size="10">no data</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
