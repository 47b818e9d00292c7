/**
 * What the viewer computes for a view: one cell per map on screen, each with its engine request, its word
 * selection and the first frame of its rows and columns. Pure: tested in Node.
 */
import type { WordSelection } from '../data/frames.ts';
import { selectWords } from '../data/frames.ts';
import type { AttentionMapRequest, Crop, MapRequest } from '../engine.ts';
import type { IndexOrMean } from '../view/spec.ts';
import type { LoadedUtterance } from './loadFiles.ts';
import type { ViewerParams } from './params.ts';
import { otherUtterance } from './params.ts';

export function tensorId(utteranceIndex: number): string {
  return `u${utteranceIndex}`;
}

/** Boundary line positions relative to the map's first frame. */
export function boundaryPositions(selection: WordSelection, frameOrigin: number): { phones: number[]; words: number[] } {
  return {
    phones: selection.phoneBoundaries.map((p) => p - frameOrigin),
    words: selection.wordBoundaries.map((p) => p - frameOrigin),
  };
}

/** The lines of a pooled map of `count` segments: on the edges between its rows (and columns), in map units. */
export function segmentEdges(count: number): { phones: number[]; words: number[] } {
  return { phones: Array.from({ length: Math.max(0, count - 1) }, (_, i) => i + 1), words: [] };
}

/** One map of a view. */
export interface PlannedCell {
  readonly title: string;
  readonly layer: number;
  readonly head: IndexOrMean;
  readonly request: MapRequest;
  /** The word selection behind its crop (every word with --full), and the first frame of its rows and columns. */
  readonly selection?: WordSelection;
  readonly frameOrigin: number;
  /** Labels of a pooled map's rows and columns (one per segment); its axes are segments, not frames. */
  readonly segmentLabels?: readonly string[];
}

/** What to compute for a view: the cells' requests, and the word selection behind the crop. */
export interface ViewPlan {
  readonly cells: PlannedCell[];
  readonly selection?: WordSelection;
  readonly frameOrigin: number;
}

/** "H3", or "mean" for the mean of the heads. */
export function headName(head: IndexOrMean): string {
  return head === 'mean' ? 'mean' : `H${head}`;
}

/** The word selection and crop of an utterance for params' word range (clamped to its words). */
function cropOf(params: ViewerParams, utterance: LoadedUtterance): { selection?: WordSelection; crop?: Crop; frameOrigin: number } {
  const { shape } = utterance.attention;
  const frames = Math.min(shape.rows, shape.cols);
  const alignment = utterance.alignment;
  const spf = utterance.spf?.samplesPerFrame;
  let selection: WordSelection | undefined;
  if (alignment && spf && alignment.words.length > 0) {
    const last = alignment.words.length - 1;
    // Every frame is labelled with every word, not with the words the slider last selected.
    selection = params.full
      ? selectWords(alignment, spf, 0, last)
      : selectWords(alignment, spf, Math.min(params.wordStart, last), Math.min(Math.max(params.wordEnd, params.wordStart), last));
  }
  if (params.full || !selection) return { selection, frameOrigin: 0 };
  const start = Math.min(selection.crop.startFrame, frames - 1);
  const end = Math.min(selection.crop.stopFrame + 1, frames);
  return { selection, crop: { rowStart: start, rowEnd: end, colStart: start, colEnd: end }, frameOrigin: start };
}

