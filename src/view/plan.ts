/**
 * A ViewSpec meets an utterance: the maps to compute (one engine request per cell of the figure), the frames shown
 * (STEVE's word selection and crop, or every frame), what the map's rows and columns are (frames, blocks of frames,
 * phones or words), where the labels and boundary lines go, the titles, the colour bar's quantity and the colour
 * range policy. The viewer, `steve render`, `steve export` and the benchmark all draw from a plan, so they agree.
 *
 * Every check against the tensor and the alignment (layer and head in range, --words inside the alignment, the
 * other tensor of a difference the same size) happens here, as one ViewError sentence naming the file. Pure.
 *
 * Coordinates: labels and boundaries (MapMarks) are in map cells: cell i of an axis covers [i, i + 1), so a
 * boundary at position b is the edge between cells b - 1 and b (see src/data/frames.ts for the convention).
 */
import type { AxisTick, FrameSegment, WordSelection } from '../data/frames.ts';
import { selectAllFrames, selectWords } from '../data/frames.ts';
import { labelEnd } from '../data/segment.ts';
import type { Utterance } from '../data/utterance.ts';
import type { AttentionMapRequest, MapRequest } from '../compute/mapRequest.ts';
import type { Crop } from '../compute/region.ts';
import type { RangePolicy } from './colorScale.ts';
import type { ColormapName, IndexOrMean, PoolUnit, ViewSpec } from './spec.ts';
import { ViewError, headOf, layerOf } from './spec.ts';
import {
  attentionQuantity,
  describeHead,
  describeLayer,
  describePooling,
  describeScale,
  mapName,
  pairTitle,
  viewSubtitle,
  viewTitle,
} from './titles.ts';

/** One map of the figure or matrix. */
export interface PlannedCell {
  /** "L3 H5", "L3 mean", "L1 H2 − L1 H4", "rollout L0–L3", ... */
  readonly title: string;
  readonly layer: IndexOrMean;
  readonly head: IndexOrMean;
  /** An engine request: attention, difference, segmentPool, blockPool or rollout. */
  readonly request: MapRequest;
  /** A pair's second map, of another utterance: its own frames, labels and boundaries. */
  readonly other?: { readonly utteranceName: string; readonly crop: Crop; readonly marks: MapMarks; readonly selection?: WordSelection };
}

/** What the rows and columns of the computed maps are. */
export type PlanAxes =
  /** Frames, `framesPerCell` to a map cell (1, or k for block pooling), starting at the plan's crop. */
  | { readonly kind: 'frames'; readonly framesPerCell: number }
  /** One cell per phone or word. */
  | { readonly kind: 'segments'; readonly unit: PoolUnit; readonly segments: readonly FrameSegment[] };

/**
 * Labels and boundary lines of a map, in map cells (cell i covers [i, i + 1); see the file comment). The maps are
 * square (queries x keys of the same frames), so one set serves rows and columns.
 */
export interface MapMarks {
  /** Cells along each axis. */
  readonly cells: number;
  /**
   * Length of each axis in map cells: `cells`, or less when the last pooled block holds fewer than framesPerCell
   * frames (38 frames in blocks of 4: 10 cells, span 9.5), so that block is drawn at its real width.
   */
  readonly span: number;
  /** A label per phone (frames: STEVE's major ticks; pooled onto phones: each cell). */
  readonly phoneLabels: readonly AxisTick[];
  /** "previous,next" labels on phone boundaries (STEVE's minor ticks); none for pooled maps. */
  readonly boundaryLabels: readonly AxisTick[];
  /** A label over each word. */
  readonly wordLabels: readonly AxisTick[];
  /** Cell edges where a phone ends and the next begins. */
  readonly phoneBoundaries: readonly number[];
  /** Cell edges where a word begins or ends. */
  readonly wordBoundaries: readonly number[];
}

/** The colour bar: the quantity it names and how it is coloured. */
export interface PlanColorbar {
  /** "attention (softmax)", "raw score", "difference of attention (softmax)", "rollout", plus pooling. */
  readonly label: string;
  readonly colormap: ColormapName;
  /** Differences: diverging colormap, symmetric about 0. */
  readonly diverging: boolean;
}

