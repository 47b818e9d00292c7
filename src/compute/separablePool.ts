/**
 * Rectangle pooling in two separable stages, shared by segment pooling (segmentPool.ts) and k x k block pooling
 * (blockPool.ts). Stage 1 (shaders/compute/poolAlongRows.wgsl) reduces every row of every map over each column
 * range to a partial (sum, finite count, max); stage 2 (poolAcrossRows.wgsl) combines the partials over each row
 * range into the block's mean and max.
 *
 * Why separable rather than a summed-area table: sum, count and max are all separable over a rectangle, so one
 * scheme serves mean and max alike (a table would need a second structure for max), and every partial is a sum of
 * at most one range's values, so float32 keeps the accuracy of a direct walk; a float32 table of a softmaxed
 * 1500-frame map holds totals near 1500 and loses ~1% on a 5 x 5 block. Work per output cell is O(width + height)
 * rather than O(1), but for ranges that tile the map (phones, words, k x k blocks) stage 1 reads each input value
 * once and stage 2 reads each partial once: both stages are one pass over their input, with no barriers.
 */
import { createStorageBuffer } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { createAttentionPipelinesForAllFormats, createComputePipelineFromFiles } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { workgroupShapeOf } from '../gpu/workgroupShape.ts';
import { bindAttentionView, foldWorkgroups, UniformCache } from './passSupport.ts';

/** Threads per workgroup of both stages (WGSL override WorkgroupSize); see poolAlongRows.wgsl for why 64. */
const WORKGROUP_SIZE = 64;
/** Bytes of one row partial (struct RowPartial: sum f32, finiteCount u32, maximum f32). */
const PARTIAL_BYTES = 12;
/**
 * Most bytes of partials one pair of dispatches writes; larger jobs run map by map in chunks, reusing the same
 * scratch buffer (later dispatches in one encoder run after earlier ones, so the reuse is safe).
 */
const MAX_PARTIAL_BYTES = 64 * 1024 * 1024;
/**
 * Values a thread should walk, at least, on a software adapter. There each invocation has a fixed cost several times
 * that of a load (SwiftShader runs a workgroup's SIMD groups one after the other on a CPU thread), so one thread
 * pools several neighbouring ranges. On a GPU a thread takes one range: neighbouring threads then read neighbouring
 * values (coalesced), and the millions of threads are what keeps the GPU busy.
 */
const SOFTWARE_VALUES_PER_THREAD = 32;

/** Ranges one thread pools: enough of them to walk SOFTWARE_VALUES_PER_THREAD values on a software adapter. */
function rangesPerThread(software: boolean, valuesPerRange: number, rangeCount: number): number {
  if (!software) return 1;
  return Math.max(1, Math.min(rangeCount, Math.ceil(SOFTWARE_VALUES_PER_THREAD / Math.max(1, valuesPerRange))));
}

/** Ranges along one axis: from a buffer of u32 pairs (start, end), or the fixed k-frame blocks of block pooling. */
export type PoolRanges =
  | { readonly kind: 'buffer'; readonly buffer: GPUBuffer; readonly count: number; readonly coveredFrames: number }
  | { readonly kind: 'blocks'; readonly blockSize: number; readonly count: number };

/** What SeparablePool.encode pools; sizes are checked by the calling pass. */
export interface SeparablePoolArgs {
  readonly input: AttentionView;
  readonly rows: number;
  readonly cols: number;
  readonly maps: number;
  readonly rowRanges: PoolRanges;
  readonly colRanges: PoolRanges;
  /** maps x rowRanges.count x colRanges.count f32 each. */
  readonly meanOutput: GPUBuffer;
  readonly maxOutput: GPUBuffer;
  /** Label prefix for the passes and the errors ("SegmentPoolPass"). */
  readonly owner: string;
}