/** Pure: the requests a view needs. */
export function planView(params: ViewerParams, utterance: LoadedUtterance, all: readonly LoadedUtterance[]): ViewPlan {
  const { shape } = utterance.attention;
  const frames = Math.min(shape.rows, shape.cols);
  const { selection, crop, frameOrigin } = cropOf(params, utterance);
  const id = tensorId(params.utterance);
  const attention = (layer: number, head: IndexOrMean, tensor = id, region = crop): AttentionMapRequest => ({
    kind: 'attention',
    tensorId: tensor,
    layer,
    head,
    softmax: params.softmax,
    crop: region,
  });
  const cells: PlannedCell[] = [];
  const push = (title: string, layer: number, head: IndexOrMean, request: MapRequest) => cells.push({ title, layer, head, request, selection, frameOrigin });
  const other = otherUtterance(params, all.length);
  switch (params.view) {
    case 'heads':
      for (let head = 0; head < shape.heads; head++) push(`L${params.layer} H${head}`, params.layer, head, attention(params.layer, head));
      push(`L${params.layer} mean`, params.layer, 'mean', attention(params.layer, 'mean'));
      break;
    case 'model':
      for (let layer = 0; layer < shape.layers; layer++) {
        for (let head = 0; head < shape.heads; head++) push(`L${layer} H${head}`, layer, head, attention(layer, head));
      }
      break;
    case 'pair': {
      // Two utterances side by side at the same layer and head, each cropped to the same word indices of its own words.
      push(`${utterance.name} L${params.layer} ${headName(params.head)}`, params.layer, params.head, attention(params.layer, params.head));
      if (other === undefined) break;
      const otherUtterance = all[other];
      const otherCrop = cropOf(params, otherUtterance);
      const otherShape = otherUtterance.attention.shape;
      const layer = Math.min(params.layer, otherShape.layers - 1);
      const head = params.head === 'mean' ? 'mean' : Math.min(params.head, otherShape.heads - 1);
      cells.push({
        title: `${otherUtterance.name} L${layer} ${headName(head)}`,
        layer,
        head,
        request: attention(layer, head, tensorId(other), otherCrop.crop),
        selection: otherCrop.selection,
        frameOrigin: otherCrop.frameOrigin,
      });
      break;
    }
    case 'pooled': {
      // The phone-level view of the STEVE paper: each (query segment, key segment) block reduced to its mean or max.
      const size = crop ? crop.rowEnd - crop.rowStart : frames;
      const segments = (params.poolUnit === 'phones' ? selection?.phones : selection?.words) ?? [];
      const ranges = segments
        .map((segment) => ({
          label: segment.label,
          start: Math.min(Math.max(segment.startFrame - frameOrigin, 0), size),
          end: Math.min(Math.max(segment.stopFrame - frameOrigin, 0), size),
        }))
        .filter((range) => range.end > range.start);
      if (ranges.length === 0) {
        push(`L${params.layer} ${headName(params.head)}`, params.layer, params.head, attention(params.layer, params.head));
        break;
      }
      cells.push({
        title: `L${params.layer} ${headName(params.head)} pooled onto ${params.poolUnit} (${params.poolStat})`,
        layer: params.layer,
        head: params.head,
        request: { kind: 'segmentPool', source: attention(params.layer, params.head), rowSegments: ranges, colSegments: ranges, stat: params.poolStat },
        frameOrigin: 0,
        segmentLabels: ranges.map((range) => range.label),
      });
      break;
    }
    case 'rollout':
      // Through the layer the layer control names: layers 0..layer multiplied in.
      push(`rollout through layer ${params.layer}${params.rolloutCrop === 'within' ? ' (within the crop)' : ''}`, params.layer, params.head, {
        kind: 'rollout',
        tensorId: id,
        layerEnd: params.layer + 1,
        heads: params.head,
        // Rollout needs probabilities: raw scores get STEVE's row softmax, a softmaxed tensor is used as stored.
        softmax: params.softmax === 'none' ? 'none' : params.rolloutCrop === 'within' ? params.softmax : 'row',
        crop,
        cropMode: params.rolloutCrop === 'within' && crop ? 'within' : 'after',
      });
      break;
    case 'difference': {
      const otherName = other === undefined ? '' : ` of ${all[other].name}`;
      push(
        `L${params.layer} ${headName(params.head)} \u2212 L${params.compareLayer} ${headName(params.compareHead)}${otherName}`,
        params.layer,
        params.head,
        { kind: 'difference', minuend: attention(params.layer, params.head), subtrahend: attention(params.compareLayer, params.compareHead, tensorId(other ?? params.utterance)) },
      );
      break;
    }
    default:
      push(`L${params.layer} ${headName(params.head)}`, params.layer, params.head, attention(params.layer, params.head));
  }
  return { cells, selection, frameOrigin };
}
