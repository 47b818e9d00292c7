/**
 * Fixed k x k block pooling on the GPU: the mean and the max of each block of a map, for overviews and zoomed-out
 * rendering. Kernels: the two stages of separablePool.ts (shaders/compute/poolAlongRows.wgsl, poolAcrossRows.wgsl);
 * reference: blockPool.cpu.ts.
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { AttentionView } from '../gpu/storageFormat.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { workgroupShapeOf } from '../gpu/workgroupShape.ts';
import { blockPoolShape } from './blockPool.cpu.ts';
import { bindAttentionView, checkInteger, checkOutputSize, foldWorkgroups, PassDestroyedError, UniformCache } from './passSupport.ts';
import { QUAD_LOADS_SHADER, QuadPipelines } from './quadPipelines.ts';
import { SeparablePool } from './separablePool.ts';

/** WGSL files of the one-pass kernel after the load prefix (QuadPipelines swaps the loads file). */
const DIRECT_SHADERS = ['common/finite.wgsl', QUAD_LOADS_SHADER, 'compute/blockPoolDirect.wgsl'];
/** Threads per workgroup of the one-pass kernel; threads share nothing (see blockPoolDirect.wgsl). */
const DIRECT_WORKGROUP_SIZE = 64;
/**
 * Values a thread of the one-pass kernel walks, at least: on a software adapter each invocation has a fixed cost of
 * several loads, so a thread pools neighbouring blocks until it has read this many values (4 blocks of 4 x 4).
 */
const DIRECT_VALUES_PER_THREAD = 64;

export { blockPoolShape } from './blockPool.cpu.ts';

/** What BlockPoolPass.encode pools and where the results go. */
export interface BlockPoolArgs {
  /** `maps` maps of rows x cols values, back to back, map 0 at the view's elementOffset. */
  readonly input: AttentionView;
  readonly rows: number;
  readonly cols: number;
  /** Block side k in frames, >= 1 (1 copies the map). */
  readonly blockSize: number;
  /** Number of maps pooled in one go (e.g. every head of a layer); 1 when omitted. */
  readonly maps?: number;
  /** Receives the means: maps x ceil(rows / k) x ceil(cols / k) f32, row-major (outputSizeBytes). */
  readonly meanOutput: GPUBuffer;
  /** Receives the maxima, same layout as meanOutput. */
  readonly maxOutput: GPUBuffer;
}

/**
 * Mean and max of one or more maps over k x k blocks; output ceil(rows / k) x ceil(cols / k) per map, the last
 * block of a row or column covering what remains.
 *
 * Non-finite values are skipped: mean and max are over the block's finite values; a block with no finite value is
 * NaN in both outputs.
 *
 * Shapes per adapter (src/gpu/workgroupShape.ts). On a GPU, two dispatches (separablePool.ts): each row is pooled
 * over k-column blocks, then k of those row partials at a time, one thread per partial and per output value, so
 * even k = 64 keeps millions of threads busy and costs 128 steps per output value rather than 4096. On a software
 * adapter, one dispatch (blockPoolDirect.wgsl): a thread walks a few whole blocks, 16-byte quads at a time when the
 * rows line up, and nothing goes through the partials buffer, whose traffic there costs more than the pooling.
 * Either way every input value is read once, whatever k.
 */
export class BlockPoolPass {
  readonly #device: GPUDevice;
  readonly #pool: SeparablePool | undefined;
  readonly #direct: QuadPipelines | undefined;
  readonly #uniforms: UniformCache;
  #destroyed = false;

  private constructor(device: GPUDevice, pool: SeparablePool | undefined, direct: QuadPipelines | undefined) {
    this.#device = device;
    this.#pool = pool;
    this.#direct = direct;
    this.#uniforms = new UniformCache(device, 'BlockPoolPass.params');
  }

  /** Compiles the kernels of the adapter's shape for both storage formats. */
  static async create(device: GPUDevice, shaders: ShaderSources): Promise<BlockPoolPass> {
    if (!workgroupShapeOf(device).software) return new BlockPoolPass(device, await SeparablePool.create(device, shaders, 'BlockPoolPass'), undefined);
    const direct = new QuadPipelines(device, shaders, 'BlockPoolPass.direct', DIRECT_SHADERS, { WorkgroupSize: DIRECT_WORKGROUP_SIZE });
    await Promise.all([direct.ready('float32'), direct.ready('float16')]);
    return new BlockPoolPass(device, undefined, direct);
  }

