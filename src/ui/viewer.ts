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
import { selectWords } from '../data/frames.ts';
import type { AttentionEngine, AttentionMapRequest, ComputedMap, ComputedStats, Crop, MapRequest } from '../engine.ts';
import { MAP_STATS_MIN_WORD, percentileFromHistogram } from '../engine.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { createStorageBufferFrom } from '../gpu/buffers.ts';
import type { BoundaryDrawable } from '../render/boundaries.ts';
import { BoundaryPass } from '../render/boundaries.ts';
import type { ColormapName } from '../render/colormaps.ts';
import type { HeatmapDrawable } from '../render/heatmap.ts';
import { HeatmapPass } from '../render/heatmap.ts';
import { renderToPixels } from '../render/offscreen.ts';
import { panBy, zoomAbout } from '../render/view.ts';
import { STRIPS_LEFT, STRIPS_TOP } from './audioStrips.ts';
import type { LoadedUtterance } from './loadFiles.ts';
import type { ViewerParams } from './params.ts';

/** Fields whose change needs new maps; the others only change how the same maps look. */
const STRUCTURAL: (keyof ViewerParams)[] = [
  'utterance', 'wordStart', 'wordEnd', 'fullMap', 'layer', 'head', 'softmax', 'view',
  'poolUnit', 'poolStat', 'compareLayer', 'compareHead', 'compareUtterance', 'scale', 'clipLow', 'clipHigh', 'rolloutScope',
];

/** Width of the band of axis labels (phones, boundaries, words) on the top and left, as STEVE places them. */
export const LABEL_BAND = 96;
/** Pixel margins of the single-map view: audio strips outside, then the labels, then the map. */
export const LABEL_MARGIN = { left: STRIPS_LEFT + LABEL_BAND, top: STRIPS_TOP + LABEL_BAND, right: 16, bottom: 16 };
const GRID_GAP = 6;
const GRID_TITLE = 16;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One map on screen. */
export interface Cell {
  readonly title: string;
  /** The word selection behind its crop, and the first frame of its rows and columns. */
  readonly selection?: WordSelection;
  readonly frameOrigin: number;
  /** Labels of a pooled map's rows and columns (one per segment); its axes are segments, not frames. */
  readonly segmentLabels?: readonly string[];
  readonly layer: number;
  /** -1 for the head mean. */
  readonly head: number;
  readonly request: MapRequest;
  rect: Rect;
  rows: number;
  cols: number;
  map?: ComputedMap;
  stats?: ComputedStats;
  /** A CPU range [low, high] that replaces the GPU min/max (differences: symmetric about 0). */
  rangeBuffer?: GPUBuffer;
  /** Colour limits as fractions of [min, max] (percentile scaling). */
  clip: [number, number];
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
}

