/**
 * ViewSpec: the one vocabulary for "a view" of an attention tensor, shared by the viewer, `steve render`,
 * `steve export` and the benchmark. What the figure is (view kind, layer and head, words or every frame, softmax
 * scope, pooling, the other map of a difference or pair, rollout crop) and how it looks (colormap, scale, clip,
 * one colour range for a grid or one per map, smoothing).
 *
 * Its public spelling is the `steve render` options (VIEW_OPTIONS): `parseViewArgs` reads them from an argument
 * list (the viewer's URL hash and `window.steve.setView(args)` hold the same list), `parseViewSpec` from the option
 * values Commander hands over, and `formatViewArgs` writes a spec back as arguments (defaults left out), so
 * `parseViewArgs(formatViewArgs(spec))` gives `spec` again.
 *
 * Checks here are those the options alone allow; checks against the data (layer and head in range, words inside
 * the alignment) are in plan.ts. Both throw ViewError with one sentence naming the option. Pure: no DOM, no GPU.
 */
import type { SoftmaxScope } from '../compute/region.ts';

/**
 * The views. 'map': one map. 'heads': every head of a layer and their mean. 'model': every layer x head. 'pooled':
 * one map pooled onto phones, words or k x k blocks. 'difference': one map minus another (same or other utterance).
 * 'pair': one map beside the same layer and head of another utterance. 'rollout': attention rollout (Abnar &
 * Zuidema) through layers 0..layer.
 */
export const VIEW_KINDS = ['map', 'heads', 'model', 'pooled', 'difference', 'pair', 'rollout'] as const;
/** One of VIEW_KINDS. */
export type ViewKind = (typeof VIEW_KINDS)[number];

/** The engine's softmax scopes (src/compute/region.ts says what each does). */
export const SOFTMAX_SCOPES = ['none', 'row', 'crop'] as const satisfies readonly SoftmaxScope[];
/** How a pooled block of frames becomes one value. */
export const POOL_STATS = ['mean', 'max'] as const;
export type PoolStat = (typeof POOL_STATS)[number];
/** Segments a map is pooled onto (see PoolSpec for blocks of frames). */
export const POOL_UNITS = ['phones', 'words'] as const;
export type PoolUnit = (typeof POOL_UNITS)[number];

/** viridis is the default, as in matplotlib; 'diverging' (RdBu reversed: blue < 0 < red) is for differences. */
export const COLORMAP_NAMES = ['viridis', 'magma', 'inferno', 'plasma', 'cividis', 'turbo', 'greys', 'diverging'] as const;
export type ColormapName = (typeof COLORMAP_NAMES)[number];

/** 'percentile': the colour scale spans the `clip` percentiles; values outside take the end colours. */
export const SCALES = ['linear', 'log', 'percentile'] as const;
export type ScaleName = (typeof SCALES)[number];

/** 'shared': every map of a grid on one colour scale (one colour bar); 'per-map': each map its own range. */
export const COLOR_RANGES = ['shared', 'per-map'] as const;
export type ColorRange = (typeof COLOR_RANGES)[number];

/**
 * Rollout and a crop (the engine's cropMode): 'after' cuts the crop from the rollout of every frame (Abnar &
 * Zuidema's quantity, n^3 per layer); 'within' rolls out the cropped maps alone (cheaper, and another quantity).
 */
export const ROLLOUT_CROPS = ['after', 'within'] as const;
export type RolloutCrop = (typeof ROLLOUT_CROPS)[number];

/** A layer or head index from 0, or the mean over all of them. */
export type IndexOrMean = number | 'mean';

/** Pooling onto the phones or words of the view, or onto k x k blocks of frames. */
export type PoolSpec = { readonly unit: PoolUnit } | { readonly block: number };

/**
 * The other map of a difference, or the other utterance of a pair. `attention` names the other utterance's
 * tensor file: `steve render` opens that path, the viewer matches a loaded utterance by its file name. Absent: the
 * same utterance.
 */
