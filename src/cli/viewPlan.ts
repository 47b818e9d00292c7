/**
 * A ViewSpec meets an utterance: the maps to compute (one "recipe" per map of the figure), STEVE's word selection
 * and crop, how the axes are labelled, and the titles. Pure; every check against the tensor and the alignment
 * (layer and head in range, --words inside the alignment, the other tensor of a difference the same size) happens
 * here, as one CliError sentence naming the file.
 */
import type { FrameSegment, WordSelection } from '../data/frames.ts';
import { selectWords } from '../data/frames.ts';
import type { AttentionShape } from '../data/tensor.ts';
import type { Utterance } from '../data/utterance.ts';
import type { AttentionMapRequest, Crop, HeadSelector, LayerSelector, MapRequest } from '../engine.ts';
import { CliError } from './cliError.ts';
import type { ViewSpec } from '../view/spec.ts';

/** One map of the figure or matrix. */
export interface PlannedCell {
  /** "L3 H5", "L3 mean", ... */
  readonly title: string;
  readonly layer: LayerSelector;
  readonly head: HeadSelector;
  /** An engine request: attention, difference, segmentPool, blockPool or rollout. */
  readonly request: MapRequest;
}

/** What the rows and columns of the computed maps are. */
export type PlanAxes =
  /** Frames, `framesPerCell` to a map cell (1, or k for block pooling), starting at the plan's frameOrigin. */
  | { readonly kind: 'frames'; readonly framesPerCell: number }
  /** One cell per phone or word. */
  | { readonly kind: 'segments'; readonly unit: 'phones' | 'words'; readonly segments: readonly FrameSegment[] };

/** Everything render and export need for one utterance. */
export interface ViewPlan {
  readonly cells: readonly PlannedCell[];
  /** Cells per row of a grid figure. */
  readonly columns: number;
  readonly selection?: WordSelection;
  /** The frames shown (ends exclusive); the whole map when no words are selected or with --full. */
  readonly crop: Crop;
  readonly axes: PlanAxes;
  readonly title: string;
  readonly subtitle: string;
  readonly colorbarLabel: string;
  /** Differences are drawn with the diverging colormap, symmetric about 0. */
  readonly diverging: boolean;
}

/** The tensors a plan refers to: ids given to engine.addTensor. */
export interface PlanTensors {
  readonly tensorId: string;
  /** The other tensor of a difference (--compare-attention), when there is one. */
  readonly compare?: { readonly tensorId: string; readonly fileName: string; readonly shape: AttentionShape };
}

