/**
 * The provenance text of a view: the figure title (which words), the subtitle (utterance, what the map is,
 * softmax, colour scale), each map's name ("L3 H5") and the colour bar's quantity. The viewer's on-screen title,
 * its exports and `steve render` all print these, so the same view is described the same way everywhere. Pure.
 */
import type { WordSelection } from '../data/frames.ts';
import type { SoftmaxScope } from '../compute/region.ts';
import type { IndexOrMean, PoolStat, PoolSpec, ScaleName } from './spec.ts';

/** A map's name: "L3 H5", "L3 mean" (head mean), "Lmean H2". */
export function mapName(layer: IndexOrMean, head: IndexOrMean): string {
  return `L${layer} ${head === 'mean' ? 'mean' : `H${head}`}`;
}

/** STEVE's figure title: the selected words, or "All frames". */
export function viewTitle(selection: WordSelection | undefined, full: boolean): string {
  if (!selection || full) return 'All frames';
  return `Word(s): '${selection.words.map((word) => word.label).join(' ')}'`;
}

/**
 * A pair's title: each utterance with its words, "LDC93S1: words 0–1 'she had' | arctic_a0001: words 0–1 'author
 * of'" (each utterance's own words at the same indices), or "all frames".
 */
export function pairTitle(sides: readonly { readonly name: string; readonly selection?: WordSelection }[], full: boolean): string {
  return sides.map(({ name, selection }) => `${name}: ${selection && !full ? wordRange(selection) : 'all frames'}`).join(' | ');
}

/** "words 0–1 'she had'", "word 3 'dark'". */
function wordRange(selection: WordSelection): string {
  const { firstWord, lastWord } = selection;
  const range = firstWord === lastWord ? `word ${firstWord}` : `words ${firstWord}–${lastWord}`;
  return `${range} '${selection.words.map((word) => word.label).join(' ')}'`;
}

/** "layer 3", "mean of layers". */
export function describeLayer(layer: IndexOrMean): string {
  return layer === 'mean' ? 'mean of layers' : `layer ${layer}`;
}

/** "head 5", "mean of heads". */
export function describeHead(head: IndexOrMean): string {
  return head === 'mean' ? 'mean of heads' : `head ${head}`;
}

/** What softmax made the values. */
export function describeSoftmax(softmax: SoftmaxScope): string {
  return { none: 'no softmax', row: 'softmax over rows', crop: 'softmax within the crop' }[softmax];
}

/**
 * The quantity a map's values are: "attention (softmax)"; without softmax, "attention (as stored)" for a tensor
 * whose rows already sum to 1 (softmax outputs), else "raw score".
 */
export function attentionQuantity(softmax: SoftmaxScope, softmaxed = false): string {
  if (softmax !== 'none') return 'attention (softmax)';
  return softmaxed ? 'attention (as stored)' : 'raw score';
}

/** "mean over each phone", "max over 4 x 4 frames". */
export function describePooling(pool: PoolSpec, stat: PoolStat): string {
  return 'block' in pool ? `${stat} over ${pool.block} x ${pool.block} frames` : `${stat} over each ${pool.unit === 'phones' ? 'phone' : 'word'}`;
}

/** The colour scale as the subtitle states it: "linear scale", "log scale", "p1–p99 clipped", plus per-map. */
export function describeScale(scale: ScaleName, clip: readonly [number, number], perMap: boolean): string {
  const text = scale === 'log' ? 'log scale' : scale === 'percentile' ? `p${clip[0]}–p${clip[1]} clipped scale` : 'linear scale';
  return perMap ? `${text}, each map its own range` : text;
}

/** Separator between the parts of a subtitle ("Utterance: X | layer 1, head 2 | ..."): where a figure wraps it. */
export const SUBTITLE_SEPARATOR = ' | ';

/** The subtitle: "Utterance: NAME | WHAT | SOFTMAX | SCALE". */
export function viewSubtitle(utteranceName: string, what: string, softmax: SoftmaxScope, scale: string): string {
  return [`Utterance: ${utteranceName}`, what, describeSoftmax(softmax), scale].join(SUBTITLE_SEPARATOR);
}
