/**
 * Attention rollout on the GPU (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers").
 * Kernels: shaders/compute/rolloutPrepare.wgsl (Â per layer) and shaders/compute/rollout.wgsl (tiled matrix product);
 * reference: rollout.cpu.ts.
 */
import { createStorageBuffer } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { createAttentionPipelinesForAllFormats, createComputePipelineFromFiles } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import { LOAD_PREFIX, storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { bindAttentionView, checkInteger, checkOutputSize, PassDestroyedError, UniformCache } from './passSupport.ts';

const PREPARE_KERNEL = 'compute/rolloutPrepare.wgsl';
const MULTIPLY_KERNEL = 'compute/rollout.wgsl';
/** Threads per workgroup of the prepare kernel (one workgroup per row). */
const PREPARE_WORKGROUP_SIZE = 64;
/** Threads per side of the multiply kernel's workgroup (WGSL override TileSize): 16 x 16 = 256 threads. */
const TILE_SIZE = 16;
/** Outputs per side of one multiply workgroup's tile: TileSize x ThreadTile (4, a const in rollout.wgsl). */
const BLOCK_SIZE = TILE_SIZE * 4;

/** What RolloutPass.encode multiplies and where the result goes. */
export interface RolloutArgs {
  /**
   * Head-averaged attention maps, size x size each, rows being distributions over columns: either one view of
   * layers back to back (layer l at elementOffset + l * size * size) or one view per layer (index l is layer l).
   * Values are expected to be >= 0.
   */
  readonly layers: AttentionView | readonly AttentionView[];
  /** Frames: rows and columns of each (square) map. */
  readonly size: number;
  /** First layer of the range, inclusive. */
  readonly layerStart: number;
  /** End of the range, exclusive (> layerStart). */
  readonly layerEnd: number;
  /** Receives the rollout: size x size f32, row-major (outputSizeBytes). Must not be one of the inputs. */
  readonly output: GPUBuffer;
}

/** What RolloutPass.encodeStep multiplies and where the result goes. */
export interface RolloutStepArgs {
  /** Head-averaged attention map of the layer to add: size x size, rows being distributions, values >= 0. */
  readonly layer: AttentionView;
  /** The rollout through the previous layer (size x size f32), or undefined when `layer` starts the range. */
  readonly previous: GPUBuffer | undefined;
  /** Frames: rows and columns of each (square) map. */
  readonly size: number;
  /** Receives Â · previous (or Â when there is no previous): size x size f32. Must alias neither input. */
  readonly output: GPUBuffer;
}

/**
 * Attention rollout over a range of layers: for each layer l, Â_l = 0.5 A_l + 0.5 I with rows renormalised to sum 1
 * (the residual connection counted as half of the mixing), and
 *
 *   R = Â_(end-1) · ... · Â_(start+1) · Â_start,   computed as R_start = Â_start, R_l = Â_l · R_(l-1).
 *
 * The order follows the paper and the data flow: layer l's output at frame i is Σ_j Â_l[i][j] times its input at
 * frame j, and that input is the previous layer's output, so contributions compose by multiplying on the left.
 * Row i of R is then the share of each input frame j in frame i's representation after the last layer; every row
 * of R sums to 1 (a product of row-stochastic matrices).
 *
 * Non-finite values in A count as 0; a row with no mass becomes the identity row. Only square maps.
 *
 * The pass owns two size x size f32 scratch buffers (Â of the current layer and the ping-pong partner of `output`),
 * created on first use and replaced when a larger size comes along. A replaced buffer is not destroyed at once,
 * because commands already recorded may still use it: it is left to the garbage collector.
 */
export class RolloutPass {
  readonly #device: GPUDevice;
  readonly #preparePipelines: Record<StorageFormat, GPUComputePipeline>;
  readonly #multiplyPipeline: GPUComputePipeline;
  readonly #uniforms: UniformCache;
  #prepared: GPUBuffer | undefined;
  #partner: GPUBuffer | undefined;
  #destroyed = false;

  private constructor(
    device: GPUDevice,
    preparePipelines: Record<StorageFormat, GPUComputePipeline>,
    multiplyPipeline: GPUComputePipeline,
  ) {
    this.#device = device;
    this.#preparePipelines = preparePipelines;
    this.#multiplyPipeline = multiplyPipeline;
    this.#uniforms = new UniformCache(device, 'RolloutPass.params');
  }

  /** Compiles the prepare kernel for both storage formats and the float32 multiply kernel. */
  static async create(device: GPUDevice, shaders: ShaderSources): Promise<RolloutPass> {
    const prepareConstants = { WorkgroupSize: PREPARE_WORKGROUP_SIZE };
    const [preparePipelines, multiply] = await Promise.all([
      createAttentionPipelinesForAllFormats(device, shaders, 'RolloutPass.preparePipeline', [PREPARE_KERNEL], prepareConstants),
      // The multiply kernel reads its left operand, an f32 intermediate, through the float32 prefix.
      createComputePipelineFromFiles(device, shaders, 'RolloutPass.multiplyPipeline', [LOAD_PREFIX.float32, MULTIPLY_KERNEL], {
        TileSize: TILE_SIZE,
      }),
    ]);
    return new RolloutPass(device, preparePipelines, multiply);
  }

  /** Bytes of the output: size x size f32. */
  static outputSizeBytes(size: number): number {
    return size * size * 4;
  }

  /** Records the rollout into `encoder` (one compute pass: a prepare and a multiply per layer); nothing is submitted. */
  encode(encoder: GPUCommandEncoder, args: RolloutArgs): void {
    const { size, layerStart, layerEnd } = args;
    const bytes = this.#checkSize(size);
    checkInteger('RolloutPass', 'layerStart', layerStart, 0);
    checkInteger('RolloutPass', 'layerEnd', layerEnd, layerStart + 1);
    if (Array.isArray(args.layers) && layerEnd > args.layers.length) {
      throw new RangeError(`RolloutPass: layerEnd ${layerEnd} is past the ${args.layers.length} layer views`);
    }
    checkOutputSize('RolloutPass', 'output', args.output, bytes);
    const layerView = (layer: number): AttentionView => {
      const layers = args.layers;
      if (Array.isArray(layers)) return layers[layer] as AttentionView;
      const view = layers as AttentionView;
      return { ...view, elementOffset: view.elementOffset + layer * size * size };
    };
    const { prepared, partner } = this.#scratch(bytes);

    // R_t (t = 0 .. products) lands in `output` when products - t is even, so that the last one does.
    const products = layerEnd - layerStart - 1;
    const target = (t: number): GPUBuffer => ((products - t) % 2 === 0 ? args.output : partner);

    const pass = encoder.beginComputePass({ label: 'RolloutPass.computePass' });
    this.#encodePrepare(pass, layerView(layerStart), size, target(0), bytes);
    for (let t = 1; t <= products; t++) {
      this.#encodePrepare(pass, layerView(layerStart + t), size, prepared, bytes);
      this.#encodeMultiply(pass, prepared, target(t - 1), target(t), size, bytes);
    }
    pass.end();
  }

  /**
   * Records one step of the running product into `encoder`: output = Â_layer · previous, one prepare and one
   * multiply (one product), or output = Â_layer (a prepare alone) when there is no previous. Stepping layer by layer
   * this way gives exactly what encode() gives for the whole range: encode() runs the same two kernels in the same
   * order. Nothing is submitted.
   */
  encodeStep(encoder: GPUCommandEncoder, args: RolloutStepArgs): void {
    const { size, previous, output } = args;
    const bytes = this.#checkSize(size);
    checkOutputSize('RolloutPass', 'output', output, bytes);
    if (previous) checkOutputSize('RolloutPass', 'previous', previous, bytes);
    if (previous === output) throw new RangeError('RolloutPass: the output of a step must not be its previous rollout');
    const pass = encoder.beginComputePass({ label: 'RolloutPass.stepPass' });
    if (!previous) {
      this.#encodePrepare(pass, args.layer, size, output, bytes);
    } else {
      const { prepared } = this.#scratch(bytes);
      this.#encodePrepare(pass, args.layer, size, prepared, bytes);
      this.#encodeMultiply(pass, prepared, previous, output, size, bytes);
    }
    pass.end();
  }

  /** Frees the scratch and uniform buffers. Safe to call twice; encode() afterwards throws PassDestroyedError. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#prepared?.destroy();
    this.#partner?.destroy();
    this.#prepared = this.#partner = undefined;
    this.#uniforms.destroy();
  }

  /** Checks `size` (and that the pass is alive); returns the bytes of one size x size f32 matrix. */
  #checkSize(size: number): number {
    if (this.#destroyed) throw new PassDestroyedError('RolloutPass');
    checkInteger('RolloutPass', 'size', size, 1, this.#device.limits.maxComputeWorkgroupsPerDimension);
    const bytes = RolloutPass.outputSizeBytes(size);
    if (bytes > this.#device.limits.maxStorageBufferBindingSize) {
      throw new RangeError(
        `RolloutPass: a ${size} x ${size} f32 matrix takes ${bytes} bytes, more than this device binds at once ` +
          `(maxStorageBufferBindingSize ${this.#device.limits.maxStorageBufferBindingSize})`,
      );
    }
    return bytes;
  }

  #scratch(bytes: number): { prepared: GPUBuffer; partner: GPUBuffer } {
    if (!this.#prepared || !this.#partner || this.#prepared.size < bytes) {
      this.#prepared = createStorageBuffer(this.#device, 'RolloutPass.prepared', bytes);
      this.#partner = createStorageBuffer(this.#device, 'RolloutPass.partner', bytes);
    }
    return { prepared: this.#prepared, partner: this.#partner };
  }

  #encodePrepare(pass: GPUComputePassEncoder, view: AttentionView, size: number, destination: GPUBuffer, bytes: number): void {
    const input = bindAttentionView(this.#device, view, size * size, 'RolloutPass.layers');
    // Params struct of rolloutPrepare.wgsl, one u32 per field.
    const params = this.#uniforms.get(
      new Uint32Array([
        input.elementOffset, // elementOffset
        size, // size
      ]),
    );
    const pipeline = this.#preparePipelines[view.format];
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'RolloutPass.prepareBindGroup',
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: input.resource },
          { binding: 1, resource: { buffer: params } },
          { binding: 2, resource: { buffer: destination, size: bytes } },
        ],
      }),
    );
    pass.dispatchWorkgroups(size);
    countDispatch(this.#device, storageBytes(view.format, size * size) + bytes);
  }

  #encodeMultiply(
    pass: GPUComputePassEncoder,
    left: GPUBuffer,
    right: GPUBuffer,
    product: GPUBuffer,
    size: number,
    bytes: number,
  ): void {
    // Params struct of rollout.wgsl.
    const params = this.#uniforms.get(new Uint32Array([size /* size */]));
    pass.setPipeline(this.#multiplyPipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'RolloutPass.multiplyBindGroup',
        layout: this.#multiplyPipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: left, size: bytes } },
          { binding: 1, resource: { buffer: params } },
          { binding: 2, resource: { buffer: right, size: bytes } },
          { binding: 3, resource: { buffer: product, size: bytes } },
        ],
      }),
    );
    const tiles = Math.ceil(size / BLOCK_SIZE);
    pass.dispatchWorkgroups(tiles, tiles);
    // Each of the tiles x tiles workgroups reads a BLOCK_SIZE-wide strip of both factors; the product is written once.
    countDispatch(this.#device, 2 * tiles * tiles * Math.min(BLOCK_SIZE, size) * size * 4 + bytes);
  }
}
