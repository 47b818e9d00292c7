/**
 * The viewer: turns ViewerParams into maps on the GPU and draws them.
 *
 * A view is a list of cells, one per map on screen (one for 'map', one per head for 'heads', layers x heads for
 * 'model'). Each cell has a map request for the engine, the min/max (and histogram) the engine keeps on the GPU,
 * and a heatmap + boundary drawable. Structural changes (utterance, words, layer, head, softmax, view) recompute the
 * cells; looks (colormap, scale, smoothing) and zoom/pan only rewrite uniforms and redraw.
 *
 * Zoom is one transform in "unit" coordinates ([0,1]^2 over a cell) shared by every cell, so a grid zooms and pans
 * in step.
 */
import { mat3 } from 'gl-matrix';
import type { WordSelection } from '../data/frames.ts';
import type { AttentionEngine, ComputedMap, ComputedStats, ReadStats } from '../engine.ts';
import { MAP_STATS_MIN_WORD, percentileFromHistogram } from '../engine.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { createStorageBufferFrom } from '../gpu/buffers.ts';
import type { BoundaryDrawable, BoundaryStyle } from '../render/boundaries.ts';
import { BoundaryPass, DEFAULT_BOUNDARY_STYLE } from '../render/boundaries.ts';
import type { ColormapName } from '../render/colormaps.ts';
import type { HeatmapDrawable } from '../render/heatmap.ts';
import { HeatmapPass } from '../render/heatmap.ts';
import { renderToPixels } from '../render/offscreen.ts';
import { panBy, zoomAbout } from '../render/view.ts';
import type { ColorbarSpec } from './colorbar.ts';
import type { Rect } from './layout.ts';
import type { PlannedCell } from './viewPlan.ts';
import { boundaryPositions, planView, segmentEdges, tensorId } from './viewPlan.ts';
import { COLORBAR_BAND, GRID_EDGE, GRID_GAP, GRID_TITLE, LABEL_MARGIN } from './layout.ts';
import type { LoadedUtterance } from './loadFiles.ts';
import type { ViewerParams } from './params.ts';

/** How long new maps may take before progress is reported and the maps on screen are marked stale. */
const PROGRESS_AFTER_MS = 400;

/** Fields whose change needs new maps; the others only change how the same maps look. */
const STRUCTURAL: (keyof ViewerParams)[] = [
  'utterance', 'wordStart', 'wordEnd', 'full', 'layer', 'head', 'softmax', 'view',
  'poolUnit', 'poolStat', 'compareLayer', 'compareHead', 'compareUtterance', 'scale', 'clipLow', 'clipHigh', 'rolloutCrop', 'colorRange',
];


/** One map on screen: a planned cell with its place, its computed map and its drawables. */
export interface Cell extends PlannedCell {
  rect: Rect;
  rows: number;
  cols: number;
  map?: ComputedMap;
  stats?: ComputedStats;
  /** The values at the two ends of the colormap (see colorRanges), and the same on the GPU for the heatmap pass. */
  range?: [number, number];
  rangeBuffer?: GPUBuffer;
  heatmap: HeatmapDrawable;
  boundaries: BoundaryDrawable;
}

/** What the viewer reports after a recompute, for the colour bar, the debug panel and tests. */
export interface ViewInfo {
  utterance: LoadedUtterance;
  selection?: WordSelection;
  /** First frame of the computed map's rows and columns (the crop start). */
  frameOrigin: number;
  rows: number;
  cols: number;
  /** Colour range of the first cell, read back. */
  range: [number, number];
  cells: readonly Cell[];
  /** What the colour bar says: one bar for a single map or a grid on one scale (the first map's with per-map ranges). */
  colorbar: ColorbarSpec;
}

