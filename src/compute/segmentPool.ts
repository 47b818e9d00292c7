/**
 * Segment pooling on the GPU: the mean and the max of attention maps over every (row segment, column segment) block,
 * where segments are phones or words as frame ranges. Kernels: the two stages of separablePool.ts
 * (shaders/compute/poolAlongRows.wgsl, poolAcrossRows.wgsl); reference: segmentPool.cpu.ts.
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { AttentionView } from '../gpu/storageFormat.ts';
import { checkInteger, checkOutputSize, PassDestroyedError } from './passSupport.ts';
import { SeparablePool, type RangeBuffer } from './separablePool.ts';

export type { FrameRange } from './segmentPool.cpu.ts';

/** What SegmentPoolPass.encode pools and where the results go. */
export interface SegmentPoolArgs {
  /** `maps` maps of rows x cols values, back to back, map 0 at the view's elementOffset. */
  readonly input: AttentionView;
  readonly rows: number;
  readonly cols: number;
  /** Number of maps pooled in one go (e.g. every head of a layer); 1 when omitted. */
  readonly maps?: number;
  /** Segments over the rows (second-to-last axis), made for an axis of `rows` frames: the output's rows. */
  readonly rowSegments: RangeBuffer;
  /** Segments over the columns (last axis), made for an axis of `cols` frames: the output's columns. */
  readonly colSegments: RangeBuffer;
  /** Receives the means: maps x rowSegments.count x colSegments.count f32, row-major (outputSizeBytes). */
  readonly meanOutput: GPUBuffer;
  /** Receives the maxima, same layout as meanOutput. */
  readonly maxOutput: GPUBuffer;
}

/**
 * Mean and max of one or more maps over every (row segment, column segment) block.
 *
 * Segments are half-open frame ranges [start, end); they may overlap (TIMIT's words do) and may be empty.
 * Non-finite values are skipped: mean and max are over the block's finite values. A block with no finite value,
 * which includes every block of an empty segment, is NaN in both outputs. Bounds past the map are clamped to it.
 *
 * Two dispatches (separablePool.ts): each band of up to 8 rows (cut at every row segment's bounds) is pooled over
 * the column segments, then those band partials over the row segments, one thread per partial and per output cell.
 * For segments that tile the map each input value is read once.
 */
export class SegmentPoolPass {
  readonly #pool: SeparablePool;
  #destroyed = false;

  private constructor(pool: SeparablePool) {
    this.#pool = pool;
  }

  /** Compiles the kernels for both storage formats. */
  static async create(device: GPUDevice, shaders: ShaderSources): Promise<SegmentPoolPass> {
    return new SegmentPoolPass(await SeparablePool.create(device, shaders, 'SegmentPoolPass'));
  }

  /** Bytes of each output (mean, max): maps x rowSegmentCount x colSegmentCount f32. */
  static outputSizeBytes(rowSegmentCount: number, colSegmentCount: number, maps = 1): number {
    return rowSegmentCount * colSegmentCount * maps * 4;
  }

  /** Records the pooling into `encoder` (one compute pass); nothing is submitted. */
  encode(encoder: GPUCommandEncoder, args: SegmentPoolArgs): void {
    if (this.#destroyed) throw new PassDestroyedError('SegmentPoolPass');
    const maps = args.maps ?? 1;
    checkInteger('SegmentPoolPass', 'rows', args.rows, 1);
    checkInteger('SegmentPoolPass', 'cols', args.cols, 1);
    checkInteger('SegmentPoolPass', 'maps', maps, 1);
    checkInteger('SegmentPoolPass', 'rowSegments.count', args.rowSegments.count, 0);
    checkInteger('SegmentPoolPass', 'colSegments.count', args.colSegments.count, 0);
    const outputBytes = SegmentPoolPass.outputSizeBytes(args.rowSegments.count, args.colSegments.count, maps);
    if (outputBytes === 0) return;
    checkOutputSize('SegmentPoolPass', 'meanOutput', args.meanOutput, outputBytes);
    checkOutputSize('SegmentPoolPass', 'maxOutput', args.maxOutput, outputBytes);
    checkOutputSize('SegmentPoolPass', 'rowSegments.buffer', args.rowSegments.buffer, (2 * args.rowSegments.count + args.rowSegments.bandCount) * 8);
    checkOutputSize('SegmentPoolPass', 'colSegments.buffer', args.colSegments.buffer, args.colSegments.count * 8);
    this.#pool.encode(encoder, {
      input: args.input,
      rows: args.rows,
      cols: args.cols,
      maps,
      rowRanges: { kind: 'buffer', ...args.rowSegments },
      colRanges: { kind: 'buffer', ...args.colSegments },
      meanOutput: args.meanOutput,
      maxOutput: args.maxOutput,
      owner: 'SegmentPoolPass',
    });
  }

  /** Frees the pass's uniform and scratch buffers. Safe to call twice; encode() afterwards throws PassDestroyedError. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#pool.destroy();
  }
}
