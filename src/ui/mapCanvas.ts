/**
 * The viewer's canvas on one device: its WebGPU context, the MapScene that draws the cells, the colour-range pass
 * their runs use, and the rasters of exported figures. Places cells for the canvas' size and records frames; made
 * again after a device loss.
 */
import type { mat3 } from 'gl-matrix';
import { ColorRangePass } from '../compute/colorRange.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { MapScene, boundaryStyleFor, type FrameReport } from '../render/mapScene.ts';
import type { ColormapName } from '../view/spec.ts';
import { CellRasters } from './cellRasters.ts';
import { placeCells } from './layout.ts';
import { sceneCell, type Cell } from './viewRun.ts';

export class MapCanvas {
  readonly canvas: HTMLCanvasElement;
  readonly colorRange: ColorRangePass;
  readonly #context: GPUCanvasContext;
  readonly #scene: MapScene;
  readonly #rasters: CellRasters;

  private constructor(canvas: HTMLCanvasElement, context: GPUCanvasContext, scene: MapScene, colorRange: ColorRangePass, rasters: CellRasters) {
    this.canvas = canvas;
    this.#context = context;
    this.#scene = scene;
    this.colorRange = colorRange;
    this.#rasters = rasters;
  }

  static async create(canvas: HTMLCanvasElement, device: GPUDevice, shaders: ShaderSources): Promise<MapCanvas> {
    const format = navigator.gpu.getPreferredCanvasFormat();
    const context = canvas.getContext('webgpu') as GPUCanvasContext;
    // COPY_SRC lets export and tests read the picture back; premultiplied keeps the page behind transparent areas.
    context.configure({ device, format, alphaMode: 'premultiplied', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
    const [scene, colorRange] = await Promise.all([MapScene.create(device, shaders, format), ColorRangePass.create(device, shaders)]);
    return new MapCanvas(canvas, context, scene, colorRange, new CellRasters(device, shaders));
  }

  /** Replaces the cells drawn (none: []). */
  setCells(cells: readonly Cell[]): void {
    this.#scene.setCells(cells.map((cell) => sceneCell(cell)));
  }

  /** Sizes the canvas to its CSS box and places the cells in it (`columns` per row of a grid). */
  place(cells: readonly Cell[], columns: number, gap?: number): void {
    const { dpr, pixelWidth, pixelHeight } = this.#layout(cells, columns, gap);
    this.canvas.width = pixelWidth;
    this.canvas.height = pixelHeight;
    cells.forEach((cell, i) => this.#scene.replaceCell(i, sceneCell(cell, dpr)));
  }

  /**
   * What the first frame of `cells` (not yet drawn: the scene keeps its cells) would ask of their pyramids, placed
   * as place() would place them, under `zoom` and the level budget: MapScene.wantedLevels. Sets the cells' rects.
   */
  firstLevels(cells: readonly Cell[], columns: number, gap: number | undefined, zoom: mat3, levelBudgetBytes?: number): ReturnType<MapScene['wantedLevels']> {
    const { dpr, pixelWidth, pixelHeight } = this.#layout(cells, columns, gap);
    this.#scene.zoom = zoom;
    this.#scene.levelBudgetBytes = levelBudgetBytes;
    return this.#scene.wantedLevels(cells.map((cell) => sceneCell(cell, dpr)), pixelWidth, pixelHeight);
  }

  /** Sets the cells' rects for the canvas's CSS box (`columns` per row); the device pixel ratio and the box in device pixels. */
  #layout(cells: readonly Cell[], columns: number, gap: number | undefined): { dpr: number; pixelWidth: number; pixelHeight: number } {
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    const dpr = globalThis.devicePixelRatio || 1;
    placeCells(cells.length, columns, width, height, gap).forEach((rect, i) => (cells[i].rect = rect));
    return { dpr, pixelWidth: Math.max(1, Math.round(width * dpr)), pixelHeight: Math.max(1, Math.round(height * dpr)) };
  }

  /** Records a frame of the cells with this look and zoom into `encoder`. */
  encodeFrame(encoder: GPUCommandEncoder, colormap: ColormapName, smooth: boolean, zoom: mat3, levelBudgetBytes?: number): void {
    this.#scene.look = { colormap, smooth, boundaryStyle: boundaryStyleFor(colormap) };
    this.#scene.zoom = zoom;
    this.#scene.levelBudgetBytes = levelBudgetBytes;
    const pass = encoder.beginRenderPass({
      label: 'Viewer.frame.pass',
      colorAttachments: [{ view: this.#context.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 0 } }],
    });
    this.#scene.encode(pass, this.canvas.width, this.canvas.height);
    pass.end();
  }

  /** What the last frame drew: cells drawn, and at which pyramid levels (MapScene's report). */
  get lastFrame(): FrameReport {
    return this.#scene.lastFrame;
  }

  /** After a frame's submit: pyramids may let go of the levels it did not draw. */
  frameSubmitted(): void {
    this.#scene.frameSubmitted();
  }

  /** A cell's visible map at size x size pixels, without boundary lines: the raster of an exported figure. */
  renderCellRaster(cell: Cell, size: number, zoom: mat3): Promise<Uint8Array> {
    return this.#rasters.render(cell, size, this.#scene.look, zoom);
  }

  destroy(): void {
    this.#scene.destroy();
    this.colorRange.destroy();
    this.#rasters.destroy();
  }
}
