/**
 * The Tweakpane panel: binds ViewerParams to controls. It never draws; it tells the viewer what changed.
 *
 * Its folders are made once, in a fixed order; loading data only replaces the controls inside them, so the panel
 * keeps its order. The word slider shows and stores `--words` indices (pauses, the empty intervals, are counted, as
 * the URL and `steve render` count them) but steps over pauses to the next word; a line under it spells out the words
 * it selects.
 */
import * as EssentialsPlugin from '@tweakpane/plugin-essentials';
import type { BindingApi, FolderApi } from '@tweakpane/core';
import { Pane } from 'tweakpane';
import type { IndexOrMean } from '../view/spec.ts';
import { COLOR_RANGES, COLORMAP_NAMES, POOL_STATS, POOL_UNITS, ROLLOUT_CROPS, SCALES, SOFTMAX_SCOPES, VIEW_KINDS } from '../view/spec.ts';
import type { ViewerParams, ViewerPoolUnit } from './params.ts';

/** What the controls' ranges depend on. */
export interface PaneLimits {
  utteranceNames: string[];
  /** Labels of the alignment's words, pauses ('' labels) included: ViewerParams count words in this list. */
  wordLabels: string[];
  layers: number;
  heads: number;
}

/** Something the FPS graph measures: begin() before a frame's work, end() after it is submitted. */
export interface FrameMeter {
  begin(): void;
  end(): void;
}

/** The buttons of the panel's last folder. */
export interface PaneActions {
  exportPng(): void;
  exportSvg(): void;
  copyCommand(): void;
}

const options = (values: readonly string[]) => Object.fromEntries(values.map((v) => [v, v]));

/** A word index range, both ends included (`--words A:B`). */
export interface WordRange {
  first: number;
  last: number;
}

/**
 * Where the word slider lands when moved from `previous` to `asked`: an end that lands on a pause goes on to the next
 * spoken word in the direction it moved (the other way at the edge of the utterance), so the slider passes over
 * pauses yet keeps the indices `--words` uses. A pause given by a link stays until its end is moved.
 */
export function snapWordRange(wordLabels: readonly string[], previous: WordRange, asked: WordRange): WordRange {
  const spoken = (index: number) => (wordLabels[index] ?? '').trim() !== '';
  const snap = (index: number, step: 1 | -1): number => {
    if (spoken(index) || !wordLabels.some((_, i) => spoken(i))) return index;
    for (const direction of [step, -step]) {
      for (let i = index + direction; i >= 0 && i < wordLabels.length; i += direction) if (spoken(i)) return i;
    }
    return index;
  };
  let first = asked.first === previous.first ? asked.first : snap(asked.first, asked.first < previous.first ? -1 : 1);
  let last = asked.last === previous.last ? asked.last : snap(asked.last, asked.last > previous.last ? 1 : -1);
  if (first > last) {
    if (asked.first !== previous.first) first = last;
    else last = first;
  }
  return { first, last };
}

/** "she had your", the words from first to last (alignment indices), pauses left out. */
export function selectedWordsText(wordLabels: readonly string[], first: number, last: number, full: boolean): string {
  if (full) return 'all frames';
  const words = wordLabels.slice(first, last + 1).filter((label) => label.trim() !== '');
  return words.join(' ') || '(none)';
}

/** Block sizes the pool control offers besides phones and words (a link's other size is added to them). */
const POOL_BLOCKS = [2, 4, 5, 8, 10, 20];

/** The pool control's choices: label -> ViewerParams.poolUnit; `current` among them when it is another block size. */
export function poolOptions(current?: ViewerPoolUnit): Record<string, ViewerPoolUnit> {
  const blocks = [...POOL_BLOCKS.map((k): ViewerPoolUnit => `${k}`), ...(current && !(POOL_UNITS as readonly string[]).includes(current) ? [current] : [])];
  const unique = [...new Set(blocks)].sort((a, b) => Number(a) - Number(b));
  return { ...options(POOL_UNITS), ...Object.fromEntries(unique.map((k) => [`blocks of ${k} frames`, k])) } as Record<string, ViewerPoolUnit>;
}

