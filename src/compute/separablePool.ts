/**
 * Rectangle pooling in two separable stages, shared by segment pooling (segmentPool.ts) and k x k block pooling
 * (blockPool.ts). The rows are cut into bands: short runs of rows (at most BAND_ROWS) that each lie inside every row
 * range that touches them. Stage 1 (shaders/compute/poolAlongRows.wgsl) reduces every band of every map over each
 * column range to a partial (sum, finite count, max); stage 2 (poolAcrossRows.wgsl) combines the partials of the
 * bands that make up each row range into the block's mean and max.
 *
 * Why separable rather than a summed-area table: sum, count and max are all separable over a rectangle, so one
 * scheme serves mean and max alike (a table would need a second structure for max), and every partial is a sum of
 * at most one band's share of a range, so float32 keeps the accuracy of a direct walk; a float32 table of a
 * softmaxed 1500-frame map holds totals near 1500 and loses ~1% on a 5 x 5 block. For ranges that tile the map
 * (phones, words, k x k blocks) stage 1 reads each input value once and stage 2 each partial once, with no
 * barriers. Why bands rather than single rows: a partial per row and column range is 12 bytes for every few input
 * values (0.6 of the input's bytes for 5-frame phones, written and read again), while a band of up to 8 rows cuts
 * that traffic by the band's height; overlapping row ranges (TIMIT's words) still share bands, since a band never
 * crosses a range's start or end.
 */
import { createStorageBuffer, writeBufferPadded } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { createAttentionPipelinesForAllFormats, createComputePipelineFromFiles } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { workgroupShapeOf } from '../gpu/workgroupShape.ts';
import { bindAttentionView, checkInteger, foldWorkgroups, UniformCache } from './passSupport.ts';
import type { FrameRange } from './segmentPool.cpu.ts';

/** Threads per workgroup of both stages (WGSL override WorkgroupSize); see poolAlongRows.wgsl for why 64. */
const WORKGROUP_SIZE = 64;
/** Bytes of one band partial (struct BandPartial: sum f32, finiteCount u32, maximum f32). */
const PARTIAL_BYTES = 12;
/**
 * Most rows in one band. Taller bands mean fewer partials (less traffic between the stages) but fewer threads in
 * stage 1: 8 rows cut the partials of 5-frame phones 5x and of 4 x 4 blocks 4x, and still leave a thread per
 * 8 rows and column range, hundreds of thousands for one 1500-frame map, to fill a GPU.
 */
export const BAND_ROWS = 8;
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

/**
 * Frame ranges on the GPU, with the bands that make them up when they are pooled as row ranges. The buffer holds
 * u32 pairs: `count` range bounds (start, end); then, per range, the half-open run of band indices [first, end)
 * that covers it; then `bandCount` band bounds (start, end). Made by makeRangeBufferData.
 */
export interface RangeBuffer {
  readonly buffer: GPUBuffer;
  /** Number of ranges. */
  readonly count: number;
  /** Frames the ranges cover within the axis, summed (overlaps counted twice): what a walk over them reads. */
  readonly coveredFrames: number;
  /** Number of bands. */
  readonly bandCount: number;
  /** Frames the bands cover: the union of the ranges, each frame once. */
  readonly bandFrames: number;
  /** Bands summed over the ranges (a band shared by two overlapping ranges counted twice). */
  readonly rangeBands: number;
}

/** The host side of a RangeBuffer: its u32 pairs and the counts the work counters need. */
export interface RangeBufferData extends Omit<RangeBuffer, 'buffer'> {
  readonly data: Uint32Array;
}

/**
 * The u32 pairs of a RangeBuffer for `ranges` on an axis of `frames` frames. Bands are cut at every range's start
 * and end (clamped to the axis), cover only frames some range covers, and hold at most BAND_ROWS frames each, so
 * each range is exactly a run of neighbouring bands. Throws a RangeError for bounds that are not integers with
 * 0 <= start <= end < 2^32.
 */