/** The two pipelines of separable pooling and the scratch buffer of row partials; one per pooling pass. */
export class SeparablePool {
  readonly #device: GPUDevice;
  readonly #alongRows: Record<StorageFormat, GPUComputePipeline>;
  readonly #acrossRows: GPUComputePipeline;
  readonly #uniforms: UniformCache;
  readonly #maxPartialBytes: number;
  /** Holds the placeholder range (one u32 pair) bound when the ranges are computed from k. */
  readonly #noRanges: GPUBuffer;
  #partials: GPUBuffer | undefined;
  /** Outgrown scratch buffers: a recorded command buffer may still use them, so they are freed in destroy(). */
  readonly #retired: GPUBuffer[] = [];

  private constructor(
    device: GPUDevice,
    alongRows: Record<StorageFormat, GPUComputePipeline>,
    acrossRows: GPUComputePipeline,
    label: string,
    maxPartialBytes: number,
  ) {
    this.#device = device;
    this.#maxPartialBytes = Math.min(maxPartialBytes, device.limits.maxStorageBufferBindingSize);
    this.#alongRows = alongRows;
    this.#acrossRows = acrossRows;
    this.#uniforms = new UniformCache(device, `${label}.params`);
    this.#noRanges = createStorageBuffer(device, `${label}.noRanges`, 8);
  }

  /** `maxPartialBytes` caps the scratch buffer (tests lower it to exercise the chunking over maps). */
  static async create(device: GPUDevice, shaders: ShaderSources, label: string, maxPartialBytes = MAX_PARTIAL_BYTES): Promise<SeparablePool> {
    const constants = { WorkgroupSize: WORKGROUP_SIZE };
    const [alongRows, acrossRows] = await Promise.all([
      createAttentionPipelinesForAllFormats(device, shaders, `${label}.alongRows`, ['compute/poolAlongRows.wgsl'], constants),
      createComputePipelineFromFiles(device, shaders, `${label}.acrossRows`, ['compute/poolAcrossRows.wgsl'], constants),
    ]);
    return new SeparablePool(device, alongRows, acrossRows, label, maxPartialBytes);
  }

