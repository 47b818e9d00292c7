/**
 * ViewerParams: the one object that says what the viewer shows, flat so that Tweakpane can bind each field. It is
 * a ViewSpec (src/view/spec.ts) spelt for controls, plus what only a live viewer has (which loaded utterance, the
 * debug panel). This file maps ViewerParams <-> ViewSpec <-> URL: the URL hash holds the view's `steve render`
 * options (`#view=heads&layer=3&words=0:2`, a switch as `full=`), with `u` (the utterance's index) and `debug`.
 * Pure: no DOM here, so it is tested in Node.
 */
import type { SoftmaxScope } from '../compute/region.ts';
import type { ColormapName, ColorRange, IndexOrMean, PoolStat, PoolUnit, RolloutCrop, ScaleName, ViewKind, ViewOptionValues, ViewSpec } from '../view/spec.ts';
import { DEFAULT_CLIP, formatViewArgs, ignoredViewOptions, parseViewArgs, parseViewSpec, VIEW_OPTIONS, ViewError, viewOptionValues } from '../view/spec.ts';

export interface ViewerParams {
  /** Index of the utterance shown. */
  utterance: number;
  /** First and last word of the crop, inclusive, counted in the alignment's words (--words A:B). */
  wordStart: number;
  wordEnd: number;
  /** Every frame of the tensor instead of the word crop (--full). */
  full: boolean;
  /** The layer; a rollout runs through layers 0..layer. */
  layer: number;
  head: IndexOrMean;
  softmax: SoftmaxScope;
  view: ViewKind;
  colormap: ColormapName;
  scale: ScaleName;
  /** Percentiles the colour scale spans with scale 'percentile' (--clip low:high). */
  clipLow: number;
  clipHigh: number;
  /** Interpolate between frames (STEVE draws with matplotlib's 'bessel'); off shows each frame as a cell. */
  smooth: boolean;
  /** What a pooled view pools onto: phones, words, or blocks of that many frames ('5': --pool 5). */
  poolUnit: ViewerPoolUnit;
  poolStat: PoolStat;
  /** The other map of a difference: layer and head of the same utterance, or of `compareUtterance`. */
  compareLayer: number;
  compareHead: IndexOrMean;
  /** The other utterance of a difference or pair; -1: the same one (a pair then shows the next utterance). */
  compareUtterance: number;
  rolloutCrop: RolloutCrop;
  colorRange: ColorRange;
  /** Show the debug panel (STEVE's debug=True). Not part of the view. */
  debug: boolean;
}

/** --pool's values as the viewer keeps them: a segment tier, or a block size of 2 frames or more as text. */
export type ViewerPoolUnit = PoolUnit | `${number}`;

export const DEFAULT_PARAMS: Readonly<ViewerParams> = {
  utterance: 0,
  wordStart: 0,
  wordEnd: 2,
  full: false,
  layer: 0,
  head: 0,
  softmax: 'row',
  view: 'map',
  colormap: 'viridis',
  scale: 'linear',
  clipLow: DEFAULT_CLIP[0],
  clipHigh: DEFAULT_CLIP[1],
  smooth: false,
  poolUnit: 'phones',
  poolStat: 'mean',
  compareLayer: 0,
  compareHead: 1,
  compareUtterance: -1,
  rolloutCrop: 'after',
  colorRange: 'shared',
  debug: false,
};

/** What a ViewSpec needs to know of the loaded utterances: names of their tensor files, and their sizes. */
export interface LoadedNames {
  /** Per utterance: its tensor's file name (what --compare-attention names) and its display name. */
  readonly files: readonly { readonly attention: string; readonly name: string }[];
  readonly layers: number;
  /** Words of each utterance's alignment. */
  readonly words: readonly number[];
}

/** The other utterance of a difference or pair, as an index into the loaded ones; undefined: the same utterance. */
export function otherUtterance(params: Pick<ViewerParams, 'view' | 'utterance' | 'compareUtterance'>, count: number): number | undefined {
  if (params.compareUtterance >= 0 && params.compareUtterance < count && params.compareUtterance !== params.utterance) return params.compareUtterance;
  // A pair of an utterance with itself says nothing: it shows the next one.
  return params.view === 'pair' && count > 1 ? (params.utterance + 1) % count : undefined;
}

