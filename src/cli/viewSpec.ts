/**
 * What `steve render` and `steve export` show, from their options: the view (one map, the heads of a layer, the
 * whole model, a pooled map, a difference, a rollout), which layer and head, which words, which softmax. Checked
 * here as far as the options alone allow; checks against the tensor (layer and head in range, words in the
 * alignment) are in viewPlan.ts.
 */
import type { SoftmaxScope } from '../engine.ts';
import { CliError } from './cliError.ts';

/** The views of the viewer that make one figure or one matrix each. */
export const VIEW_KINDS = ['map', 'heads', 'model', 'pooled', 'difference', 'rollout'] as const;
/** One of VIEW_KINDS. */
export type ViewKind = (typeof VIEW_KINDS)[number];

/** --softmax values: the engine's softmax scopes. */
export const SOFTMAX_SCOPES = ['none', 'row', 'crop'] as const;
/** --pool-stat values. */
export const POOL_STATS = ['mean', 'max'] as const;

/** Pooling onto the phones or words of the crop, or onto k x k blocks of frames. */
export type PoolSpec = { readonly unit: 'phones' | 'words' } | { readonly block: number };

/** The other map of a difference: a layer and head of the same tensor or of another file. */
export interface CompareSpec {
  readonly layer: number | 'mean';
  readonly head: number | 'mean';
  readonly attention?: string;
}

/** One view, before it meets a tensor. */
export interface ViewSpec {
  readonly view: ViewKind;
  /** undefined: layer 0, or every layer for a rollout. */
  readonly layer?: number | 'mean';
  /** undefined: head 0, or the mean of the heads for a rollout. Ignored by the 'heads' and 'model' views. */
  readonly head?: number | 'mean';
  /** First and last word, both inclusive (the viewer's word slider); undefined: every word of the alignment. */
  readonly words?: readonly [number, number];
  /** Every frame of the tensor instead of the words' crop. */
  readonly full: boolean;
  readonly softmax: SoftmaxScope;
  readonly pool?: PoolSpec;
  readonly poolStat: (typeof POOL_STATS)[number];
  readonly compare?: CompareSpec;
  /** STEVE's round-up frame mode (ceil instead of round half to even). */
  readonly roundUp: boolean;
}

/** The raw option values Commander hands over (strings, as typed). */
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
  roundUp?: boolean;
}

/** Parses and cross-checks the view options; throws a CliError with one sentence for the first problem. */
export function parseViewSpec(options: ViewOptionValues): ViewSpec {
  const softmax = oneOf('--softmax', options.softmax ?? 'row', SOFTMAX_SCOPES);
  const poolStat = oneOf('--pool-stat', options.poolStat ?? 'mean', POOL_STATS);
  const layer = options.layer === undefined ? undefined : parseIndexOrMean('--layer', options.layer);
  const headAll = options.head === 'all';
  const head = options.head === undefined || headAll ? undefined : parseIndexOrMean('--head', options.head);
  const pool = options.pool === undefined ? undefined : parsePool(options.pool);
  const comparing = options.compareLayer !== undefined || options.compareHead !== undefined || options.compareAttention !== undefined;
  const view = options.view === undefined ? impliedView({ headAll, pool: pool !== undefined, comparing }) : oneOf('--view', options.view, VIEW_KINDS);

  if (headAll && view !== 'heads') throw new CliError(`--head all shows every head of a layer: it does not go with --view ${view}`);
  if (pool !== undefined && view !== 'pooled') throw new CliError(`--pool pools one map: it does not go with --view ${view}`);
  if (comparing && view !== 'difference') throw new CliError(`--compare-layer, --compare-head and --compare-attention need --view difference, not ${view}`);
  if (view === 'model' && layer !== undefined) throw new CliError('--view model shows every layer: leave out --layer');
  if (options.words !== undefined && options.full) throw new CliError('--words and --full both choose the frames: give one of them');
  return {
    view,
    layer,
    head,
    words: options.words === undefined ? undefined : parseWords(options.words),
    full: options.full ?? false,
    softmax,
    pool: view === 'pooled' ? (pool ?? { unit: 'phones' }) : undefined,
    poolStat,
    compare:
      view === 'difference'
        ? {
            // Left out, the other map has this map's layer and head: useful with --compare-attention (another file).
            layer: options.compareLayer === undefined ? (layer ?? 0) : parseIndexOrMean('--compare-layer', options.compareLayer),
            head: options.compareHead === undefined ? (head ?? 0) : parseIndexOrMean('--compare-head', options.compareHead),
            attention: options.compareAttention,
          }
        : undefined,
    roundUp: options.roundUp ?? false,
  };
}

/** --head all, --pool and --compare-* each imply their view, so `--head all` alone is enough. */
function impliedView(given: { headAll: boolean; pool: boolean; comparing: boolean }): ViewKind {
  if (given.headAll) return 'heads';
  if (given.pool) return 'pooled';
  if (given.comparing) return 'difference';
  return 'map';
}

/** "3" or "mean". */
function parseIndexOrMean(option: string, text: string): number | 'mean' {
  if (text === 'mean') return 'mean';
  if (!/^\d+$/.test(text)) throw new CliError(`${option} must be an index (0, 1, ...) or "mean", got "${text}"`);
  return Number(text);
}

/**
 * "A:B" (words A to B, both included, counted from 0 as the viewer's slider shows them) or "A" (one word).
 * The order is checked here, the range against the alignment later.
 */
export function parseWords(text: string): readonly [number, number] {
  const match = /^(\d+)(?::(\d+))?$/.exec(text.trim());
  if (!match) throw new CliError(`--words must be A:B (first and last word, counted from 0, both included) or A, got "${text}"`);
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (last < first) throw new CliError(`--words ${text}: the last word (${last}) comes before the first (${first})`);
  return [first, last];
}

/** "phones", "words" or a block size K >= 2. */
function parsePool(text: string): PoolSpec {
  if (text === 'phones' || text === 'words') return { unit: text };
  if (/^\d+$/.test(text) && Number(text) >= 2) return { block: Number(text) };
  throw new CliError(`--pool must be phones, words or a block size of 2 frames or more, got "${text}"`);
}

/** `value` if it is one of `choices`, else a CliError listing them. */
export function oneOf<T extends string>(option: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new CliError(`${option} must be ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}, got "${value}"`);
}
