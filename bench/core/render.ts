/**
 * Rendering: frame times of the heatmap and boundary passes while zooming and panning, for the three views the issue
 * names (one full-resolution map, the 48-head grid of Whisper base, the 640-head model view of large-v3), drawn
 * through src/render/mapScene.ts as the viewer and `steve render` draw (same scene, one uniform write per cell per
 * frame), with the viewer's layout rules.
 *
 * A frame is timed from the first uniform write to onSubmittedWorkDone: what it costs before the next frame could
 * start. The target is an offscreen texture in Node and the page's canvas in the browser (FrameTarget).
 * Runs in Node and in the page: nothing here touches node: modules or the DOM.
 */
import { mat3 } from 'gl-matrix';
import { createStorageBufferFrom } from '../../src/gpu/buffers.ts';
import type { ShaderSources } from '../../src/gpu/pipeline.ts';
import type { Rect, SceneCell } from '../../src/render/mapScene.ts';
import { MapScene } from '../../src/render/mapScene.ts';
import { GpuTimer } from './gpuTimer.ts';
import { softmaxLoop } from './cpuPeers.ts';
import { summarize, type Summary } from './stats.ts';
import { fillSyntheticMap } from './synthetic.ts';

/** Where frames are drawn: an offscreen texture (Node) or a canvas (the page). */
export interface FrameTarget {
  readonly kind: 'offscreen texture' | 'canvas';
  readonly width: number;
  readonly height: number;
  readonly format: GPUTextureFormat;
  /** The view to draw the next frame into (a canvas hands out a new texture per frame). */
  nextView(): GPUTextureView;
  destroy(): void;
}

