/**
 * Attention rollout on the GPU (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers").
 * Kernels: shaders/compute/rolloutPrepare.wgsl (Â per layer) and a matrix product in the adapter's shape
 * (src/gpu/workgroupShape.ts): shaders/compute/rollout.wgsl on a GPU (64 x 64 tiles staged in workgroup memory by
 * 256 threads) or shaders/compute/rolloutRegisterTile.wgsl on a software adapter (no workgroup memory, no barriers:
 * each invocation a 4 x 4 block in registers, read as 16-byte quads from zero-padded operands; bench/README.md
 * "Rollout" has the numbers). Reference: rollout.cpu.ts.
 */
import { createStorageBuffer } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { createAttentionPipelinesForAllFormats, createComputePipelineFromFiles } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import { LOAD_PREFIX, storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { cooperativeThreads, workgroupShapeOf } from '../gpu/workgroupShape.ts';
import { bindAttentionView, checkInteger, checkOutputSize, PassDestroyedError, UniformCache } from './passSupport.ts';

const PREPARE_KERNEL = 'compute/rolloutPrepare.wgsl';
const TILED_KERNEL = 'compute/rollout.wgsl';
const REGISTER_TILE_KERNEL = 'compute/rolloutRegisterTile.wgsl';
/** Threads per workgroup of the prepare kernel on a GPU (one workgroup per row; one SIMD group on a software adapter). */
const PREPARE_WORKGROUP_SIZE = 64;
/** Threads per side of the tiled kernel's workgroup (WGSL override TileSize): 16 x 16 = 256 threads. */
const TILE_SIZE = 16;
/** Outputs per side of one tiled workgroup's tile: TileSize x ThreadTile (4, a const in rollout.wgsl). */
const BLOCK_SIZE = TILE_SIZE * 4;
/** Rows and columns of the block one register-tile invocation computes; the padded size is a multiple of it. */
const REGISTER_TILE = 4;

/** The matrix product's shape: 'tiled' (rollout.wgsl, for GPUs) or 'registerTile' (rolloutRegisterTile.wgsl, software). */
export type RolloutProductShape = 'tiled' | 'registerTile';

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
  /**
   * The rollout through the previous layer in the step layout (RolloutPass.stepStride: stride x stride f32, zero
   * outside size x size), as an earlier step wrote it; undefined when `layer` starts the range.
   */
  readonly previous: GPUBuffer | undefined;
  /** Frames: rows and columns of each (square) map. */
  readonly size: number;
  /** Receives Â · previous (or Â when there is no previous) in the step layout. Must alias neither input. */
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
 * The product's shape is the adapter's (src/gpu/workgroupShape.ts): 'tiled' on a GPU, 'registerTile' on a software
 * adapter, whose operands are padded to a multiple of 4 frames with zeros (see stepStride). The pass owns scratch
 * buffers in that layout: Â of the current layer (encode and encodeStep), and two ping-pong products (encode only:
 * a step's products are its caller's), each created on first use and replaced when a larger size comes along. A replaced buffer is not destroyed at once, because commands already
 * recorded may still use it: it is left to the garbage collector.
 */
export class RolloutPass {
  readonly #device: GPUDevice;
  readonly #preparePipelines: Record<StorageFormat, GPUComputePipeline>;
  readonly #multiplyPipeline: GPUComputePipeline;
  readonly #uniforms: UniformCache;
  /** Which product kernel #multiplyPipeline runs. */
  readonly shape: RolloutProductShape;
  /** Invocations per workgroup of the register-tile kernel. */
  readonly #registerTileWorkgroup: number;
  #prepared: GPUBuffer | undefined;
  #pingPong: { ping: GPUBuffer; pong: GPUBuffer } | undefined;
  #destroyed = false;

  private constructor(
    device: GPUDevice,
    preparePipelines: Record<StorageFormat, GPUComputePipeline>,
    multiplyPipeline: GPUComputePipeline,
    shape: RolloutProductShape,
    registerTileWorkgroup: number,
  ) {
    this.#device = device;
    this.#preparePipelines = preparePipelines;
    this.#multiplyPipeline = multiplyPipeline;
    this.shape = shape;
    this.#registerTileWorkgroup = registerTileWorkgroup;
    this.#uniforms = new UniformCache(device, 'RolloutPass.params');
  }

  /** Compiles the prepare kernel for both storage formats and the product kernel of the adapter's shape. */
  static async create(device: GPUDevice, shaders: ShaderSources): Promise<RolloutPass> {
    const workgroupShape = workgroupShapeOf(device);
    const shape: RolloutProductShape = workgroupShape.software ? 'registerTile' : 'tiled';
    const prepareConstants = { WorkgroupSize: cooperativeThreads(device, PREPARE_WORKGROUP_SIZE) };
    const registerTileWorkgroup = workgroupShape.simdWidth;
    const [preparePipelines, multiply] = await Promise.all([
      createAttentionPipelinesForAllFormats(device, shaders, 'RolloutPass.preparePipeline', [PREPARE_KERNEL], prepareConstants),
      shape === 'tiled'
        ? // The tiled kernel reads its left operand, an f32 intermediate, through the float32 prefix.
          createComputePipelineFromFiles(device, shaders, 'RolloutPass.tiledPipeline', [LOAD_PREFIX.float32, TILED_KERNEL], {
            TileSize: TILE_SIZE,
          })
        : createComputePipelineFromFiles(device, shaders, 'RolloutPass.registerTilePipeline', [REGISTER_TILE_KERNEL], {
            WorkgroupSize: registerTileWorkgroup,
          }),
    ]);
    return new RolloutPass(device, preparePipelines, multiply, shape, registerTileWorkgroup);
  }

  /** Bytes of encode()'s output: size x size f32. */
  static outputSizeBytes(size: number): number {
    return size * size * 4;
  }

  /**
   * Row stride, and row count, of the running products encodeStep reads and writes: `size` for the tiled kernel;
   * `size` rounded up to a multiple of 4 for the register-tile kernel, the rows and columns past `size` holding 0
   * (every row a whole number of 16-byte quads). Element (i, j) of the rollout is at i * stride + j either way.
   */
  stepStride(size: number): number {
    return this.shape === 'registerTile' ? Math.ceil(size / REGISTER_TILE) * REGISTER_TILE : size;
  }

  /** Bytes of one running product in the step layout: stepStride(size)^2 f32. */
  stepSizeBytes(size: number): number {
    return this.stepStride(size) ** 2 * 4;
  }

  /** Records the rollout into `encoder` (one compute pass: a prepare and a multiply per layer); nothing is submitted. */
  encode(encoder: GPUCommandEncoder, args: RolloutArgs): void {
    const { size, layerStart, layerEnd } = args;
    this.#checkSize(size);
    checkInteger('RolloutPass', 'layerStart', layerStart, 0);
    checkInteger('RolloutPass', 'layerEnd', layerEnd, layerStart + 1);
    if (Array.isArray(args.layers) && layerEnd > args.layers.length) {
      throw new RangeError(`RolloutPass: layerEnd ${layerEnd} is past the ${args.layers.length} layer views`);
    }
    checkOutputSize('RolloutPass', 'output', args.output, RolloutPass.outputSizeBytes(size));
    const layerView = (layer: number): AttentionView => {
      const layers = args.layers;
      if (Array.isArray(layers)) return layers[layer] as AttentionView;
      const view = layers as AttentionView;
      return { ...view, elementOffset: view.elementOffset + layer * size * size };
    };
    const stride = this.stepStride(size);
    const prepared = this.#preparedBuffer(size);
    const { ping, pong } = this.#pingPongBuffers(size);
    // R_t (t = 0 .. products): the last one in `output` (size x size), the others alternately in ping and pong
    // (the step layout).
    const products = layerEnd - layerStart - 1;
    const output: MatrixTarget = { buffer: args.output, stride: size, rows: size };
    const target = (t: number): MatrixTarget => (t === products ? output : { buffer: t % 2 === 0 ? ping : pong, stride, rows: stride });

    const pass = encoder.beginComputePass({ label: 'RolloutPass.computePass' });
    this.#encodePrepare(pass, layerView(layerStart), size, target(0));
    for (let t = 1; t <= products; t++) {
      this.#encodePrepare(pass, layerView(layerStart + t), size, { buffer: prepared, stride, rows: stride });
      this.#encodeMultiply(pass, prepared, target(t - 1).buffer, target(t), size);
    }
    pass.end();
  }

  /**
   * Records one step of the running product into `encoder`: output = Â_layer · previous, one prepare and one
   * multiply (one product), or output = Â_layer (a prepare alone) when there is no previous, both in the step layout
   * (stepStride). Stepping layer by layer this way gives exactly what encode() gives for the whole range: encode()
   * runs the same two kernels in the same order. Nothing is submitted.
   */
  encodeStep(encoder: GPUCommandEncoder, args: RolloutStepArgs): void {
    const { size, previous, output } = args;
    this.#checkSize(size);
    const stride = this.stepStride(size);
    const bytes = this.stepSizeBytes(size);
    checkOutputSize('RolloutPass', 'output', output, bytes);
    if (previous) checkOutputSize('RolloutPass', 'previous', previous, bytes);
    if (previous === output) throw new RangeError('RolloutPass: the output of a step must not be its previous rollout');
    const target: MatrixTarget = { buffer: output, stride, rows: stride };
    const pass = encoder.beginComputePass({ label: 'RolloutPass.stepPass' });
    if (!previous) {
      this.#encodePrepare(pass, args.layer, size, target);
    } else {
      const prepared = this.#preparedBuffer(size);
      this.#encodePrepare(pass, args.layer, size, { buffer: prepared, stride, rows: stride });
      this.#encodeMultiply(pass, prepared, previous, target, size);
    }
    pass.end();
  }

  /** Frees the scratch and uniform buffers. Safe to call twice; encode() afterwards throws PassDestroyedError. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#prepared?.destroy();
    this.#pingPong?.ping.destroy();
    this.#pingPong?.pong.destroy();
    this.#prepared = this.#pingPong = undefined;
    this.#uniforms.destroy();
  }

  /** Checks `size` (and that the pass is alive). */
  #checkSize(size: number): void {
    if (this.#destroyed) throw new PassDestroyedError('RolloutPass');
    checkInteger('RolloutPass', 'size', size, 1, this.#device.limits.maxComputeWorkgroupsPerDimension);
    const bytes = this.stepSizeBytes(size);
    if (bytes > this.#device.limits.maxStorageBufferBindingSize) {
      throw new RangeError(
        `RolloutPass: a ${size} x ${size} f32 matrix takes ${bytes} bytes, more than this device binds at once ` +
          `(maxStorageBufferBindingSize ${this.#device.limits.maxStorageBufferBindingSize})`,
      );
    }
  }

  /** The buffer of Â for a size x size rollout, in the step layout. */
  #preparedBuffer(size: number): GPUBuffer {
    const bytes = this.stepSizeBytes(size);
    if (!this.#prepared || this.#prepared.size < bytes) this.#prepared = createStorageBuffer(this.#device, 'RolloutPass.prepared', bytes);
    return this.#prepared;
  }

  /** encode()'s two ping-pong products for a size x size rollout, in the step layout. */
  #pingPongBuffers(size: number): { ping: GPUBuffer; pong: GPUBuffer } {
    const bytes = this.stepSizeBytes(size);
    if (!this.#pingPong || this.#pingPong.ping.size < bytes) {
      this.#pingPong = {
        ping: createStorageBuffer(this.#device, 'RolloutPass.ping', bytes),
        pong: createStorageBuffer(this.#device, 'RolloutPass.pong', bytes),
      };
    }
    return this.#pingPong;
  }

  #encodePrepare(pass: GPUComputePassEncoder, view: AttentionView, size: number, destination: MatrixTarget): void {
    const input = bindAttentionView(this.#device, view, size * size, 'RolloutPass.layers');
    const bytes = destination.rows * destination.stride * 4;
    // Params struct of rolloutPrepare.wgsl, one u32 per field.
    const params = this.#uniforms.get(
      new Uint32Array([
        input.elementOffset, // elementOffset
        size, // size
        destination.stride, // outStride
        destination.rows, // outRows
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
          { binding: 2, resource: { buffer: destination.buffer, size: bytes } },
        ],
      }),
    );
    pass.dispatchWorkgroups(destination.rows);
    countDispatch(this.#device, storageBytes(view.format, size * size) + bytes);
  }

  /** product = left · right: left and right in the step layout, the product into `product`'s layout. */
  #encodeMultiply(pass: GPUComputePassEncoder, left: GPUBuffer, right: GPUBuffer, product: MatrixTarget, size: number): void {
    const stride = this.stepStride(size);
    const operandBytes = stride * stride * 4;
    const productBytes = product.rows * product.stride * 4;
    // Params struct of rollout.wgsl (size) or rolloutRegisterTile.wgsl (quadsPerRow, outStride, outSize).
    const params = this.#uniforms.get(
      this.shape === 'tiled' ? new Uint32Array([size]) : new Uint32Array([stride / REGISTER_TILE, product.stride, product.rows]),
    );
    pass.setPipeline(this.#multiplyPipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'RolloutPass.multiplyBindGroup',
        layout: this.#multiplyPipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: left, size: operandBytes } },
          { binding: 1, resource: { buffer: params } },
          { binding: 2, resource: { buffer: right, size: operandBytes } },
          { binding: 3, resource: { buffer: product.buffer, size: productBytes } },
        ],
      }),
    );
    if (this.shape === 'tiled') {
      const tiles = Math.ceil(size / BLOCK_SIZE);
      pass.dispatchWorkgroups(tiles, tiles);
      // Each of the tiles x tiles workgroups reads a BLOCK_SIZE-wide strip of both factors; the product is written once.
      countDispatch(this.#device, 2 * tiles * tiles * Math.min(BLOCK_SIZE, size) * size * 4 + productBytes);
    } else {
      const quads = stride / REGISTER_TILE;
      pass.dispatchWorkgroups(Math.ceil(quads / this.#registerTileWorkgroup), quads);
      // Each invocation reads 4 rows of left and a 4-column strip of right, whole; the product is written once.
      countDispatch(this.#device, 2 * quads * quads * REGISTER_TILE * stride * 4 + productBytes);
    }
  }
}

/** Where a prepare or a product is written: a buffer holding `rows` rows of `stride` f32 (size x size, or padded). */
interface MatrixTarget {
  readonly buffer: GPUBuffer;
  readonly stride: number;
  readonly rows: number;
}