/** The ViewSpec of what params show: `steve render` with these options draws the same figure. */
export function specFromParams(params: ViewerParams, loaded: LoadedNames): ViewSpec {
  const other = otherUtterance(params, loaded.files.length);
  const grid = params.view === 'heads' || params.view === 'model';
  const values: ViewOptionValues = {
    view: params.view,
    // The defaults are left out: layer 0 (a rollout: the last layer), head 0 (a rollout: the mean of the heads).
    layer: params.view === 'model' || params.layer === (params.view === 'rollout' ? loaded.layers - 1 : 0) ? undefined : String(params.layer),
    head: grid ? undefined : params.head === (params.view === 'rollout' ? 'mean' : 0) ? undefined : String(params.head),
    words: params.full ? undefined : `${params.wordStart}:${params.wordEnd}`,
    full: params.full || undefined,
    softmax: params.softmax,
    pool: params.view === 'pooled' ? params.poolUnit : undefined,
    poolStat: params.poolStat,
    compareLayer: params.view === 'difference' ? String(params.compareLayer) : undefined,
    compareHead: params.view === 'difference' ? String(params.compareHead) : undefined,
    compareAttention: other === undefined ? undefined : loaded.files[other].attention,
    rolloutCrop: params.view === 'rollout' ? params.rolloutCrop : undefined,
    colormap: params.view === 'difference' ? 'diverging' : params.colormap,
    scale: params.view === 'difference' && params.scale === 'log' ? 'linear' : params.scale,
    clip: `${params.clipLow}:${params.clipHigh}`,
    colorRange: params.colorRange,
    smooth: params.smooth || undefined,
  };
  return parseViewSpec(values);
}

/** The view's `steve render` options as an argument list (window.steve.viewCommand()). */
export function viewArgsOf(params: ViewerParams, loaded: LoadedNames): string[] {
  return formatViewArgs(specFromParams(params, loaded));
}

/**
 * The params that show `spec` on the loaded utterances, keeping `current`'s utterance and debug panel. What the
 * viewer cannot show (a layer mean, STEVE's round-up frames, a file that is not loaded) is a
 * ViewError naming the option.
 */
export function paramsFromSpec(spec: ViewSpec, current: ViewerParams, loaded: LoadedNames): ViewerParams {
  const index = (option: string, value: IndexOrMean | undefined, fallback: number): number => {
    if (value === 'mean') throw new ViewError(`${option} mean: the viewer shows one layer at a time; choose a layer index`);
    return value ?? fallback;
  };
  if (spec.roundUp) throw new ViewError("--round-up: the viewer rounds frame numbers to nearest, not up as STEVE's ceil mode does");
  let compareUtterance = -1;
  if (spec.compare?.attention !== undefined) {
    const wanted = spec.compare.attention;
    const base = (path: string) => path.split(/[\\/]/).pop() ?? path;
    compareUtterance = loaded.files.findIndex((file) => file.attention === wanted || base(file.attention) === base(wanted) || file.name === wanted);
    if (compareUtterance < 0) throw new ViewError(`--compare-attention ${wanted}: no loaded utterance has that tensor file`);
  }
  const lastWord = Math.max(0, (loaded.words[current.utterance] ?? 1) - 1);
  return {
    ...current,
    view: spec.view,
    layer: index('--layer', spec.layer, spec.view === 'rollout' ? loaded.layers - 1 : 0),
    head: spec.head ?? (spec.view === 'rollout' ? 'mean' : 0),
    // --full keeps the slider where it was (its words are not shown); no --words at all means every word.
    wordStart: spec.words ? spec.words[0] : spec.full ? current.wordStart : 0,
    wordEnd: spec.words ? spec.words[1] : spec.full ? current.wordEnd : lastWord,
    full: spec.full,
    softmax: spec.softmax,
    poolUnit: spec.pool ? ('unit' in spec.pool ? spec.pool.unit : `${spec.pool.block}`) : current.poolUnit,
    poolStat: spec.poolStat,
    compareLayer: spec.view === 'difference' ? index('--compare-layer', spec.compare?.layer, 0) : current.compareLayer,
    compareHead: spec.view === 'difference' ? (spec.compare?.head ?? 0) : current.compareHead,
    compareUtterance,
    rolloutCrop: spec.rolloutCrop ?? current.rolloutCrop,
    colormap: spec.colormap,
    scale: spec.scale,
    clipLow: spec.clip[0],
    clipHigh: spec.clip[1],
    colorRange: spec.colorRange,
    smooth: spec.smooth,
  };
}

/** The URL hash for params: the view's options, the utterance and the debug panel; empty for the default view. */
export function paramsToHash(params: ViewerParams, loaded: LoadedNames): string {
  const search = new URLSearchParams();
  if (params.utterance !== 0) search.set('u', String(params.utterance));
  const args = viewArgsOf(params, loaded);
  for (let i = 0; i < args.length; i++) {
    const option = VIEW_OPTIONS.find((candidate) => candidate.flag === args[i])!;
    search.set(option.flag.slice(2), option.value ? args[++i] : '');
  }
  if (params.debug) search.set('debug', '1');
  const text = search.toString();
  return text ? `#${text}` : '';
}

