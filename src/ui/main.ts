/**
 * Starts the viewer in a page: checks for WebGPU, creates the engine, opens the bundled samples (or keeps what the
 * user drops), and wires the panel, the URL, the mouse and the keyboard to the Viewer.
 */
import { SHADER_SOURCES } from '../../shaders/index.ts';
import { toFrameSegments } from '../data/frames.ts';
import type { EngineEvent } from '../engine.ts';
import { AttentionEngine, msPerFrameFromSpf } from '../engine.ts';
import { AtlasView, isAtlasFile } from './atlasView.ts';
import type { LoadedUtterance } from './loadFiles.ts';
import { loadDroppedFiles, loadSampleUtterances, loadServedUtterances, withDistinctNames, type ModelRunner } from './loadFiles.ts';
import type { ModelProgress } from '../model/modelSource.ts';
import { AudioStrips } from './audioStrips.ts';
import type { FrameSpan } from './axisFrames.ts';
import { axisPieces, cellFrames } from './axisFrames.ts';
import { download, exportViewPng, exportViewSvg, viewTitle } from './exportView.ts';
import { renderOverlay } from './overlay.ts';
import { ViewerPane } from './pane.ts';
import { formatValue } from '../view/formatValue.ts';
import { drawColorbar } from './colorbar.ts';
import { describeData, drawStatsTable, renderDebug, segmentAtFrame } from './panels.ts';
import type { IndexOrMean } from '../view/spec.ts';
import { formatViewCommand, parseViewArgs, ViewError } from '../view/spec.ts';
import type { LoadedNames, ViewerParams } from './params.ts';
import { clampedAway, clampParams, DEFAULT_PARAMS, ignoredOptionNotes, paramsFromHash, paramsFromSpec, paramsToHash, specFromParams, viewArgsOf } from './params.ts';
import { mapName } from '../view/titles.ts';
import type { ViewInfo } from './viewer.ts';
import { Viewer } from './viewer.ts';
import { resolveSoftmax, STORED_SOFTMAX_NOTE } from '../view/storedSoftmax.ts';

/** The page's elements, by id (see demo/index.html). */
function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

export const BROWSERS_WITH_WEBGPU =
  'Chrome or Edge 113 or later (Windows, macOS, ChromeOS; Linux with --enable-unsafe-webgpu), Safari 26 or later, or Firefox 141 or later on Windows.';

/** The JSON files of a Hugging Face model folder (src/ui/loadFiles.ts runs the model when config.json is among them). */
const MODEL_JSON = /^(config|preprocessor_config|.*\.safetensors\.index)\.json$/;

/** What tests and the benchmark page reach through window.steve. */
export interface ViewerHandle {
  viewer: Viewer;
  engine: AttentionEngine;
  setParams(params: Partial<ViewerParams>): Promise<void>;
  /** The current view as `steve render` options, e.g. ['--view', 'heads', '--layer', '3', '--words', '0:2']. */
  viewCommand(): string[];
  /** Shows the view those options describe (throws ViewError for options the viewer cannot show). */
  setView(args: readonly string[]): Promise<void>;
  /** Drops the maps being computed and goes back to the view on screen; false when nothing was being computed. */
  cancel(): boolean;
  loadFiles(files: File[]): Promise<string[]>;
  exportSvg(): Promise<string>;
  /** The PNG export as a data URL. */
  exportPng(): Promise<string>;
  /** The atlas view (atlas.json files dropped or opened go there). */
  atlas: AtlasView;
  /** Resolves after the maps of the current params are on screen (a large grid's: their pyramid levels). */
  idle(): Promise<void>;
  events: EngineEvent[];
}