/** Whether the low %/high % controls mean anything: only the percentile scale spans percentiles. */
export function clipShown(params: Pick<ViewerParams, 'scale'>): boolean {
  return params.scale === 'percentile';
}

export class ViewerPane {
  readonly pane: Pane;
  readonly frameMeter: FrameMeter;
  /**
   * Tweakpane edits this proxy: the word interval as {min, max} `--words` indices, as the interval plugin wants, and
   * heads as text ("mean", "0", ...), since a list holds values of one type.
   */
  readonly #state: Omit<ViewerParams, 'head' | 'compareHead'> & { head: string; compareHead: string; words: { min: number; max: number }; selected: string };
  #limits!: PaneLimits;
  /** Whether the controls were made for a difference (the diverging colormap only, no log scale). */
  #difference = false;
  readonly #folders: { data: FolderApi; view: FolderApi; look: FolderApi; compare: FolderApi };
  #bindings: BindingApi[] = [];
  /** The values the pool control offers (a link may ask for another block size: the control is then made again). */
  #poolChoices: ViewerPoolUnit[] = [];
  /** The low %/high % sliders, hidden unless the scale is percentile. */
  #clipBindings: BindingApi[] = [];
  #wordLabels: string[] = [];
  #wordsBinding?: BindingApi;
  /** The word range last shown or emitted: which end of the slider moved is told against it. */
  #shownWords: WordRange = { first: 0, last: 0 };
  /** True while show() refreshes the controls: Tweakpane reports those refreshes as changes, which are not the user's. */
  #showing = false;

