/**
 * The live viewer: what only a viewer on a page does with a view. The view itself (which maps, axes, labels,
 * boundaries, titles, colour bar, colour range) is the shared plan (src/view/plan.ts) of the params' ViewSpec; the
 * drawing is the shared MapScene (src/render/mapScene.ts). A view is computed and drawn by runView (./viewRun.ts:
 * one submit, no readback before the frame); geometry and hit tests are ./mapGeometry.ts. Here: when to recompute
 * (progress, cancel, the old maps kept meanwhile), the canvas, zoom and pan, and redrawing when only the looks change.
 */
import { mat3 } from 'gl-matrix';
import { ComputeCancelledError, type AttentionEngine, type ComputeMapsProgress } from '../engine.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { submitCounted } from '../gpu/workCounters.ts';
import { displayNote, visibleFrames, zoomUnit, type VisibleFrames } from '../view/displayNote.ts';
import type { ViewPlan } from '../view/plan.ts';
import type { Rect } from './layout.ts';
import { colorbarBeside, GRID_EDGE, GRID_GAP } from './layout.ts';
import type { LoadedUtterance } from './loadFiles.ts';
import { MapCanvas } from './mapCanvas.ts';
import { frameLevelBudget, levelBuildsInFlight, levelBuildsSettled } from './pyramidCells.ts';
import { cellAt, mapPointAt, mapToCanvas, pannedBy, zoomedAt } from './mapGeometry.ts';
import type { LoadedNames, ViewerParams } from './params.ts';
import { loadedNamesOf, needsNewMaps, planOfParams, progressLine, readColorbar, releaseRun, resetsZoom, runView, tensorId, viewInfo } from './viewRun.ts';
import type { Cell, ShownRun, ViewInfo } from './viewRun.ts';

export type { Cell, ViewInfo } from './viewRun.ts';
export { tensorId } from './viewRun.ts';

/** How long new maps may take before progress is reported and the maps on screen are marked stale. */
const PROGRESS_AFTER_MS = 400;

export interface ViewerCallbacks {
  /** After every recompute (new maps). */
  onView?: (info: ViewInfo) => void;
  /** While new maps take long: how many are done; undefined once they are shown, fail or are cancelled. */
  onProgress?: (progress: { done: number; total: number; title: string } | undefined) => void;
  /** Before and after every draw (zoom, pan, looks; for new maps, from their frame to their colour bar): the frame-time graph measures between them. */
  onDrawStart?: () => void;
  onDraw?: () => void;
  onError?: (message: string) => void;
  /** After a frame, when it changes: what the title alone would not say (zoomed part, maps still coarse); undefined when nothing. */
  onDisplayNote?: (note: string | undefined) => void;
}

export class Viewer {
  readonly canvas: HTMLCanvasElement;
  #engine: AttentionEngine;
  #shaders: ShaderSources;
  #mapCanvas!: MapCanvas;
  #utterances: LoadedUtterance[] = [];
  #params!: ViewerParams;
  /** The params of the maps on screen (params may be ahead of them while new maps are computed). */
  #shown?: ViewerParams;
  #computing = false;
  #info?: ViewInfo;
  /** The run on screen: its maps and the ranges buffer they share. */
  #run?: ShownRun;
  /** Aborts the run being computed. */
  #controller?: AbortController;
  #columns = 1;
  #gap = GRID_GAP;
  #zoom = mat3.create();
  #drawPending = false;
  /** Frames drawn by drawNow (the maps already on screen), so a run's cost can leave them out. */
  #redraws = 0;
  #callbacks: ViewerCallbacks;

  private constructor(canvas: HTMLCanvasElement, engine: AttentionEngine, shaders: ShaderSources, callbacks: ViewerCallbacks) {
    this.canvas = canvas;
    this.#engine = engine;
    this.#shaders = shaders;
    this.#callbacks = callbacks;
  }

  static async create(canvas: HTMLCanvasElement, engine: AttentionEngine, shaders: ShaderSources, callbacks: ViewerCallbacks = {}): Promise<Viewer> {
    const viewer = new Viewer(canvas, engine, shaders, callbacks);
    await viewer.#attachDevice();
    engine.subscribe((event) => {
      if (event.type === 'device-restored') void viewer.#recoverDevice();
    });
    return viewer;
  }