/** Plans a view of `utterance`; throws a CliError when the spec does not fit the data. */
export function planView(spec: ViewSpec, utterance: Utterance, tensors: PlanTensors): ViewPlan {
  const { attention } = utterance;
  const shape = attention.shape;
  const file = attention.fileName;
  const selection = selectView(spec, utterance);
  const frames = Math.min(shape.rows, shape.cols);
  const crop: Crop =
    spec.full || !selection
      ? { rowStart: 0, rowEnd: shape.rows, colStart: 0, colEnd: shape.cols }
      : {
          rowStart: Math.min(selection.crop.startFrame, frames - 1),
          rowEnd: Math.min(selection.crop.stopFrame + 1, frames),
          colStart: Math.min(selection.crop.startFrame, frames - 1),
          colEnd: Math.min(selection.crop.stopFrame + 1, frames),
        };
  const cropped = crop.rowStart > 0 || crop.colStart > 0 || crop.rowEnd < shape.rows || crop.colEnd < shape.cols;
  const layer = checkIndex(spec.layer ?? 0, shape.layers, '--layer', 'layers', file);
  const head = checkIndex(spec.head ?? 0, shape.heads, '--head', 'heads', file);
  const attentionRequest = (l: LayerSelector, h: HeadSelector, tensorId = tensors.tensorId): AttentionMapRequest => ({
    kind: 'attention',
    tensorId,
    layer: l,
    head: h,
    softmax: spec.softmax,
    crop: cropped ? crop : undefined,
  });
  const name = (l: LayerSelector, h: HeadSelector) => `L${l === 'mean' ? 'mean' : l} ${h === 'mean' ? 'mean' : `H${h}`}`;
  const single = (request: MapRequest) => [{ title: name(layer, head), layer, head, request }];
  const frameAxes: PlanAxes = { kind: 'frames', framesPerCell: 1 };
  const base = { selection, crop, columns: 1, diverging: false, title: titleOf(selection, spec) };
  const attentionLabel = spec.softmax === 'none' ? 'attention (as stored)' : 'attention (softmax)';
  const what = `Encoder attention ${describeLayer(layer)}, ${describeHead(head)}`;
  const softmax = { none: 'no softmax', row: 'softmax over rows', crop: 'softmax within the crop' }[spec.softmax];
  const subtitle = (text: string) => `Utterance: ${utterance.name} | ${text} | ${softmax}`;

  switch (spec.view) {
    case 'map':
      return { ...base, cells: single(attentionRequest(layer, head)), axes: frameAxes, subtitle: subtitle(what), colorbarLabel: attentionLabel };
    case 'heads': {
      const cells: PlannedCell[] = Array.from({ length: shape.heads }, (_, h) => ({
        title: name(layer, h),
        layer,
        head: h,
        request: attentionRequest(layer, h),
      }));
      cells.push({ title: name(layer, 'mean'), layer, head: 'mean', request: attentionRequest(layer, 'mean') });
      return {
        ...base,
        cells,
        columns: Math.ceil(Math.sqrt(cells.length)),
        axes: frameAxes,
        subtitle: subtitle(`Encoder attention ${describeLayer(layer)}, every head and their mean`),
        colorbarLabel: `${attentionLabel}, each map its own range`,
      };
    }
    case 'model': {
      const cells: PlannedCell[] = [];
      for (let l = 0; l < shape.layers; l++) {
        for (let h = 0; h < shape.heads; h++) cells.push({ title: name(l, h), layer: l, head: h, request: attentionRequest(l, h) });
      }
      return {
        ...base,
        cells,
        columns: shape.heads,
        axes: frameAxes,
        subtitle: subtitle('Encoder attention, every layer (rows) and head (columns)'),
        colorbarLabel: `${attentionLabel}, each map its own range`,
      };
    }
    case 'pooled': {
      const pool = spec.pool!;
      const source = attentionRequest(layer, head);
      if ('block' in pool) {
        return {
          ...base,
          cells: single({ kind: 'blockPool', source, block: pool.block, stat: spec.poolStat }),
          axes: { kind: 'frames', framesPerCell: pool.block },
          subtitle: subtitle(`${what}, ${spec.poolStat} over ${pool.block} x ${pool.block} frames`),
          colorbarLabel: `${attentionLabel}, ${spec.poolStat} of each block`,
        };
      }
      if (!selection) throw new CliError(`--pool ${pool.unit} needs an alignment: give --wav (with --alignments none, STEVE's dummy 40 ms phones and 200 ms words are used)`);
      if (spec.full) throw new CliError(`--pool ${pool.unit} pools the selected words' phones: leave out --full`);
      const segments = pool.unit === 'phones' ? selection.phones : selection.words;
      if (segments.length === 0) throw new CliError(`${file}: no ${pool.unit} lie wholly inside words ${selection.firstWord}..${selection.lastWord}`);
      // STEVE's phone runs from its start frame to its stop frame, where the next phone starts: [start, stop).
      // Clamped to the map, which ends early when the alignment runs past the tensor's frames.
      const size = crop.rowEnd - crop.rowStart;
      const ranges = segments.map((segment) => {
        const start = Math.min(Math.max(0, segment.startFrame - crop.rowStart), size);
        return { start, end: Math.min(Math.max(start, segment.stopFrame - crop.rowStart), size) };
      });
      return {
        ...base,
        cells: single({ kind: 'segmentPool', source, rowSegments: ranges, colSegments: ranges, stat: spec.poolStat }),
        axes: { kind: 'segments', unit: pool.unit, segments },
        subtitle: subtitle(`${what}, ${spec.poolStat} over each ${pool.unit === 'phones' ? 'phone' : 'word'}`),
        colorbarLabel: `${attentionLabel}, ${spec.poolStat} of each ${pool.unit === 'phones' ? 'phone' : 'word'}`,
      };
    }
    case 'difference': {
      const compare = spec.compare!;
      const other = tensors.compare;
      const otherShape = other?.shape ?? shape;
      const otherFile = other?.fileName ?? file;
      if (other && (other.shape.rows !== shape.rows || other.shape.cols !== shape.cols)) {
        throw new CliError(
          `${other.fileName} has ${other.shape.rows} x ${other.shape.cols} maps but ${file} has ${shape.rows} x ${shape.cols}: a difference needs maps of one size`,
        );
      }
      const compareLayer = checkIndex(compare.layer, otherShape.layers, '--compare-layer', 'layers', otherFile);
      const compareHead = checkIndex(compare.head, otherShape.heads, '--compare-head', 'heads', otherFile);
      const of = other ? ` of ${other.fileName}` : '';
      const title = `${name(layer, head)} - ${name(compareLayer, compareHead)}${of}`;
      return {
        ...base,
        cells: [
          {
            title,
            layer,
            head,
            request: { kind: 'difference', minuend: attentionRequest(layer, head), subtrahend: attentionRequest(compareLayer, compareHead, other?.tensorId) },
          },
        ],
        axes: frameAxes,
        diverging: true,
        subtitle: subtitle(title),
        colorbarLabel: 'difference',
      };
    }
    case 'pair':
      throw new CliError('--view pair is not drawn by steve render yet: render each utterance with --view map');
    case 'rollout': {
      if (layer === 'mean') throw new CliError('--view rollout multiplies layers 0 .. --layer N in order: --layer mean does not apply');
      if (shape.rows !== shape.cols) throw new CliError(`${file}: rollout needs square maps (keys = queries), got ${shape.rows} x ${shape.cols}`);
      const last = spec.layer === undefined ? shape.layers - 1 : (layer as number);
      const rolloutHead = spec.head ?? 'mean';
      return {
        ...base,
        cells: [
          {
            title: `rollout L0-L${last}`,
            layer: last,
            head: rolloutHead,
            request: {
              kind: 'rollout',
              tensorId: tensors.tensorId,
              layerEnd: last + 1,
              heads: rolloutHead,
              softmax: spec.softmax,
              crop: cropped ? crop : undefined,
              // Rollout mixes every frame with every other: by default the crop is cut from the rollout of all
              // frames. Softmax within the crop asks for the rollout of the cropped maps instead.
              cropMode: spec.softmax === 'crop' ? 'within' : 'after',
            },
          },
        ],
        axes: frameAxes,
        subtitle: subtitle(`Attention rollout through layers 0..${last}, ${describeHead(rolloutHead)}`),
        colorbarLabel: 'rollout',
      };
    }
  }
}