export function makeRangeBufferData(ranges: readonly FrameRange[], frames: number): RangeBufferData {
  checkInteger('makeRangeBufferData', 'frames', frames, 0);
  ranges.forEach((range, index) => {
    checkInteger('makeRangeBufferData', `range ${index} start`, range.start, 0);
    checkInteger('makeRangeBufferData', `range ${index} end`, range.end, range.start);
  });
  const clamped = ranges.map(({ start, end }) => ({ start: Math.min(start, frames), end: Math.min(end, frames) }));
  // How many ranges start (+1) and end (-1) at each cut; a frame is covered where the running sum is positive.
  const coverChange = new Map<number, number>();
  for (const { start, end } of clamped) {
    if (start === end) continue;
    coverChange.set(start, (coverChange.get(start) ?? 0) + 1);
    coverChange.set(end, (coverChange.get(end) ?? 0) - 1);
  }
  const cuts = [...coverChange.keys()].sort((a, b) => a - b);
  const bands: number[] = [];
  // Index of the first band starting at or after each cut.
  const firstBandAt = new Map<number, number>();
  let cover = 0;
  let bandFrames = 0;
  cuts.forEach((cut, index) => {
    firstBandAt.set(cut, bands.length / 2);
    cover += coverChange.get(cut)!;
    const next = cuts[index + 1];
    if (cover === 0 || next === undefined) return;
    for (let start = cut; start < next; start += BAND_ROWS) bands.push(start, Math.min(start + BAND_ROWS, next));
    bandFrames += next - cut;
  });
  const bandCount = bands.length / 2;
  const data = new Uint32Array(Math.max(1, 2 * ranges.length + bandCount) * 2);
  let rangeBands = 0;
  let coveredFrames = 0;
  ranges.forEach((range, index) => {
    const { start, end } = clamped[index];
    const first = start === end ? 0 : firstBandAt.get(start)!;
    const last = start === end ? 0 : firstBandAt.get(end)!;
    data.set([range.start, range.end], 2 * index);
    data.set([first, last], 2 * (ranges.length + index));
    rangeBands += last - first;
    coveredFrames += end - start;
  });
  data.set(bands, 4 * ranges.length);
  return { data, count: ranges.length, coveredFrames, bandCount, bandFrames, rangeBands };
}

/** A storage buffer holding `ranges` on an axis of `frames` frames, for SeparablePool. The caller owns the buffer. */
export function createRangeBuffer(device: GPUDevice, label: string, ranges: readonly FrameRange[], frames: number): RangeBuffer {
  const { data, ...counts } = makeRangeBufferData(ranges, frames);
  const buffer = createStorageBuffer(device, label, data.byteLength);
  writeBufferPadded(device, buffer, 0, data);
  return { buffer, ...counts };
}

/** Ranges along one axis: from a RangeBuffer, or the fixed k-frame blocks of block pooling. */
export type PoolRanges = ({ readonly kind: 'buffer' } & RangeBuffer) | { readonly kind: 'blocks'; readonly blockSize: number; readonly count: number };

/** How the rows are cut into bands: read from the row RangeBuffer, or each k-row block split evenly. */
interface RowBands {
  readonly count: number;
  /** Frames the bands cover, each once. */
  readonly frames: number;
  /** Bands summed over the row ranges. */
  readonly perRanges: number;
  /** For blocks: bands per block and rows per band (the last band of a block may be shorter); 0 otherwise. */
  readonly bandsPerBlock: number;
  readonly rowsPerBand: number;
}

function rowBandsOf(ranges: PoolRanges, rows: number): RowBands {
  if (ranges.kind === 'buffer') {
    return { count: ranges.bandCount, frames: ranges.bandFrames, perRanges: ranges.rangeBands, bandsPerBlock: 0, rowsPerBand: 0 };
  }
  const bandsPerBlock = Math.ceil(ranges.blockSize / BAND_ROWS);
  const count = ranges.count * bandsPerBlock;
  return { count, frames: rows, perRanges: count, bandsPerBlock, rowsPerBand: Math.ceil(ranges.blockSize / bandsPerBlock) };
}

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