export async function startViewer(baseUrl: string): Promise<ViewerHandle | undefined> {
  const status = element('status');
  const displayNoteElement = element('display-note');
  if (!navigator.gpu) {
    showNoWebGpu('This browser does not offer WebGPU (navigator.gpu is missing).');
    return undefined;
  }
  const events: EngineEvent[] = [];
  /** The view's own status line ("48 map(s) of 130 x 130 frames on ..."), set when its maps are shown. */
  let viewStatus: string | undefined;
  /**
   * After an upload note: puts the view's status line back once the view's pyramid levels (which may load evicted
   * tensors back in under ?budget=) are all drawn, unless something else has been said since. Set once the viewer exists.
   */
  let restoreViewStatus: ((note: string) => Promise<void>) | undefined;
  /** The statistics beside a grid, computed after its maps are shown (they may load every layer in turn). */
  let headStatsDrawn: Promise<void> = Promise.resolve();
  let engine: AttentionEngine;
  try {
    // Page options (not view state, so in the query rather than the hash): ?storage=float16 halves GPU memory at
    // ~1e-3 relative precision; ?budget=MB caps the GPU memory uploads may take before the least recent are evicted.
    const options = new URLSearchParams(location.search);
    const budgetMb = Number(options.get('budget'));
    engine = await AttentionEngine.create({
      gpu: navigator.gpu,
      shaders: SHADER_SOURCES,
      storage: options.get('storage') === 'float16' ? 'float16' : 'float32',
      budgetBytes: budgetMb > 0 ? budgetMb * 1024 * 1024 : undefined,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'device-lost') status.textContent = `GPU device lost (${event.message}); recovering...`;
        if (event.type === 'device-restored') status.textContent = `GPU device restored on ${event.adapter}; nothing loaded was lost.`;
        if (event.type === 'upload') {
          status.textContent = `uploaded layer ${event.layer}, heads ${event.firstHead}..${event.firstHead + event.headCount - 1} to the GPU`;
          void restoreViewStatus?.(status.textContent);
        }
      },
    });
  } catch (error) {
    showNoWebGpu((error as Error).message);
    return undefined;
  }

  const canvas = element<HTMLCanvasElement>('map-canvas');
  const overlay = element('overlay');
  const colorbar = element<HTMLCanvasElement>('colorbar');
  const viewTitleElement = element('view-title');
  const stage = element('stage');
  const cancelButton = element<HTMLButtonElement>('cancel');
  /** The colour bar sits right of the maps, as tall as they are; redrawn when they move (resize) or change. */
  const placeColorbar = () => {
    const rect = viewer.colorbarRect();
    const spec = viewer.info?.colorbar;
    colorbar.hidden = !rect || !spec;
    if (!rect || !spec) return;
    colorbar.style.left = `${rect.x}px`;
    colorbar.style.top = `${rect.y}px`;
    drawColorbar(colorbar, spec, rect.width, rect.height);
  };
  const hover = element('hover');
  const debug = element('debug');
  const banner = element('banner');
  const strips = new AudioStrips(element<HTMLCanvasElement>('strips'));
  // The draw callbacks may run before the panel exists; they reach its frame meter through this.
  let frameMeter: ViewerPane['frameMeter'] | undefined;
  /** What the last link or setView asked for that its view ignores (as `steve render` says on stderr); '' after any other change. */
  let ignoredNote = '';
  let pending: Promise<void> = Promise.resolve();

  const viewer = await Viewer.create(canvas, engine, SHADER_SOURCES, {
    onView: (info) => {
      const params = viewer.params;
      const { title, subtitle } = viewTitle(info);
      viewTitleElement.replaceChildren(Object.assign(document.createElement('strong'), { textContent: title }), ' ', Object.assign(document.createElement('span'), { textContent: subtitle }));
      // What the cursor was over belongs to the maps that were replaced.
      hover.textContent = '';
      placeColorbar();
      banner.textContent = [describeData(info.utterance, softmaxNote(info)), ignoredNote].filter(Boolean).join(' ');
      banner.classList.toggle('synthetic', info.utterance.synthetic);
      if (params.debug) renderDebug(debug, info, engine);
      debug.hidden = !params.debug;
      const axes = info.plan.axes;
      const unit = axes.kind === 'segments' ? axes.unit : axes.framesPerCell > 1 ? `blocks of ${axes.framesPerCell} frames` : 'frames';
      // A pair's maps have each their own size.
      const sizes = [...new Set(info.cells.map((cell) => `${cell.rows} x ${cell.cols}`))].join(' and ');
      viewStatus = `${info.cells.length} map(s) of ${sizes} ${unit} on ${engine.adapterDescription}`;
      status.textContent = viewStatus;
      headStatsDrawn = showHeadStats(info);
    },
    onProgress: (progress) => {
      // The maps on screen belong to the previous view until the new ones arrive: dimmed, and marked so.
      stage.classList.toggle('stale', progress !== undefined);
      cancelButton.hidden = progress === undefined;
      if (progress) status.textContent = `computing ${progress.total > 1 ? `map ${progress.done + 1} of ${progress.total} (${progress.title})` : progress.title}... the maps shown are the previous view's; Cancel or Esc stops`;
    },
    onDrawStart: () => frameMeter?.begin(),
    onDraw: () => {
      renderOverlay(overlay, viewer, viewer.info);
      strips.draw(viewer);
      frameMeter?.end();
    },
    onError: (message) => (status.textContent = message),
    onDisplayNote: (note) => {
      displayNoteElement.textContent = note ?? '';
      // Its whole text where the footer's one line ends it in an ellipsis.
      displayNoteElement.title = note ?? '';
      displayNoteElement.hidden = note === undefined;
    },
  });

  restoreViewStatus = async (note) => {
    await viewer.whenLevelsSettled();
    await headStatsDrawn;
    if (status.textContent === note && !viewer.computing && viewStatus) status.textContent = viewStatus;
  };

  const statsPanel = element('head-stats');
  /** Beside the head and model grids: entropy and mean attention distance of every head, over the same crop. */
  async function showHeadStats(info: NonNullable<Viewer['info']>): Promise<void> {
    const params = viewer.params;
    statsPanel.hidden = params.view !== 'heads' && params.view !== 'model';
    if (statsPanel.hidden) return;
    const spf = info.utterance.spf?.samplesPerFrame ?? 320;
    const { shape } = info.utterance.attention;
    const layers = params.view === 'model' ? Array.from({ length: shape.layers }, (_, i) => i) : [params.layer];
    const first = info.cells[0]?.request;
    const crop = first && first.kind === 'attention' ? first.crop : undefined;
    const tables = statsPanel.querySelectorAll('canvas');
    const statistics = [
      ['entropy', 'entropy per query row (nats)'],
      ['distanceMs', 'mean attention distance (ms)'],
    ] as const;
    try {
      for (const [index, [statistic, title]] of statistics.entries()) {
        const values = await engine.readMap({
          kind: 'headStats',
          tensorId: `u${params.utterance}`,
          layers,
          softmax: params.softmax === 'none' && !info.utterance.synthetic ? 'none' : 'row',
          crop,
          msPerFrame: msPerFrameFromSpf(spf),
          statistic,
        });
        drawStatsTable(tables[index], values, layers, shape.heads, title, params.colormap);
      }
    } catch (error) {
      status.textContent = `head statistics: ${(error as Error).message}`;
    }
  }

  // Files given to `steve serve`, or else the bundled samples.
  status.textContent = 'loading...';
  // Models run on the engine's device, so their scores go into the engine without leaving the GPU.
  const runner: ModelRunner = { device: engine.device, shaders: SHADER_SOURCES, onProgress: showModelProgress };
  const served = await loadServedUtterances(baseUrl, runner);
  if (served && served.utterances.length > 0) {
    viewer.setUtterances(withDistinctNames(served.utterances));
    if (served.problems.length) status.textContent = served.problems.join(' | ');
  } else {
    viewer.setUtterances(await loadSampleUtterances(baseUrl));
    if (served?.problems.length) status.textContent = `could not open the served files: ${served.problems.join(' | ')}; showing the samples`;
  }
  const fromLink = paramsFromHash(location.hash, DEFAULT_PARAMS, viewer.loadedNames);
  let params = clampParams(fromLink.params, limitsOf(viewer.utterances));
  // Only a link's own values are worth a word (the defaults may not fit a short utterance).
  const linkProblem = fromLink.problem ?? (location.hash.length > 1 ? clampedAway(fromLink.params, params) : undefined);
  if (linkProblem) status.textContent = linkProblem;
  /** The current view's `steve render` options (what Copy command copies and window.steve.viewCommand() returns). */
  const viewArgs = () => viewArgsOf(params, viewer.loadedNames);
  /** The command line that draws this view: the files of the utterance when it has real ones, then the view options. */
  const viewCommandLine = () => {
    const utterance = viewer.utterances[params.utterance];
    const files = utterance && !utterance.synthetic ? ['--attention', utterance.attention.fileName, ...(utterance.audioFileName ? ['--wav', utterance.audioFileName] : [])] : [];
    const view = formatViewCommand(specFromParams(params, viewer.loadedNames));
    return ['steve render', ...files.map(shellWord), view].filter(Boolean).join(' ');
  };

  const fileStem = () => `steve_${viewer.info?.utterance.name ?? 'view'}_${params.view}_${mapName(params.layer, params.head).replace(' ', '_')}`;
  const guard = (work: () => Promise<void>) => work().catch((error: Error) => (status.textContent = `export failed: ${error.message}`));
  const pane = new ViewerPane(element('pane'), params, paneLimits(viewer.utterances, params.utterance), (next) => void apply(next), {
    exportPng: () => guard(async () => download(`${fileStem()}.png`, await exportViewPng(viewer))),
    exportSvg: () => guard(async () => download(`${fileStem()}.svg`, await exportViewSvg(viewer))),
    copyCommand: () => guard(async () => {
      const command = viewCommandLine();
      await navigator.clipboard.writeText(command).catch(() => undefined);
      status.textContent = `copied: ${command}`;
    }),
  });
  frameMeter = pane.frameMeter;

  /**
   * Whether the softmax was chosen (by a link's or setView's --softmax, the control or the s key) and is kept for
   * every utterance; otherwise each utterance gets resolveSoftmax's default, as `steve render` without --softmax.
   */
  let softmaxGiven = hasSoftmaxOption(location.hash);
  /**
   * `given`: whether `next` is a whole view that names its softmax (a link, setView); by default, a changed softmax is
   * a choice. `ignored`: the sentences for options of that view that do nothing (shown in the banner until the next change).
   */
  async function apply(next: Partial<ViewerParams>, given?: boolean, ignored: readonly string[] = []): Promise<void> {
    ignoredNote = ignored.join(' ');
    softmaxGiven = given ?? (softmaxGiven || (next.softmax !== undefined && next.softmax !== params.softmax));
    const utteranceChanged = next.utterance !== undefined && next.utterance !== params.utterance;
    const leavingDifference = params.view === 'difference' && next.view !== undefined && next.view !== 'difference';
    params = clampParams({ ...params, ...next }, limitsOf(viewer.utterances));
    // The diverging colormap was the difference's; the next view gets the default back unless it names its own.
    if (leavingDifference && next.colormap === undefined && params.colormap === 'diverging') params = { ...params, colormap: DEFAULT_PARAMS.colormap };
    // Attention that is already a softmax output (rows sum to 1) is shown as stored unless a softmax was chosen: the
    // rule `steve render` follows (src/view/storedSoftmax.ts). The banner says what was decided.
    const utterance = viewer.utterances[params.utterance];
    if (utterance && !softmaxGiven) params = { ...params, softmax: defaultSoftmax(params, utterance, viewer.loadedNames) };
    if (utteranceChanged) pane.rebuild(paneLimits(viewer.utterances, params.utterance));
    pane.show(params);
    history.replaceState(null, '', paramsToHash(params, viewer.loadedNames) || location.pathname + location.search);
    // The debug panel is not part of the view: it shows or hides at once, without waiting for new maps.
    debug.hidden = !params.debug;
    if (params.debug) renderDebug(debug, viewer.info, engine);
    pending = viewer.setParams(params);
    await pending;
    placeColorbar();
  }
  /** Back to the view on screen: the maps being computed are dropped. */
  const cancel = () => {
    const shown = viewer.cancel();
    if (!shown) return false;
    params = shown;
    pane.show(params);
    history.replaceState(null, '', paramsToHash(params, viewer.loadedNames) || location.pathname + location.search);
    status.textContent = 'cancelled: showing the previous view';
    return true;
  };
  cancelButton.addEventListener('click', cancel);

  window.addEventListener('hashchange', () => {
    const linked = paramsFromHash(location.hash, params, viewer.loadedNames);
    if (linked.problem) status.textContent = linked.problem;
    void apply(linked.params, linked.problem ? undefined : hasSoftmaxOption(location.hash), linked.ignored);
  });
  /** Shows the view that `steve render` options describe; a ViewError (one sentence) for options it cannot show. */
  const setView = async (args: readonly string[]) => {
    const asked = paramsFromSpec(parseViewArgs(args), params, viewer.loadedNames);
    const problem = clampedAway(asked, clampParams(asked, limitsOf(viewer.utterances)));
    if (problem) throw new ViewError(problem);
    await apply(asked, args.some((arg) => arg === '--softmax' || arg.startsWith('--softmax=')), ignoredOptionNotes(args));
  };
  // The stage changes size with the window, and when the title above it takes another line: the maps, the overlay
  // and the colour bar are placed again each time, or the canvas would be stretched under labels placed for the old size.
  new ResizeObserver(() => {
    viewer.layout();
    placeColorbar();
  }).observe(canvas);
  wireMouse(viewer, hover, strips, apply);
  wireKeyboard(viewer, () => params, apply, cancel);
  /** Keeps what is loaded, adds the new utterances and shows the first of them. */
  const addUtterances = async (utterances: LoadedUtterance[]) => {
    viewer.setUtterances(withDistinctNames([...viewer.utterances, ...utterances]));
    pane.rebuild(paneLimits(viewer.utterances, params.utterance));
    await apply({ utterance: viewer.utterances.length - utterances.length, wordStart: 0, wordEnd: 0 });
  };
  // An atlas.json among the files opens the atlas view; clicking a head there opens its map in the utterance shown.
  const atlas = new AtlasView(document.body, { onHead: (layer, head) => void apply({ view: 'map', layer, head }) });
  const addUtterancesOrAtlas = async (files: File[]) => {
    // A model folder's JSON files (config.json, ...) go with its weights to the model runner, not to the atlas view.
    const opensAtlas = (file: File) => isAtlasFile(file) && !MODEL_JSON.test(file.name);
    const problems = (await Promise.all(files.filter(opensAtlas).map((file) => atlas.openFile(file)))).filter((p): p is string => !!p);
    const others = files.filter((file) => !opensAtlas(file));
    return [...problems, ...(others.length ? await addFiles(others, addUtterances, runner) : [])];
  };
  wireFiles(viewer, status, addUtterancesOrAtlas);
  await apply(params, undefined, fromLink.ignored);

  return {
    viewer,
    engine,
    setParams: apply,
    viewCommand: viewArgs,
    setView,
    cancel: () => cancel(),
    loadFiles: addUtterancesOrAtlas,
    atlas,
    exportSvg: () => exportViewSvg(viewer),
    exportPng: async () => {
      const blob = await exportViewPng(viewer);
      return new Promise<string>((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result as string);
        reader.readAsDataURL(blob);
      });
    },
    idle: async () => {
      await pending;
      await viewer.whenLevelsSettled();
      await headStatsDrawn;
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      await engine.device.queue.onSubmittedWorkDone();
    },
    events,
  };
}

