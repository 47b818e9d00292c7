/**
 * Phone and word boundary lines drawn over a heatmap (both axes: the map is query frames x key frames).
 * Positions come from the frame model (WordSelection.phoneBoundaries / wordBoundaries), in frames relative to the
 * map's first row and column.
 */
import type { mat3 } from 'gl-matrix';
import { createStorageBuffer, createUniformBuffer } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { shaderSource } from '../gpu/pipeline.ts';
import { boundaryGaps, type BoundaryGaps } from '../view/axisLabels.ts';

/** Uniform layout of BoundaryParams in shaders/render/boundaries.wgsl, in bytes. */
const PARAMS_BYTES =
  8 + // scale
  8 + // offset
  8 + // viewportSize
  8 + // mapSize
  16 + // phoneColor
  16 + // wordColor
  4 + // phoneWidth
  4; // wordWidth
/** Bytes of one BoundaryLine: position f32, axis u32, style u32, pad. */
const LINE_BYTES = 16;

export interface BoundaryStyle {
  phoneColor: [number, number, number, number];
  wordColor: [number, number, number, number];
  phoneWidth: number;
  wordWidth: number;
}

/** STEVE draws phone boundaries as thin black lines at half opacity; word boundaries are white and wider here. */
export const DEFAULT_BOUNDARY_STYLE: BoundaryStyle = {
  phoneColor: [0, 0, 0, 0.55],
  wordColor: [1, 1, 1, 0.9],
  phoneWidth: 1,
  wordWidth: 2,
};

/** Both axes get a line at each position: vertical (columns) and horizontal (rows). */
export function makeBoundaryLines(phonePositions: readonly number[], wordPositions: readonly number[]): Uint32Array<ArrayBuffer> {
  const all = [...phonePositions.map((p) => [p, 0] as const), ...wordPositions.map((p) => [p, 1] as const)];
  const data = new ArrayBuffer(all.length * 2 * LINE_BYTES);
  const f32 = new Float32Array(data);
  const u32 = new Uint32Array(data);
  all.forEach(([position, style], i) => {
    for (let axis = 0; axis < 2; axis++) {
      const at = ((i * 2 + axis) * LINE_BYTES) / 4;
      f32[at] = position;
      u32[at + 1] = axis;
      u32[at + 2] = style;
    }
  });
  return u32;
}

export class BoundaryPass {
  private constructor(
    readonly device: GPUDevice,
    private readonly pipeline: GPURenderPipeline,
  ) {}

  static async create(device: GPUDevice, shaders: ShaderSources, format: GPUTextureFormat): Promise<BoundaryPass> {
    const module = device.createShaderModule({ label: 'BoundaryPass.module', code: shaderSource(shaders, 'render/boundaries.wgsl') });
    const pipeline = await device.createRenderPipelineAsync({
      label: `BoundaryPass.pipeline.${format}`,
      layout: 'auto',
      vertex: { module, entryPoint: 'vertexMain' },
      fragment: {
        module,
        entryPoint: 'fragmentMain',
        targets: [
          {
            format,
            blend: {
              color: { srcFactor: 'src-alpha', dstFactor: 'one-minus-src-alpha' },
              alpha: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha' },
            },
          },
        ],
      },
      primitive: { topology: 'triangle-list' },
    });
    return new BoundaryPass(device, pipeline);
  }

  createDrawable(label: string): BoundaryDrawable {
    return new BoundaryDrawable(this.device, this.pipeline, label);
  }
}

export class BoundaryDrawable {
  readonly #uniforms: GPUBuffer;
  #lines?: GPUBuffer;
  /** Boundaries set (each drawn across both axes): phones first in the lines buffer, then words. */
  #phoneLines = 0;
  #wordLines = 0;
  #gaps: BoundaryGaps = boundaryGaps([], []);
  #bindGroup?: GPUBindGroup;
  #viewport = { x: 0, y: 0, width: 1, height: 1 };

  constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPURenderPipeline,
    private readonly label: string,
  ) {
    this.#uniforms = createUniformBuffer(device, `${label}.uniforms`, PARAMS_BYTES);
  }

  /** Replaces the lines (after a new word range or utterance); positions in frames relative to the map's origin. */
  setLines(phonePositions: readonly number[], wordPositions: readonly number[]): void {
    const lines = makeBoundaryLines(phonePositions, wordPositions);
    this.#phoneLines = phonePositions.length;
    this.#wordLines = wordPositions.length;
    this.#gaps = boundaryGaps(phonePositions, wordPositions);
    if (!this.#lines || this.#lines.size < lines.byteLength) {
      this.#lines?.destroy();
      this.#lines = createStorageBuffer(this.device, `${this.label}.lines`, Math.max(lines.byteLength, LINE_BYTES));
      this.#bindGroup = this.device.createBindGroup({
        label: `${this.label}.bindGroup`,
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: this.#uniforms } },
          { binding: 1, resource: { buffer: this.#lines } },
        ],
      });
    }
    if (lines.byteLength > 0) this.device.queue.writeBuffer(this.#lines, 0, lines);
  }

  update(
    viewport: { x: number; y: number; width: number; height: number },
    mapToViewport: mat3,
    mapSize: { cols: number; rows: number },
    style: BoundaryStyle = DEFAULT_BOUNDARY_STYLE,
  ): void {
    const data = new Float32Array(PARAMS_BYTES / 4);
    data.set([mapToViewport[0], mapToViewport[4], mapToViewport[6], mapToViewport[7]], 0);
    data.set([viewport.width, viewport.height, mapSize.cols, mapSize.rows], 4);
    data.set(style.phoneColor, 8);
    data.set(style.wordColor, 12);
    data.set([style.phoneWidth, style.wordWidth], 16);
    this.device.queue.writeBuffer(this.#uniforms, 0, data);
    this.#viewport = viewport;
  }

  /** Median gaps between the lines, in map cells (how close they are drawn decides which are: MapScene). */
  get gaps(): BoundaryGaps {
    return this.#gaps;
  }

  /** Draws the lines, or only the phones' or the words' (src/view/axisLabels.ts readableBoundaries decides). */
  draw(pass: GPURenderPassEncoder, which: { readonly phones: boolean; readonly words: boolean } = { phones: true, words: true }): void {
    const first = which.phones ? 0 : this.#phoneLines * 2;
    const count = (which.phones ? this.#phoneLines * 2 : 0) + (which.words ? this.#wordLines * 2 : 0);
    if (!this.#bindGroup || count === 0) return;
    const { x, y, width, height } = this.#viewport;
    pass.setViewport(x, y, width, height, 0, 1);
    pass.setScissorRect(Math.floor(x), Math.floor(y), Math.ceil(width), Math.ceil(height));
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.#bindGroup);
    // instance_index counts from firstInstance, so the words alone are instances [2 x phones, end).
    pass.draw(6, count, 0, first);
  }

  destroy(): void {
    this.#uniforms.destroy();
    this.#lines?.destroy();
  }
}