export interface CompareSpec {
  readonly layer: IndexOrMean;
  readonly head: IndexOrMean;
  readonly attention?: string;
}

/** One view, before it meets a tensor. */
export interface ViewSpec {
  readonly view: ViewKind;
  /** undefined: layer 0, or the last layer for a rollout (rollout runs through layers 0..layer). */
  readonly layer?: IndexOrMean;
  /** undefined: head 0, or the mean of the heads for a rollout. Ignored by the 'heads' and 'model' views. */
  readonly head?: IndexOrMean;
  /** First and last word, both inclusive, counted from 0 (the viewer's word slider); undefined: every word. */
  readonly words?: readonly [number, number];
  /** Every frame of the tensor instead of the words' crop. */
  readonly full: boolean;
  readonly softmax: SoftmaxScope;
  /** 'pooled' only. */
  readonly pool?: PoolSpec;
  readonly poolStat: PoolStat;
  /** 'difference' and 'pair' only (always set for them). */
  readonly compare?: CompareSpec;
  /** 'rollout' only. */
  readonly rolloutCrop?: RolloutCrop;
  /** STEVE's round-up frame mode (ceil instead of round half to even). */
  readonly roundUp: boolean;
  /** 'diverging' for differences (and only that for them). */
  readonly colormap: ColormapName;
  /** Never 'log' for differences: they are negative as often as positive. */
  readonly scale: ScaleName;
  /** Low and high percentiles (0 <= low < high <= 100) that scale 'percentile' spans. */
  readonly clip: readonly [number, number];
  readonly colorRange: ColorRange;
  /** Interpolate between frames instead of showing each frame as a cell. */
  readonly smooth: boolean;
}

/** A view option value that is wrong, or a view that does not fit the data: one sentence naming the option. */
export class ViewError extends Error {
  override readonly name = 'ViewError';
}

/** The raw option values, as typed (Commander's camelCase keys). */
export interface ViewOptionValues {
  view?: string;
  layer?: string;
  head?: string;
  words?: string;
  full?: boolean;
  softmax?: string;
  pool?: string;
  poolStat?: string;
  compareLayer?: string;
  compareHead?: string;
  compareAttention?: string;
  rolloutCrop?: string;
  roundUp?: boolean;
  colormap?: string;
  scale?: string;
  clip?: string;
  colorRange?: string;
  smooth?: boolean;
}

/** One view option: its flag, its key in ViewOptionValues, its value placeholder (none: a switch) and help. */
export interface ViewOption {
  readonly flag: string;
  readonly key: keyof ViewOptionValues;
  readonly value?: string;
  readonly help: string;
  /** How the map looks rather than which numbers it shows: `steve export` (numbers only) leaves these out. */
  readonly look?: true;
}