function limitsOf(utterances: readonly LoadedUtterance[]) {
  const first = utterances[0]?.attention.shape;
  return {
    utterances: utterances.length,
    words: utterances.map((u) => u.alignment?.words.length ?? 1),
    layers: first?.layers ?? 1,
    heads: first?.heads ?? 1,
  };
}

/** Whether a URL hash names a softmax scope (`softmax=...`). */
function hasSoftmaxOption(hash: string): boolean {
  return new URLSearchParams(hash.replace(/^#/, '')).has('softmax');
}

/** The softmax a view of `utterance` gets when none was chosen: resolveSoftmax's, from the default scope (row). */
function defaultSoftmax(params: ViewerParams, utterance: LoadedUtterance, names: LoadedNames): ViewerParams['softmax'] {
  try {
    const spec = specFromParams({ ...params, softmax: DEFAULT_PARAMS.softmax }, names);
    return resolveSoftmax(spec, { softmaxGiven: false, softmaxed: utterance.softmaxed }).softmax;
  } catch (error) {
    // A view the spec refuses fails when it is planned, with the reason; its softmax does not matter.
    if (error instanceof ViewError) return params.softmax;
    throw error;
  }
}

/** What the banner says about the softmax of a tensor whose rows already sum to 1: what resolveSoftmax or the user decided. */
function softmaxNote(info: ViewInfo): string | undefined {
  if (!info.utterance.softmaxed) return undefined;
  const scope = info.plan.spec.softmax;
  return scope === 'none' ? STORED_SOFTMAX_NOTE : `rows already sum to 1 (softmaxed); softmax ${scope} applies another softmax, as chosen`;
}

/** A file name as one shell word: as is when safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}


function paneLimits(utterances: readonly LoadedUtterance[], index: number) {
  const utterance = utterances[index] ?? utterances[0];
  return {
    utteranceNames: utterances.map((u) => u.name),
    wordLabels: utterance?.alignment?.words.map((w) => w.label) ?? [],
    layers: utterance?.attention.shape.layers ?? 1,
    heads: utterance?.attention.shape.heads ?? 1,
  };
}

function showNoWebGpu(reason: string): void {
  document.body.innerHTML = '';
  const message = document.createElement('main');
  message.className = 'no-webgpu';
  message.innerHTML = `<h1>STEVE needs WebGPU</h1><p></p><p>It runs in ${BROWSERS_WITH_WEBGPU}</p>`;
  message.querySelector('p')!.textContent = reason;
  document.body.append(message);
}

type Apply = (params: Partial<ViewerParams>) => Promise<void>;

function wireMouse(viewer: Viewer, hover: HTMLElement, strips: AudioStrips, apply: Apply): void {
  const canvas = viewer.canvas;
  let drag: { x: number; y: number; moved: boolean } | undefined;
  // Read-back maps of the hovered cell: what is shown, and the raw scores behind it when softmax is on.
  let values: { cell: unknown; map?: Float32Array; raw?: Float32Array } = { cell: undefined };
  canvas.addEventListener('wheel', (event) => {
    event.preventDefault();
    viewer.zoomAt(Math.exp(-event.deltaY * 0.0015), event.offsetX, event.offsetY);
  }, { passive: false });
  // A drag that starts on the waveform or spectrogram selects a stretch of audio (played on release) instead of panning.
  let selection: { fromSec: number; toSec: number } | undefined;
  canvas.addEventListener('pointerdown', (event) => {
    const time = strips.timeAt(event.offsetX, event.offsetY);
    selection = time === undefined ? undefined : { fromSec: time, toSec: time };
    drag = { x: event.offsetX, y: event.offsetY, moved: false };
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (selection && (event.buttons & 1) !== 0) {
      selection.toSec = strips.timeAt(event.offsetX, event.offsetY) ?? selection.toSec;
      strips.draw(viewer);
      strips.showSelection(selection.fromSec, selection.toSec);
      return;
    }
    if (drag && (event.buttons & 1) !== 0) {
      const dx = event.offsetX - drag.x;
      const dy = event.offsetY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      if (drag.moved) {
        viewer.panBy(dx, dy);
        drag = { x: event.offsetX, y: event.offsetY, moved: true };
      }
      return;
    }
    void showHover(event.offsetX, event.offsetY);
  });
  canvas.addEventListener('pointerup', (event) => {
    const click = drag && !drag.moved;
    drag = undefined;
    const selected = selection;
    selection = undefined;
    // A real stretch (more than 10 ms) plays; a click on a strip falls through to clickTier, which plays the view.
    if (selected && Math.abs(selected.toSec - selected.fromSec) > 0.01) {
      strips.playRange(selected.fromSec, selected.toSec);
      return;
    }
    if (!click) return;
    const cell = viewer.cellAt(event.offsetX, event.offsetY);
    if (cell && viewer.cells.length > 1) {
      // A map of the grid opens on its own (the plan's layers are indices: the viewer shows no layer mean).
      void apply({ view: 'map', layer: cell.layer === 'mean' ? viewer.params.layer : cell.layer, head: cell.head });
      return;
    }
    if (strips.clickTier(event.offsetX, event.offsetY)) return;
    const point = viewer.mapPointAt(event.offsetX, event.offsetY);
    // A cell's row and column are a frame each, a block of frames (--pool k) or a phone's or word's frames.
    const query = point && cellFramesAt(viewer, point.row);
    const key = point && cellFramesAt(viewer, point.col);
    if (query && key) strips.playCell(query, key);
  });
  canvas.addEventListener('dblclick', () => viewer.resetZoom());

  async function showHover(x: number, y: number): Promise<void> {
    const point = viewer.mapPointAt(x, y);
    const info = viewer.info;
    if (!point || !info) {
      hover.textContent = '';
      return;
    }
    if (values.cell !== point.cell) {
      values = { cell: point.cell };
      values.map = await viewer.readCell(point.cell);
      values.raw = await viewer.readCellRaw(point.cell);
    }
    const index = point.row * point.cell.cols + point.col;
    const value = values.map?.[index];
    const raw = values.raw?.[index];
    const labels = point.cell.segmentLabels;
    if (labels) {
      hover.textContent = `${point.cell.title}  query ${labels[point.row]}  key ${labels[point.col]}  value ${value === undefined ? '-' : formatValue(value)}`;
      return;
    }
    // A pair's second map has its own frames; the other maps' cells are frames or blocks of frames from the crop.
    const frames = (index: number) => (point.cell.other ? { startFrame: point.cell.frameOrigin + index, endFrame: point.cell.frameOrigin + index + 1 } : cellFramesAt(viewer, index));
    const query = frames(point.row);
    const key = frames(point.col);
    if (!query || !key) return;
    const spf = info.utterance.spf?.samplesPerFrame;
    const time = (frame: number) => (spf ? `${((frame * spf) / 16).toFixed(0)} ms` : '');
    const alignment = info.utterance.alignment;
    const phones = alignment && spf ? toFrameSegments(alignment.phones, spf) : [];
    const words = alignment && spf ? toFrameSegments(alignment.words, spf) : [];
    // A block of frames is named by its frames and described by its first one.
    const describe = ({ startFrame, endFrame }: Pick<FrameSpan, 'startFrame' | 'endFrame'>) =>
      `${endFrame - startFrame > 1 ? `frames ${startFrame}..${endFrame - 1}` : `frame ${startFrame}`} (${time(startFrame)}, ${segmentAtFrame(phones, startFrame)}, ${segmentAtFrame(words, startFrame)})`;
    hover.textContent =
      `${point.cell.title}  query ${describe(query)}  key ${describe(key)}  ` +
      `value ${value === undefined ? '-' : formatValue(value)}` +
      (raw === undefined ? '' : ` (raw ${formatValue(raw)})`);
  }
}

/** The frames behind row or column `index` of the viewer's map (a frame, a block of frames or a segment's frames). */
function cellFramesAt(viewer: Viewer, index: number): FrameSpan | undefined {
  const info = viewer.info;
  return info && cellFrames(axisPieces(info.plan.axes, info.plan.crop, (info.utterance.spf?.samplesPerFrame ?? 0) / 16000), index);
}

function wireKeyboard(viewer: Viewer, params: () => ViewerParams, apply: Apply, cancel: () => boolean): void {
  window.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement;
    // Enter (after Tweakpane has taken the typed value) or Escape leaves a text field or list, so the keys below
    // work again; while a field has the focus, they are the field's.
    if ((event.key === 'Enter' || event.key === 'Escape') && target.matches?.('input, select, textarea')) {
      target.blur();
      return;
    }
    if (target.closest?.('input, select, textarea, .tp-dfwv')) return;
    const p = params();
    const canvas = viewer.canvas;
    // Heads in the order of the head list: 0, 1, ..., the last, then their mean.
    const heads = viewer.utterances[p.utterance]?.attention.shape.heads ?? 1;
    const stepHead = (head: IndexOrMean, step: number): IndexOrMean => {
      const position = Math.min(Math.max((head === 'mean' ? heads : head) + step, 0), heads);
      return position === heads ? 'mean' : position;
    };
    const centre = [canvas.clientWidth / 2, canvas.clientHeight / 2] as const;
    const actions: Record<string, () => void> = {
      '+': () => viewer.zoomAt(1.25, ...centre),
      '=': () => viewer.zoomAt(1.25, ...centre),
      '-': () => viewer.zoomAt(0.8, ...centre),
      '0': () => viewer.resetZoom(),
      ArrowLeft: () => viewer.panBy(40, 0),
      ArrowRight: () => viewer.panBy(-40, 0),
      ArrowUp: () => viewer.panBy(0, 40),
      ArrowDown: () => viewer.panBy(0, -40),
      '[': () => void apply({ layer: p.layer - 1 }),
      ']': () => void apply({ layer: p.layer + 1 }),
      ',': () => void apply({ head: stepHead(p.head, -1) }),
      '.': () => void apply({ head: stepHead(p.head, 1) }),
      s: () => void apply({ softmax: p.softmax === 'none' ? 'row' : 'none' }),
      Escape: () => void cancel(),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });
}

/** The footer's progress bar: how much of the large files has been read (they are read as maps are asked for). */
function showReadProgress(bytesRead: number, byteLength: number, fileName: string): void {
  const bar = document.getElementById('read-progress') as HTMLProgressElement | null;
  if (!bar) return;
  bar.max = byteLength;
  bar.value = bytesRead;
  bar.hidden = byteLength < 64 * 1024 * 1024 || bytesRead >= byteLength;
  bar.title = `${fileName}: ${(bytesRead / 1e6).toFixed(0)} MB of ${(byteLength / 1e6).toFixed(0)} MB read`;
  const label = document.getElementById('read-progress-label');
  if (label) label.textContent = bar.hidden ? '' : bar.title;
}

/** The footer's progress bar while a dropped model reads its weights and runs its encoder. */
function showModelProgress(progress: ModelProgress, modelName: string): void {
  const bar = document.getElementById('read-progress') as HTMLProgressElement | null;
  if (!bar) return;
  bar.max = 1;
  bar.value = progress.fraction;
  bar.hidden = progress.layersDone >= progress.layers;
  bar.title = `${modelName}: ${progress.stage === 'weights' ? 'reading weights' : 'running the encoder'}, layer ${progress.layersDone} of ${progress.layers} done`;
  const label = document.getElementById('read-progress-label');
  if (label) label.textContent = bar.hidden ? '' : bar.title;
}

async function addFiles(files: File[], add: (u: LoadedUtterance[]) => Promise<void>, runner?: ModelRunner): Promise<string[]> {
  const { utterances, problems } = await loadDroppedFiles(files, undefined, undefined, showReadProgress, runner);
  if (utterances.length > 0) await add(utterances);
  return problems;
}

function wireFiles(viewer: Viewer, status: HTMLElement, open: (files: File[]) => Promise<string[]>): void {
  const report = (problems: string[], count: number) => {
    status.textContent = [count ? `loaded ${count} utterance(s)` : '', ...problems].filter(Boolean).join(' | ');
  };
  const handle = async (files: File[]) => {
    status.textContent = `reading ${files.length} file(s)...`;
    const before = viewer.utterances.length;
    const problems = await open(files);
    report(problems, viewer.utterances.length - before);
  };
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    document.body.classList.add('dropping');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dropping'));
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    document.body.classList.remove('dropping');
    void handle([...(event.dataTransfer?.files ?? [])]);
  });
  const picker = document.getElementById('file-picker') as HTMLInputElement | null;
  picker?.addEventListener('change', () => void handle([...(picker.files ?? [])]));
}