/** Everything a front end needs to compute and draw one utterance's view. */
export interface ViewPlan {
  readonly spec: ViewSpec;
  readonly cells: readonly PlannedCell[];
  /** Cells per row of a grid figure. */
  readonly columns: number;
  /** The words (or every frame) the view shows; undefined without an alignment. */
  readonly selection?: WordSelection;
  /** The frames shown (ends exclusive); the whole map when no words are selected or with --full. */
  readonly crop: Crop;
  readonly axes: PlanAxes;
  readonly marks: MapMarks;
  readonly title: string;
  readonly subtitle: string;
  readonly colorbar: PlanColorbar;
  readonly range: RangePolicy;
}

/** The tensors a plan refers to: ids given to engine.addTensor. */
export interface PlanTensors {
  readonly tensorId: string;
  /**
   * The other utterance of a difference or pair (spec.compare.attention), when there is one: its tensor id, and its
   * utterance (a pair crops it to the same word indices of its own alignment).
   */
  readonly compare?: { readonly tensorId: string; readonly utterance: PlanUtterance };
  /** The tensor's rows already sum to 1: without softmax its values are attention as stored, not raw scores. */
  readonly softmaxed?: boolean;
}

/** What a plan reads of an utterance. */
export type PlanUtterance = Pick<Utterance, 'name' | 'attention' | 'alignment' | 'spf' | 'audioFileName'>;