/** The view options, in the order formatViewArgs writes them. The CLI registers exactly these. */
export const VIEW_OPTIONS: readonly ViewOption[] = [
  { flag: '--view', key: 'view', value: '<view>', help: `${VIEW_KINDS.join(', ')} (default map)` },
  { flag: '--layer', key: 'layer', value: '<n>', help: 'layer index from 0, or "mean" (rollout: through layer n; default the last)' },
  { flag: '--head', key: 'head', value: '<n>', help: 'head index from 0, "mean" (mean of the heads) or "all" (every head: --view heads)' },
  { flag: '--words', key: 'words', value: '<A:B>', help: "words A to B of the alignment, counted from 0, both included (the viewer's word slider); default every word" },
  { flag: '--full', key: 'full', help: "every frame of the tensor (Whisper: all 30 s) instead of the words' crop" },
  { flag: '--softmax', key: 'softmax', value: '<scope>', help: 'none (values as stored), row (STEVE: whole row, then crop) or crop; default row, or none for a tensor already softmaxed' },
  { flag: '--pool', key: 'pool', value: '<unit>', help: 'pool the map onto phones, words, or K x K blocks of frames (a number): --view pooled' },
  { flag: '--pool-stat', key: 'poolStat', value: '<stat>', help: 'mean (default) or max of each pooled block' },
  { flag: '--compare-layer', key: 'compareLayer', value: '<n>', help: 'difference: the layer subtracted (index or "mean"; default --layer)' },
  { flag: '--compare-head', key: 'compareHead', value: '<n>', help: 'difference: the head subtracted (index or "mean"; default --head)' },
  { flag: '--compare-attention', key: 'compareAttention', value: '<file>', help: 'difference or pair: the other utterance\'s tensor (difference: same frames) instead of the same file' },
  { flag: '--rollout-crop', key: 'rolloutCrop', value: '<mode>', help: 'rollout: after (crop the rollout of every frame; default) or within (roll out the cropped maps; default with --softmax crop)' },
  { flag: '--round-up', key: 'roundUp', help: "round frame numbers up (STEVE's ceil mode) instead of to nearest" },
  { flag: '--colormap', key: 'colormap', value: '<name>', help: `${COLORMAP_NAMES.join(', ')} (default viridis; differences: diverging only)`, look: true },
  { flag: '--scale', key: 'scale', value: '<scale>', help: 'linear (default), log or percentile (see --clip); differences: not log', look: true },
  { flag: '--clip', key: 'clip', value: '<lo:hi>', help: 'percentiles the colour scale spans with --scale percentile (default 1:99)', look: true },
  { flag: '--color-range', key: 'colorRange', value: '<range>', help: 'grids: shared (one colour scale and bar for every map; default) or per-map', look: true },
  { flag: '--smooth', key: 'smooth', help: 'interpolate between frames instead of showing each frame as a cell', look: true },
];

/** Percentiles of --clip when not given. */
export const DEFAULT_CLIP: readonly [number, number] = [1, 99];

/** The spec of a plain `steve render` with no view options: layer 0, head 0, every word, row softmax. */
export const DEFAULT_VIEW_SPEC: ViewSpec = parseViewSpec({});

/** Parses and cross-checks view option values; throws a ViewError with one sentence for the first problem. */
export function parseViewSpec(options: ViewOptionValues): ViewSpec {
  const softmax = oneOf('--softmax', options.softmax ?? 'row', SOFTMAX_SCOPES);
  const poolStat = oneOf('--pool-stat', options.poolStat ?? 'mean', POOL_STATS);
  const layer = options.layer === undefined ? undefined : parseIndexOrMean('--layer', options.layer);
  const headAll = options.head === 'all';
  const head = options.head === undefined || headAll ? undefined : parseIndexOrMean('--head', options.head);
  const pool = options.pool === undefined ? undefined : parsePool(options.pool);
  const comparing = options.compareLayer !== undefined || options.compareHead !== undefined || options.compareAttention !== undefined;
  const view = options.view === undefined ? impliedView({ headAll, pool: pool !== undefined, comparing }) : oneOf('--view', options.view, VIEW_KINDS);
  const scale = oneOf('--scale', options.scale ?? 'linear', SCALES);
  const colormap = oneOf('--colormap', options.colormap ?? (view === 'difference' ? 'diverging' : 'viridis'), COLORMAP_NAMES);

  if (headAll && view !== 'heads') throw new ViewError(`--head all shows every head of a layer: it does not go with --view ${view}`);
  if (pool !== undefined && view !== 'pooled') throw new ViewError(`--pool pools one map: it does not go with --view ${view}`);
  if (comparing && view !== 'difference' && view !== 'pair') {
    throw new ViewError(`--compare-layer, --compare-head and --compare-attention need --view difference (or pair), not ${view}`);
  }
  if (view === 'pair' && (options.compareLayer !== undefined || options.compareHead !== undefined)) {
    throw new ViewError('--view pair shows one layer and head of two utterances: give --compare-attention, not --compare-layer or --compare-head');
  }
  if (view === 'model' && layer !== undefined) throw new ViewError('--view model shows every layer: leave out --layer');
  if (options.words !== undefined && options.full) throw new ViewError('--words and --full both choose the frames: give one of them');
  if (options.rolloutCrop !== undefined && view !== 'rollout') throw new ViewError(`--rollout-crop is for --view rollout, not ${view}`);
  if (view === 'difference' && scale === 'log') throw new ViewError('--scale log does not go with --view difference: a difference is as often negative as positive');
  if (view === 'difference' && colormap !== 'diverging') {
    throw new ViewError(`--view difference is drawn with the diverging colormap (white at 0), not ${colormap}: leave out --colormap`);
  }
  const rolloutCrop = view === 'rollout' ? oneOf('--rollout-crop', options.rolloutCrop ?? (softmax === 'crop' ? 'within' : 'after'), ROLLOUT_CROPS) : undefined;
  if (rolloutCrop === 'after' && softmax === 'crop') {
    throw new ViewError('--rollout-crop after rolls out every frame, so there is no crop to softmax within: use --softmax row or --rollout-crop within');
  }
  return {
    view,
    layer,
    head,
    words: options.words === undefined ? undefined : parseWords(options.words),
    full: options.full ?? false,
    softmax,
    pool: view === 'pooled' ? (pool ?? { unit: 'phones' }) : undefined,
    poolStat,
    compare: view === 'difference' || view === 'pair' ? parseCompare(options, layer, head) : undefined,
    rolloutCrop,
    roundUp: options.roundUp ?? false,
    colormap,
    scale,
    clip: options.clip === undefined ? DEFAULT_CLIP : parseClip(options.clip),
    colorRange: oneOf('--color-range', options.colorRange ?? 'shared', COLOR_RANGES),
    smooth: options.smooth ?? false,
  };
}

