/**
 * Fixed k x k block pooling on the GPU: the mean and the max of each block of a map, for overviews and zoomed-out
 * rendering. Kernels: the two stages of separablePool.ts (shaders/compute/poolAlongRows.wgsl, poolAcrossRows.wgsl);
 * reference: blockPool.cpu.ts.
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { AttentionView } from '../gpu/storageFormat.ts';
import { blockPoolShape } from './blockPool.cpu.ts';
import { checkInteger, checkOutputSize, PassDestroyedError } from './passSupport.ts';
import { SeparablePool } from './separablePool.ts';

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
 * Two dispatches (separablePool.ts): each row is pooled over k-column blocks, then k of those row partials at a
 * time, one thread per partial and per output value: every input value is read once, whatever k, and k = 64 costs
 * 128 steps per output value rather than 4096.
 */
export class BlockPoolPass {
  readonly #pool: SeparablePool;
  #destroyed = false;

  private constructor(pool: SeparablePool) {
    this.#pool = pool;
  }

  /** Compiles the kernels for both storage formats. */
  static async create(device: GPUDevice, shaders: ShaderSources): Promise<BlockPoolPass> {
    return new BlockPoolPass(await SeparablePool.create(device, shaders, 'BlockPoolPass'));
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
    this.#pool.encode(encoder, {
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
    this.#pool.destroy();
  }
}