/** STEVE's word selection for --words (every word when not given), or undefined without an alignment. */
function selectView(spec: ViewSpec, utterance: Utterance): WordSelection | undefined {
  const { alignment, spf } = utterance;
  if (!alignment || !spf || alignment.words.length === 0) {
    if (spec.words) {
      throw new CliError(
        `--words needs an alignment: give --wav${utterance.spf ? '' : ' or --spf'} (${utterance.attention.fileName} has ${alignment ? 'no words' : 'none'})`,
      );
    }
    return undefined;
  }
  const count = alignment.words.length;
  const [first, last] = spec.words ?? [0, count - 1];
  if (last >= count) {
    throw new CliError(`--words ${first}:${last}: ${utterance.audioFileName ?? utterance.name} has ${count} words (0..${count - 1})`);
  }
  return selectWords(alignment, spf.samplesPerFrame, first, last, spec.roundUp);
}

/** `value` if it is 'mean' or an index below `count`, else a CliError naming the file and its range. */
function checkIndex(value: number | 'mean', count: number, option: string, what: string, file: string): number | 'mean' {
  if (value === 'mean' || value < count) return value;
  throw new CliError(`${option} ${value}: ${file} has ${count} ${what} (0..${count - 1})`);
}

function describeLayer(layer: LayerSelector): string {
  return layer === 'mean' ? 'mean of layers' : typeof layer === 'number' ? `layer ${layer}` : `layers ${layer.join(',')}`;
}

function describeHead(head: HeadSelector): string {
  return head === 'mean' ? 'mean of heads' : typeof head === 'number' ? `head ${head}` : `heads ${head.join(',')}`;
}

/** STEVE's figure title: the selected words. */
function titleOf(selection: WordSelection | undefined, spec: ViewSpec): string {
  if (!selection || spec.full) return 'All frames';
  return `Word(s): '${selection.words.map((word) => word.label).join(' ')}'`;
}