/**
 * A spec from an argument list ("--view", "heads", "--layer", "3" or "--layer=3"), as the viewer's URL hash and
 * `window.steve.setView(args)` hold it. Only view options: anything else is a ViewError naming it.
 */
export function parseViewArgs(args: readonly string[]): ViewSpec {
  return parseViewSpec(viewOptionValues(args));
}

/** The option values of an argument list (see parseViewArgs), unchecked but for the flags themselves. */
export function viewOptionValues(args: readonly string[]): ViewOptionValues {
  const values: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = splitInline(args[i]);
    const option = VIEW_OPTIONS.find((candidate) => candidate.flag === flag);
    if (!option) throw new ViewError(`"${clipText(args[i])}" is not a view option (${VIEW_OPTIONS.map((o) => o.flag).join(', ')})`);
    if (option.key in values) throw new ViewError(`${flag} is given twice`);
    if (!option.value) {
      if (inline !== undefined) throw new ViewError(`${flag} is a switch: it takes no value`);
      values[option.key] = true;
    } else if (inline !== undefined) {
      values[option.key] = inline;
    } else {
      if (i + 1 >= args.length) throw new ViewError(`${flag} needs a value ${option.value}`);
      values[option.key] = args[++i];
    }
  }
  return values as ViewOptionValues;
}

/** An option that was given but does nothing for this view, and why: a front end says so rather than drop it silently. */
export interface IgnoredOption {
  readonly flag: string;
  /** One sentence: "--clip is ignored: it sets the percentiles of --scale percentile, and the scale is linear". */
  readonly message: string;
}

/** Views that draw more than one map, where each map may take its own colour range. */
const MULTI_MAP_VIEWS: readonly ViewKind[] = ['heads', 'model', 'pair'];

/**
 * The options in `given` that do not apply to the view `spec` (parsed from them): each with a one-line reason.
 * Options that contradict the view outright (--pool with --view map, --compare-head with --view pair) are
 * ViewErrors in parseViewSpec instead; these are the ones that are merely without effect. The decision is the
 * view's, so every front end (`steve render`/`export`, the viewer) reports the same ones.
 */