/** Plans a view of `utterance`; throws a ViewError when the spec does not fit the data. */
export function planView(spec: ViewSpec, utterance: PlanUtterance, tensors: PlanTensors): ViewPlan {
  const shape = utterance.attention.shape;
  const file = utterance.attention.fileName;
  const { selection, crop, cropped } = frameRegion(spec, utterance);
  const layer = checkIndex(layerOf(spec, shape.layers), shape.layers, '--layer', 'layers', file);
  const head = checkIndex(headOf(spec), shape.heads, '--head', 'heads', file);
  const attentionRequest = (l: IndexOrMean, h: IndexOrMean, tensorId = tensors.tensorId, region = cropped ? crop : undefined): AttentionMapRequest => ({
    kind: 'attention',
    tensorId,
    layer: l,
    head: h,
    softmax: spec.softmax,
    crop: region,
  });
  const perMap = spec.colorRange === 'per-map';
  const frameAxes: PlanAxes = { kind: 'frames', framesPerCell: 1 };
  const quantity = attentionQuantity(spec.softmax, tensors.softmaxed ?? false);
  const what = `Encoder attention ${describeLayer(layer)}, ${describeHead(head)}`;
  const base = (cells: PlannedCell[], text: string, label: string, axes: PlanAxes = frameAxes, columns = 1): ViewPlan => {
    const diverging = spec.view === 'difference';
    const grid = cells.length > 1;
    return {
      spec,
      cells,
      columns,
      selection,
      crop,
      axes,
      marks: marksOf(axes, selection, crop, cropSize(crop)),
      title: viewTitle(selection, spec.full),
      subtitle: viewSubtitle(utterance.name, text, spec.softmax, describeScale(spec.scale, spec.clip, grid && perMap)),
      colorbar: { label, colormap: spec.colormap, diverging },
      range: { scale: spec.scale, clip: spec.clip, symmetric: diverging, shared: !perMap },
    };
  };
  const single = (request: MapRequest, title = mapName(layer, head)): PlannedCell[] => [{ title, layer, head, request }];

  switch (spec.view) {
    case 'map':
      return base(single(attentionRequest(layer, head)), what, quantity);
    case 'heads': {
      const cells: PlannedCell[] = Array.from({ length: shape.heads }, (_, h) => ({ title: mapName(layer, h), layer, head: h, request: attentionRequest(layer, h) }));
      cells.push({ title: mapName(layer, 'mean'), layer, head: 'mean', request: attentionRequest(layer, 'mean') });
      return base(cells, `Encoder attention ${describeLayer(layer)}, every head and their mean`, quantity, frameAxes, Math.ceil(Math.sqrt(cells.length)));
    }
    case 'model': {
      const cells: PlannedCell[] = [];
      for (let l = 0; l < shape.layers; l++) {
        for (let h = 0; h < shape.heads; h++) cells.push({ title: mapName(l, h), layer: l, head: h, request: attentionRequest(l, h) });
      }
      return base(cells, 'Encoder attention, every layer (rows) and head (columns)', quantity, frameAxes, shape.heads);
    }
    case 'pooled': {
      const pool = spec.pool!;
      const source = attentionRequest(layer, head);
      const pooling = describePooling(pool, spec.poolStat);
      const text = `${what}, pooled: ${pooling}`;
      const label = `${quantity}, ${pooling}`;
      if ('block' in pool) {
        return base(single({ kind: 'blockPool', source, block: pool.block, stat: spec.poolStat }), text, label, { kind: 'frames', framesPerCell: pool.block });
      }
      if (!selection) {
        throw new ViewError(`--pool ${pool.unit} needs an alignment: give --wav (with --alignments none, STEVE's dummy 40 ms phones and 200 ms words are used)`);
      }
      // Every segment of the tier inside the frames shown: with --full, leading and trailing silences too.
      const segments = pool.unit === 'phones' ? selection.phones : selection.words;
      const size = cropSize(crop);
      // A segment runs from its start frame to its stop frame, where the next one starts: [start, stop), clamped to
      // the map (which ends early when the alignment runs past the tensor's frames). Empty ones are left out.
      const ranges = segments
        .map((segment) => {
          const start = Math.min(Math.max(0, segment.startFrame - crop.rowStart), size);
          return { segment, start, end: Math.min(Math.max(start, segment.stopFrame - crop.rowStart), size) };
        })
        .filter((range) => range.end > range.start);
      if (ranges.length === 0) {
        const where = spec.full ? 'the tensor' : `words ${selection.firstWord}..${selection.lastWord}`;
        throw new ViewError(`${file}: no ${pool.unit} with frames lie inside ${where}`);
      }
      const frameRanges = ranges.map(({ start, end }) => ({ start, end }));
      return base(
        single({ kind: 'segmentPool', source, rowSegments: frameRanges, colSegments: frameRanges, stat: spec.poolStat }, `${mapName(layer, head)}, ${pooling}`),
        text,
        label,
        { kind: 'segments', unit: pool.unit, segments: ranges.map((range) => range.segment) },
      );
    }
    case 'difference': {
      const compare = spec.compare!;
      const other = tensors.compare;
      const otherShape = other?.utterance.attention.shape ?? shape;
      const otherFile = other?.utterance.attention.fileName ?? file;
      if (compare.attention !== undefined && !other) throw new ViewError(`--compare-attention ${compare.attention}: that utterance is not loaded`);
      if (other && (otherShape.rows !== shape.rows || otherShape.cols !== shape.cols)) {
        throw new ViewError(`${otherFile} has ${otherShape.rows} x ${otherShape.cols} maps but ${file} has ${shape.rows} x ${shape.cols}: a difference needs maps of one size`);
      }
      const compareLayer = checkIndex(compare.layer, otherShape.layers, '--compare-layer', 'layers', otherFile);
      const compareHead = checkIndex(compare.head, otherShape.heads, '--compare-head', 'heads', otherFile);
      const of = other ? ` of ${other.utterance.name}` : '';
      const title = `${mapName(layer, head)} − ${mapName(compareLayer, compareHead)}${of}`;
      const request: MapRequest = { kind: 'difference', minuend: attentionRequest(layer, head), subtrahend: attentionRequest(compareLayer, compareHead, other?.tensorId) };
      return base(single(request, title), `Difference ${title}`, `difference of ${quantity}`);
    }
    case 'pair': {
      const other = tensors.compare;
      if (!other) throw new ViewError('--view pair needs the other utterance: give --compare-attention');
      const otherUtterance = other.utterance;
      const otherShape = otherUtterance.attention.shape;
      const otherFile = otherUtterance.attention.fileName;
      checkIndex(layer, otherShape.layers, '--layer', 'layers', otherFile);
      checkIndex(head, otherShape.heads, '--head', 'heads', otherFile);
      if (spec.words && !(otherUtterance.alignment && otherUtterance.spf)) {
        throw new ViewError(`--view pair --words ${spec.words.join(':')}: ${otherFile} has no alignment to find those words in (give its audio and alignment)`);
      }
      const region = frameRegion(spec, otherUtterance);
      const otherRequest = attentionRequest(layer, head, other.tensorId, region.cropped ? region.crop : undefined);
      const cells: PlannedCell[] = [
        { title: `${utterance.name} ${mapName(layer, head)}`, layer, head, request: attentionRequest(layer, head) },
        {
          title: `${otherUtterance.name} ${mapName(layer, head)}`,
          layer,
          head,
          request: otherRequest,
          other: {
            utteranceName: otherUtterance.name,
            crop: region.crop,
            selection: region.selection,
            marks: marksOf(frameAxes, region.selection, region.crop, cropSize(region.crop)),
          },
        },
      ];
      const sides = [
        { name: utterance.name, selection },
        { name: otherUtterance.name, selection: region.selection },
      ];
      return { ...base(cells, `${what}, beside ${otherUtterance.name}`, quantity, frameAxes, 2), title: pairTitle(sides, spec.full) };
    }
    case 'rollout': {
      if (layer === 'mean') throw new ViewError('--view rollout multiplies layers 0 .. --layer N in order: --layer mean does not apply');
      if (shape.rows !== shape.cols) throw new ViewError(`${file}: rollout needs square maps (keys = queries), got ${shape.rows} x ${shape.cols}`);
      const within = spec.rolloutCrop === 'within';
      const title = `rollout L0–L${layer}${head === 'mean' ? '' : ` H${head}`}`;
      const request: MapRequest = {
        kind: 'rollout',
        tensorId: tensors.tensorId,
        layerEnd: (layer as number) + 1,
        heads: head,
        // 'after' rolls out every frame, for which the crop softmax means nothing: spec.ts refuses that pairing.
        softmax: spec.softmax,
        crop: cropped ? crop : undefined,
        cropMode: within ? 'within' : 'after',
      };
      const scope = within ? ' of the cropped maps' : '';
      return base(single(request, title), `Attention rollout${scope} through layers 0–${layer}, ${describeHead(head)}`, 'rollout');
    }
  }
}