export interface ViewerCallbacks {
  /** After every recompute (new maps). */
  onView?: (info: ViewInfo) => void;
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
      if (previous && (previous.view !== params.view || previous.utterance !== params.utterance || previous.fullMap !== params.fullMap)) {
        mat3.identity(this.#zoom);
      }
      await this.#recompute();
    } else {
      this.requestDraw();
    }
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
          clip: [0, 1],
          heatmap: this.#heatmapPass.createDrawable(`Viewer.heatmap.${spec.title}`),
          boundaries: this.#boundaryPass.createDrawable(`Viewer.boundaries.${spec.title}`),
        });
        if (generation !== this.#generation) break;
      }
    } catch (error) {
      cells.forEach(releaseCell);
      if (generation === this.#generation) this.#callbacks.onError?.((error as Error).message);
      return;
    }
    if (generation !== this.#generation) {
      cells.forEach(releaseCell);
      return;
    }
    const first = cells[0] ? await cells[0].stats!.read() : undefined;
    for (const cell of cells) await this.#applyScale(cell, params);
    // A newer recompute may have started during those reads: only the newest may show its maps.
    if (generation !== this.#generation) {
      cells.forEach(releaseCell);
      return;
    }
    this.#releaseCells();
    this.#cells = cells;
    for (const cell of cells) {
      const boundaries = cell.selection && !cell.segmentLabels ? boundaryPositions(cell.selection, cell.frameOrigin) : { phones: [], words: [] };
      cell.boundaries.setLines(boundaries.phones, boundaries.words);
    }
    this.#info = {
      utterance,
      selection: plan.selection,
      frameOrigin: plan.frameOrigin,
      rows: cells[0]?.rows ?? 0,
      cols: cells[0]?.cols ?? 0,
      range: first ? [first.min, first.max] : [NaN, NaN],
      cells,
    };
    this.layout();
    this.#callbacks.onView?.(this.#info);
  }

  /** Percentile clipping and the symmetric range of differences need the stats on the CPU once per map. */
  async #applyScale(cell: Cell, params: ViewerParams): Promise<void> {
    if (params.view === 'difference') {
      const stats = await cell.stats!.read();
      const bound = Math.max(Math.abs(stats.min), Math.abs(stats.max)) || 1;
      cell.rangeBuffer = createStorageBufferFrom(this.#engine.device, `Viewer.range.${cell.title}`, new Float32Array([-bound, bound]));
    } else if (params.scale === 'percentile') {
      const stats = await cell.stats!.read();
      const span = stats.max - stats.min;
      if (span > 0) {
        const low = percentileFromHistogram(stats.histogram, stats.min, stats.max, params.clipLow / 100);
        const high = percentileFromHistogram(stats.histogram, stats.min, stats.max, params.clipHigh / 100);
        cell.clip = [(low - stats.min) / span, (high - stats.min) / span];
      }
    }
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
      const columns = this.#params.view === 'model' ? this.#utterances[this.#params.utterance].attention.shape.heads : Math.ceil(Math.sqrt(cells.length));
      const rows = Math.ceil(cells.length / columns);
      const size = Math.max(4, Math.min((width - GRID_GAP) / columns - GRID_GAP, (height - GRID_GAP) / rows - GRID_GAP - GRID_TITLE));
      cells.forEach((cell, i) => {
        const column = i % columns;
        const row = Math.floor(i / columns);
        cell.rect = { x: GRID_GAP + column * (size + GRID_GAP), y: GRID_GAP + GRID_TITLE + row * (size + GRID_GAP + GRID_TITLE), width: size, height: size };
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
    const colormap: ColormapName = params.view === 'difference' ? 'diverging' : params.colormap;
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
        scale: params.scale === 'log' ? 'log' : 'linear',
        smooth: params.smooth,
        clip: cell.clip,
      });
      cell.heatmap.draw(pass);
      cell.boundaries.update(viewport, toViewport, { cols: cell.cols, rows: cell.rows });
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
        colormap: this.#params.view === 'difference' ? 'diverging' : this.#params.colormap,
        scale: this.#params.scale === 'log' ? 'log' : 'linear',
        smooth: this.#params.smooth,
        clip: cell.clip,
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

export function tensorId(utteranceIndex: number): string {
  return `u${utteranceIndex}`;
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

/** Boundary line positions relative to the map's first frame. */
export function boundaryPositions(selection: WordSelection, frameOrigin: number): { phones: number[]; words: number[] } {
  return {
    phones: selection.phoneBoundaries.map((p) => p - frameOrigin),
    words: selection.wordBoundaries.map((p) => p - frameOrigin),
  };
}

/** What to compute for a view: the cells' requests, and the word selection behind the crop. */
export interface ViewPlan {
  cells: {
    title: string;
    layer: number;
    head: number;
    request: MapRequest;
    selection?: WordSelection;
    frameOrigin: number;
    segmentLabels?: readonly string[];
  }[];
  selection?: WordSelection;
  frameOrigin: number;
}

/** The word selection and crop of an utterance for params' word range (clamped to its words). */
function cropOf(params: ViewerParams, utterance: LoadedUtterance): { selection?: WordSelection; crop?: Crop; frameOrigin: number } {
  const { shape } = utterance.attention;
  const frames = Math.min(shape.rows, shape.cols);
  const alignment = utterance.alignment;
  const spf = utterance.spf?.samplesPerFrame;
  let selection: WordSelection | undefined;
  if (alignment && spf && alignment.words.length > 0) {
    const last = alignment.words.length - 1;
    selection = selectWords(alignment, spf, Math.min(params.wordStart, last), Math.min(Math.max(params.wordEnd, params.wordStart), last));
  }
  if (params.fullMap || !selection) return { selection, frameOrigin: 0 };
  const start = Math.min(selection.crop.startFrame, frames - 1);
  const end = Math.min(selection.crop.stopFrame + 1, frames);
  return { selection, crop: { rowStart: start, rowEnd: end, colStart: start, colEnd: end }, frameOrigin: start };
}

/** Pure: the requests a view needs. Exported for tests. */
export function planView(params: ViewerParams, utterance: LoadedUtterance, all: readonly LoadedUtterance[]): ViewPlan {
  const { shape } = utterance.attention;
  const frames = Math.min(shape.rows, shape.cols);
  const { selection, crop, frameOrigin } = cropOf(params, utterance);
  const id = tensorId(params.utterance);
  const attention = (layer: number, head: number, tensor = id, region = crop): AttentionMapRequest => ({
    kind: 'attention',
    tensorId: tensor,
    layer,
    head: head < 0 ? 'mean' : head,
    softmax: params.softmax,
    crop: region,
  });
  const cells: ViewPlan['cells'] = [];
  const push = (title: string, layer: number, head: number, request: MapRequest) => cells.push({ title, layer, head, request, selection, frameOrigin });
  const headName = (head: number) => (head < 0 ? 'mean' : `H${head}`);
  const otherIndex = params.compareUtterance >= 0 && params.compareUtterance < all.length ? params.compareUtterance : params.utterance;
  switch (params.view) {
    case 'heads':
      for (let head = 0; head < shape.heads; head++) push(`L${params.layer} H${head}`, params.layer, head, attention(params.layer, head));
      push(`L${params.layer} mean`, params.layer, -1, attention(params.layer, -1));
      break;
    case 'model':
      for (let layer = 0; layer < shape.layers; layer++) {
        for (let head = 0; head < shape.heads; head++) push(`L${layer} H${head}`, layer, head, attention(layer, head));
      }
      break;
    case 'pair': {
      // Two utterances side by side at the same layer and head, each cropped to the same word indices of its own words.
      push(`${utterance.name} L${params.layer} ${headName(params.head)}`, params.layer, params.head, attention(params.layer, params.head));
      const otherUtterance = all[otherIndex === params.utterance ? (params.utterance + 1) % all.length : otherIndex];
      const index = all.indexOf(otherUtterance);
      const other = cropOf(params, otherUtterance);
      const otherShape = otherUtterance.attention.shape;
      const layer = Math.min(params.layer, otherShape.layers - 1);
      const head = Math.min(params.head, otherShape.heads - 1);
      cells.push({
        title: `${otherUtterance.name} L${layer} ${headName(head)}`,
        layer,
        head,
        request: attention(layer, head, tensorId(index), other.crop),
        selection: other.selection,
        frameOrigin: other.frameOrigin,
      });
      break;
    }
    case 'pooled': {
      // The phone-level view of the STEVE paper: each (query segment, key segment) block reduced to its mean or max.
      const size = crop ? crop.rowEnd - crop.rowStart : frames;
      const segments = (params.poolUnit === 'phones' ? selection?.phones : selection?.words) ?? [];
      const ranges = segments
        .map((segment) => ({
          label: segment.label,
          start: Math.min(Math.max(segment.startFrame - frameOrigin, 0), size),
          end: Math.min(Math.max(segment.stopFrame - frameOrigin, 0), size),
        }))
        .filter((range) => range.end > range.start);
      if (ranges.length === 0) {
        push(`L${params.layer} ${headName(params.head)}`, params.layer, params.head, attention(params.layer, params.head));
        break;
      }
      cells.push({
        title: `L${params.layer} ${headName(params.head)} pooled onto ${params.poolUnit} (${params.poolStat})`,
        layer: params.layer,
        head: params.head,
        request: {
          kind: 'segmentPool',
          source: attention(params.layer, params.head),
          rowSegments: ranges,
          colSegments: ranges,
          stat: params.poolStat,
        },
        frameOrigin: 0,
        segmentLabels: ranges.map((range) => range.label),
      });
      break;
    }
    case 'rollout':
      push(`rollout of layers 0..${shape.layers - 1}${params.rolloutScope === 'crop' ? ' (within the crop)' : ''}`, shape.layers - 1, -1, {
        kind: 'rollout',
        tensorId: id,
        heads: 'mean',
        // Rollout needs probabilities: raw scores get STEVE's row softmax, a softmaxed tensor is used as stored.
        softmax: params.softmax === 'none' ? 'none' : params.rolloutScope === 'crop' ? params.softmax : 'row',
        crop,
        cropMode: params.rolloutScope === 'crop' && crop ? 'within' : 'after',
      });
      break;
    case 'difference':
      push(
        `L${params.layer} ${headName(params.head)} - L${params.compareLayer} ${headName(params.compareHead)}`,
        params.layer,
        params.head,
        { kind: 'difference', minuend: attention(params.layer, params.head), subtrahend: attention(params.compareLayer, params.compareHead, tensorId(otherIndex)) },
      );
      break;
    default:
      push(`L${params.layer} ${headName(params.head)}`, params.layer, params.head, attention(params.layer, params.head));
  }
  return { cells, selection, frameOrigin };
}