export function ignoredViewOptions(given: ViewOptionValues, spec: ViewSpec): IgnoredOption[] {
  const ignored: IgnoredOption[] = [];
  const ignore = (flag: string, why: string) => ignored.push({ flag, message: `${flag} is ignored: ${why}` });
  if (given.clip !== undefined && spec.scale !== 'percentile') {
    ignore('--clip', `it sets the percentiles that --scale percentile spans, and the scale is ${spec.scale}`);
  }
  if (given.poolStat !== undefined && spec.view !== 'pooled') ignore('--pool-stat', `it says how --view pooled pools, and the view is ${spec.view}`);
  if (given.head !== undefined && given.head !== 'all' && (spec.view === 'heads' || spec.view === 'model')) {
    ignore('--head', `--view ${spec.view} shows every head`);
  }
  if (given.colorRange === 'per-map' && !MULTI_MAP_VIEWS.includes(spec.view)) {
    ignore('--color-range', `per-map ranges are for views of several maps (${MULTI_MAP_VIEWS.join(', ')}), and --view ${spec.view} draws one`);
  }
  if (given.rolloutCrop !== undefined && spec.full) ignore('--rollout-crop', 'with --full every frame is shown, so there is no crop');
  return ignored;
}

/** The argument list that parseViewArgs reads back as `spec`: --view (unless 'map'), then what differs from the defaults. */
export function formatViewArgs(spec: ViewSpec): string[] {
  return optionPairs(spec).flatMap(([flag, value]) => (value === true ? [flag] : [flag, value]));
}

/** The same as a command-line fragment, e.g. "--view heads --layer 3" (values quoted where a shell needs it). */
export function formatViewCommand(spec: ViewSpec): string {
  return formatViewArgs(spec).map(shellQuote).join(' ');
}

/** The layer a plan uses: the given one, or 0 (rollout: the last of `layers`). */
export function layerOf(spec: ViewSpec, layers: number): IndexOrMean {
  return spec.layer ?? (spec.view === 'rollout' ? layers - 1 : 0);
}

/** The head a plan uses: the given one, or 0 (rollout: the mean of the heads). */
export function headOf(spec: ViewSpec): IndexOrMean {
  return spec.head ?? (spec.view === 'rollout' ? 'mean' : 0);
}

/** (flag, value) pairs of what differs from the defaults, in VIEW_OPTIONS order; `true` for a switch. */
function optionPairs(spec: ViewSpec): [string, string | true][] {
  const text: Partial<Record<keyof ViewOptionValues, string | true>> = {};
  // --view is always written (but for 'map'), so no other option has to imply it.
  if (spec.view !== 'map') text.view = spec.view;
  if (spec.layer !== undefined) text.layer = String(spec.layer);
  if (spec.head !== undefined && spec.view !== 'heads' && spec.view !== 'model') text.head = String(spec.head);
  if (spec.words) text.words = `${spec.words[0]}:${spec.words[1]}`;
  if (spec.full) text.full = true;
  if (spec.softmax !== 'row') text.softmax = spec.softmax;
  if (spec.pool && !('unit' in spec.pool && spec.pool.unit === 'phones')) text.pool = 'unit' in spec.pool ? spec.pool.unit : String(spec.pool.block);
  if (spec.poolStat !== 'mean') text.poolStat = spec.poolStat;
  if (spec.compare) {
    if (spec.view === 'difference' && spec.compare.layer !== (spec.layer ?? 0)) text.compareLayer = String(spec.compare.layer);
    if (spec.view === 'difference' && spec.compare.head !== (spec.head ?? 0)) text.compareHead = String(spec.compare.head);
    if (spec.compare.attention !== undefined) text.compareAttention = spec.compare.attention;
  }
  if (spec.rolloutCrop !== undefined && spec.rolloutCrop !== (spec.softmax === 'crop' ? 'within' : 'after')) text.rolloutCrop = spec.rolloutCrop;
  if (spec.roundUp) text.roundUp = true;
  if (spec.colormap !== (spec.view === 'difference' ? 'diverging' : 'viridis')) text.colormap = spec.colormap;
  if (spec.scale !== 'linear') text.scale = spec.scale;
  if (spec.clip[0] !== DEFAULT_CLIP[0] || spec.clip[1] !== DEFAULT_CLIP[1]) text.clip = `${spec.clip[0]}:${spec.clip[1]}`;
  if (spec.colorRange !== 'shared') text.colorRange = spec.colorRange;
  if (spec.smooth) text.smooth = true;
  return VIEW_OPTIONS.filter((option) => text[option.key] !== undefined).map((option) => [option.flag, text[option.key]!]);
}

