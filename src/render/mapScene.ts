/**
 * A set of maps drawn into one render pass: per cell, the heatmap and its boundary lines, all cells sharing one
 * zoom and pan. The viewer's canvas, `steve render`'s figure rasters and the render benchmark draw through this,
 * so the benchmark times what users see and a figure shows what the viewer shows.
 *
 * Cells are placed by the caller (a rectangle of target pixels each). Colours come from a range buffer per cell
 * ([low, high] f32: a ColorScale from src/view/colorScale.ts written by createRangeBuffer, or a stats buffer the GPU
 * filled); boundaries come from a plan's MapMarks, in map cells. Zoom is in unit coordinates of a cell ([0, 1]^2),
 * so one zoom serves a grid of maps of any size.
 */
import { mat3 } from 'gl-matrix';
import { createStorageBufferFrom } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { ColorScale } from '../view/colorScale.ts';
import type { ColormapName } from '../view/spec.ts';
import type { BoundaryDrawable, BoundaryStyle } from './boundaries.ts';
import { BoundaryPass, DEFAULT_BOUNDARY_STYLE } from './boundaries.ts';
import type { HeatmapDrawable } from './heatmap.ts';
import { HeatmapPass } from './heatmap.ts';
import { panBy, zoomAbout } from './view.ts';

/** A rectangle in target pixels. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** One map's values on the GPU: rows x cols f32, row-major. */
export interface SceneMap {
  readonly values: GPUBuffer;
  readonly rows: number;
  readonly cols: number;
  /**
   * Map cells along each axis of the rect (MapMarks' span): rows and cols unless the last pooled block is partial,
   * when it is drawn at its real width and the rest of its cell falls outside the rect.
   */
  readonly span?: number;
}

/** The values a cell's colours span: f32 low and high at words `word` and `word + 1` of `buffer`. */
export interface SceneRange {
  readonly buffer: GPUBuffer;
  readonly word: number;
  readonly log: boolean;
}

/** Boundary lines of a cell, at cell edges in map cells (MapMarks' phoneBoundaries and wordBoundaries). */
export interface SceneLines {
  readonly phoneBoundaries: readonly number[];
  readonly wordBoundaries: readonly number[];
}

/** One cell of the scene. */
export interface SceneCell {
  readonly map: SceneMap;
  readonly rect: Rect;
  readonly range: SceneRange;
  readonly lines?: SceneLines;
}

/** How every cell looks. */
export interface SceneLook {
  readonly colormap: ColormapName;
  readonly smooth: boolean;
  /** Lines over the map; on the diverging colormap white lines vanish at 0, so they are dark there. */
  readonly boundaryStyle: BoundaryStyle;
  /** Colour of non-finite cells and of the area outside the map. */
  readonly background?: [number, number, number, number];
}

/** Boundary lines on the diverging colormap, whose middle is white: dark words, darker phones. */
export const DIVERGING_BOUNDARY_STYLE: BoundaryStyle = {
  phoneColor: [0, 0, 0, 0.45],
  wordColor: [0.1, 0.1, 0.1, 0.9],
  phoneWidth: 1,
  wordWidth: 2,
};

/** The boundary style for a colormap. */
export function boundaryStyleFor(colormap: ColormapName): BoundaryStyle {
  return colormap === 'diverging' ? DIVERGING_BOUNDARY_STYLE : DEFAULT_BOUNDARY_STYLE;
}

/** A [low, high] range buffer for a colour scale computed on the CPU. The caller destroys it. */
export function createRangeBuffer(device: GPUDevice, scale: ColorScale, label = 'MapScene.range'): GPUBuffer {
  return createStorageBufferFrom(device, label, new Float32Array([scale.low, scale.high]));
}

interface DrawnCell {
  cell: SceneCell;
  heatmap: HeatmapDrawable;
  boundaries: BoundaryDrawable;
}

export class MapScene {
  readonly #heatmapPass: HeatmapPass;
  readonly #ownsHeatmapPass: boolean;
  readonly #boundaryPass: BoundaryPass;
  #cells: DrawnCell[] = [];
  /** Zoom and pan in unit coordinates of a cell, shared by all cells. */
  zoom = mat3.create();
  look: SceneLook = { colormap: 'viridis', smooth: false, boundaryStyle: DEFAULT_BOUNDARY_STYLE };

  private constructor(heatmapPass: HeatmapPass, ownsHeatmapPass: boolean, boundaryPass: BoundaryPass) {
    this.#heatmapPass = heatmapPass;
    this.#ownsHeatmapPass = ownsHeatmapPass;
    this.#boundaryPass = boundaryPass;
  }

