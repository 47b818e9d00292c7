/**
 * The live viewer: what only a viewer on a page does with a view. The view itself (which maps, axes, labels,
 * boundaries, titles, colour bar, colour range) is the shared plan (src/view/plan.ts) of the params' ViewSpec; the
 * drawing is the shared MapScene (src/render/mapScene.ts). Here: computing the plan's maps on the engine (with
 * progress, cancellation and the old maps kept meanwhile), placing them on the canvas, zoom and pan, hit tests,
 * and redrawing when only the looks change.
 *
 * Zoom is one transform in "unit" coordinates ([0,1]^2 over a cell) shared by every cell, so a grid zooms and pans
 * in step.
 */
import { mat3 } from 'gl-matrix';
import type { WordSelection } from '../data/frames.ts';
import type { AttentionEngine, ComputedMap, ComputedStats } from '../engine.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { MapScene, boundaryStyleFor, createRangeBuffer } from '../render/mapScene.ts';
import { renderToPixels } from '../render/offscreen.ts';
import { panBy, zoomAbout } from '../render/view.ts';
import type { ColorScale } from '../view/colorScale.ts';
import { makeColorScale } from '../view/colorScale.ts';
import type { MapMarks, PlannedCell, ViewPlan } from '../view/plan.ts';
import { planView, spanOf } from '../view/plan.ts';
import type { ColorbarSpec } from './colorbar.ts';
import type { Rect } from './layout.ts';
import { colorbarBeside, placeCells } from './layout.ts';
import type { LoadedUtterance } from './loadFiles.ts';
import type { LoadedNames, ViewerParams } from './params.ts';
import { otherUtterance, specFromParams } from './params.ts';
import { cellPyramid, drawsPyramid, frameLevelBudget } from './pyramidCells.ts';
import type { PyramidLevels } from '../render/pyramidLevels.ts';

/** How long new maps may take before progress is reported and the maps on screen are marked stale. */
const PROGRESS_AFTER_MS = 400;

/** Fields whose change needs new maps; the others (colormap, smoothing, debug) only change how the same maps look. */
const STRUCTURAL: (keyof ViewerParams)[] = [
  'utterance', 'wordStart', 'wordEnd', 'full', 'layer', 'head', 'softmax', 'view', 'poolUnit', 'poolStat',
  'compareLayer', 'compareHead', 'compareUtterance', 'scale', 'clipLow', 'clipHigh', 'rolloutCrop', 'colorRange',
];

/** One map on screen: a planned cell with its labels and lines, its place, its computed map and its colour scale. */
export interface Cell extends PlannedCell {
  readonly marks: MapMarks;
  /** The words behind its frames, and the first frame of its rows and columns (0 for a pooled map). */
  readonly selection?: WordSelection;
  readonly frameOrigin: number;
  /** A pooled map's rows and columns are segments: their labels. */
  readonly segmentLabels?: readonly string[];
  rect: Rect;
  rows: number;
  cols: number;
  map?: ComputedMap;
  /** A grid cell's pyramid (src/ui/pyramidCells.ts), drawn instead of a kept map. */
  levels?: PyramidLevels;
  stats?: ComputedStats;
  /** The values its bottom and top colours stand for (shared by a grid unless per-map), and the same on the GPU. */
  scale?: ColorScale;
  rangeBuffer?: GPUBuffer;
}

/** What the viewer reports after a recompute, for the title, the colour bar, the debug panel and tests. */
export interface ViewInfo {
  utterance: LoadedUtterance;
  plan: ViewPlan;
  selection?: WordSelection;
  /** First frame of the first map's rows and columns (the crop start). */
  frameOrigin: number;
  rows: number;
  cols: number;
  cells: readonly Cell[];
  /** One colour bar: the view's scale (a per-map grid: the first map's, its ends "min" and "max"). */
  colorbar: ColorbarSpec;
}

