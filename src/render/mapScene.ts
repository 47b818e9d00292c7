/**
 * A set of maps drawn into one render pass: per cell, the heatmap and its boundary lines, all cells sharing one
 * zoom and pan. The viewer's canvas, `steve render`'s figure rasters and the render benchmark draw through this,
 * so the benchmark times what users see and a figure shows what the viewer shows.
 *
 * Cells are placed by the caller (a rectangle of target pixels each). Colours come from a range buffer per cell
 * ([low, high] f32: a ColorScale from src/view/colorScale.ts written by createRangeBuffer, or a stats buffer the GPU
 * filled); boundaries come from a plan's MapMarks, in map cells. Zoom is in unit coordinates of a cell ([0, 1]^2),
 * so one zoom serves a grid of maps of any size. A camera (target pixels -> target pixels) moves and scales the whole
 * layout, as zooming from a model view of 640 maps into one head does; cells it moves off the target are culled.
 *
 * A cell may draw a map pyramid (src/compute/pyramid.ts) instead of one map: each frame, the level for its on-screen
 * size (chooseLevelFactor, src/view/pyramidLevel.ts) is asked of its SceneLevels, and the nearest level on hand is
 * drawn until that one arrives. Culled cells ask for nothing, so full resolution is built only for maps on screen.
 * Positions, map edges and boundary lines stay in frames at every level: a boundary at frame b lies on a level-cell
 * edge when b is a multiple of the level's factor f; otherwise it crosses the level cell holding frames
 * [f * floor(b / f), f * floor(b / f) + f), which shows the pooled value of both sides of it.
 * A cell zoomed into part of its map may draw a window of its level (src/view/pyramidWindow.ts) that covers what is
 * visible: the same level cells, so the same pixels, for a fraction of the bytes.
 */
import { mat3, vec2 } from 'gl-matrix';
import { createStorageBufferFrom } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { ColorScale } from '../view/colorScale.ts';
import type { ColormapName } from '../view/spec.ts';
import type { BoundaryDrawable, BoundaryStyle } from './boundaries.ts';
import { BoundaryPass, DEFAULT_BOUNDARY_STYLE } from './boundaries.ts';
import type { HeatmapDrawable } from './heatmap.ts';
import { HeatmapPass } from './heatmap.ts';
import { readableBoundaries } from '../view/axisLabels.ts';
import { chooseLevelFactor, fitLevelsToBudget, type WantedLevel } from '../view/pyramidLevel.ts';
import { visibleFrames, type FrameRect, type LevelWindow } from '../view/pyramidWindow.ts';
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
  /** The map at full resolution; may be left out when the cell draws a pyramid's levels (SceneCell.levels). */
  readonly values?: GPUBuffer;
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

/**
 * A pyramid level of a cell's map: its f x f block-pooled values, ceil(rows / f) x ceil(cols / f) f32, or only the
 * level cells of `window` (src/view/pyramidWindow.ts), row-major over the window.
 */
export interface SceneLevel {
  readonly values: GPUBuffer;
  readonly factor: number;
  readonly window?: LevelWindow;
}

/** Where a cell's pyramid levels come from (src/render/pyramidLevels.ts keeps them on an engine). */
export interface SceneLevels {
  /**
   * The level to draw when `wantedFactor` is wanted: that level when on hand, else the nearest one on hand, or
   * undefined when none is; a level not on hand is asked for. What it returns must stay valid until frameDone().
   */
  levelFor(wantedFactor: number, visible?: FrameRect): SceneLevel | undefined;
  /**
   * Bytes drawing level `factor` while `visible` frames are on screen pins (a window of the level, when the cell
   * draws windows); the whole level's when left out. The frame's level budget counts these.
   */
  bytesFor?(factor: number, visible: FrameRect | undefined, rows: number, cols: number): number;
  /** After a frame's commands are submitted: levels not drawn in it may be let go. */
  frameDone(): void;
}