/** --head all, --pool and --compare-* each imply their view, so `--head all` alone is enough. */
function impliedView(given: { headAll: boolean; pool: boolean; comparing: boolean }): ViewKind {
  if (given.headAll) return 'heads';
  if (given.pool) return 'pooled';
  if (given.comparing) return 'difference';
  return 'map';
}

/** The other map: left out, a difference's has this map's layer and head (useful with another file). */
function parseCompare(options: ViewOptionValues, layer: IndexOrMean | undefined, head: IndexOrMean | undefined): CompareSpec {
  const compareLayer = options.compareLayer === undefined ? (layer ?? 0) : parseIndexOrMean('--compare-layer', options.compareLayer);
  const compareHead = options.compareHead === undefined ? (head ?? 0) : parseIndexOrMean('--compare-head', options.compareHead);
  if (options.compareAttention !== undefined && options.compareAttention.trim() === '') throw new ViewError('--compare-attention needs a file name');
  return options.compareAttention === undefined ? { layer: compareLayer, head: compareHead } : { layer: compareLayer, head: compareHead, attention: options.compareAttention };
}

/** "3" or "mean". */
function parseIndexOrMean(option: string, text: string): IndexOrMean {
  if (text === 'mean') return 'mean';
  if (!/^\d{1,9}$/.test(text)) throw new ViewError(`${option} must be an index (0, 1, ...) or "mean", got "${clipText(text)}"`);
  return Number(text);
}

/**
 * "A:B" (words A to B, both included, counted from 0 as the viewer's slider shows them) or "A" (one word).
 * The order is checked here, the range against the alignment in plan.ts.
 */
export function parseWords(text: string): readonly [number, number] {
  const match = /^(\d{1,9})(?::(\d{1,9}))?$/.exec(text.trim());
  if (!match) throw new ViewError(`--words must be A:B (first and last word, counted from 0, both included) or A, got "${clipText(text)}"`);
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (last < first) throw new ViewError(`--words ${text}: the last word (${last}) comes before the first (${first})`);
  return [first, last];
}

/** "phones", "words" or a block size K >= 2. */
function parsePool(text: string): PoolSpec {
  if (text === 'phones' || text === 'words') return { unit: text };
  if (/^\d{1,9}$/.test(text) && Number(text) >= 2) return { block: Number(text) };
  throw new ViewError(`--pool must be phones, words or a block size of 2 frames or more, got "${clipText(text)}"`);
}

/** "5:95" -> [5, 95]: low and high percentiles, 0 <= low < high <= 100. */
export function parseClip(text: string): readonly [number, number] {
  const match = /^(\d{1,3}(?:\.\d{1,6})?):(\d{1,3}(?:\.\d{1,6})?)$/.exec(text.trim());
  const [low, high] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(low >= 0 && low < high && high <= 100)) throw new ViewError(`--clip must be LOW:HIGH percentiles with 0 <= LOW < HIGH <= 100, got "${clipText(text)}"`);
  return [low, high];
}

/** `value` if it is one of `choices`, else a ViewError listing them. */
export function oneOf<T extends string>(option: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new ViewError(`${option} must be ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}, got "${clipText(value)}"`);
}

/** "--layer=3" -> ["--layer", "3"]; "--layer" -> ["--layer", undefined]. */
function splitInline(arg: string): [string, string | undefined] {
  const at = arg.indexOf('=');
  return arg.startsWith('--') && at > 0 ? [arg.slice(0, at), arg.slice(at + 1)] : [arg, undefined];
}

/** Text from a URL or a command line, cut short and stripped of control characters before it goes into a message. */
function clipText(text: string): string {
  const printable = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return printable.length > 60 ? `${printable.slice(0, 57)}...` : printable;
}

/** A shell word: as is when safe, else single-quoted. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