export interface ViewerCallbacks {
  /** After every recompute (new maps). */
  onView?: (info: ViewInfo) => void;
  /** While new maps take long: how many are done; undefined once they are shown, fail or are cancelled. */
  onProgress?: (progress: { done: number; total: number; title: string } | undefined) => void;
  /** Before and after every draw (zoom, pan, looks): the frame-time graph measures between them. */
  onDrawStart?: () => void;
  onDraw?: () => void;
  onError?: (message: string) => void;
}

export class Viewer {
  readonly canvas: HTMLCanvasElement;
  #engine: AttentionEngine;
  #shaders: ShaderSources;
  #context!: GPUCanvasContext;
  #scene!: MapScene;
  /** An rgba8unorm scene for exports (the canvas' format may be bgra8unorm). */
  #exportScene?: MapScene;
  #utterances: LoadedUtterance[] = [];
  #params!: ViewerParams;
  /** The params of the maps on screen (params may be ahead of them while new maps are computed). */
  #shown?: ViewerParams;
  #computing = false;
  #cells: Cell[] = [];
  #info?: ViewInfo;
  #zoom = mat3.create();
  #generation = 0;
  #drawPending = false;
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
    return this.#cells;
  }

  /** The render passes are per device: (re)made at start and after a device loss. */
  async #attachDevice(): Promise<void> {
    const device = this.#engine.device;
    const format = navigator.gpu.getPreferredCanvasFormat();
    this.#context = this.canvas.getContext('webgpu') as GPUCanvasContext;
    // COPY_SRC lets export and tests read the picture back; premultiplied keeps the page behind transparent areas.
    this.#context.configure({ device, format, alphaMode: 'premultiplied', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
    this.#scene = await MapScene.create(device, this.#shaders, format);
  }

  async #recoverDevice(): Promise<void> {
    this.#releaseCells();
    this.#exportScene = undefined;
    await this.#attachDevice();
    if (this.#params) await this.#recompute();
  }

  /** Replaces the utterances (the engine holds their tensors under ids "u0", "u1", ...). */
  setUtterances(utterances: LoadedUtterance[]): void {
    this.#utterances.forEach((_, index) => this.#engine.removeTensor(tensorId(index)));
    this.#utterances = utterances;
    utterances.forEach((utterance, index) => this.#engine.addTensor(tensorId(index), utterance.attention));
  }

  /** What the params' ViewSpec is spelt with: the loaded utterances' files. */
  get loadedNames(): LoadedNames {
    const utterances = this.#utterances;
    return {
      files: utterances.map((u) => ({ attention: u.attention.fileName, name: u.name })),
      layers: utterances[0]?.attention.shape.layers ?? 1,
      words: utterances.map((u) => u.alignment?.words.length ?? 1),
    };
  }

  /** Shows `params`; recomputes maps only when something structural changed. */
  async setParams(params: ViewerParams): Promise<void> {
    const previous = this.#params;
    this.#params = params;
    if (!previous || STRUCTURAL.some((key) => previous[key] !== params[key])) {
      if (previous && (previous.view !== params.view || previous.utterance !== params.utterance || previous.full !== params.full)) mat3.identity(this.#zoom);
      this.#computing = true;
      await this.#recompute();
    } else {
      if (!this.#computing) this.#shown = params;
      if (this.#info) this.#info.colorbar = { ...this.#info.colorbar, colormap: this.#colormap() };
      this.requestDraw();
    }
  }

  /** Stops waiting for the maps being computed and goes back to the params on screen (returned); undefined if idle. */
  cancel(): ViewerParams | undefined {
    if (!this.#computing || !this.#shown) return undefined;
    this.#computing = false;
    this.#generation++;
    this.#params = this.#shown;
    this.#callbacks.onProgress?.(undefined);
    this.requestDraw();
    return this.#shown;
  }

  /** Maps per row of a grid (the plan's: heads for 'model', about square otherwise). */
  gridColumns(): number {
    return this.#info?.plan.columns ?? 1;
  }

  /** Where the colour bar goes (CSS pixels): right of the maps. */
  colorbarRect(): Rect | undefined {
    return colorbarBeside(this.#cells.map((cell) => cell.rect));
  }

  zoomAt(factor: number, x: number, y: number): void {
    const cell = this.cellAt(x, y) ?? this.#cells[0];
    if (!cell) return;
    this.#zoom = zoomAbout(this.#zoom, factor, [(x - cell.rect.x) / cell.rect.width, (y - cell.rect.y) / cell.rect.height]);
    this.#clampZoom();
    this.requestDraw();
  }

  panBy(dx: number, dy: number): void {
    const cell = this.#cells[0];
    if (!cell) return;
    this.#zoom = panBy(this.#zoom, dx / cell.rect.width, dy / cell.rect.height);
    this.#clampZoom();
    this.requestDraw();
  }

  resetZoom(): void {
    mat3.identity(this.#zoom);
    this.requestDraw();
  }

  /** Keeps at least a quarter of the map in view and the zoom between 1x and one frame per 64 pixels. */
  #clampZoom(): void {
    const cell = this.#cells[0];
    const frames = cell ? Math.max(cell.rows, cell.cols) : 1;
    const scale = Math.min(Math.max(this.#zoom[0], 1), Math.max(1, (frames * 64) / Math.max(cell?.rect.width ?? 1, 1)));
    const z = this.#zoom;
    z[0] = scale;
    z[4] = scale;
    // translation keeps the unit square covering the view: tx in [1 - scale, 0]
    z[6] = Math.min(Math.max(z[6], 1 - scale), 0);
    z[7] = Math.min(Math.max(z[7], 1 - scale), 0);
  }

  cellAt(x: number, y: number): Cell | undefined {
    return this.#cells.find((c) => x >= c.rect.x && x < c.rect.x + c.rect.width && y >= c.rect.y && y < c.rect.y + c.rect.height);
  }

  /** Map cells -> CSS pixels of a cell, under the current zoom: what overlays use to place labels and to hit-test. */
  mapToCanvas(cell: Cell): mat3 {
    const transform = mat3.create();
    mat3.translate(transform, transform, [cell.rect.x, cell.rect.y]);
    mat3.scale(transform, transform, [cell.rect.width, cell.rect.height]);
    mat3.multiply(transform, transform, this.#zoom);
    mat3.scale(transform, transform, [1 / spanOf(cell.marks, cell.cols), 1 / spanOf(cell.marks, cell.rows)]);
    return transform;
  }

  mapPointAt(x: number, y: number): { cell: Cell; row: number; col: number } | undefined {
    const cell = this.cellAt(x, y);
    const inverse = cell && mat3.invert(mat3.create(), this.mapToCanvas(cell));
    if (!cell || !inverse) return undefined;
    const col = Math.floor(inverse[0] * x + inverse[3] * y + inverse[6]);
    const row = Math.floor(inverse[1] * x + inverse[4] * y + inverse[7]);
    return row < 0 || col < 0 || row >= cell.rows || col >= cell.cols ? undefined : { cell, row, col };
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

  async #recompute(): Promise<void> {
    const generation = ++this.#generation;
    const params = this.#params;
    const utterance = this.#utterances[params.utterance];
    if (!utterance) return;
    const cells: Cell[] = [];
    const fail = (message: string) => {
      cells.forEach(releaseCell);
      if (generation !== this.#generation) return;
      this.#computing = false;
      this.#callbacks.onProgress?.(undefined);
      this.#callbacks.onError?.(message);
    };
    let plan: ViewPlan;
    try {
      const other = otherUtterance(params, this.#utterances.length);
      plan = planView(specFromParams(params, this.loadedNames), utterance, {
        tensorId: tensorId(params.utterance),
        compare: other === undefined ? undefined : { tensorId: tensorId(other), utterance: this.#utterances[other] },
        softmaxed: utterance.softmaxed,
      });
    } catch (error) {
      return fail((error as Error).message);
    }
    const started = performance.now();
    const progress = () => {
      if (generation !== this.#generation || performance.now() - started < PROGRESS_AFTER_MS) return;
      this.#callbacks.onProgress?.({ done: cells.length, total: plan.cells.length, title: plan.cells[cells.length]?.title ?? '' });
    };
    const timer = setTimeout(progress, PROGRESS_AFTER_MS + 1);
    try {
      for (const planned of plan.cells) {
        const map = await this.#engine.computeMap(planned.request);
        const stats = await this.#engine.computeStats(map, { bins: plan.range.scale === 'percentile' ? 256 : 0 });
        const levels = drawsPyramid(params.view) ? cellPyramid(this.#engine, planned.request, () => this.requestDraw(), (e) => this.#callbacks.onError?.(e.message)) : undefined;
        cells.push({ ...planned, ...cellAxes(plan, planned), rect: { x: 0, y: 0, width: 1, height: 1 }, rows: map.rows, cols: map.cols, map: levels ? undefined : map, levels, stats });
        await this.#engine.device.queue.onSubmittedWorkDone();
        if (levels) map.destroy();
        if (generation !== this.#generation) break;
        progress();
      }
      const read = await Promise.all(cells.map((cell) => cell.stats!.read()));
      const shared = makeColorScale(plan.range, read);
      cells.forEach((cell, i) => {
        cell.scale = plan.range.shared ? shared : makeColorScale(plan.range, [read[i]]);
        cell.rangeBuffer = createRangeBuffer(this.#engine.device, cell.scale, `Viewer.range.${cell.title}`);
      });
      // A newer recompute may have started meanwhile: only the newest may show its maps.
      if (generation !== this.#generation) return void cells.forEach(releaseCell);
      this.#releaseCells();
      this.#cells = cells;
      this.#shown = params;
      this.#computing = false;
      this.#scene.setCells(cells.map((cell) => sceneCell(cell)));
      const note = shared.note ? `, ${shared.note}` : '';
      const perMapGrid = cells.length > 1 && !plan.range.shared;
      this.#info = {
        utterance,
        plan,
        selection: plan.selection,
        frameOrigin: cells[0]?.frameOrigin ?? 0,
        rows: cells[0]?.rows ?? 0,
        cols: cells[0]?.cols ?? 0,
        cells,
        colorbar: {
          colormap: this.#colormap(),
          scale: cells[0]?.scale ?? shared,
          ends: perMapGrid ? ['min', 'max'] : undefined,
          label: `${plan.colorbar.label}${note}${perMapGrid ? ', each map its own range' : ''}`,
        },
      };
      this.#callbacks.onProgress?.(undefined);
      this.layout();
      this.#callbacks.onView?.(this.#info);
    } catch (error) {
      fail((error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The maps on screen are #shown's: a difference stays diverging until the next view replaces it. */
  #colormap() {
    const shown = this.#shown ?? this.#params;
    return shown.view === 'difference' ? 'diverging' : this.#params.colormap;
  }

  #releaseCells(): void {
    this.#scene?.setCells([]);
    this.#cells.forEach(releaseCell);
    this.#cells = [];
  }

  // ---- layout and drawing -------------------------------------------------------------------------------------

  /** Places the cells in the canvas (CSS pixels) for the current view and size, then redraws. */
  layout(): void {
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    const dpr = globalThis.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(width * dpr));
    this.canvas.height = Math.max(1, Math.round(height * dpr));
    const cells = this.#cells;
    placeCells(cells.length, this.gridColumns(), width, height).forEach((rect, i) => (cells[i].rect = rect));
    cells.forEach((cell, i) => this.#scene.replaceCell(i, sceneCell(cell, dpr)));
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

  /** Records and submits one frame now. */
  drawNow(): void {
    const params = this.#params;
    if (!params) return;
    this.#callbacks.onDrawStart?.();
    const device = this.#engine.device;
    const colormap = this.#colormap();
    this.#scene.look = { colormap, smooth: params.smooth, boundaryStyle: boundaryStyleFor(colormap) };
    this.#scene.zoom = this.#zoom;
    this.#scene.levelBudgetBytes = frameLevelBudget(this.#engine);
    const encoder = device.createCommandEncoder({ label: 'Viewer.frame' });
    const pass = encoder.beginRenderPass({
      label: 'Viewer.frame.pass',
      colorAttachments: [{ view: this.#context.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 0 } }],
    });
    this.#scene.encode(pass, this.canvas.width, this.canvas.height);
    pass.end();
    device.queue.submit([encoder.finish()]);
    this.#scene.frameSubmitted();
    this.#callbacks.onDraw?.();
  }

  /**
   * The visible part of a cell's map rendered offscreen at size x size pixels (RGBA rows, top first), without
   * boundary lines: the raster of an exported figure, whose lines are drawn as vectors.
   */
  async renderCellRaster(cell: Cell, size: number): Promise<Uint8Array> {
    if ((!cell.map && !cell.levels) || !cell.rangeBuffer) throw new Error(`${cell.title}: nothing computed to export`);
    const device = this.#engine.device;
    this.#exportScene ??= await MapScene.create(device, this.#shaders, 'rgba8unorm');
    const scene = this.#exportScene;
    scene.look = { ...this.#scene.look };
    scene.zoom = this.#zoom;
    const exported = { ...sceneCell({ ...cell, rect: { x: 0, y: 0, width: size, height: size } }), lines: undefined };
    let waiting = 0;
    // The cell is set just before each encode: concurrent exports share this scene.
    const render = () =>
      renderToPixels(device, size, size, (pass) => {
        scene.setCells([exported]);
        scene.encode(pass, size, size);
        waiting = scene.lastFrame.waiting;
      });
    try {
      const pixels = await render();
      // A pyramid cell drew the nearest level on hand: draw again once the level this size needs is built.
      if (waiting === 0 || !cell.levels) return pixels;
      await cell.levels.whenSettled();
      return await render();
    } finally {
      scene.setCells([]);
    }
  }

  destroy(): void {
    this.#releaseCells();
    this.#scene.destroy();
    this.#exportScene?.destroy();
  }
}

export function tensorId(utteranceIndex: number): string {
  return `u${utteranceIndex}`;
}

/** A planned cell's labels and lines, frames and words: the plan's, or for a pair's second map its own. */
function cellAxes(plan: ViewPlan, planned: PlannedCell): Pick<Cell, 'marks' | 'selection' | 'frameOrigin' | 'segmentLabels'> {
  if (planned.other) return { marks: planned.other.marks, selection: planned.other.selection, frameOrigin: planned.other.crop.colStart };
  if (plan.axes.kind === 'segments') return { marks: plan.marks, selection: plan.selection, frameOrigin: 0, segmentLabels: plan.axes.segments.map((s) => s.label) };
  return { marks: plan.marks, selection: plan.selection, frameOrigin: plan.crop.colStart };
}

/** A cell as the scene draws it, in device pixels. */
function sceneCell(cell: Cell, dpr = 1) {
  return {
    map: { values: cell.map?.buffer, rows: cell.rows, cols: cell.cols, span: spanOf(cell.marks, cell.cols) },
    levels: cell.levels,
    rect: { x: cell.rect.x * dpr, y: cell.rect.y * dpr, width: cell.rect.width * dpr, height: cell.rect.height * dpr },
    range: { buffer: cell.rangeBuffer!, word: 0, log: cell.scale?.log ?? false },
    lines: cell.marks,
  };
}

function releaseCell(cell: Cell): void {
  cell.map?.destroy();
  cell.levels?.destroy();
  cell.stats?.destroy();
  cell.rangeBuffer?.destroy();
}
