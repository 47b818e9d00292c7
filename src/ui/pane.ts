/**
 * The Tweakpane panel: binds ViewerParams to controls. It never draws; it tells the viewer what changed.
 */
import * as EssentialsPlugin from '@tweakpane/plugin-essentials';
import type { BindingApi, FolderApi } from '@tweakpane/core';
import { Pane } from 'tweakpane';
import { COLORMAP_NAMES } from '../render/colormaps.ts';
import type { ViewerParams } from './params.ts';
import { POOL_STATS, POOL_UNITS, ROLLOUT_SCOPES, SCALES, SOFTMAX_MODES, VIEW_MODES } from './params.ts';

/** What the controls' ranges depend on. */
export interface PaneLimits {
  utteranceNames: string[];
  wordLabels: string[];
  layers: number;
  heads: number;
}

/** Something the FPS graph measures: begin() before a frame's work, end() after it is submitted. */
export interface FrameMeter {
  begin(): void;
  end(): void;
}

const options = (values: readonly string[]) => Object.fromEntries(values.map((v) => [v, v]));

export class ViewerPane {
  readonly pane: Pane;
  readonly frameMeter: FrameMeter;
  /** Tweakpane edits this proxy; the word interval is kept as {min, max} as the interval plugin wants. */
  readonly #state: ViewerParams & { words: { min: number; max: number } };
  readonly #folders: FolderApi[] = [];
  #bindings: BindingApi[] = [];
  /** True while show() refreshes the controls: Tweakpane reports those refreshes as changes, which are not the user's. */
  #showing = false;

  constructor(
    container: HTMLElement,
    params: ViewerParams,
    limits: PaneLimits,
    private readonly onChange: (params: ViewerParams) => void,
  ) {
    this.pane = new Pane({ container, title: 'STEVE' });
    this.pane.registerPlugin(EssentialsPlugin);
    this.#state = { ...params, words: { min: params.wordStart, max: params.wordEnd } };
    const graph = this.pane.addBlade({ view: 'fpsgraph', label: 'frame time', rows: 2 }) as unknown as FrameMeter;
    this.frameMeter = graph;
    this.rebuild(limits);
  }

  /** Rebuilds the controls whose ranges depend on the data (after loading files). */
  rebuild(limits: PaneLimits): void {
    for (const folder of this.#folders.splice(0)) folder.dispose();
    this.#bindings = [];
    const state = this.#state;
    const data = this.pane.addFolder({ title: 'Data' });
    const view = this.pane.addFolder({ title: 'View' });
    const look = this.pane.addFolder({ title: 'Colour' });
    const compare = this.pane.addFolder({ title: 'Compare / pool', expanded: false });
    this.#folders.push(data, view, look, compare);
    const bind = (folder: FolderApi, key: keyof typeof state, extra: Record<string, unknown>) => {
      const binding = folder.addBinding(state, key, extra);
      binding.on('change', () => this.#emit());
      this.#bindings.push(binding);
      return binding;
    };
    const utterances = Object.fromEntries(limits.utteranceNames.map((name, i) => [name, i]));
    const heads = { mean: -1, ...Object.fromEntries(Array.from({ length: limits.heads }, (_, i) => [String(i), i])) };
    bind(data, 'utterance', { label: 'utterance', options: utterances });
    const lastWord = Math.max(0, limits.wordLabels.length - 1);
    bind(data, 'words', { label: 'words', min: 0, max: Math.max(lastWord, 1), step: 1 });
    bind(data, 'fullMap', { label: 'all frames' });
    bind(data, 'layer', { label: 'layer', min: 0, max: Math.max(limits.layers - 1, 0), step: 1 });
    bind(data, 'head', { label: 'head', options: heads });
    bind(data, 'softmax', { label: 'softmax', options: options(SOFTMAX_MODES) });
    bind(view, 'view', { label: 'view', options: options(VIEW_MODES) });
    bind(view, 'smooth', { label: 'smooth' });
    bind(view, 'debug', { label: 'debug panel' });
    bind(look, 'colormap', { label: 'colormap', options: options(COLORMAP_NAMES) });
    bind(look, 'scale', { label: 'scale', options: options(SCALES) });
    bind(look, 'clipLow', { label: 'low %', min: 0, max: 50, step: 0.5 });
    bind(look, 'clipHigh', { label: 'high %', min: 50, max: 100, step: 0.5 });
    bind(compare, 'compareUtterance', { label: 'other utterance', options: { same: -1, ...utterances } });
    bind(compare, 'compareLayer', { label: 'other layer', min: 0, max: Math.max(limits.layers - 1, 0), step: 1 });
    bind(compare, 'compareHead', { label: 'other head', options: heads });
    bind(compare, 'poolUnit', { label: 'pool onto', options: options(POOL_UNITS) });
    bind(compare, 'poolStat', { label: 'pool by', options: options(POOL_STATS) });
    bind(compare, 'rolloutScope', { label: 'rollout over', options: options(ROLLOUT_SCOPES) });
  }

  /** Shows params set from elsewhere (URL, keyboard, a click on a thumbnail) without echoing a change back. */
  show(params: ViewerParams): void {
    Object.assign(this.#state, params, { words: { min: params.wordStart, max: params.wordEnd } });
    this.#showing = true;
    try {
      for (const binding of this.#bindings) binding.refresh();
    } finally {
      this.#showing = false;
    }
  }

  #emit(): void {
    if (this.#showing) return;
    const { words, ...rest } = this.#state;
    this.onChange({ ...rest, wordStart: Math.round(words.min), wordEnd: Math.round(words.max) });
  }

  dispose(): void {
    this.pane.dispose();
  }
}