  constructor(
    container: HTMLElement,
    params: ViewerParams,
    limits: PaneLimits,
    private readonly onChange: (params: ViewerParams) => void,
    actions: PaneActions,
  ) {
    this.pane = new Pane({ container, title: 'STEVE' });
    this.pane.registerPlugin(EssentialsPlugin);
    this.#state = { ...params, head: String(params.head), compareHead: String(params.compareHead), words: { min: 0, max: 0 }, selected: '' };
    this.#difference = params.view === 'difference';
    const graph = this.pane.addBlade({ view: 'fpsgraph', label: 'frame time', rows: 2 }) as unknown as FrameMeter;
    this.frameMeter = graph;
    this.#folders = {
      data: this.pane.addFolder({ title: 'Data' }),
      view: this.pane.addFolder({ title: 'View' }),
      look: this.pane.addFolder({ title: 'Colour' }),
      compare: this.pane.addFolder({ title: 'Compare / pool', expanded: false }),
    };
    const output = this.pane.addFolder({ title: 'Export figure' });
    output.addButton({ title: 'PNG' }).on('click', () => actions.exportPng());
    output.addButton({ title: 'SVG' }).on('click', () => actions.exportSvg());
    output.addButton({ title: 'Copy command' }).on('click', () => actions.copyCommand());
    this.rebuild(limits);
    this.show(params);
  }

  /** Replaces the controls whose ranges depend on the data (after loading files), in place. */
  rebuild(limits: PaneLimits): void {
    for (const binding of this.#bindings.splice(0)) binding.dispose();
    this.#limits = limits;
    this.#wordLabels = limits.wordLabels;
    const state = this.#state;
    const { data, view, look, compare } = this.#folders;
    const bind = (folder: FolderApi, key: keyof typeof state, extra: Record<string, unknown>) => {
      const binding = folder.addBinding(state, key, extra);
      if (!extra.readonly) binding.on('change', () => this.#emit());
      this.#bindings.push(binding);
      return binding;
    };
    const utterances = Object.fromEntries(limits.utteranceNames.map((name, i) => [name, i]));
    const heads = { mean: 'mean', ...Object.fromEntries(Array.from({ length: limits.heads }, (_, i) => [String(i), String(i)])) };
    bind(data, 'utterance', { label: 'utterance', options: utterances });
    this.#wordsBinding = bind(data, 'words', { label: 'words', min: 0, max: Math.max(limits.wordLabels.length - 1, 1), step: 1 });
    bind(data, 'selected', { label: 'selected', readonly: true, interval: 0 });
    bind(data, 'full', { label: 'all frames' });
    bind(data, 'layer', { label: 'layer', min: 0, max: Math.max(limits.layers - 1, 0), step: 1 });
    bind(data, 'head', { label: 'head', options: heads });
    bind(data, 'softmax', { label: 'softmax', options: options(SOFTMAX_SCOPES) });
    bind(view, 'view', { label: 'view', options: options(VIEW_KINDS) });
    bind(view, 'smooth', { label: 'smooth' });
    bind(view, 'debug', { label: 'debug panel' });
    // A difference is drawn diverging (white at 0) and is as often negative as positive: the controls offer only that.
    bind(look, 'colormap', { label: 'colormap', options: options(this.#difference ? ['diverging'] : COLORMAP_NAMES) });
    bind(look, 'scale', { label: 'scale', options: options(this.#difference ? SCALES.filter((scale) => scale !== 'log') : SCALES) });
    // The percentiles apply only to the percentile scale: shown with it alone (see show()).
    this.#clipBindings = [
      bind(look, 'clipLow', { label: 'low %', min: 0, max: 50, step: 0.5 }),
      bind(look, 'clipHigh', { label: 'high %', min: 50, max: 100, step: 0.5 }),
    ];
    bind(look, 'colorRange', { label: 'grid range', options: options(COLOR_RANGES) });
    bind(compare, 'compareUtterance', { label: 'other utterance', options: { same: -1, ...utterances } });
    bind(compare, 'compareLayer', { label: 'other layer', min: 0, max: Math.max(limits.layers - 1, 0), step: 1 });
    bind(compare, 'compareHead', { label: 'other head', options: heads });
    const pools = poolOptions(this.#state.poolUnit);
    this.#poolChoices = Object.values(pools);
    bind(compare, 'poolUnit', { label: 'pool onto', options: pools });
    bind(compare, 'poolStat', { label: 'pool by', options: options(POOL_STATS) });
    bind(compare, 'rolloutCrop', { label: 'rollout crop', options: options(ROLLOUT_CROPS) });
  }

  /** Shows params set from elsewhere (URL, keyboard, a click on a thumbnail) without echoing a change back. */
  show(params: ViewerParams): void {
    const words = { min: params.wordStart, max: params.wordEnd };
    this.#shownWords = { first: params.wordStart, last: params.wordEnd };
    const selected = selectedWordsText(this.#wordLabels, params.wordStart, params.wordEnd, params.full);
    Object.assign(this.#state, params, { head: String(params.head), compareHead: String(params.compareHead), words, selected });
    if ((params.view === 'difference') !== this.#difference || !this.#poolChoices.includes(params.poolUnit)) {
      this.#difference = params.view === 'difference';
      this.rebuild(this.#limits);
    }
    for (const binding of this.#clipBindings) binding.hidden = !clipShown(params);
    this.#showing = true;
    try {
      for (const binding of this.#bindings) binding.refresh();
    } finally {
      this.#showing = false;
    }
  }

  #emit(): void {
    if (this.#showing) return;
    const { words, selected: _selected, head, compareHead, ...rest } = this.#state;
    const asked = { first: Math.round(words.min), last: Math.round(words.max) };
    const { first, last } = snapWordRange(this.#wordLabels, this.#shownWords, asked);
    this.#shownWords = { first, last };
    if (first !== words.min || last !== words.max) {
      // The slider landed on a pause: it is shown at the word it went on to (the refresh is not the user's change).
      this.#state.words = { min: first, max: last };
      this.#showing = true;
      try {
        this.#wordsBinding?.refresh();
      } finally {
        this.#showing = false;
      }
    }
    const headOf = (text: string): IndexOrMean => (text === 'mean' ? 'mean' : Number(text));
    this.onChange({ ...rest, head: headOf(head), compareHead: headOf(compareHead), wordStart: first, wordEnd: last });
  }

  dispose(): void {
    this.pane.dispose();
  }
}
