/**
 * The heatmap render pass: colour-maps an f32 matrix on the GPU into a viewport of the render target.
 * One HeatmapPass per device and target format; one HeatmapDrawable per map on screen (a grid of 48 heads has 48),
 * each owning its uniform buffer and bind group.
 */
import type { mat3 } from 'gl-matrix';
import { createUniformBuffer } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { shaderSource } from '../gpu/pipeline.ts';
import type { ColormapName } from './colormaps.ts';
import { createColormapTexture } from './colormaps.ts';
import { levelCells } from '../view/pyramidLevel.ts';

export type ValueScale = 'linear' | 'log';

/** Uniform layout of HeatmapParams in shaders/render/heatmap.wgsl, in bytes. */
const PARAMS_BYTES =
  48 + // viewportToMap: mat3x3<f32>, three columns padded to 16 bytes
  8 + // viewportOrigin: vec2<f32>
  8 + // mapSize: vec2<f32>
  8 + // clip: vec2<f32>
  4 + // scale: u32
  4 + // bilinear: u32
  4 + // rangeWord: u32
  4 + // levelFactor: f32
  8 + // levelSize: vec2<f32> (ends at byte 96, background's 16-byte alignment)
  16 + // background: vec4<f32>
  16 + // nonFinite: vec4<f32>
  8 + // windowOrigin: vec2<f32>
  8; // windowSize: vec2<f32> (the struct ends at 144, a multiple of 16)

/** Where a map is drawn and how it looks. */
export interface HeatmapDrawState {
  /** f32 matrix, row-major: the map (rows x cols), or its pyramid level `levelFactor` (ceil(rows / f) x ceil(cols / f)). */
  values: GPUBuffer;
  /** Size of the map in frames (at every level: positions, edges and boundaries stay in frames). */
  cols: number;
  rows: number;
  /** Frames per cell of `values` along each axis (src/compute/pyramid.ts); 1 (full resolution) when omitted. */
  levelFactor?: number;
  /** When `values` holds only a window of the level (src/view/pyramidWindow.ts): its level cells. The whole level when omitted. */
  levelWindow?: { readonly rowStart: number; readonly rowEnd: number; readonly colStart: number; readonly colEnd: number };
  /** f32 min and max of the values the colour scale spans, at words rangeWord and rangeWord + 1 (default 0). */
  valueRange: GPUBuffer;
  /** MinMaxPass's stats buffer keeps them at MAP_STATS_MIN_WORD (6). */
  rangeWord?: number;
  /** Viewport in framebuffer pixels. */
  viewport: { x: number; y: number; width: number; height: number };
  /** Map (frames) -> viewport pixels; see render/view.ts. */
  mapToViewport: mat3;
  colormap: ColormapName;
  scale: ValueScale;
  smooth: boolean;
  /** Colour limits as fractions of [min, max]. */
  clip: [number, number];
  background?: [number, number, number, number];
}

export class HeatmapPass {
  readonly #pipeline: GPURenderPipeline;
  readonly #colormaps = new Map<ColormapName, GPUTexture>();

  private constructor(
    readonly device: GPUDevice,
    pipeline: GPURenderPipeline,
  ) {
    this.#pipeline = pipeline;
  }

  /** Pipelines are per target format (bgra8unorm for a canvas on most systems, rgba8unorm offscreen). */
  static async create(device: GPUDevice, shaders: ShaderSources, format: GPUTextureFormat): Promise<HeatmapPass> {
    const module = device.createShaderModule({ label: 'HeatmapPass.module', code: shaderSource(shaders, 'render/heatmap.wgsl') });
    const pipeline = await device.createRenderPipelineAsync({
      label: `HeatmapPass.pipeline.${format}`,
      layout: 'auto',
      vertex: { module, entryPoint: 'vertexMain' },
      fragment: { module, entryPoint: 'fragmentMain', targets: [{ format }] },
      primitive: { topology: 'triangle-list' },
    });
    return new HeatmapPass(device, pipeline);
  }

