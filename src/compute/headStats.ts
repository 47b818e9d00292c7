/**
 * Per-head attention statistics on the GPU: entropy, mean attention distance and near-diagonal share, for every head
 * of a layer (or of several layers) in one pass. Kernels: shaders/compute/headStats.wgsl (per row) and
 * shaders/compute/headStatsReduce.wgsl (per map); reference: headStats.cpu.ts.
 */
import { createStorageBuffer } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { createAttentionPipelinesForAllFormats, createComputePipelineFromFiles } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import { LOAD_PREFIX } from '../gpu/storageFormat.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { cooperativeThreads } from '../gpu/workgroupShape.ts';
import { DEFAULT_NEAR_FRAMES, HEAD_STATS_VALUES } from './headStats.cpu.ts';
import { bindAttentionView, checkInteger, checkOutputSize, PassDestroyedError, UniformCache } from './passSupport.ts';

export { DEFAULT_NEAR_FRAMES, HEAD_STATS_FIELDS, HEAD_STATS_VALUES, msPerFrameFromSpf } from './headStats.cpu.ts';

const ROW_KERNEL = 'compute/headStats.wgsl';
const REDUCE_KERNEL = 'compute/headStatsReduce.wgsl';
/** Threads per workgroup of both kernels on a GPU (one workgroup per row, then one per map); one SIMD group on a
 * software adapter (src/gpu/workgroupShape.ts). */
const HARDWARE_WORKGROUP_SIZE = 64;
/** Bytes of one row's statistics in the scratch buffer: vec4<f32>. */
const ROW_STATS_BYTES = 16;

/** What HeadStatsPass.encode measures and where the results go. */
export interface HeadStatsArgs {
  /** `maps` maps of rows x cols values (e.g. heads, or layers x heads), back to back, map 0 at elementOffset. */
  readonly input: AttentionView;
  readonly maps: number;
  readonly rows: number;
  readonly cols: number;
  /** Milliseconds per frame, for the distance in ms (msPerFrameFromSpf(spf): 20 for Whisper). */
  readonly msPerFrame: number;
  /** Half-width w of the diagonal band in frames: |i - j| <= w counts as near. Default 2. */
  readonly nearFrames?: number;
  /** Receives 4 f32 per map (HEAD_STATS_FIELDS order) at records firstOutputMap .. firstOutputMap + maps - 1. */
  readonly output: GPUBuffer;
  /** Index of the output record of map 0, so one output can gather several layers; default 0. */
  readonly firstOutputMap?: number;
}

/**
 * Per map: the averages over its rows of
 *   entropy            -Σ_j p_ij ln p_ij, in nats,
 *   distanceFrames     Σ_j p_ij |i - j|, the mean attention distance in frames, and distanceMs = distanceFrames * msPerFrame,
 *   nearDiagonalShare  Σ_{|i - j| <= w} p_ij, the share of mass within w frames of the diagonal,
 * where row i (second-to-last axis) is the query position and p_ij = a_ij / Σ_j a_ij its distribution over the
 * columns j (the last, softmax axis). The stats assume rows are distributions (softmax output, or a head mean of it):
 * a raw map must be softmaxed first. Each row is renormalised by its own sum, so rows need not sum to exactly 1.
 *
 * Negative and non-finite values count as 0. A row with no mass left (all zero, negative or non-finite) has no
 * distribution: it is left out of the averages. A map with no such row gets NaN in all four values.
 *
 * Two dispatches: one workgroup per (row, map) sweeps the row once for Σa, Σa ln a, Σa|i-j| and the band's mass
 * into a scratch buffer the pass owns (maps x rows x 16 bytes, grown on demand; a replaced one is left to the
 * garbage collector since recorded commands may still use it), then one workgroup per map averages its rows.
 */
export class HeadStatsPass {
  readonly #device: GPUDevice;
  readonly #rowPipelines: Record<StorageFormat, GPUComputePipeline>;
  readonly #reducePipeline: GPUComputePipeline;
  readonly #uniforms: UniformCache;
  #rowStats: GPUBuffer | undefined;
  #destroyed = false;

  private constructor(
    device: GPUDevice,
    rowPipelines: Record<StorageFormat, GPUComputePipeline>,
    reducePipeline: GPUComputePipeline,
  ) {
    this.#device = device;
    this.#rowPipelines = rowPipelines;
    this.#reducePipeline = reducePipeline;
    this.#uniforms = new UniformCache(device, 'HeadStatsPass.params');
  }

