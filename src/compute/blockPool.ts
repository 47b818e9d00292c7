/**
 * Fixed k x k block pooling on the GPU: the mean and the max of each block of a map, for overviews and zoomed-out
 * rendering. Kernel: shaders/compute/blockPool.wgsl; reference: blockPool.cpu.ts.
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import { createAttentionPipelinesForAllFormats } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { blockPoolShape } from './blockPool.cpu.ts';
import {
  bindAttentionView,
  checkInteger,
  checkOutputSize,
  foldWorkgroups,
  PassDestroyedError,
  UniformCache,
} from './passSupport.ts';

export { blockPoolShape } from './blockPool.cpu.ts';

/** The kernel after the shared rectangle walk (the load prefix goes in front of both). */
const KERNEL_FILES = ['common/rectangleSums.wgsl', 'compute/blockPool.wgsl'];
/** Threads per workgroup (WGSL override WorkgroupSize); also the most threads that share one block. */
const WORKGROUP_SIZE = 64;
/** Values one thread pools before a block is split between more threads (k <= 4: one thread per block). */
const VALUES_PER_THREAD = 16;

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
 * For k <= 4 each thread pools one block on its own; for larger k, 2..64 threads share a block (about 16 values
 * each) and reduce in workgroup memory, so that k = 64 still spreads over the GPU.
 */
export class BlockPoolPass {
  readonly #device: GPUDevice;
  readonly #pipelines: Record<StorageFormat, GPUComputePipeline>;
  readonly #uniforms: UniformCache;
  #destroyed = false;

  private constructor(device: GPUDevice, pipelines: Record<StorageFormat, GPUComputePipeline>) {
    this.#device = device;
    this.#pipelines = pipelines;
    this.#uniforms = new UniformCache(device, 'BlockPoolPass.params');
  }

  /** Compiles the kernel for both storage formats. */
  static async create(device: GPUDevice, shaders: ShaderSources): Promise<BlockPoolPass> {
    const pipelines = await createAttentionPipelinesForAllFormats(device, shaders, 'BlockPoolPass.pipeline', KERNEL_FILES, {
      WorkgroupSize: WORKGROUP_SIZE,
    });
    return new BlockPoolPass(device, pipelines);
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

    const blockValues = Math.min(args.blockSize, args.rows) * Math.min(args.blockSize, args.cols);
    const threadsPerBlockLog2 = Math.min(
      Math.log2(WORKGROUP_SIZE),
      Math.max(0, Math.ceil(Math.log2(blockValues / VALUES_PER_THREAD))),
    );
    const blocksPerWorkgroup = WORKGROUP_SIZE >> threadsPerBlockLog2;
    const input = bindAttentionView(this.#device, args.input, maps * args.rows * args.cols, 'BlockPoolPass.input');
    // Params struct of blockPool.wgsl, one u32 per field.
    const params = this.#uniforms.get(
      new Uint32Array([
        input.elementOffset, // elementOffset
        args.rows, // rows
        args.cols, // cols
        args.blockSize, // blockSize
        shape.rows, // outputRows
        shape.cols, // outputCols
        maps, // maps
        threadsPerBlockLog2, // threadsPerBlockLog2
      ]),
    );
    const pipeline = this.#pipelines[args.input.format];
    const bindGroup = this.#device.createBindGroup({
      label: 'BlockPoolPass.bindGroup',
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: input.resource },
        { binding: 1, resource: { buffer: params } },
        { binding: 2, resource: { buffer: args.meanOutput, size: outputBytes } },
        { binding: 3, resource: { buffer: args.maxOutput, size: outputBytes } },
      ],
    });
    const [x, y] = foldWorkgroups(this.#device, Math.ceil((maps * shape.rows * shape.cols) / blocksPerWorkgroup));
    const pass = encoder.beginComputePass({ label: 'BlockPoolPass.computePass' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
    countDispatch(this.#device, storageBytes(args.input.format, maps * args.rows * args.cols) + 2 * outputBytes);
    pass.end();
  }

  /** Frees the pass's uniform buffers. Safe to call twice; encode() afterwards throws PassDestroyedError. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#uniforms.destroy();
  }
}
