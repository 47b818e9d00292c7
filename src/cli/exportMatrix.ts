/**
 * The numbers behind a view, for analysis outside STEVE: the computed maps (after softmax, averaging, pooling and
 * crop) as .npy (float32, C order; numpy.load reads it) or .csv, and a JSON sidecar that says what every row and
 * column is (frames, blocks of frames, phones or words, with their times) and how the maps were made.
 *
 * Both formats are produced a map at a time (a header, then each map's bytes or lines), so an export is never in
 * memory whole: the model view of Whisper large-v3 is 5.76 GB of .npy.
 */
import type { FrameSegment } from '../data/frames.ts';
import { encodeNpyHeader, float32LittleEndian } from '../data/npyWriter.ts';
import type { Utterance } from '../data/utterance.ts';
import type { LayerSelector, HeadSelector } from '../engine.ts';
import type { ViewPlan } from '../view/plan.ts';
import type { ViewSpec } from '../view/spec.ts';

/** The size of a view's maps: `count` maps (one per plan cell), each rows x cols. */
export interface ViewMatrix {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
}

/** What one row (or column) of the exported maps is. */
export type AxisEntry =
  | { readonly frame: number; readonly phone: string | null; readonly word: string | null }
  | { readonly startFrame: number; readonly endFrame: number; readonly phones: string[] }
  | { readonly label: string; readonly startFrame: number; readonly stopFrame: number; readonly start: number; readonly end: number };

/** numpy's shape of the exported array: one map is 2-D, a head grid 3-D (maps), the model view 4-D (layers, heads). */
export function matrixShape(plan: ViewPlan, spec: ViewSpec, matrix: ViewMatrix): number[] {
  if (spec.view === 'model') return [plan.cells.length / plan.columns, plan.columns, matrix.rows, matrix.cols];
  if (plan.cells.length > 1) return [plan.cells.length, matrix.rows, matrix.cols];
  return [matrix.rows, matrix.cols];
}

/** Writes a view's maps, one after the other, in a format; the writer owns its output. */
export interface MatrixWriter {
  /** What comes before the first map. */
  readonly header: Uint8Array | string;
  /** The pieces of map `index` (plan order) with values `map` (rows x cols, row-major). */
  mapPieces(index: number, map: Float32Array): Iterable<Uint8Array | string>;
  /** An upper bound of the file's size in bytes, known before any map is computed. */
  readonly maxBytes: number;
}

/** .npy: float32, C order, the maps stacked in plan order (see matrixShape). */
export function npyMatrixWriter(plan: ViewPlan, spec: ViewSpec, matrix: ViewMatrix): MatrixWriter {
  const header = encodeNpyHeader(matrixShape(plan, spec, matrix));
  return {
    header,
    maxBytes: header.length + matrix.count * matrix.rows * matrix.cols * 4,
    *mapPieces(_index, map) {
      yield float32LittleEndian(map);
    },
  };
}

// CSV lines are handed out this many at a time: a few MB of text for 1500-frame rows.
const CSV_ROWS_PER_PIECE = 128;
// The longest value csvNumber writes ("-1.23456789e-38") and its comma.
const CSV_MAX_VALUE_CHARS = 16;

/**
 * CSV: a header of column labels, then one line per row, led by its label. Grids lead each line with the map's layer
 * and head. Values keep float32's precision (9 significant digits); NaN is written "nan", as numpy.genfromtxt and
 * pandas read it.
 */
export function csvMatrixWriter(plan: ViewPlan, matrix: ViewMatrix, axis: readonly AxisEntry[]): MatrixWriter {
  const grid = matrix.count > 1;
  const labels = axis.map(axisLabel);
  const header = [...(grid ? ['layer', 'head'] : []), 'row', ...labels].map(csvField).join(',') + '\n';
  const leads = plan.cells.map((cell) => (grid ? [selectorText(cell.layer), selectorText(cell.head)] : []));
  const longestLead = Math.max(0, ...leads.map((lead) => lead.join(',').length)) + Math.max(8, ...labels.map((label) => csvField(label).length)) + 4;
  return {
    header,
    maxBytes: Buffer.byteLength(header) + matrix.count * matrix.rows * (longestLead * 4 + matrix.cols * CSV_MAX_VALUE_CHARS + 1),
    *mapPieces(index, map) {
      for (let first = 0; first < matrix.rows; first += CSV_ROWS_PER_PIECE) {
        const lines: string[] = [];
        for (let row = first; row < Math.min(matrix.rows, first + CSV_ROWS_PER_PIECE); row++) {
          const values = Array.from(map.subarray(row * matrix.cols, (row + 1) * matrix.cols), csvNumber);
          lines.push([...leads[index], labels[row] ?? String(row)].map(csvField).concat(values).join(',') + '\n');
        }
        yield lines.join('');
      }
    },
  };
}