/** One cell of the scene. */
export interface SceneCell {
  /** The map's size in frames, and its full-resolution values unless `levels` is given. */
  readonly map: SceneMap;
  /** The map's pyramid: when given, each frame draws the level its on-screen size needs. */
  readonly levels?: SceneLevels;
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

/** Average pixels between word lines below which they are drawn one pixel wide, so that they mark without covering. */
const CROWDED_WORD_SPACING_PX = 16;

/** The boundary style for a colormap. */
export function boundaryStyleFor(colormap: ColormapName): BoundaryStyle {
  return colormap === 'diverging' ? DIVERGING_BOUNDARY_STYLE : DEFAULT_BOUNDARY_STYLE;
}

/** A [low, high] range buffer for a colour scale computed on the CPU. The caller destroys it. */
export function createRangeBuffer(device: GPUDevice, scale: ColorScale, label = 'MapScene.range'): GPUBuffer {
  return createStorageBufferFrom(device, label, new Float32Array([scale.low, scale.high]));
}

/** What the last encode() drew: cells drawn and culled, and how many cells were drawn at each level factor. */
export interface FrameReport {
  readonly drawn: number;
  readonly culled: number;
  /** Cells whose wanted level was not on hand yet (a nearer one or nothing was drawn). */
  readonly waiting: number;
  readonly levels: ReadonlyMap<number, number>;
}

/** A cell on the target this frame: where, how its map maps to the viewport, and which of its frames show. */
interface VisibleCell<T extends { cell: SceneCell } = DrawnCell> {
  drawn: T;
  viewport: Rect;
  toViewport: mat3;
  frames: FrameRect | undefined;
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
  /** Target pixels -> target pixels, applied to every cell's rect: zoom and pan over the whole layout. */
  camera = mat3.create();
  /**
   * Bytes the levels one frame draws may take together (they are pinned while drawn); when the wanted levels of the
   * cells on screen exceed it, all are made coarser together (fitLevelsToBudget). Unlimited when undefined.
   */
  levelBudgetBytes: number | undefined;
  #lastFrame: FrameReport = { drawn: 0, culled: 0, waiting: 0, levels: new Map() };
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

  /** Zooms the camera by `factor` about a target pixel (the whole layout moves; cells leaving the target are culled). */
  zoomCameraAt(factor: number, x: number, y: number): void {
    this.camera = zoomAbout(this.camera, factor, [x, y]);
  }

  /** Moves the camera by target pixels. */
  panCameraBy(dx: number, dy: number): void {
    this.camera = panBy(this.camera, dx, dy);
  }

  /** Where a cell's rect is on the target under the camera. */
  onTarget(cell: SceneCell): Rect {
    const topLeft = vec2.transformMat3(vec2.create(), [cell.rect.x, cell.rect.y], this.camera);
    const bottomRight = vec2.transformMat3(vec2.create(), [cell.rect.x + cell.rect.width, cell.rect.y + cell.rect.height], this.camera);
    return { x: topLeft[0], y: topLeft[1], width: bottomRight[0] - topLeft[0], height: bottomRight[1] - topLeft[1] };
  }

  /** What the last encode() drew. */
  get lastFrame(): FrameReport {
    return this.#lastFrame;
  }

  /** Map cells -> viewport pixels of a cell under the current camera and zoom (what its overlays use). */
  mapToViewport(cell: SceneCell, viewport: Rect): mat3 {
    const toViewport = mat3.create();
    const rect = this.onTarget(cell);
    mat3.translate(toViewport, toViewport, [rect.x - viewport.x, rect.y - viewport.y]);
    mat3.scale(toViewport, toViewport, [rect.width, rect.height]);
    mat3.multiply(toViewport, toViewport, this.zoom);
    mat3.scale(toViewport, toViewport, [1 / (cell.map.span ?? cell.map.cols), 1 / (cell.map.span ?? cell.map.rows)]);
    return toViewport;
  }