export interface ViewerCallbacks {
  /** After every recompute (new maps). */
  onView?: (info: ViewInfo) => void;
  /**
   * While new maps take long (more than PROGRESS_AFTER_MS): how many of them are done; undefined when they are
   * shown, fail or are cancelled. The maps on screen meanwhile are those of the previous view.
   */
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
  #format!: GPUTextureFormat;
  #heatmapPass!: HeatmapPass;
  #boundaryPass!: BoundaryPass;
  #utterances: LoadedUtterance[] = [];
  #params!: ViewerParams;
  #cells: Cell[] = [];
  #info?: ViewInfo;
  /** Zoom and pan, in unit coordinates of a cell, shared by all cells. */
  #zoom = mat3.create();
  #generation = 0;
  /** The params of the maps on screen (params may be ahead of them while new maps are computed). */
  #shown?: ViewerParams;
  /** Whether maps for params are being computed (the ones on screen are then stale). */
  #computing = false;
  #drawPending = false;
  #callbacks: ViewerCallbacks;
  /** An rgba8unorm heatmap pipeline for exports (the canvas' format may be bgra8unorm). */
  #exportPass?: HeatmapPass;

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
    this.#format = navigator.gpu.getPreferredCanvasFormat();
    this.#context = this.canvas.getContext('webgpu') as GPUCanvasContext;
    // COPY_SRC lets export and tests read the picture back; premultiplied keeps the page behind transparent areas.
    this.#context.configure({ device, format: this.#format, alphaMode: 'premultiplied', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
    this.#heatmapPass = await HeatmapPass.create(device, this.#shaders, this.#format);
    this.#boundaryPass = await BoundaryPass.create(device, this.#shaders, this.#format);
  }

  async #recoverDevice(): Promise<void> {
    this.#releaseCells();
    this.#exportPass = undefined;
    await this.#attachDevice();
    if (this.#params) await this.#recompute();
  }

  /** Replaces the utterances (the engine holds their tensors under ids "u0", "u1", ...). */
  setUtterances(utterances: LoadedUtterance[]): void {
    this.#utterances.forEach((_, index) => this.#engine.removeTensor(tensorId(index)));
    this.#utterances = utterances;
    utterances.forEach((utterance, index) => this.#engine.addTensor(tensorId(index), utterance.attention));
  }

  /** Shows `params`; recomputes maps only when something structural changed. */
  async setParams(params: ViewerParams): Promise<void> {
    const previous = this.#params;
    this.#params = params;
    const structural = !previous || STRUCTURAL.some((key) => previous[key] !== params[key]);
    if (structural) {
      if (previous && (previous.view !== params.view || previous.utterance !== params.utterance || previous.full !== params.full)) {
        mat3.identity(this.#zoom);
      }
      this.#computing = true;
      await this.#recompute();
    } else {
      // Only the looks changed: the maps on screen are redrawn, and the colour bar follows the colormap.
      if (!this.#computing) this.#shown = params;
      if (this.#info) this.#info.colorbar = { ...this.#info.colorbar, colormap: colormapOf(this.#shown ?? params) };
      this.requestDraw();
    }
  }

  /** Maps per row of a grid: the heads of a layer for 'model', else about square. */
  gridColumns(): number {
    const count = this.#cells.length;
    if (this.#params?.view === 'model') return this.#utterances[this.#params.utterance].attention.shape.heads;
    return Math.max(1, Math.ceil(Math.sqrt(count)));
  }

  /** Where the colour bar goes (CSS pixels): right of the maps, as tall as the single map or the grid. */
  colorbarRect(): Rect | undefined {
    const cells = this.#cells;
    if (cells.length === 0) return undefined;
    const right = Math.max(...cells.map((cell) => cell.rect.x + cell.rect.width));
    const top = Math.min(...cells.map((cell) => cell.rect.y));
    const bottom = Math.max(...cells.map((cell) => cell.rect.y + cell.rect.height));
    const height = Math.min(bottom - top, Math.max(160, this.canvas.clientHeight * 0.6));
    return { x: right + 12, y: top, width: COLORBAR_BAND - 16, height: Math.max(60, height) };
  }

  /**
   * Stops waiting for the maps being computed (the GPU finishes what it was given; the result is dropped) and goes
   * back to the params of the maps on screen, which it returns; undefined when nothing was being computed.
   */
  cancel(): ViewerParams | undefined {
    if (!this.#computing || !this.#shown) return undefined;
    this.#computing = false;
    this.#generation++;
    this.#params = this.#shown;
    this.#callbacks.onProgress?.(undefined);
    this.requestDraw();
    return this.#shown;
  }

  /** Zooms by `factor` about a canvas point (CSS pixels), in every cell at once. */
  zoomAt(factor: number, x: number, y: number): void {
    const cell = this.cellAt(x, y) ?? this.#cells[0];
    if (!cell) return;
    const unit: [number, number] = [(x - cell.rect.x) / cell.rect.width, (y - cell.rect.y) / cell.rect.height];
    this.#zoom = zoomAbout(this.#zoom, factor, unit);
    this.#clampZoom();
    this.requestDraw();
  }

  /** Pans by a drag of (dx, dy) CSS pixels over a cell. */
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
    const maxScale = Math.max(1, (frames * 64) / Math.max(cell?.rect.width ?? 1, 1));
    const scale = Math.min(Math.max(this.#zoom[0], 1), maxScale);
    const z = this.#zoom;
    z[0] = scale;
    z[4] = scale;
    // translation keeps the unit square covering the view: tx in [1 - scale, 0]
    z[6] = Math.min(Math.max(z[6], 1 - scale), 0);
    z[7] = Math.min(Math.max(z[7], 1 - scale), 0);
  }

  /** The cell under a canvas point (CSS pixels), if any. */
  cellAt(x: number, y: number): Cell | undefined {
    return this.#cells.find((c) => x >= c.rect.x && x < c.rect.x + c.rect.width && y >= c.rect.y && y < c.rect.y + c.rect.height);
  }

  /** Map -> CSS pixels of a cell, under the current zoom: what overlays use to place labels and to hit-test. */
  mapToCanvas(cell: Cell): mat3 {
    const transform = mat3.create();
    mat3.translate(transform, transform, [cell.rect.x, cell.rect.y]);
    mat3.scale(transform, transform, [cell.rect.width, cell.rect.height]);
    mat3.multiply(transform, transform, this.#zoom);
    mat3.scale(transform, transform, [1 / cell.cols, 1 / cell.rows]);
    return transform;
  }

  /** Map cell (row, col) under a canvas point, or undefined outside the maps. */
  mapPointAt(x: number, y: number): { cell: Cell; row: number; col: number } | undefined {
    const cell = this.cellAt(x, y);
    if (!cell) return undefined;
    const inverse = mat3.invert(mat3.create(), this.mapToCanvas(cell));
    if (!inverse) return undefined;
    const col = Math.floor(inverse[0] * x + inverse[3] * y + inverse[6]);
    const row = Math.floor(inverse[1] * x + inverse[4] * y + inverse[7]);
    if (row < 0 || col < 0 || row >= cell.rows || col >= cell.cols) return undefined;
    return { cell, row, col };
  }

  /** Reads one cell's map back (for hover values and export). */
  async readCell(cell: Cell): Promise<Float32Array | undefined> {
    if (!cell.map) return undefined;
    return this.#engine.readMap(cell.request);
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
    const plan = planView(params, utterance, this.#utterances);
    const cells: Cell[] = [];
    // Progress is reported once the work has run for a moment, so that quick views do not flicker.
    const started = performance.now();
    const progress = (done: number) => {
      if (generation === this.#generation && performance.now() - started > PROGRESS_AFTER_MS) this.#callbacks.onProgress?.({ done, total: plan.cells.length, title: plan.cells[done]?.title ?? '' });
    };
    const timer = setTimeout(() => progress(cells.length), PROGRESS_AFTER_MS + 1);
    try {
      for (const spec of plan.cells) {
        const map = await this.#engine.computeMap(spec.request);
        const stats = await this.#engine.computeStats(map, { bins: params.scale === 'percentile' ? 256 : 0 });
        cells.push({
          ...spec,
          rect: { x: 0, y: 0, width: 1, height: 1 },
          rows: map.rows,
          cols: map.cols,
          map,
          stats,
          heatmap: this.#heatmapPass.createDrawable(`Viewer.heatmap.${spec.title}`),
          boundaries: this.#boundaryPass.createDrawable(`Viewer.boundaries.${spec.title}`),
        });
        await this.#engine.device.queue.onSubmittedWorkDone();
        if (generation !== this.#generation) break;
        progress(cells.length);
      }
    } catch (error) {
      cells.forEach(releaseCell);
      if (generation === this.#generation) {
        this.#computing = false;
        this.#callbacks.onProgress?.(undefined);
        this.#callbacks.onError?.((error as Error).message);
      }
      return;
    } finally {
      clearTimeout(timer);
    }
    if (generation !== this.#generation) {
      cells.forEach(releaseCell);
      return;
    }
    const read = await Promise.all(cells.map((cell) => cell.stats!.read()));
    const ranges = colorRanges(read, params);
    cells.forEach((cell, i) => {
      cell.range = ranges[i];
      cell.rangeBuffer = createStorageBufferFrom(this.#engine.device, `Viewer.range.${cell.title}`, new Float32Array(ranges[i]));
    });
    // A newer recompute may have started during those reads: only the newest may show its maps.
    if (generation !== this.#generation) {
      cells.forEach(releaseCell);
      return;
    }
    this.#releaseCells();
    this.#cells = cells;
    this.#shown = params;
    this.#computing = false;
    this.#callbacks.onProgress?.(undefined);
    for (const cell of cells) {
      const boundaries = cell.segmentLabels
        ? segmentEdges(cell.segmentLabels.length)
        : cell.selection
          ? boundaryPositions(cell.selection, cell.frameOrigin)
          : { phones: [], words: [] };
      cell.boundaries.setLines(boundaries.phones, boundaries.words);
    }
    const [low, high] = ranges[0] ?? [NaN, NaN];
    this.#info = {
      utterance,
      selection: plan.selection,
      frameOrigin: plan.frameOrigin,
      rows: cells[0]?.rows ?? 0,
      cols: cells[0]?.cols ?? 0,
      range: [low, high],
      cells,
      colorbar: {
        colormap: colormapOf(params),
        low,
        high,
        log: params.scale === 'log' && params.view !== 'difference' && low > 0,
        clip: params.scale === 'percentile' && params.view !== 'difference' ? [params.clipLow, params.clipHigh] : undefined,
        label: colorbarLabel(params, utterance),
      },
    };
    this.layout();
    this.#callbacks.onView?.(this.#info);
  }

  #releaseCells(): void {
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
    if (cells.length === 1) {
      const size = Math.max(10, Math.min(width - LABEL_MARGIN.left - LABEL_MARGIN.right, height - LABEL_MARGIN.top - LABEL_MARGIN.bottom));
      cells[0].rect = { x: LABEL_MARGIN.left, y: LABEL_MARGIN.top, width: size, height: size };
    } else if (cells.length > 1) {
      const columns = this.gridColumns();
      const rows = Math.ceil(cells.length / columns);
      // Word labels along the grid's top and left edges; the colour bar right of it.
      const left = GRID_GAP + GRID_EDGE;
      const top = GRID_GAP + GRID_EDGE;
      const size = Math.max(4, Math.min((width - left - COLORBAR_BAND) / columns - GRID_GAP, (height - top) / rows - GRID_GAP - GRID_TITLE));
      cells.forEach((cell, i) => {
        const column = i % columns;
        const row = Math.floor(i / columns);
        cell.rect = { x: left + column * (size + GRID_GAP), y: top + GRID_TITLE + row * (size + GRID_GAP + GRID_TITLE), width: size, height: size };
      });
    }
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
    const dpr = this.canvas.width / Math.max(1, this.canvas.clientWidth);
    // The maps on screen are those of #shown: a difference stays diverging until the next view replaces it.
    const colormap = colormapOf({ ...params, view: (this.#shown ?? params).view });
    const encoder = device.createCommandEncoder({ label: 'Viewer.frame' });
    const pass = encoder.beginRenderPass({
      label: 'Viewer.frame.pass',
      colorAttachments: [{ view: this.#context.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 0 } }],
    });
    for (const cell of this.#cells) {
      if (!cell.map || !cell.stats) continue;
      const viewport = clampRect(scaleRect(cell.rect, dpr), this.canvas.width, this.canvas.height);
      if (!viewport) continue;
      const local = this.mapToCanvas(cell);
      // The drawables want map -> viewport pixels (device pixels, from the viewport's corner).
      const toViewport = mat3.create();
      mat3.scale(toViewport, toViewport, [dpr, dpr]);
      mat3.translate(toViewport, toViewport, [-(viewport.x / dpr), -(viewport.y / dpr)]);
      mat3.multiply(toViewport, toViewport, local);
      cell.heatmap.update({
        values: cell.map.buffer,
        cols: cell.cols,
        rows: cell.rows,
        valueRange: cell.rangeBuffer ?? cell.stats.stats,
        rangeWord: cell.rangeBuffer ? 0 : MAP_STATS_MIN_WORD,
        viewport,
        mapToViewport: toViewport,
        colormap,
        scale: this.#info?.colorbar.log ? 'log' : 'linear',
        smooth: params.smooth,
        clip: [0, 1],
      });
      cell.heatmap.draw(pass);
      cell.boundaries.update(viewport, toViewport, { cols: cell.cols, rows: cell.rows }, colormap === 'diverging' ? DIVERGING_BOUNDARY_STYLE : DEFAULT_BOUNDARY_STYLE);
      cell.boundaries.draw(pass);
    }
    pass.end();
    device.queue.submit([encoder.finish()]);
    this.#callbacks.onDraw?.();
  }

  /**
   * The visible part of a cell's map rendered offscreen at size x size pixels (RGBA rows, top first), without
   * boundary lines: the raster of an exported figure, whose lines are drawn as vectors.
   */
  async renderCellRaster(cell: Cell, size: number): Promise<Uint8Array> {
    if (!cell.map || !cell.stats) throw new Error(`${cell.title}: nothing computed to export`);
    const device = this.#engine.device;
    this.#exportPass ??= await HeatmapPass.create(device, this.#shaders, 'rgba8unorm');
    const drawable = this.#exportPass.createDrawable('Viewer.export');
    try {
      const toFigure = mat3.create();
      mat3.scale(toFigure, toFigure, [size / cell.rect.width, size / cell.rect.height]);
      mat3.translate(toFigure, toFigure, [-cell.rect.x, -cell.rect.y]);
      mat3.multiply(toFigure, toFigure, this.mapToCanvas(cell));
      drawable.update({
        values: cell.map.buffer,
        cols: cell.cols,
        rows: cell.rows,
        valueRange: cell.rangeBuffer ?? cell.stats.stats,
        rangeWord: cell.rangeBuffer ? 0 : MAP_STATS_MIN_WORD,
        viewport: { x: 0, y: 0, width: size, height: size },
        mapToViewport: toFigure,
        colormap: colormapOf({ ...this.#params, view: (this.#shown ?? this.#params).view }),
        scale: this.#info?.colorbar.log ? 'log' : 'linear',
        smooth: this.#params.smooth,
        clip: [0, 1],
      });
      return await renderToPixels(device, size, size, (pass) => drawable.draw(pass));
    } finally {
      drawable.destroy();
    }
  }

  destroy(): void {
    this.#releaseCells();
    this.#heatmapPass.destroy();
    this.#exportPass?.destroy();
  }
}


function releaseCell(cell: Cell): void {
  cell.map?.destroy();
  cell.stats?.destroy();
  cell.rangeBuffer?.destroy();
  cell.heatmap.destroy();
  cell.boundaries.destroy();
}

function scaleRect(rect: Rect, factor: number): Rect {
  return { x: rect.x * factor, y: rect.y * factor, width: rect.width * factor, height: rect.height * factor };
}

/** Viewports and scissor rectangles must lie inside the render target. */
function clampRect(rect: Rect, width: number, height: number): Rect | undefined {
  const x = Math.max(0, Math.floor(rect.x));
  const y = Math.max(0, Math.floor(rect.y));
  const right = Math.min(width, Math.ceil(rect.x + rect.width));
  const bottom = Math.min(height, Math.ceil(rect.y + rect.height));
  return right > x && bottom > y ? { x, y, width: right - x, height: bottom - y } : undefined;
}

/** On a diverging map white means 0, so white word lines would vanish where nothing changes: they are dark there. */
export const DIVERGING_BOUNDARY_STYLE: BoundaryStyle = { ...DEFAULT_BOUNDARY_STYLE, wordColor: [0.1, 0.1, 0.1, 0.85] };

/** The colormap a view is drawn with: differences always diverging (white at 0). */
export function colormapOf(params: ViewerParams): ColormapName {
  return params.view === 'difference' ? 'diverging' : params.colormap;
}

/** The quantity the colours stand for, with the scale when it is not linear (the colour bar's label). */
export function colorbarLabel(params: ViewerParams, utterance: LoadedUtterance): string {
  const quantity =
    params.view === 'difference'
      ? 'difference'
      : params.view === 'rollout'
        ? 'rollout'
        : params.softmax !== 'none'
          ? 'attention (softmax)'
          : utterance.softmaxed || utterance.synthetic
            ? 'attention (as stored)'
            : 'raw score';
  const pooled = params.view === 'pooled' ? `, ${params.poolStat} per ${params.poolUnit === 'phones' ? 'phone' : 'word'} pair` : '';
  const scale = params.view === 'difference' ? '' : params.scale === 'log' ? ', log scale' : params.scale === 'percentile' ? ', clipped' : '';
  return quantity + pooled + scale;
}

/**
 * The values at the two ends of the colormap for each map: its min and max, or its percentiles (scale
 * 'percentile'), symmetric about 0 for differences, and one range for all maps of a grid unless per-map ranges are
 * asked for. A log scale keeps [min, max]: the heatmap pass floors values at max x 1e-6, and so does the bar.
 */
export function colorRanges(stats: readonly ReadStats[], params: Pick<ViewerParams, 'view' | 'scale' | 'clipLow' | 'clipHigh' | 'colorRange'>): [number, number][] {
  const percentile = params.scale === 'percentile' && params.view !== 'difference';
  const one = (group: readonly ReadStats[]): [number, number] => {
    const min = Math.min(...group.map((s) => s.min).filter(Number.isFinite));
    const max = Math.max(...group.map((s) => s.max).filter(Number.isFinite));
    if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
    if (params.view === 'difference') {
      const bound = Math.max(Math.abs(min), Math.abs(max)) || 1;
      return [-bound, bound];
    }
    if (percentile && max > min) {
      const histogram = mergedHistogram(group, min, max);
      return [percentileFromHistogram(histogram, min, max, params.clipLow / 100), percentileFromHistogram(histogram, min, max, params.clipHigh / 100)];
    }
    if (params.scale === 'log') return [Math.max(min, max * 1e-6), max];
    return [min, max];
  };
  if (params.colorRange === 'per-map' || stats.length <= 1) return stats.map((s) => one([s]));
  const shared = one(stats);
  return stats.map(() => shared);
}

/** The maps' histograms (each between its own min and max) counted again into 256 bins between min and max of all. */
function mergedHistogram(stats: readonly ReadStats[], min: number, max: number): Float64Array {
  const bins = 256;
  const merged = new Float64Array(bins);
  for (const s of stats) {
    const histogram = s.histogram;
    if (!histogram || !(s.max >= s.min)) continue;
    const width = (s.max - s.min) / histogram.length;
    for (let bin = 0; bin < histogram.length; bin++) {
      if (!histogram[bin]) continue;
      const centre = s.min + (bin + 0.5) * width;
      merged[Math.min(bins - 1, Math.max(0, Math.floor(((centre - min) / (max - min)) * bins)))] += histogram[bin];
    }
  }
  return merged;
}
