/**
 * Segment pooling on the GPU: the mean and the max of attention maps over every (row segment, column segment) block,
 * where segments are phones or words as frame ranges. Kernel: shaders/compute/segmentPool.wgsl; reference:
 * segmentPool.cpu.ts.
 */
import { createStorageBuffer, writeBufferPadded } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { createAttentionPipelinesForAllFormats } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { cooperativeThreads } from '../gpu/workgroupShape.ts';
import { bindAttentionView, checkInteger, checkOutputSize, PassDestroyedError, UniformCache } from './passSupport.ts';
import type { FrameRange } from './segmentPool.cpu.ts';

export type { FrameRange } from './segmentPool.cpu.ts';

/** The kernel after the shared rectangle walk (the load prefix goes in front of both). */
const KERNEL_FILES = ['common/rectangleSums.wgsl', 'compute/segmentPool.wgsl'];
/**
 * Threads per workgroup on a GPU; one workgroup pools one block (WGSL override WorkgroupSize). One SIMD group on a
 * software adapter (src/gpu/workgroupShape.ts).
 */
const HARDWARE_WORKGROUP_SIZE = 64;

/** Segment bounds on the GPU: `count` pairs of u32 (start, end), as made by makeSegmentBoundsData. */
export interface SegmentBuffer {
  readonly buffer: GPUBuffer;
  readonly count: number;
  /** Frames the segments cover, summed (overlaps counted twice): what the kernel reads along this axis. */
  readonly coveredFrames?: number;
}

/** What SegmentPoolPass.encode pools and where the results go. */
export interface SegmentPoolArgs {
  /** `maps` maps of rows x cols values, back to back, map 0 at the view's elementOffset. */
  readonly input: AttentionView;
  readonly rows: number;
  readonly cols: number;
  /** Number of maps pooled in one go (e.g. every head of a layer); 1 when omitted. */
  readonly maps?: number;
  /** Segments over the rows (second-to-last axis): the output's rows. */
  readonly rowSegments: SegmentBuffer;
  /** Segments over the columns (last axis): the output's columns. */
  readonly colSegments: SegmentBuffer;
  /** Receives the means: maps x rowSegments.count x colSegments.count f32, row-major (outputSizeBytes). */
  readonly meanOutput: GPUBuffer;
  /** Receives the maxima, same layout as meanOutput. */
  readonly maxOutput: GPUBuffer;
}

/**
 * The u32 pairs (start, end) that the kernel reads for `segments`. Throws a RangeError for bounds that are not
 * integers with 0 <= start <= end < 2^32.
 */
export function makeSegmentBoundsData(segments: readonly FrameRange[]): Uint32Array {
  const data = new Uint32Array(Math.max(segments.length, 1) * 2);
  segments.forEach((segment, index) => {
    checkInteger('makeSegmentBoundsData', `segment ${index} start`, segment.start, 0);
    checkInteger('makeSegmentBoundsData', `segment ${index} end`, segment.end, segment.start);
    data[2 * index] = segment.start;
    data[2 * index + 1] = segment.end;
  });
  return data;
}

/** A storage buffer holding `segments` for SegmentPoolPass. The caller owns (and destroys) the buffer. */
export function createSegmentBoundsBuffer(device: GPUDevice, label: string, segments: readonly FrameRange[]): SegmentBuffer {
  const data = makeSegmentBoundsData(segments);
  const buffer = createStorageBuffer(device, label, data.byteLength);
  writeBufferPadded(device, buffer, 0, data);
  const coveredFrames = segments.reduce((sum, segment) => sum + segment.end - segment.start, 0);
  return { buffer, count: segments.length, coveredFrames };
}

/**
 * Mean and max of one or more maps over every (row segment, column segment) block.
 *
 * Segments are half-open frame ranges [start, end); they may overlap (TIMIT's words do) and may be empty.
 * Non-finite values are skipped: mean and max are over the block's finite values. A block with no finite value,
 * which includes every block of an empty segment, is NaN in both outputs. Bounds past the map are clamped to it.
 *
 * One workgroup of 64 threads per block, reducing in workgroup memory: blocks from 1x1 to 100x100 frames take at
 * most ~160 loads per thread, and the grid (segments^2 x maps workgroups) keeps a GPU busy.
 */
export class SegmentPoolPass {
  readonly #device: GPUDevice;
  readonly #pipelines: Record<StorageFormat, GPUComputePipeline>;
  readonly #uniforms: UniformCache;
  #destroyed = false;