  /** Bytes of each output (mean, max): maps x ceil(rows / k) x ceil(cols / k) f32. */
  static outputSizeBytes(rows: number, cols: number, blockSize: number, maps = 1): number {
    const shape = blockPoolShape(rows, cols, blockSize);
    return shape.rows * shape.cols * maps * 4;
  }

  /** Records the pooling into `encoder` (one compute pass); nothing is submitted. */
  encode(encoder: GPUCommandEncoder, args: BlockPoolArgs): void {
    if (this.#destroyed) throw new PassDestroyedError('BlockPoolPass');
    const maps = args.maps ?? 1;
    checkInteger('BlockPoolPass', 'rows', args.rows, 1);
    checkInteger('BlockPoolPass', 'cols', args.cols, 1);
    checkInteger('BlockPoolPass', 'blockSize', args.blockSize, 1);
    checkInteger('BlockPoolPass', 'maps', maps, 1);
    const shape = blockPoolShape(args.rows, args.cols, args.blockSize);
    const outputBytes = BlockPoolPass.outputSizeBytes(args.rows, args.cols, args.blockSize, maps);
    checkOutputSize('BlockPoolPass', 'meanOutput', args.meanOutput, outputBytes);
    checkOutputSize('BlockPoolPass', 'maxOutput', args.maxOutput, outputBytes);
    // A block past the map would only index past it in the kernels; k beyond the map is one block per axis.
    const blockSize = Math.min(args.blockSize, Math.max(args.rows, args.cols));
    if (this.#direct) {
      this.#encodeDirect(encoder, this.#direct, args, maps, blockSize, shape);
      return;
    }
    this.#pool!.encode(encoder, {
      input: args.input,
      rows: args.rows,
      cols: args.cols,
      maps,
      rowRanges: { kind: 'blocks', blockSize, count: shape.rows },
      colRanges: { kind: 'blocks', blockSize, count: shape.cols },
      meanOutput: args.meanOutput,
      maxOutput: args.maxOutput,
      owner: 'BlockPoolPass',
    });
  }

  /** Frees the pass's uniform and scratch buffers. Safe to call twice; encode() afterwards throws PassDestroyedError. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#pool?.destroy();
    this.#uniforms.destroy();
  }

  /** Records the one-pass kernel (software adapters). */
  #encodeDirect(
    encoder: GPUCommandEncoder,
    direct: QuadPipelines,
    args: BlockPoolArgs,
    maps: number,
    blockSize: number,
    shape: { rows: number; cols: number },
  ): void {
    const values = maps * args.rows * args.cols;
    const input = bindAttentionView(this.#device, args.input, values, 'BlockPoolPass.input');
    // Quads when every block row is whole quads: k and the row length multiples of 4, the maps starting on a quad.
    const aligned = blockSize % 4 === 0 && args.cols % 4 === 0 && input.elementOffset % 4 === 0;
    const { pipeline, entries } = direct.select(args.input.format, input.resource, aligned);
    const blocksPerThread = Math.max(1, Math.min(shape.cols, Math.ceil(DIRECT_VALUES_PER_THREAD / (blockSize * blockSize))));
    const outputBytes = maps * shape.rows * shape.cols * 4;
    const params = this.#uniforms.get(
      new Uint32Array([input.elementOffset, args.rows, args.cols, maps, blockSize, shape.rows, shape.cols, blocksPerThread]),
    );
    const pass = encoder.beginComputePass({ label: 'BlockPoolPass.computePass' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'BlockPoolPass.direct.bindGroup',
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          ...entries,
          { binding: 1, resource: { buffer: params } },
          { binding: 2, resource: { buffer: args.meanOutput, size: outputBytes } },
          { binding: 3, resource: { buffer: args.maxOutput, size: outputBytes } },
        ],
      }),
    );
    const threads = maps * shape.rows * Math.ceil(shape.cols / blocksPerThread);
    pass.dispatchWorkgroups(...foldWorkgroups(this.#device, Math.ceil(threads / DIRECT_WORKGROUP_SIZE)));
    countDispatch(this.#device, storageBytes(args.input.format, values) + 2 * outputBytes);
    pass.end();
  }
}