  colormapTexture(name: ColormapName): GPUTexture {
    let texture = this.#colormaps.get(name);
    if (!texture) {
      texture = createColormapTexture(this.device, name);
      this.#colormaps.set(name, texture);
    }
    return texture;
  }

  createDrawable(label: string): HeatmapDrawable {
    return new HeatmapDrawable(this, this.#pipeline, label);
  }

  destroy(): void {
    for (const texture of this.#colormaps.values()) texture.destroy();
    this.#colormaps.clear();
  }
}

/** One map on screen. update() writes its uniforms; draw() records it into a render pass. */
export class HeatmapDrawable {
  readonly #uniforms: GPUBuffer;
  #bindGroup?: GPUBindGroup;
  #bound?: { values: GPUBuffer; valueRange: GPUBuffer; colormap: ColormapName };
  #viewport = { x: 0, y: 0, width: 1, height: 1 };

  constructor(
    private readonly owner: HeatmapPass,
    private readonly pipeline: GPURenderPipeline,
    private readonly label: string,
  ) {
    this.#uniforms = createUniformBuffer(owner.device, `${label}.uniforms`, PARAMS_BYTES);
  }

  update(state: HeatmapDrawState): void {
    const { device } = this.owner;
    const m = state.mapToViewport;
    // viewportToMap is the inverse of an axis-aligned scale + translate: x_map = (x_px - tx) / sx.
    const sx = m[0];
    const sy = m[4];
    const tx = m[6];
    const ty = m[7];
    const data = new ArrayBuffer(PARAMS_BYTES);
    const f32 = new Float32Array(data);
    const u32 = new Uint32Array(data);
    f32.set([1 / sx, 0, 0, 0, 0, 1 / sy, 0, 0, -tx / sx, -ty / sy, 1, 0], 0);
    f32.set([state.viewport.x, state.viewport.y, state.cols, state.rows, state.clip[0], state.clip[1]], 12);
    u32[18] = state.scale === 'log' ? 1 : 0;
    u32[19] = state.smooth ? 1 : 0;
    u32[20] = state.rangeWord ?? 0;
    const levelFactor = state.levelFactor ?? 1;
    const levelCols = levelCells(state.cols, levelFactor);
    const levelRows = levelCells(state.rows, levelFactor);
    f32.set([levelFactor, levelCols, levelRows], 21);
    f32.set(state.background ?? [0, 0, 0, 0], 24);
    f32.set([0.5, 0.5, 0.5, 1], 28);
    const window = state.levelWindow ?? { rowStart: 0, rowEnd: levelRows, colStart: 0, colEnd: levelCols };
    f32.set([window.colStart, window.rowStart, window.colEnd - window.colStart, window.rowEnd - window.rowStart], 32);
    device.queue.writeBuffer(this.#uniforms, 0, data);
    this.#viewport = state.viewport;
    const bound = this.#bound;
    if (!bound || bound.values !== state.values || bound.valueRange !== state.valueRange || bound.colormap !== state.colormap) {
      this.#bindGroup = device.createBindGroup({
        label: `${this.label}.bindGroup`,
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: state.values } },
          { binding: 1, resource: { buffer: this.#uniforms } },
          { binding: 2, resource: this.owner.colormapTexture(state.colormap).createView() },
          { binding: 3, resource: { buffer: state.valueRange } },
        ],
      });
      this.#bound = { values: state.values, valueRange: state.valueRange, colormap: state.colormap };
    }
  }

  /** Records the draw, clipped to this map's viewport. update() must have been called. */
  draw(pass: GPURenderPassEncoder): void {
    if (!this.#bindGroup) throw new Error(`${this.label}: update() before draw()`);
    const { x, y, width, height } = this.#viewport;
    pass.setViewport(x, y, width, height, 0, 1);
    pass.setScissorRect(Math.floor(x), Math.floor(y), Math.ceil(width), Math.ceil(height));
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.#bindGroup);
    pass.draw(3);
  }

  destroy(): void {
    this.#uniforms.destroy();
  }
}