/** The two pipelines of separable pooling and the scratch buffer of band partials; one per pooling pass. */
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
    const bands = rowBandsOf(rowRanges, rows);
    const partialsPerMap = bands.count * colRanges.count;
    const maxPartialBytes = this.#maxPartialBytes;
    if (partialsPerMap * PARTIAL_BYTES > maxPartialBytes) {
      throw new RangeError(
        `${owner}: ${bands.count} row bands x ${colRanges.count} column ranges need ${partialsPerMap * PARTIAL_BYTES} ` +
          `bytes of partials per map, more than the ${maxPartialBytes} this pass binds at once`,
      );
    }
    // With no bands (every row range empty or past the map) stage 2 alone writes NaN everywhere; the scratch is
    // still bound, so it holds at least one partial.
    const mapsPerChunk = Math.min(args.maps, Math.floor(maxPartialBytes / Math.max(PARTIAL_BYTES, partialsPerMap * PARTIAL_BYTES)));
    const partials = this.#scratch(Math.max(PARTIAL_BYTES, mapsPerChunk * partialsPerMap * PARTIAL_BYTES), owner);
    const cellsPerMap = rowRanges.count * colRanges.count;
    const software = workgroupShapeOf(this.#device).software;
    // What one range costs a thread: in stage 1 a band's rows times the range's mean columns, in stage 2 the mean
    // bands of a row range.
    const colsPerRange = colRanges.kind === 'blocks' ? colRanges.blockSize : colRanges.coveredFrames / Math.max(1, colRanges.count);
    const alongRangesPerThread = rangesPerThread(software, (bands.frames / Math.max(1, bands.count)) * colsPerRange, colRanges.count);
    const acrossRangesPerThread = rangesPerThread(software, bands.perRanges / Math.max(1, rowRanges.count), colRanges.count);
    const outputBytes = args.maps * cellsPerMap * 4;
    // Each band reads the columns its ranges cover (the whole row for blocks, which tile it).
    const coveredCols = colRanges.kind === 'buffer' ? colRanges.coveredFrames : cols;
    const pass = encoder.beginComputePass({ label: `${owner}.computePass` });
    for (let firstMap = 0; firstMap < args.maps; firstMap += mapsPerChunk) {
      const maps = Math.min(mapsPerChunk, args.maps - firstMap);
      const chunkView = { ...args.input, elementOffset: args.input.elementOffset + firstMap * rows * cols };
      const input = bindAttentionView(this.#device, chunkView, maps * rows * cols, `${owner}.input`);
      const partialBytes = Math.max(PARTIAL_BYTES, maps * partialsPerMap * PARTIAL_BYTES);

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
          bands.count,
          rowRanges.kind === 'blocks' ? rowRanges.blockSize : 0,
          bands.bandsPerBlock,
          bands.rowsPerBand,
          2 * rowRanges.count,
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
            { binding: 4, resource: this.#rangesBinding(rowRanges) },
          ],
        }),
      );
      const alongThreads = maps * bands.count * Math.ceil(colRanges.count / alongRangesPerThread);
      if (alongThreads > 0) {
        pass.dispatchWorkgroups(...foldWorkgroups(this.#device, Math.ceil(alongThreads / WORKGROUP_SIZE)));
        countDispatch(this.#device, storageBytes(args.input.format, maps * bands.frames * coveredCols) + maps * partialsPerMap * PARTIAL_BYTES);
      }

      // Stage 2: Params of poolAcrossRows.wgsl, one u32 per field.
      const acrossParams = this.#uniforms.get(
        new Uint32Array([
          bands.count,
          maps,
          rowRanges.count,
          colRanges.count,
          bands.bandsPerBlock,
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
      countDispatch(this.#device, maps * bands.perRanges * colRanges.count * PARTIAL_BYTES + 2 * maps * cellsPerMap * 4);
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
    return ranges.kind === 'buffer' ? { buffer: ranges.buffer } : { buffer: this.#noRanges };
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