/** Rows and columns of the view (the maps are square: one list serves both). */
export function describeAxis(plan: ViewPlan, matrix: ViewMatrix): AxisEntry[] {
  const { axes, crop, selection } = plan;
  if (axes.kind === 'segments') {
    return axes.segments.map((s) => ({ label: s.label, startFrame: s.startFrame, stopFrame: s.stopFrame, start: s.startSec, end: s.endSec }));
  }
  const phones = selection?.phones ?? [];
  const words = selection?.words ?? [];
  if (axes.framesPerCell === 1) {
    return Array.from({ length: matrix.cols }, (_, i) => {
      const frame = crop.colStart + i;
      return { frame, phone: segmentAt(phones, frame), word: segmentAt(words, frame) };
    });
  }
  const k = axes.framesPerCell;
  return Array.from({ length: matrix.cols }, (_, i) => {
    const startFrame = crop.colStart + i * k;
    const endFrame = Math.min(startFrame + k, crop.colEnd);
    const inside = phones.filter((p) => p.startFrame < endFrame && Math.max(p.stopFrame, p.startFrame + 1) > startFrame);
    return { startFrame, endFrame, phones: inside.map((p) => p.label) };
  });
}

/** The label of the segment covering `frame` ([startFrame, stopFrame), at least one frame), or null. */
function segmentAt(segments: readonly FrameSegment[], frame: number): string | null {
  const found = segments.filter((s) => frame >= s.startFrame && frame < Math.max(s.stopFrame, s.startFrame + 1));
  return found.length ? found.map((s) => s.label).join(' / ') : null;
}

function axisLabel(entry: AxisEntry): string {
  if ('frame' in entry) return String(entry.frame);
  if ('phones' in entry) return `${entry.startFrame}-${entry.endFrame - 1}`;
  return entry.label;
}

/** The JSON sidecar: shape and axes of the array, and everything that went into it. */
export function makeSidecar(input: {
  file: string;
  format: 'npy' | 'csv';
  plan: ViewPlan;
  spec: ViewSpec;
  matrix: ViewMatrix;
  utterance: Utterance;
  files: { attention: string; wav?: string; alignments: string };
}): object {
  const { plan, spec, matrix, utterance } = input;
  const selection = plan.selection;
  const axis = describeAxis(plan, matrix);
  const segment = (s: FrameSegment) => ({ label: s.label, start: s.startSec, end: s.endSec, startFrame: s.startFrame, stopFrame: s.stopFrame });
  const shape = matrixShape(plan, spec, matrix);
  return {
    file: input.file,
    format: input.format,
    dtype: 'float32',
    shape,
    dims: shape.length === 4 ? ['layer', 'head', 'row', 'col'] : shape.length === 3 ? ['map', 'row', 'col'] : ['row', 'col'],
    view: spec.view,
    maps: plan.cells.map((cell) => ({ title: cell.title, layer: cell.layer, head: cell.head })),
    softmax: spec.softmax,
    pool: spec.pool ? { ...spec.pool, stat: spec.poolStat } : null,
    compare: spec.compare ?? null,
    utterance: {
      name: utterance.name,
      attention: input.files.attention,
      wav: input.files.wav ?? null,
      alignment: utterance.alignment?.source ?? null,
      text: utterance.alignment?.text ?? null,
      model: utterance.attention.metadata.model ?? null,
      tensorShape: utterance.attention.shape,
    },
    spf: utterance.spf?.samplesPerFrame ?? null,
    spfSource: utterance.spf?.source ?? null,
    roundUp: spec.roundUp,
    words: selection && !spec.full ? { first: selection.firstWord, last: selection.lastWord } : null,
    // Frames of the utterance kept, ends exclusive; rows are queries (the file's second-to-last axis), columns keys.
    crop: plan.crop,
    axes: { rows: axis, cols: axis },
    segments: selection ? { phones: selection.phones.map(segment), words: selection.words.map(segment) } : null,
  };
}

function selectorText(selector: LayerSelector | HeadSelector): string {
  return typeof selector === 'object' ? selector.join(' ') : String(selector);
}

function csvNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return String(Number(value.toPrecision(9)));
}

/** RFC 4180 quoting, for labels with commas or quotes ("dcl,d"). */
function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