/**
 * The sentences `steve render` writes to stderr for options in `args` that do nothing for their view (--clip with
 * a linear scale, ...): the viewer shows them for a link or setView that carries such options. Args that do not
 * parse have none (their ViewError is reported instead).
 */
export function ignoredOptionNotes(args: readonly string[]): string[] {
  try {
    return ignoredViewOptions(viewOptionValues(args), parseViewArgs(args)).map((option) => option.message);
  } catch (error) {
    if (error instanceof ViewError) return [];
    throw error;
  }
}

/**
 * Params from a URL hash, over `current` (the defaults, at start). A hash whose view options do not parse, or
 * that the viewer cannot show, leaves the view as it was and comes back as `problem` (one sentence, for the
 * status line): an old or hand-edited link still opens. `ignored`: the link's options that do nothing for its view.
 */
export function paramsFromHash(hash: string, current: ViewerParams, loaded: LoadedNames): { params: ViewerParams; problem?: string; ignored: string[] } {
  const search = new URLSearchParams(hash.replace(/^#/, ''));
  const utterance = Number(search.get('u') ?? current.utterance);
  const base: ViewerParams = {
    ...current,
    utterance: Number.isInteger(utterance) && utterance >= 0 ? utterance : current.utterance,
    debug: search.get('debug') === '1',
  };
  const args: string[] = [];
  for (const [key, value] of search) {
    if (key === 'u' || key === 'debug') continue;
    args.push(`--${key}`);
    if (value !== '') args.push(value);
  }
  // No view options at all (a bare page): the view is left as it is, not widened to every word.
  if (args.length === 0) return { params: base, ignored: [] };
  try {
    return { params: paramsFromSpec(parseViewArgs(args), base, loaded), ignored: ignoredOptionNotes(args) };
  } catch (error) {
    if (!(error instanceof ViewError)) throw error;
    return { params: base, problem: `the link's view was not shown: ${error.message}`, ignored: [] };
  }
}

/** What the loaded data allows: counts of utterances, words, layers and heads. */
export interface ParamLimits {
  utterances: number;
  /** Words of each utterance's alignment. */
  words: number[];
  layers: number;
  heads: number;
}

/**
 * Brings params inside what the loaded data allows (after a file load or a shared link from other data), and
 * keeps the look a difference needs: the diverging colormap, and no log scale.
 */
export function clampParams(params: ViewerParams, limits: ParamLimits): ViewerParams {
  const clampInt = (value: number, low: number, high: number) => Math.min(Math.max(Math.round(value), low), high);
  const clampHead = (head: IndexOrMean) => (head === 'mean' ? head : clampInt(head, 0, limits.heads - 1));
  const utterance = clampInt(params.utterance, 0, Math.max(0, limits.utterances - 1));
  const words = Math.max(1, limits.words[utterance] ?? 1);
  const wordStart = clampInt(params.wordStart, 0, words - 1);
  const difference = params.view === 'difference';
  const clipLow = Math.min(Math.max(params.clipLow, 0), 99.5);
  return {
    ...params,
    utterance,
    wordStart,
    wordEnd: clampInt(params.wordEnd, wordStart, words - 1),
    layer: clampInt(params.layer, 0, limits.layers - 1),
    head: clampHead(params.head),
    compareLayer: clampInt(params.compareLayer, 0, limits.layers - 1),
    compareHead: clampHead(params.compareHead),
    compareUtterance: clampInt(params.compareUtterance, -1, limits.utterances - 1),
    clipLow,
    clipHigh: Math.min(Math.max(params.clipHigh, clipLow + 0.5), 100),
    colormap: difference ? 'diverging' : params.colormap,
    scale: difference && params.scale === 'log' ? 'linear' : params.scale,
    // --softmax crop has no crop to work within when a rollout rolls out every frame.
    rolloutCrop: params.view === 'rollout' && params.softmax === 'crop' ? 'within' : params.rolloutCrop,
  };
}

/**
 * What clampParams changed that a view's options asked for (a layer, head or word the data does not have), as one
 * sentence naming the option; undefined when nothing was. A link or setView() never falls back silently.
 */
export function clampedAway(asked: ViewerParams, shown: ViewerParams): string | undefined {
  const options: [keyof ViewerParams, string][] = [
    ['layer', '--layer'],
    ['head', '--head'],
    ['wordStart', '--words'],
    ['wordEnd', '--words'],
    ['compareLayer', '--compare-layer'],
    ['compareHead', '--compare-head'],
  ];
  const changed = options.find(([key]) => asked[key] !== shown[key]);
  if (!changed) return undefined;
  const [key, option] = changed;
  return `${option} ${String(asked[key])} is outside the loaded data: showing ${String(shown[key])}`;
}