/** A width x height rgba8unorm texture to render into, as the CLI's figures are rendered. */
export function createOffscreenTarget(device: GPUDevice, width: number, height: number): FrameTarget {
  const texture = device.createTexture({
    label: 'RenderBench.target',
    size: [width, height],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  const view = texture.createView();
  return { kind: 'offscreen texture', width, height, format: 'rgba8unorm', nextView: () => view, destroy: () => texture.destroy() };
}

export type { Rect };

// The viewer's single-map margins (src/ui/viewer.ts LABEL_MARGIN: audio strips, then 96 px of labels) and grid
// spacing, copied rather than imported so that Node does not load the viewer's DOM code.
const SINGLE_MARGIN = { left: 180 + 96, top: 134 + 96, right: 16, bottom: 16 };
const GRID_GAP = 6;
const GRID_TITLE = 16;

/** The rectangle the viewer gives one map in a width x height canvas. */
export function layoutSingle(width: number, height: number): Rect {
  const size = Math.max(10, Math.min(width - SINGLE_MARGIN.left - SINGLE_MARGIN.right, height - SINGLE_MARGIN.top - SINGLE_MARGIN.bottom));
  return { x: SINGLE_MARGIN.left, y: SINGLE_MARGIN.top, width: size, height: size };
}

/** The rectangles the viewer gives `count` maps in `columns` columns (heads per layer in the model view). */
export function layoutGrid(count: number, columns: number, width: number, height: number): Rect[] {
  const rows = Math.ceil(count / columns);
  const size = Math.max(4, Math.min((width - GRID_GAP) / columns - GRID_GAP, (height - GRID_GAP) / rows - GRID_GAP - GRID_TITLE));
  return Array.from({ length: count }, (_, index) => ({
    x: GRID_GAP + (index % columns) * (size + GRID_GAP),
    y: GRID_GAP + GRID_TITLE + Math.floor(index / columns) * (size + GRID_GAP + GRID_TITLE),
    width: size,
    height: size,
  }));
}

/** One map on screen: its f32 values and the buffer holding its colour range. */
export interface SceneMap {
  readonly values: GPUBuffer;
  readonly rows: number;
  readonly cols: number;
  /** f32 [min, max] at words rangeWord, rangeWord + 1. */
  readonly range: GPUBuffer;
  readonly rangeWord: number;
}

/** Wall and GPU time of one frame. */
export interface FrameTime {
  readonly wallMs: number;
  readonly gpuMs: number | undefined;
}

/**
 * The benchmark's scene: src/render/mapScene.ts's MapScene (what the viewer and `steve render` draw through), with a
 * shared zoom in unit coordinates of a cell and every cell's uniforms rewritten every frame, timed per frame.
 */
export class BenchScene {
  readonly #scene: MapScene;
  /** The WGSL sources it was made with (the cost suite makes the viewer's colour-range pass from them). */
  readonly shaders: ShaderSources;

  private constructor(scene: MapScene, shaders: ShaderSources) {
    this.#scene = scene;
    this.shaders = shaders;
  }

  /** Compiles the passes for a target format. */
  static async create(device: GPUDevice, shaders: ShaderSources, format: GPUTextureFormat): Promise<BenchScene> {
    return new BenchScene(await MapScene.create(device, shaders, format), shaders);
  }

  /** Zoom and pan in unit coordinates of a cell, shared by all cells. */
  get zoom(): mat3 {
    return this.#scene.zoom;
  }

  set zoom(zoom: mat3) {
    this.#scene.zoom = zoom;
  }

  get smooth(): boolean {
    return this.#scene.look.smooth;
  }

  set smooth(smooth: boolean) {
    this.#scene.look = { ...this.#scene.look, smooth };
  }

  /** Replaces the cells (their drawables; the maps stay the caller's). Lines: cell edges of each map. */
  setCells(maps: readonly SceneMap[], rects: readonly Rect[], lines: { phones: number[]; words: number[] } = { phones: [], words: [] }): void {
    this.#scene.setCells(maps.map((map, index) => sceneCell(map, rects[index], lines)));
  }

  /** Changes one cell's map (a control change), keeping its drawables. */
  replaceMap(index: number, map: SceneMap): void {
    const cell = this.#scene.cellAt(index);
    this.#scene.replaceCell(index, { ...sceneCell(map, cell.rect), lines: undefined });
  }

  get cellCount(): number {
    return this.#scene.cellCount;
  }

  /** Rect of cell `index` (for zoom anchors). */
  rectOf(index: number): Rect {
    return this.#scene.cellAt(index).rect;
  }

  /** Zooms about a point given in unit coordinates of a cell ([0,1]^2), as the viewer's wheel zoom does. */
  zoomAt(factor: number, unitX: number, unitY: number): void {
    this.#scene.zoomAt(factor, unitX, unitY);
  }

  /** Pans by a fraction of a cell, as a drag over the first cell does. */
  panBy(unitDx: number, unitDy: number): void {
    this.#scene.panBy(unitDx, unitDy);
  }

  /** Records, submits and waits for one frame. */
  drawFrame(target: FrameTarget, timer: GpuTimer): Promise<FrameTime> {
    return timer.measure((encoder) => this.encodeFrame(encoder, target), 'RenderBench.frameEncoder');
  }

  /** Records one frame into `encoder` (the viewer records a control change's frame with its maps). */
  encodeFrame(encoder: GPUCommandEncoder, target: FrameTarget): void {
    const pass = encoder.beginRenderPass({
      label: 'RenderBench.frame',
      colorAttachments: [{ view: target.nextView(), loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 0 } }],
    });
    this.#scene.encode(pass, target.width, target.height);
    pass.end();
  }

  destroy(): void {
    this.#scene.destroy();
  }
}

function sceneCell(map: SceneMap, rect: Rect, lines?: { phones: number[]; words: number[] }): SceneCell {
  return {
    map: { values: map.values, rows: map.rows, cols: map.cols },
    rect,
    range: { buffer: map.range, word: map.rangeWord, log: false },
    lines: lines && { phoneBoundaries: lines.phones, wordBoundaries: lines.words },
  };
}

/**
 * Softmaxed synthetic maps uploaded as f32 GPU buffers, with one shared [min, max] range buffer. The render suite
 * makes its maps on the CPU: frame times do not depend on how a map was computed, and computing 48 full maps on a
 * software adapter would take minutes (the control-change suite times the engine's path).
 */
export function createSoftmaxedMaps(device: GPUDevice, count: number, frames: number, label: string): { maps: SceneMap[]; bytes: number; destroy(): void } {
  const logits = new Float32Array(frames * frames);
  const softmaxed = new Float32Array(frames * frames);
  const range = createStorageBufferFrom(device, `${label}.range`, new Float32Array([0, 0.05]));
  const buffers: GPUBuffer[] = [];
  for (let index = 0; index < count; index++) {
    fillSyntheticMap(logits, frames, frames, index + 1);
    softmaxLoop(logits, frames, frames, softmaxed);
    buffers.push(createStorageBufferFrom(device, `${label}.map${index}`, softmaxed));
  }
  return {
    maps: buffers.map((values) => ({ values, rows: frames, cols: frames, range, rangeWord: 0 })),
    bytes: count * frames * frames * 4,
    destroy: () => {
      buffers.forEach((buffer) => buffer.destroy());
      range.destroy();
    },
  };
}

/** Sizes of the render suite. */
export interface RenderSuiteConfig {
  /** Frames per side of the single map and of each grid map (1500). */
  readonly frames: number;
  /** Maps in the grid and its columns: Whisper base's 6 x 8 = 48 maps in rows of 8. */
  readonly gridMaps: number;
  readonly gridColumns: number;
  /** Maps of the model view and its columns (large-v3: 32 x 20 = 640 in rows of 20) and their frames per side. */
  readonly modelMaps: number;
  readonly modelColumns: number;
  readonly modelFrames: number;
  /** Frames drawn per scene while zooming then panning. */
  readonly framesPerScene: number;
  readonly log?: (line: string) => void;
  /** Called while a scene's maps are on the GPU (for a memory snapshot), with their bytes. */
  readonly onSceneReady?: (sceneId: string, mapBytes: number) => void;
  /** Awaited between frames, outside the timed part: the page waits for an animation frame so each frame is shown. */
  readonly betweenFrames?: () => Promise<void>;
}

/** One scene's frame times. */
export interface SceneResult {
  readonly id: string;
  readonly label: string;
  readonly maps: number;
  readonly mapFrames: number;
  /** Pixels per cell side. */
  readonly cellPixels: number;
  /** GPU bytes of the scene's f32 maps. */
  readonly mapBytes: number;
  readonly frameMs: Summary;
  readonly gpuMs?: Summary;
  /** Frames per second the median frame allows (1000 / median). */
  readonly fps: number;
  /** Every frame's wall time, in order (the page plots them). */
  readonly series: readonly number[];
  readonly note?: string;
}

/** The render suite's output. */
export interface RenderSuiteResult {
  readonly target: { readonly kind: string; readonly width: number; readonly height: number; readonly format: string };
  readonly timestampQuery: boolean;
  readonly scenes: readonly SceneResult[];
}

/**
 * Zooms in (1.08x per frame about the centre of the first cell) for the first half of the frames, then pans
 * (2% of a cell per frame), timing each frame, for: one map, the grid, and the model view.
 */
export async function runRenderSuite(device: GPUDevice, shaders: ShaderSources, target: FrameTarget, config: RenderSuiteConfig): Promise<RenderSuiteResult> {
  const log = config.log ?? (() => {});
  const timer = new GpuTimer(device);
  const scene = await BenchScene.create(device, shaders, target.format);
  const scenes: SceneResult[] = [];
  const lines = (frames: number) => ({
    phones: Array.from({ length: Math.floor(frames / 5) }, (_, index) => index * 5),
    words: Array.from({ length: Math.floor(frames / 20) }, (_, index) => index * 20),
  });
  const specs = [
    { id: 'single-map', label: 'one map, zoom + pan', maps: 1, columns: 1, frames: config.frames },
    { id: 'grid', label: `${config.gridMaps}-map grid, zoom + pan`, maps: config.gridMaps, columns: config.gridColumns, frames: config.frames },
    { id: 'model-view', label: `${config.modelMaps}-map model view, zoom + pan`, maps: config.modelMaps, columns: config.modelColumns, frames: config.modelFrames },
  ];
  for (const spec of specs) {
    log(`render ${spec.id}: ${spec.maps} map(s) of ${spec.frames} x ${spec.frames} on a ${target.width} x ${target.height} ${target.kind}`);
    const made = createSoftmaxedMaps(device, spec.maps, spec.frames, `RenderBench.${spec.id}`);
    const rects = spec.maps === 1 ? [layoutSingle(target.width, target.height)] : layoutGrid(spec.maps, spec.columns, target.width, target.height);
    scene.setCells(made.maps, rects, lines(spec.frames));
    scene.zoom = mat3.create();
    config.onSceneReady?.(spec.id, made.bytes);
    const times = await zoomAndPan(scene, target, timer, config.framesPerScene, config.betweenFrames);
    scenes.push({
      id: spec.id,
      label: spec.label,
      maps: spec.maps,
      mapFrames: spec.frames,
      cellPixels: Math.round(rects[0].width),
      mapBytes: made.bytes,
      frameMs: summarize(times.map((time) => time.wallMs)),
      gpuMs: times.every((time) => time.gpuMs !== undefined) ? summarize(times.map((time) => time.gpuMs as number)) : undefined,
      fps: 1000 / summarize(times.map((time) => time.wallMs)).median,
      series: times.map((time) => time.wallMs),
      note:
        spec.id === 'model-view' && spec.frames < config.frames
          ? `maps of ${spec.frames} frames, not ${config.frames}: at full resolution the model view needs ${spec.maps} f32 maps of ` +
            `${config.frames}^2 (${((spec.maps * config.frames * config.frames * 4) / 2 ** 30).toFixed(1)} GiB) on the GPU; each cell is ` +
            `${Math.round(rects[0].width)} px, so the shader's 4 x 4 footprint samples read the same number of values either way`
          : undefined,
    });
    scene.setCells([], []);
    made.destroy();
  }
  scene.destroy();
  timer.destroy();
  return { target: { kind: target.kind, width: target.width, height: target.height, format: target.format }, timestampQuery: timer.enabled, scenes };
}

/** Draws one warm-up frame, then `frames` frames: zooming in for the first half, panning for the second. */
export async function zoomAndPan(
  scene: BenchScene,
  target: FrameTarget,
  timer: GpuTimer,
  frames: number,
  betweenFrames: () => Promise<void> = async () => {},
): Promise<FrameTime[]> {
  await scene.drawFrame(target, timer);
  const times: FrameTime[] = [];
  for (let frame = 0; frame < frames; frame++) {
    await betweenFrames();
    if (frame < frames / 2) scene.zoomAt(1.08, 0.5, 0.5);
    else scene.panBy(-0.02, -0.01);
    times.push(await scene.drawFrame(target, timer));
  }
  return times;
}
