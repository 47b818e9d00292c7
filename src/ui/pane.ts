/**
 * The Tweakpane panel: binds ViewerParams to controls. It never draws; it tells the viewer what changed.
 *
 * Its folders are made once, in a fixed order; loading data only replaces the controls inside them, so the panel
 * keeps its order. The word slider moves over the words of the alignment, not its pauses (empty intervals), and a
 * line under it spells out the words it selects.
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

/**
 * The slider's positions are the words that are not pauses; `spoken[k]` is the alignment index of position k.
 * A word index that is a pause shows at the next spoken word (the previous one at the end).
 */
export function spokenWordIndices(wordLabels: readonly string[]): number[] {
  const spoken = wordLabels.flatMap((label, index) => (label.trim() === '' ? [] : [index]));
  return spoken.length > 0 ? spoken : wordLabels.map((_, index) => index);
}

export function sliderPosition(spoken: readonly number[], wordIndex: number): number {
  const at = spoken.findIndex((index) => index >= wordIndex);
  return at >= 0 ? at : Math.max(0, spoken.length - 1);
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
   * Tweakpane edits this proxy: the word interval as {min, max} slider positions, as the interval plugin wants, and
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
  #spoken: number[] = [];
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
    this.#spoken = spokenWordIndices(limits.wordLabels);
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
    bind(data, 'words', { label: 'words', min: 0, max: Math.max(this.#spoken.length - 1, 1), step: 1 });
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
    const words = { min: sliderPosition(this.#spoken, params.wordStart), max: sliderPosition(this.#spoken, params.wordEnd) };
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
    const wordAt = (position: number) => this.#spoken[Math.min(Math.max(Math.round(position), 0), this.#spoken.length - 1)] ?? 0;
    const headOf = (text: string): IndexOrMean => (text === 'mean' ? 'mean' : Number(text));
    this.onChange({ ...rest, head: headOf(head), compareHead: headOf(compareHead), wordStart: wordAt(words.min), wordEnd: wordAt(words.max) });
  }

  dispose(): void {
    this.pane.dispose();
  }
}