  get params(): ViewerParams {
    return this.#params;
  }

  get utterances(): readonly LoadedUtterance[] {
    return this.#utterances;
  }

  get info(): ViewInfo | undefined {
    return this.#info;
  }

  get cells(): readonly Cell[] {
    return this.#run?.cells ?? [];
  }

  /** The canvas' passes are per device: made at start and after a device loss. */
  async #attachDevice(): Promise<void> {
    this.#mapCanvas = await MapCanvas.create(this.canvas, this.#engine.device, this.#shaders);
  }

  async #recoverDevice(): Promise<void> {
    this.#controller?.abort();
    this.#releaseCells();
    this.#mapCanvas.destroy();
    await this.#attachDevice();
    if (this.#params) await this.#recompute();
  }

  /** Replaces the utterances (the engine holds their tensors under ids "u0", "u1", ...). */
  setUtterances(utterances: LoadedUtterance[]): void {
    const previous = this.#utterances;
    previous.forEach((_, index) => this.#engine.removeTensor(tensorId(index)));
    try {
      utterances.forEach((utterance, index) => this.#engine.addTensor(tensorId(index), utterance.attention));
    } catch (error) {
      // A refused tensor (a model whose kept memory leaves no room in the budget) leaves what was loaded as it was.
      utterances.forEach((_, index) => this.#engine.removeTensor(tensorId(index)));
      previous.forEach((utterance, index) => this.#engine.addTensor(tensorId(index), utterance.attention));
      throw error;
    }
    this.#utterances = utterances;
  }

  /** What the params' ViewSpec is spelt with: the loaded utterances' files. */
  get loadedNames(): LoadedNames {
    return loadedNamesOf(this.#utterances);
  }

  /** Shows `params`; recomputes maps only when something structural changed. */
  async setParams(params: ViewerParams): Promise<void> {
    const previous = this.#params;
    this.#params = params;
    if (needsNewMaps(previous, params)) {
      if (resetsZoom(previous, params)) mat3.identity(this.#zoom);
      this.#computing = true;
      await this.#recompute();
    } else {
      if (!this.#computing) this.#shown = params;
      if (this.#info) this.#info.colorbar = { ...this.#info.colorbar, colormap: this.#colormap() };
      this.requestDraw();
    }
  }

  /**
   * Resolves once the pyramid levels the frames asked for are built and drawn (a large grid's cells draw nothing
   * until their first level arrives): what tests and screenshots wait for before looking.
   */
  async whenLevelsSettled(): Promise<void> {
    do {
      await levelBuildsSettled();
      // The frames the arrivals asked for (they draw the new levels and may ask for others).
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    } while (levelBuildsInFlight() > 0);
  }

  /** Whether new maps are being computed (the ones on screen are the previous view's). */
  get computing(): boolean {
    return this.#computing;
  }

  /** Stops waiting for the maps being computed and goes back to the params on screen (returned); undefined if idle. */
  cancel(): ViewerParams | undefined {
    if (!this.#computing || !this.#shown) return undefined;
    this.#computing = false;
    this.#controller?.abort();
    this.#controller = undefined;
    this.#params = this.#shown;
    this.#callbacks.onProgress?.(undefined);
    this.requestDraw();
    return this.#shown;
  }

  /** Maps per row of a grid (the plan's: heads for 'model', about square otherwise). */
  gridColumns(): number {
    return this.#columns;
  }

  /** Where the colour bar goes (CSS pixels): right of the maps. */
  colorbarRect(): Rect | undefined {
    return colorbarBeside(this.cells.map((cell) => cell.rect));
  }

  zoomAt(factor: number, x: number, y: number): void {
    this.#zoom = zoomedAt(this.#zoom, this.cells, factor, x, y);
    this.requestDraw();
  }

  panBy(dx: number, dy: number): void {
    this.#zoom = pannedBy(this.#zoom, this.cells, dx, dy);
    this.requestDraw();
  }

  resetZoom(): void {
    mat3.identity(this.#zoom);
    this.requestDraw();
  }

  cellAt(x: number, y: number): Cell | undefined {
    return cellAt(this.cells, x, y);
  }

  /** Map cells -> CSS pixels of a cell, under the current zoom: what overlays use to place labels and to hit-test. */
  mapToCanvas(cell: Cell): mat3 {
    return mapToCanvas(cell, this.#zoom);
  }

  mapPointAt(x: number, y: number): { cell: Cell; row: number; col: number } | undefined {
    return mapPointAt(this.cells, this.#zoom, x, y);
  }

  /** Reads one cell's map back (hover values). */
  async readCell(cell: Cell): Promise<Float32Array | undefined> {
    return cell.map || cell.levels ? this.#engine.readMap(cell.request) : undefined;
  }

  /** The raw scores behind a softmaxed attention cell (same crop, no softmax); undefined when there is no softmax. */
  async readCellRaw(cell: Cell): Promise<Float32Array | undefined> {
    const request = cell.request;
    if (request.kind !== 'attention' || request.softmax === 'none') return undefined;
    return this.#engine.readMap({ ...request, softmax: 'none' });
  }

  // ---- computing ----------------------------------------------------------------------------------------------

  /**
   * Computes the params' view and shows it (runView: one submit with the frame, or a large grid's groups then its
   * frame; the colour bar read after it), then a pyramid grid's cells start drawing levels.
   */
  async #recompute(): Promise<void> {
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const current = () => this.#controller === controller;
    const params = this.#params;
    const utterance = this.#utterances[params.utterance];
    if (!utterance) return;
    const fail = (message: string) => {
      if (!current()) return;
      this.#computing = false;
      this.#callbacks.onProgress?.(undefined);
      this.#callbacks.onError?.(message);
    };
    let plan: ViewPlan;
    try {
      plan = planOfParams(params, this.#utterances, this.loadedNames);
    } catch (error) {
      return fail((error as Error).message);
    }
    const started = performance.now();
    let latest: ComputeMapsProgress = { done: 0, total: plan.cells.length };
    const report = () => {
      if (current() && this.#computing && performance.now() - started >= PROGRESS_AFTER_MS) this.#callbacks.onProgress?.(progressLine(plan, latest));
    };
    const timer = setTimeout(report, PROGRESS_AFTER_MS + 1);
    try {
      const run = await runView(this.#engine, plan, {
        colorRange: this.#mapCanvas.colorRange,
        signal: controller.signal,
        onProgress: (progress) => ((latest = progress), report()),
        otherSubmits: () => this.#redraws,
        show: (encoder, shown) => this.#show(params, plan, shown, encoder),
        // A grid computed in groups: its cells' pyramids, filled for the first frame as this canvas will draw it.
        pyramids: {
          firstLevels: (cells, unzoomed) => this.#mapCanvas.firstLevels(cells, plan.columns, gapOf(plan), unzoomed ? mat3.create() : this.#zoom, frameLevelBudget(this.#engine)),
          onReady: () => this.requestDraw(),
          onError: (error) => this.#callbacks.onError?.(error.message),
        },
      });
      if (this.#run?.cells !== run.cells) return;
      this.#run = run;
      await readColorbar(this.#engine, plan, run);
      // A newer view may have replaced these maps during the readback.
      if (this.#run !== run) return;
      this.#info = viewInfo(utterance, plan, run, this.#colormap());
      this.#callbacks.onProgress?.(undefined);
      // The frame took log from the policy; a log scale over no positive value falls back to linear on the CPU.
      if (run.cells.some((cell) => cell.scale && cell.scale.log !== cell.log)) this.layout();
      this.#callbacks.onView?.(this.#info);
      this.#reportDisplay();
      this.#callbacks.onDraw?.();
    } catch (error) {
      if (!(error instanceof ComputeCancelledError)) fail((error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Puts a run's maps on screen and records their frame into `encoder` (inside runView's last submit). */
  #show(params: ViewerParams, plan: ViewPlan, run: ShownRun, encoder: GPUCommandEncoder): void {
    this.#releaseCells();
    this.#run = run;
    this.#columns = plan.columns;
    this.#gap = gapOf(plan);
    this.#info = undefined;
    this.#shown = params;
    this.#computing = false;
    this.#mapCanvas.setCells(run.cells);
    this.#mapCanvas.place(run.cells, this.#columns, this.#gap);
    this.#callbacks.onDrawStart?.();
    this.#encodeFrame(encoder);
  }

  /** The maps on screen are #shown's: a difference stays diverging until the next view replaces it. */
  #colormap() {
    const shown = this.#shown ?? this.#params;
    return shown.view === 'difference' ? 'diverging' : this.#params.colormap;
  }

  #releaseCells(): void {
    this.#mapCanvas?.setCells([]);
    if (this.#run) releaseRun(this.#run);
    this.#run = undefined;
  }

  // ---- layout and drawing -------------------------------------------------------------------------------------

  /** Places the cells in the canvas (CSS pixels) for the current view and size, then redraws. */
  layout(): void {
    this.#mapCanvas.place(this.cells, this.#columns, this.#gap);
    this.requestDraw();
  }

  requestDraw(): void {
    if (this.#drawPending) return;
    this.#drawPending = true;
    requestAnimationFrame(() => {
      this.#drawPending = false;
      this.drawNow();
    });
  }

  /** Records and submits one frame now (zoom, pan, looks: the maps are unchanged). */
  drawNow(): void {
    if (!this.#params) return;
    this.#callbacks.onDrawStart?.();
    const encoder = this.#engine.device.createCommandEncoder({ label: 'Viewer.frame' });
    this.#encodeFrame(encoder);
    submitCounted(this.#engine.device, [encoder.finish()]);
    this.#mapCanvas.frameSubmitted();
    this.#redraws++;
    this.#callbacks.onDraw?.();
    this.#reportDisplay();
  }

  #displayNote?: string;

  /** Tells onDisplayNote what the last frame shows beyond the title: the zoomed part, cells not yet at their level. */
  #reportDisplay(): void {
    const axes = this.#info?.plan.axes;
    const note = this.cells[0] && axes ? displayNote(this.visibleFrames(), this.#mapCanvas.lastFrame, zoomUnit(axes)) : undefined;
    if (note === this.#displayNote) return;
    this.#displayNote = note;
    this.#callbacks.onDisplayNote?.(note);
  }

  #encodeFrame(encoder: GPUCommandEncoder): void {
    this.#mapCanvas.encodeFrame(encoder, this.#colormap(), this.#params.smooth, this.#zoom, frameLevelBudget(this.#engine));
  }

  /**
   * A cell's map at size x size pixels, without boundary lines: the raster of an exported figure. `followZoom`: the
   * part the screen's zoom shows (a single map's export, whose labels follow the zoom too), else the whole map.
   */
  async renderCellRaster(cell: Cell, size: number, followZoom = true): Promise<Uint8Array> {
    return this.#mapCanvas.renderCellRaster(cell, size, followZoom ? this.#zoom : mat3.create());
  }

  /** The frames of the first map that the zoom shows (every cell of a grid shows the same part); undefined unzoomed. */
  visibleFrames(): VisibleFrames | undefined {
    const cell = this.cells[0];
    const axes = this.#info?.plan.axes;
    if (!cell || !axes || !(this.#zoom[0] > 1 + 1e-9)) return undefined;
    const segments = axes.kind === 'segments';
    const zoom = { scale: this.#zoom[0], translateX: this.#zoom[6], translateY: this.#zoom[7] };
    return visibleFrames(zoom, cell.rows, cell.cols, segments ? 0 : cell.frameOrigin, segments ? 1 : axes.framesPerCell);
  }

  destroy(): void {
    this.#controller?.abort();
    this.#releaseCells();
    this.#mapCanvas.destroy();
  }
}

/** Pixels between a plan's maps: a pair's second map has its own row words on its left, so room for them. */
function gapOf(plan: ViewPlan): number {
  return plan.spec.view === 'pair' ? GRID_GAP + GRID_EDGE : GRID_GAP;
}