  /** Writes every cell's uniforms and records its heatmap and boundary lines into `pass` (a target of width x height). */
  encode(pass: GPURenderPassEncoder, targetWidth: number, targetHeight: number): void {
    let waiting = 0;
    const levels = new Map<number, number>();
    const visible = this.#visibleCells(this.#cells, targetWidth, targetHeight);
    const wanted = this.#wantedLevels(visible);
    for (const [index, { drawn: { cell, heatmap, boundaries }, viewport, toViewport, frames }] of visible.entries()) {
      let values = cell.map.values;
      let levelFactor = 1;
      let levelWindow: LevelWindow | undefined;
      if (cell.levels) {
        const level = cell.levels.levelFor(wanted[index], frames);
        if (level?.factor !== wanted[index]) waiting++;
        // No level held yet: the full map, while the cell still has it (the viewer's first frame of a grid).
        values = level?.values ?? cell.map.values;
        levelFactor = level?.factor ?? 1;
        levelWindow = level?.window;
      }
      if (!values) continue;
      levels.set(levelFactor, (levels.get(levelFactor) ?? 0) + 1);
      heatmap.update({
        values,
        levelFactor,
        levelWindow,
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
      const pixelsPerCell = Math.abs(toViewport[0]);
      const style = this.look.boundaryStyle;
      // Word lines closer than CROWDED_WORD_SPACING_PX (a grid's small cells) are drawn one pixel wide.
      const crowded = boundaries.gaps.words * pixelsPerCell < CROWDED_WORD_SPACING_PX;
      boundaries.update(viewport, toViewport, { cols: cell.map.cols, rows: cell.map.rows }, crowded ? { ...style, wordWidth: Math.min(style.wordWidth, 1) } : style);
      boundaries.draw(pass, readableBoundaries(boundaries.gaps, pixelsPerCell));
    }
    const culled = this.#cells.length - visible.length;
    this.#lastFrame = { drawn: [...levels.values()].reduce((sum, count) => sum + count, 0), culled, waiting, levels };
  }

  /**
   * What encode() would ask of the pyramids of `cells` (the scene's or others, placed) on a target of width x height
   * under this camera, zoom and level budget: per cell, the level factor and the frames in view; undefined for a cell
   * culled or without a pyramid. A grid computed in groups builds these levels before its first frame (src/ui/viewRun.ts).
   */
  wantedLevels(cells: readonly SceneCell[], targetWidth: number, targetHeight: number): ({ factor: number; frames: FrameRect | undefined } | undefined)[] {
    const visible = this.#visibleCells(cells.map((cell, index) => ({ cell, index })), targetWidth, targetHeight);
    const factors = this.#wantedLevels(visible);
    const wanted: ({ factor: number; frames: FrameRect | undefined } | undefined)[] = cells.map(() => undefined);
    visible.forEach(({ drawn, frames }, i) => drawn.cell.levels && (wanted[drawn.index] = { factor: factors[i], frames }));
    return wanted;
  }

  /** The cells on the target, with their viewports, transforms and the frames of their maps in view; the others are culled. */
  #visibleCells<T extends { cell: SceneCell }>(cells: readonly T[], targetWidth: number, targetHeight: number): VisibleCell<T>[] {
    const visible: VisibleCell<T>[] = [];
    for (const drawn of cells) {
      const viewport = clampRect(this.onTarget(drawn.cell), targetWidth, targetHeight);
      if (!viewport) continue;
      const toViewport = this.mapToViewport(drawn.cell, viewport);
      const transform = { scaleX: toViewport[0], scaleY: toViewport[4], offsetX: toViewport[6], offsetY: toViewport[7] };
      visible.push({ drawn, viewport, toViewport, frames: visibleFrames(transform, viewport, drawn.cell.map.rows, drawn.cell.map.cols) });
    }
    return visible;
  }

  /** The level each visible cell draws (1 for cells without a pyramid): its zoom's level, fitted to the budget. */
  #wantedLevels(visible: readonly VisibleCell<{ cell: SceneCell }>[]): number[] {
    const factors = visible.map(() => 1);
    const pyramids = [...visible.keys()].filter((index) => visible[index].drawn.cell.levels);
    const wanted = pyramids.map((index): WantedLevel => {
      const { drawn: { cell }, toViewport, frames } = visible[index];
      const { rows, cols } = cell.map;
      // Target pixels per frame along each axis (toViewport's scale): the axis with more pixels per frame decides,
      // so that both axes keep at least one level cell per pixel.
      const pixelsPerFrame = Math.max(Math.abs(toViewport[0]), Math.abs(toViewport[4]));
      const levels = cell.levels!;
      const bytesAt = levels.bytesFor ? (factor: number) => levels.bytesFor!(factor, frames, rows, cols) : undefined;
      return { rows, cols, factor: chooseLevelFactor(Math.max(rows, cols), pixelsPerFrame), bytesAt };
    });
    const fitted = this.levelBudgetBytes === undefined ? wanted.map((level) => level.factor) : fitLevelsToBudget(wanted, this.levelBudgetBytes);
    pyramids.forEach((index, i) => (factors[index] = fitted[i]));
    return factors;
  }

  /** Call after the frame encode() recorded is submitted: cells' pyramids may let go of levels it did not draw. */
  frameSubmitted(): void {
    for (const { cell } of this.#cells) cell.levels?.frameDone();
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
