/**
 * ViewerParams: the one object that says what the viewer shows. Tweakpane edits it, the URL hash mirrors it (so a
 * view can be reloaded and shared), and the viewer redraws from it. Pure: no DOM here, so it is tested in Node.
 */
import type { ColormapName } from '../render/colormaps.ts';
import { COLORMAP_NAMES } from '../render/colormaps.ts';

export const VIEW_MODES = ['map', 'heads', 'model', 'pair', 'difference', 'pooled', 'rollout'] as const;
export type ViewMode = (typeof VIEW_MODES)[number];

export const SOFTMAX_MODES = ['none', 'row', 'crop'] as const;
/** 'row': softmax over the whole last axis, then crop (STEVE's checkbox); 'crop': softmax within the crop only. */
export type SoftmaxMode = (typeof SOFTMAX_MODES)[number];

export const SCALES = ['linear', 'log', 'percentile'] as const;
export type ScaleMode = (typeof SCALES)[number];

export const POOL_UNITS = ['phones', 'words'] as const;
export const POOL_STATS = ['mean', 'max'] as const;
export const ROLLOUT_SCOPES = ['full', 'crop'] as const;

export interface ViewerParams {
  /** Index of the utterance shown. */
  utterance: number;
  /** First and last word of the crop, inclusive (STEVE's word slider). */
  wordStart: number;
  wordEnd: number;
  /** Show every frame of the tensor instead of the word crop. */
  fullMap: boolean;
  layer: number;
  /** A head index, or -1 for the mean of the layer's heads. */
  head: number;
  softmax: SoftmaxMode;
  view: ViewMode;
  colormap: ColormapName;
  scale: ScaleMode;
  /** Percentile clipping of the colour scale (scale 'percentile'): low and high percentiles, 0..100. */
  clipLow: number;
  clipHigh: number;
  /** Bilinear interpolation between frames (STEVE draws with matplotlib's 'bessel'); off shows each frame as a cell. */
  smooth: boolean;
  poolUnit: (typeof POOL_UNITS)[number];
  poolStat: (typeof POOL_STATS)[number];
  /** The other map of a difference view: layer and head (-1: mean) of the same utterance, or of `compareUtterance`. */
  compareLayer: number;
  compareHead: number;
  /** -1: the same utterance. */
  compareUtterance: number;
  /**
   * Rollout over every frame, then cropped ('full': Abnar & Zuidema's definition, n^3 per layer), or rollout of the
   * crop alone ('crop': much cheaper, and a different quantity).
   */
  rolloutScope: (typeof ROLLOUT_SCOPES)[number];
  /** Show the debug panel (STEVE's debug=True). */
  debug: boolean;
}

export const DEFAULT_PARAMS: Readonly<ViewerParams> = {
  utterance: 0,
  wordStart: 0,
  wordEnd: 2,
  fullMap: false,
  layer: 0,
  head: 0,
  softmax: 'row',
  view: 'map',
  colormap: 'viridis',
  scale: 'linear',
  clipLow: 1,
  clipHigh: 99,
  smooth: false,
  poolUnit: 'phones',
  poolStat: 'mean',
  compareLayer: 0,
  compareHead: 1,
  compareUtterance: -1,
  rolloutScope: 'full',
  debug: false,
};

/** Short keys keep shared URLs readable: #u=0&w=0-2&l=3&h=5&sm=row&v=map&cm=viridis */
const KEYS: Record<keyof ViewerParams, string> = {
  utterance: 'u',
  wordStart: 'w0',
  wordEnd: 'w1',
  fullMap: 'full',
  layer: 'l',
  head: 'h',
  softmax: 'sm',
  view: 'v',
  colormap: 'cm',
  scale: 'sc',
  clipLow: 'lo',
  clipHigh: 'hi',
  smooth: 'smooth',
  poolUnit: 'pu',
  poolStat: 'ps',
  compareLayer: 'cl',
  compareHead: 'ch',
  compareUtterance: 'cu',
  rolloutScope: 'ro',
  debug: 'debug',
};

const CHOICES: Partial<Record<keyof ViewerParams, readonly string[]>> = {
  softmax: SOFTMAX_MODES,
  view: VIEW_MODES,
  colormap: COLORMAP_NAMES,
  scale: SCALES,
  poolUnit: POOL_UNITS,
  poolStat: POOL_STATS,
  rolloutScope: ROLLOUT_SCOPES,
};

/** The URL hash for params: only what differs from the defaults, so a default view has an empty hash. */
export function paramsToHash(params: ViewerParams): string {
  const search = new URLSearchParams();
  for (const key of Object.keys(KEYS) as (keyof ViewerParams)[]) {
    const value = params[key];
    if (value === DEFAULT_PARAMS[key]) continue;
    search.set(KEYS[key], typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  const text = search.toString();
  return text ? `#${text}` : '';
}

/**
 * Params from a URL hash. Unknown keys and values that do not parse are ignored (the default stays), so an old or
 * hand-edited link still opens; ranges are checked later against the loaded data by clampParams.
 */
export function paramsFromHash(hash: string): ViewerParams {
  const params: ViewerParams = { ...DEFAULT_PARAMS };
  const search = new URLSearchParams(hash.replace(/^#/, ''));
  const writable = params as unknown as Record<string, unknown>;
  for (const key of Object.keys(KEYS) as (keyof ViewerParams)[]) {
    const text = search.get(KEYS[key]);
    if (text === null) continue;
    const fallback = DEFAULT_PARAMS[key];
    if (typeof fallback === 'boolean') {
      if (text === '1' || text === '0') writable[key] = text === '1';
    } else if (typeof fallback === 'number') {
      const number = Number(text);
      if (text.trim() !== '' && Number.isFinite(number)) writable[key] = number;
    } else if (CHOICES[key]?.includes(text)) {
      writable[key] = text;
    }
  }
  return params;
}

/** What the loaded data allows: counts of utterances, words, layers and heads. */
export interface ParamLimits {
  utterances: number;
  /** Words of each utterance's alignment. */
  words: number[];
  layers: number;
  heads: number;
}

/** Brings params inside what the loaded data allows (after a file load or a shared link from other data). */
export function clampParams(params: ViewerParams, limits: ParamLimits): ViewerParams {
  const clampInt = (value: number, low: number, high: number) => Math.min(Math.max(Math.round(value), low), high);
  const utterance = clampInt(params.utterance, 0, Math.max(0, limits.utterances - 1));
  const words = Math.max(1, limits.words[utterance] ?? 1);
  const wordStart = clampInt(params.wordStart, 0, words - 1);
  return {
    ...params,
    utterance,
    wordStart,
    wordEnd: clampInt(params.wordEnd, wordStart, words - 1),
    layer: clampInt(params.layer, 0, limits.layers - 1),
    head: clampInt(params.head, -1, limits.heads - 1),
    compareLayer: clampInt(params.compareLayer, 0, limits.layers - 1),
    compareHead: clampInt(params.compareHead, -1, limits.heads - 1),
    compareUtterance: clampInt(params.compareUtterance, -1, limits.utterances - 1),
    clipLow: Math.min(Math.max(params.clipLow, 0), 100),
    clipHigh: Math.min(Math.max(params.clipHigh, 0), 100),
  };
}