/** The frames a spec shows of an utterance: STEVE's word selection and its crop, or every frame. */
function frameRegion(spec: ViewSpec, utterance: PlanUtterance): { selection?: WordSelection; crop: Crop; cropped: boolean } {
  const shape = utterance.attention.shape;
  const whole: Crop = { rowStart: 0, rowEnd: shape.rows, colStart: 0, colEnd: shape.cols };
  const { alignment, spf } = utterance;
  if (!alignment || !spf || alignment.words.length === 0) {
    if (spec.words) {
      throw new ViewError(`--words needs an alignment: give --wav${spf ? '' : ' or --spf'} (${utterance.attention.fileName} has ${alignment ? 'no words' : 'none'})`);
    }
    return { crop: whole, cropped: false };
  }
  // Rows and columns both get the alignment's frames: that holds only for self-attention (queries = keys). A
  // non-square map (cross-attention, a wrong axis) would get a plausible figure with the wrong labels on one axis.
  if (shape.rows !== shape.cols) {
    throw new ViewError(
      `${utterance.attention.fileName}: its maps are ${shape.rows} x ${shape.cols}; phone and word labels need square self-attention maps (queries and keys over the same frames)`,
    );
  }
  const frames = shape.rows;
  if (spec.full) return { selection: selectAllFrames(alignment, spf.samplesPerFrame, frames, spec.roundUp), crop: whole, cropped: false };
  const count = alignment.words.length;
  const [first, last] = spec.words ?? [0, count - 1];
  if (last >= count) throw new ViewError(`--words ${first}:${last}: ${utterance.audioFileName ?? utterance.name} has ${count} words (0..${count - 1})`);
  const selection = selectWords(alignment, spf.samplesPerFrame, first, last, spec.roundUp);
  // STEVE's crop keeps frames start ..= stop; clamped to the map, which may end before the alignment does.
  const start = Math.min(selection.crop.startFrame, frames - 1);
  const end = Math.min(selection.crop.stopFrame + 1, frames);
  const crop: Crop = { rowStart: start, rowEnd: end, colStart: start, colEnd: end };
  const cropped = start > 0 || end < shape.rows || end < shape.cols;
  return { selection, crop, cropped };
}

function cropSize(crop: Crop): number {
  return crop.rowEnd - crop.rowStart;
}