  private constructor(device: GPUDevice, pipelines: Record<StorageFormat, GPUComputePipeline>) {
    this.#device = device;
    this.#pipelines = pipelines;
    this.#uniforms = new UniformCache(device, 'SegmentPoolPass.params');
  }

  /** Compiles the kernel for both storage formats. */
  static async create(device: GPUDevice, shaders: ShaderSources): Promise<SegmentPoolPass> {
    const pipelines = await createAttentionPipelinesForAllFormats(device, shaders, 'SegmentPoolPass.pipeline', KERNEL_FILES, {
      WorkgroupSize: cooperativeThreads(device, HARDWARE_WORKGROUP_SIZE),
    });
    return new SegmentPoolPass(device, pipelines);
  }

  /** Bytes of each output (mean, max): maps x rowSegmentCount x colSegmentCount f32. */
  static outputSizeBytes(rowSegmentCount: number, colSegmentCount: number, maps = 1): number {
    return rowSegmentCount * colSegmentCount * maps * 4;
  }

  /** Records the pooling into `encoder` (one compute pass); nothing is submitted. */
  encode(encoder: GPUCommandEncoder, args: SegmentPoolArgs): void {
    if (this.#destroyed) throw new PassDestroyedError('SegmentPoolPass');
    const maps = args.maps ?? 1;
    const limit = this.#device.limits.maxComputeWorkgroupsPerDimension;
    checkInteger('SegmentPoolPass', 'rows', args.rows, 1);
    checkInteger('SegmentPoolPass', 'cols', args.cols, 1);
    checkInteger('SegmentPoolPass', 'maps', maps, 1, limit);
    checkInteger('SegmentPoolPass', 'rowSegments.count', args.rowSegments.count, 0, limit);
    checkInteger('SegmentPoolPass', 'colSegments.count', args.colSegments.count, 0, limit);
    const outputBytes = SegmentPoolPass.outputSizeBytes(args.rowSegments.count, args.colSegments.count, maps);
    if (outputBytes === 0) return;
    checkOutputSize('SegmentPoolPass', 'meanOutput', args.meanOutput, outputBytes);
    checkOutputSize('SegmentPoolPass', 'maxOutput', args.maxOutput, outputBytes);
    checkOutputSize('SegmentPoolPass', 'rowSegments.buffer', args.rowSegments.buffer, args.rowSegments.count * 8);
    checkOutputSize('SegmentPoolPass', 'colSegments.buffer', args.colSegments.buffer, args.colSegments.count * 8);

    const input = bindAttentionView(this.#device, args.input, maps * args.rows * args.cols, 'SegmentPoolPass.input');
    // Params struct of segmentPool.wgsl, one u32 per field.
    const params = this.#uniforms.get(
      new Uint32Array([
        input.elementOffset, // elementOffset
        args.rows, // rows
        args.cols, // cols
        args.rowSegments.count, // rowSegmentCount
        args.colSegments.count, // colSegmentCount
      ]),
    );
    const pipeline = this.#pipelines[args.input.format];
    const bindGroup = this.#device.createBindGroup({
      label: 'SegmentPoolPass.bindGroup',
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: input.resource },
        { binding: 1, resource: { buffer: params } },
        { binding: 2, resource: { buffer: args.rowSegments.buffer, size: args.rowSegments.count * 8 } },
        { binding: 3, resource: { buffer: args.colSegments.buffer, size: args.colSegments.count * 8 } },
        { binding: 4, resource: { buffer: args.meanOutput, size: outputBytes } },
        { binding: 5, resource: { buffer: args.maxOutput, size: outputBytes } },
      ],
    });
    const pass = encoder.beginComputePass({ label: 'SegmentPoolPass.computePass' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(args.colSegments.count, args.rowSegments.count, maps);
    // Every block reads its own values: the segments' covered frames along both axes (the whole map when unknown).
    const coveredRows = Math.min(args.rowSegments.coveredFrames ?? args.rows, args.rowSegments.count * args.rows);
    const coveredCols = Math.min(args.colSegments.coveredFrames ?? args.cols, args.colSegments.count * args.cols);
    countDispatch(this.#device, storageBytes(args.input.format, maps * coveredRows * coveredCols) + 2 * outputBytes);
    pass.end();
  }

  /** Frees the pass's uniform buffers. Safe to call twice; encode() afterwards throws PassDestroyedError. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#uniforms.destroy();
  }
}