  /** Records both stages into `encoder` (one compute pass, two dispatches per chunk of maps). */
  encode(encoder: GPUCommandEncoder, args: SeparablePoolArgs): void {
    const { rows, cols, rowRanges, colRanges, owner } = args;
    const partialsPerMap = rows * colRanges.count;
    const maxPartialBytes = this.#maxPartialBytes;
    if (partialsPerMap * PARTIAL_BYTES > maxPartialBytes) {
      throw new RangeError(
        `${owner}: ${rows} rows x ${colRanges.count} column ranges need ${partialsPerMap * PARTIAL_BYTES} bytes of ` +
          `row partials per map, more than the ${maxPartialBytes} this pass binds at once`,
      );
    }
    const mapsPerChunk = Math.min(args.maps, Math.floor(maxPartialBytes / (partialsPerMap * PARTIAL_BYTES)));
    const partials = this.#scratch(mapsPerChunk * partialsPerMap * PARTIAL_BYTES, owner);
    const cellsPerMap = rowRanges.count * colRanges.count;
    const software = workgroupShapeOf(this.#device).software;
    // Mean frames per range: what one range costs a thread in stage 1 (columns) and stage 2 (rows).
    const colsPerRange = colRanges.kind === 'blocks' ? colRanges.blockSize : colRanges.coveredFrames / colRanges.count;
    const rowsPerRange = rowRanges.kind === 'blocks' ? rowRanges.blockSize : rowRanges.coveredFrames / rowRanges.count;
    const alongRangesPerThread = rangesPerThread(software, colsPerRange, colRanges.count);
    const acrossRangesPerThread = rangesPerThread(software, rowsPerRange, colRanges.count);
    const outputBytes = args.maps * cellsPerMap * 4;
    const pass = encoder.beginComputePass({ label: `${owner}.computePass` });
    for (let firstMap = 0; firstMap < args.maps; firstMap += mapsPerChunk) {
      const maps = Math.min(mapsPerChunk, args.maps - firstMap);
      const chunkView = { ...args.input, elementOffset: args.input.elementOffset + firstMap * rows * cols };
      const input = bindAttentionView(this.#device, chunkView, maps * rows * cols, `${owner}.input`);
      const partialBytes = maps * partialsPerMap * PARTIAL_BYTES;

      // Stage 1: Params of poolAlongRows.wgsl, one u32 per field.
      const alongParams = this.#uniforms.get(
        new Uint32Array([
          input.elementOffset,
          rows,
          cols,
          maps,
          colRanges.count,
          colRanges.kind === 'blocks' ? colRanges.blockSize : 0,
          alongRangesPerThread,
        ]),
      );
      const alongPipeline = this.#alongRows[args.input.format];
      pass.setPipeline(alongPipeline);
      pass.setBindGroup(
        0,
        this.#device.createBindGroup({
          label: `${owner}.alongRows.bindGroup`,
          layout: alongPipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: input.resource },
            { binding: 1, resource: { buffer: alongParams } },
            { binding: 2, resource: this.#rangesBinding(colRanges) },
            { binding: 3, resource: { buffer: partials, size: partialBytes } },
          ],
        }),
      );
      const alongThreads = maps * rows * Math.ceil(colRanges.count / alongRangesPerThread);
      pass.dispatchWorkgroups(...foldWorkgroups(this.#device, Math.ceil(alongThreads / WORKGROUP_SIZE)));
      // Each row reads the columns its ranges cover (the whole row when unknown, or for blocks that tile it).
      const coveredCols = colRanges.kind === 'buffer' ? Math.min(colRanges.coveredFrames, colRanges.count * cols) : cols;
      countDispatch(this.#device, storageBytes(args.input.format, maps * rows * coveredCols) + partialBytes);

      // Stage 2: Params of poolAcrossRows.wgsl, one u32 per field.
      const acrossParams = this.#uniforms.get(
        new Uint32Array([
          rows,
          maps,
          rowRanges.count,
          colRanges.count,
          rowRanges.kind === 'blocks' ? rowRanges.blockSize : 0,
          firstMap * cellsPerMap,
          acrossRangesPerThread,
        ]),
      );
      pass.setPipeline(this.#acrossRows);
      pass.setBindGroup(
        0,
        this.#device.createBindGroup({
          label: `${owner}.acrossRows.bindGroup`,
          layout: this.#acrossRows.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: acrossParams } },
            { binding: 1, resource: this.#rangesBinding(rowRanges) },
            { binding: 2, resource: { buffer: partials, size: partialBytes } },
            { binding: 3, resource: { buffer: args.meanOutput, size: outputBytes } },
            { binding: 4, resource: { buffer: args.maxOutput, size: outputBytes } },
          ],
        }),
      );
      const acrossThreads = maps * rowRanges.count * Math.ceil(colRanges.count / acrossRangesPerThread);
      pass.dispatchWorkgroups(...foldWorkgroups(this.#device, Math.ceil(acrossThreads / WORKGROUP_SIZE)));
      const coveredRows = rowRanges.kind === 'buffer' ? Math.min(rowRanges.coveredFrames, rowRanges.count * rows) : rows;
      countDispatch(this.#device, maps * coveredRows * colRanges.count * PARTIAL_BYTES + 2 * maps * cellsPerMap * 4);
    }
    pass.end();
  }

  /** Frees the uniform buffers, the placeholder ranges and the scratch buffers. */
  destroy(): void {
    this.#uniforms.destroy();
    this.#noRanges.destroy();
    this.#partials?.destroy();
    for (const buffer of this.#retired) buffer.destroy();
    this.#retired.length = 0;
  }

  #rangesBinding(ranges: PoolRanges): GPUBufferBinding {
    return ranges.kind === 'buffer' ? { buffer: ranges.buffer, size: ranges.count * 8 } : { buffer: this.#noRanges };
  }

  /** A scratch buffer of at least `bytes`, grown (never shrunk) as needed. */
  #scratch(bytes: number, owner: string): GPUBuffer {
    if (!this.#partials || this.#partials.size < bytes) {
      if (this.#partials) this.#retired.push(this.#partials);
      this.#partials = createStorageBuffer(this.#device, `${owner}.rowPartials`, bytes);
    }
    return this.#partials;
  }
}