/** The labels and boundaries of the plan's `index`th map: a pair's second map has its own utterance's; others the plan's. */
export function cellMarks(plan: ViewPlan, index: number): MapMarks {
  return plan.cells[index].other?.marks ?? plan.marks;
}

/** The span of a map of `cells` cells drawn with these marks: theirs when the sizes agree, else the whole map. */
export function spanOf(marks: MapMarks, cells: number): number {
  return marks.cells === cells ? marks.span : cells;
}

/** Labels and boundaries of maps with these axes, in map cells. */
export function marksOf(axes: PlanAxes, selection: WordSelection | undefined, crop: Crop, frames: number): MapMarks {
  if (axes.kind === 'segments') return segmentMarks(axes.segments, axes.unit, selection?.words ?? []);
  const cells = Math.ceil(frames / axes.framesPerCell);
  const span = frames / axes.framesPerCell;
  if (!selection) return { cells, span, phoneLabels: [], boundaryLabels: [], wordLabels: [], phoneBoundaries: [], wordBoundaries: [] };
  const toCell = (position: number) => (position - crop.colStart) / axes.framesPerCell;
  const inside = (cell: number) => cell >= 0 && cell <= span;
  const ticks = (list: readonly AxisTick[]) =>
    list
      .map((tick): AxisTick => ({
        position: toCell(tick.position),
        label: tick.label,
        ...(tick.from !== undefined && tick.to !== undefined ? { from: toCell(tick.from), to: toCell(tick.to) } : {}),
      }))
      .filter((tick) => inside(tick.position));
  return {
    cells,
    span,
    phoneLabels: ticks(selection.majorTicks),
    boundaryLabels: ticks(selection.minorTicks),
    // A word's label over its cells [startFrame, stopFrame), as the boundaries bound it; up to the next word's start
    // where they overlap (labelEnd).
    wordLabels: ticks(
      selection.words.map((word, i, words) => {
        const to = labelEnd(words, i, (w) => [w.startFrame, w.stopFrame]);
        return { position: (word.startFrame + to) / 2, label: word.label, from: word.startFrame, to };
      }),
    ),
    phoneBoundaries: selection.phoneBoundaries.map(toCell).filter(inside),
    wordBoundaries: selection.wordBoundaries.map(toCell).filter(inside),
  };
}

/**
 * Marks of a map pooled onto segments: cell i is segments[i], every cell edge a boundary. Pooled onto phones,
 * words are labelled over their phones and word boundaries fall on the edges where a word's phones start or end.
 */
function segmentMarks(segments: readonly FrameSegment[], unit: PoolUnit, words: readonly FrameSegment[]): MapMarks {
  const cells = segments.length;
  const centres = segments.map((segment, i) => ({ position: i + 0.5, label: segment.label }));
  const edges = Array.from({ length: cells + 1 }, (_, i) => i);
  const inner = edges.slice(1, -1);
  if (unit === 'words') return { cells, span: cells, phoneLabels: [], boundaryLabels: [], wordLabels: centres, phoneBoundaries: [], wordBoundaries: inner };
  // The phones of each word: those lying wholly inside the word's frames.
  const spans = words.flatMap((word) => {
    const inside = segments.flatMap((phone, i) => (phone.startFrame >= word.startFrame && phone.stopFrame <= word.stopFrame ? [i] : []));
    return inside.length ? [{ label: word.label, first: inside[0], last: inside[inside.length - 1] }] : [];
  });
  const wordEdges = new Set(spans.flatMap((span) => [span.first, span.last + 1]));
  return {
    cells,
    span: cells,
    phoneLabels: centres,
    boundaryLabels: [],
    wordLabels: spans.map((span) => ({ position: (span.first + span.last + 1) / 2, label: span.label })),
    phoneBoundaries: inner.filter((edge) => !wordEdges.has(edge)),
    wordBoundaries: [...wordEdges].filter((edge) => edge > 0 && edge < cells).sort((a, b) => a - b),
  };
}

/** `value` if it is 'mean' or an index below `count`, else a ViewError naming the file and its range. */
function checkIndex(value: IndexOrMean, count: number, option: string, what: string, file: string): IndexOrMean {
  if (value === 'mean' || value < count) return value;
  throw new ViewError(`${option} ${value}: ${file} has ${count} ${what} (0..${count - 1})`);
}