  /** Compiles the row kernel for both storage formats and the reduce kernel. */
  static async create(device: GPUDevice, shaders: ShaderSources): Promise<HeadStatsPass> {
    const constants = { WorkgroupSize: cooperativeThreads(device, HARDWARE_WORKGROUP_SIZE) };
    const [rowPipelines, reduce] = await Promise.all([
      createAttentionPipelinesForAllFormats(device, shaders, 'HeadStatsPass.rowPipeline', [ROW_KERNEL], constants),
      // The reduce kernel reads the f32 row statistics through the float32 prefix.
      createComputePipelineFromFiles(
        device,
        shaders,
        'HeadStatsPass.reducePipeline',
        [LOAD_PREFIX.float32, REDUCE_KERNEL],
        constants,
      ),
    ]);
    return new HeadStatsPass(device, rowPipelines, reduce);
  }

  /** Bytes of an output holding `maps` records of 4 f32. */
  static outputSizeBytes(maps: number): number {
    return maps * HEAD_STATS_VALUES * 4;
  }

  /** Records both dispatches into `encoder` (one compute pass); nothing is submitted. */
  encode(encoder: GPUCommandEncoder, args: HeadStatsArgs): void {
    if (this.#destroyed) throw new PassDestroyedError('HeadStatsPass');
    const nearFrames = args.nearFrames ?? DEFAULT_NEAR_FRAMES;
    const firstOutputMap = args.firstOutputMap ?? 0;
    const limit = this.#device.limits.maxComputeWorkgroupsPerDimension;
    checkInteger('HeadStatsPass', 'maps', args.maps, 1, limit);
    checkInteger('HeadStatsPass', 'rows', args.rows, 1, limit);
    checkInteger('HeadStatsPass', 'cols', args.cols, 1);
    checkInteger('HeadStatsPass', 'nearFrames', nearFrames, 0);
    checkInteger('HeadStatsPass', 'firstOutputMap', firstOutputMap, 0);
    if (!Number.isFinite(args.msPerFrame)) throw new RangeError(`HeadStatsPass: msPerFrame must be finite, got ${args.msPerFrame}`);
    const outputBytes = HeadStatsPass.outputSizeBytes(firstOutputMap + args.maps);
    checkOutputSize('HeadStatsPass', 'output', args.output, outputBytes);

    const rowStatsBytes = args.maps * args.rows * ROW_STATS_BYTES;
    if (!this.#rowStats || this.#rowStats.size < rowStatsBytes) {
      this.#rowStats = createStorageBuffer(this.#device, 'HeadStatsPass.rowStats', rowStatsBytes);
    }
    const input = bindAttentionView(this.#device, args.input, args.maps * args.rows * args.cols, 'HeadStatsPass.input');
    // Params struct of headStats.wgsl, one u32 per field.
    const rowParams = this.#uniforms.get(
      new Uint32Array([
        input.elementOffset, // elementOffset
        args.rows, // rows
        args.cols, // cols
        nearFrames, // nearFrames
      ]),
    );
    // Params struct of headStatsReduce.wgsl: two u32 and one f32.
    const reduceWords = new Uint32Array(3);
    reduceWords[0] = args.rows; // rows
    reduceWords[1] = firstOutputMap; // firstOutputMap
    new Float32Array(reduceWords.buffer)[2] = args.msPerFrame; // msPerFrame
    const reduceParams = this.#uniforms.get(reduceWords);

    const rowPipeline = this.#rowPipelines[args.input.format];
    const pass = encoder.beginComputePass({ label: 'HeadStatsPass.computePass' });
    pass.setPipeline(rowPipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'HeadStatsPass.rowBindGroup',
        layout: rowPipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: input.resource },
          { binding: 1, resource: { buffer: rowParams } },
          { binding: 2, resource: { buffer: this.#rowStats, size: rowStatsBytes } },
        ],
      }),
    );
    pass.dispatchWorkgroups(args.rows, args.maps);
    countDispatch(this.#device, storageBytes(args.input.format, args.maps * args.rows * args.cols) + rowStatsBytes);
    pass.setPipeline(this.#reducePipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'HeadStatsPass.reduceBindGroup',
        layout: this.#reducePipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: this.#rowStats, size: rowStatsBytes } },
          { binding: 1, resource: { buffer: reduceParams } },
          { binding: 2, resource: { buffer: args.output, size: outputBytes } },
        ],
      }),
    );
    pass.dispatchWorkgroups(args.maps);
    countDispatch(this.#device, rowStatsBytes + args.maps * HEAD_STATS_VALUES * 4);
    pass.end();
  }

  /** Frees the scratch and uniform buffers. Safe to call twice; encode() afterwards throws PassDestroyedError. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#rowStats?.destroy();
    this.#rowStats = undefined;
    this.#uniforms.destroy();
  }
}