  /** Compiles the passes for a target format; an existing heatmap pass for that format may be shared (not destroyed here). */
  static async create(device: GPUDevice, shaders: ShaderSources, format: GPUTextureFormat, heatmapPass?: HeatmapPass): Promise<MapScene> {
    const [heatmap, boundaries] = await Promise.all([heatmapPass ?? HeatmapPass.create(device, shaders, format), BoundaryPass.create(device, shaders, format)]);
    return new MapScene(heatmap, heatmapPass === undefined, boundaries);
  }

  /** Replaces the cells (drawables are made per cell; maps and range buffers stay the caller's). */
  setCells(cells: readonly SceneCell[]): void {
    this.#releaseCells();
    this.#cells = cells.map((cell, index) => {
      const heatmap = this.#heatmapPass.createDrawable(`MapScene.heatmap${index}`);
      const boundaries = this.#boundaryPass.createDrawable(`MapScene.boundaries${index}`);
      boundaries.setLines(cell.lines?.phoneBoundaries ?? [], cell.lines?.wordBoundaries ?? []);
      return { cell, heatmap, boundaries };
    });
  }

  /** Changes one cell (a control change), keeping its drawables; its lines are rewritten when given. */
  replaceCell(index: number, cell: SceneCell): void {
    const drawn = this.#cells[index];
    drawn.cell = cell;
    if (cell.lines) drawn.boundaries.setLines(cell.lines.phoneBoundaries, cell.lines.wordBoundaries);
  }

  get cellCount(): number {
    return this.#cells.length;
  }

  /** The cell at `index`. */
  cellAt(index: number): SceneCell {
    return this.#cells[index].cell;
  }

  /** Zooms about a point in unit coordinates of a cell ([0,1]^2). */
  zoomAt(factor: number, unitX: number, unitY: number): void {
    this.zoom = zoomAbout(this.zoom, factor, [unitX, unitY]);
  }

  /** Pans by a fraction of a cell. */
  panBy(unitDx: number, unitDy: number): void {
    this.zoom = panBy(this.zoom, unitDx, unitDy);
  }

  /** Map cells -> viewport pixels of a cell under the current zoom (what its overlays use). */
  mapToViewport(cell: SceneCell, viewport: Rect): mat3 {
    const toViewport = mat3.create();
    mat3.translate(toViewport, toViewport, [cell.rect.x - viewport.x, cell.rect.y - viewport.y]);
    mat3.scale(toViewport, toViewport, [cell.rect.width, cell.rect.height]);
    mat3.multiply(toViewport, toViewport, this.zoom);
    mat3.scale(toViewport, toViewport, [1 / (cell.map.span ?? cell.map.cols), 1 / (cell.map.span ?? cell.map.rows)]);
    return toViewport;
  }

  /** Writes every cell's uniforms and records its heatmap and boundary lines into `pass` (a target of width x height). */
  encode(pass: GPURenderPassEncoder, targetWidth: number, targetHeight: number): void {
    for (const { cell, heatmap, boundaries } of this.#cells) {
      const viewport = clampRect(cell.rect, targetWidth, targetHeight);
      if (!viewport) continue;
      const toViewport = this.mapToViewport(cell, viewport);
      heatmap.update({
        values: cell.map.values,
        cols: cell.map.cols,
        rows: cell.map.rows,
        valueRange: cell.range.buffer,
        rangeWord: cell.range.word,
        viewport,
        mapToViewport: toViewport,
        colormap: this.look.colormap,
        scale: cell.range.log ? 'log' : 'linear',
        smooth: this.look.smooth,
        clip: [0, 1],
        background: this.look.background,
      });
      heatmap.draw(pass);
      boundaries.update(viewport, toViewport, { cols: cell.map.cols, rows: cell.map.rows }, this.look.boundaryStyle);
      boundaries.draw(pass);
    }
  }

  destroy(): void {
    this.#releaseCells();
    if (this.#ownsHeatmapPass) this.#heatmapPass.destroy();
  }

  #releaseCells(): void {
    for (const { heatmap, boundaries } of this.#cells) {
      heatmap.destroy();
      boundaries.destroy();
    }
    this.#cells = [];
  }
}

/** Viewports and scissor rectangles must lie inside the render target. */
export function clampRect(rect: Rect, width: number, height: number): Rect | undefined {
  const x = Math.max(0, Math.floor(rect.x));
  const y = Math.max(0, Math.floor(rect.y));
  const right = Math.min(width, Math.ceil(rect.x + rect.width));
  const bottom = Math.min(height, Math.ceil(rect.y + rect.height));
  return right > x && bottom > y ? { x, y, width: right - x, height: bottom - y } : undefined;
}
