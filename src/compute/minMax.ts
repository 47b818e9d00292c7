/**
 * MinMaxPass: min and max of the finite values in a rectangle of a map, plus counts of finite, NaN, +inf and -inf
 * values (shaders/compute/minMax.wgsl then minMaxFinalize.wgsl; CPU reference in minMax.cpu.ts). The result stays
 * on the GPU in a small stats buffer that the histogram and render passes read; readMapStats() brings it back.
 *
 * Non-finite values are counted and otherwise ignored, so a NaN never poisons a colour scale. When the region has
 * no finite value, min and max are NaN.
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import { readBufferBytes } from '../gpu/buffers.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { cooperativeThreads, workgroupShapeOf } from '../gpu/workgroupShape.ts';
import { KernelPipelines } from './kernelPipelines.ts';
import { QUAD_LOADS_SHADER, QuadPipelines } from './quadPipelines.ts';
import { bindAttentionView, checkOutputSize, foldWorkgroups, PassDestroyedError, UniformCache } from './passSupport.ts';
import { checkCrop, cropCols, cropRows, type Crop } from './region.ts';

/** WGSL files after the load prefix, in order, for the reduction (QuadPipelines swaps the loads file). */
export const MIN_MAX_SHADERS = ['common/finite.wgsl', QUAD_LOADS_SHADER, 'compute/regionBlocks.wgsl', 'compute/minMax.wgsl'];
/** WGSL files of the finalize step (no load prefix: it does not read attention). */
export const MIN_MAX_FINALIZE_SHADERS = ['common/finite.wgsl', 'compute/minMaxFinalize.wgsl'];

/**
 * The stats buffer, in 32-bit words: 0 and 1 order keys (internal), 2 finite count, 3 NaN count, 4 +inf count,
 * 5 -inf count, 6 min (f32), 7 max (f32). A render pass binds it and reads words 6 and 7.
 */
export const MAP_STATS_WORDS = 8;
/** Byte size of the stats buffer. */
export const MAP_STATS_BYTES = MAP_STATS_WORDS * 4;
/** Word index of the f32 minimum in the stats buffer. */
export const MAP_STATS_MIN_WORD = 6;
/** Word index of the f32 maximum in the stats buffer. */
export const MAP_STATS_MAX_WORD = 7;

/** Threads per workgroup on a GPU (WGSL override WorkgroupSize); one SIMD group on a software adapter. */
const HARDWARE_WORKGROUP_SIZE = 256;
/** Words in RegionParams (regionBlocks.wgsl). */
const REGION_PARAMS_WORDS = 5;

/** Min/max and value counts of a region, as read back. */
export interface MapStats {
  /** Smallest finite value; NaN when there is none. */
  readonly min: number;
  /** Largest finite value; NaN when there is none. */
  readonly max: number;
  readonly finiteCount: number;
  readonly nanCount: number;
  readonly posInfCount: number;
  readonly negInfCount: number;
}

/** What MinMaxPass.encode and HistogramPass.encode read: a rectangle of a rows x cols map. */
export interface RegionJob {
  /** The map: rows x cols values from input.elementOffset (an f32 intermediate, or stored attention). */
  readonly input: AttentionView;
  readonly rows: number;
  readonly cols: number;
  /** The rectangle (ends exclusive): the visible part, so that the colour scale follows the crop. */
  readonly region: Crop;
}

/** RegionParams words for a job, with the element offset relative to `binding`, read in `blocks`. */
export function makeRegionParams(job: RegionJob, elementOffset: number, blocks: RegionBlocks): Uint32Array {
  const regionCols = cropCols(job.region);
  const values = cropRows(job.region) * regionCols;
  const words = new Uint32Array(REGION_PARAMS_WORDS);
  words.set([
    elementOffset + job.region.rowStart * job.cols + job.region.colStart, // regionStart
    regionCols === job.cols ? values : regionCols, // pieceLength: whole rows follow each other in memory
    job.cols, // pieceStride
    values, // valueCount
    blocks.blockValues, // blockValues
  ]);
  return words;
}

/**
 * Threads per workgroup of the region passes (min/max, histogram) on `device`: 256 on a GPU, one SIMD group on a
 * software adapter, where barriers and workgroup atomics are emulated (src/gpu/workgroupShape.ts).
 */
export function regionWorkgroupSize(device: GPUDevice): number {
  return cooperativeThreads(device, HARDWARE_WORKGROUP_SIZE);
}

/** How a region pass splits a region's values: workgroup w reads values [w * blockValues, (w + 1) * blockValues). */
export interface RegionBlocks {
  readonly workgroups: number;
  readonly blockValues: number;
}

/**
 * Blocks of a region pass over `values` values: one value per thread up to the adapter's cap on workgroups (1024 on
 * a GPU, 64 on a software adapter); past it each workgroup reads a longer contiguous block.
 */
export function regionBlocks(device: GPUDevice, values: number): RegionBlocks {
  const threads = regionWorkgroupSize(device);
  const cap = workgroupShapeOf(device).reductionWorkgroups;
  const workgroups = Math.max(1, Math.min(cap, Math.ceil(values / threads)));
  // A multiple of one quad per thread, so that every block but the last keeps all threads busy to its end and starts
  // on a quad boundary when the region does.
  const step = 4 * threads;
  const blockValues = Math.max(step, Math.ceil(values / workgroups / step) * step);
  return { workgroups: Math.max(1, Math.ceil(values / blockValues)), blockValues };
}

/** A stats buffer for MinMaxPass (STORAGE, COPY_SRC, COPY_DST). */
export function createMapStatsBuffer(device: GPUDevice, label: string): GPUBuffer {
  return device.createBuffer({
    label,
    size: MAP_STATS_BYTES,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
}

/** Decodes the words of a stats buffer. */
export function parseMapStats(words: Uint32Array): MapStats {
  const floats = new Float32Array(words.buffer, words.byteOffset, MAP_STATS_WORDS);
  return {
    min: floats[MAP_STATS_MIN_WORD],
    max: floats[MAP_STATS_MAX_WORD],
    finiteCount: words[2],
    nanCount: words[3],
    posInfCount: words[4],
    negInfCount: words[5],
  };
}

/** Reads a stats buffer back (submits a copy and waits). */
export async function readMapStats(device: GPUDevice, stats: GPUBuffer): Promise<MapStats> {
  return parseMapStats(new Uint32Array(await readBufferBytes(device, stats, MAP_STATS_BYTES)));
}

/** Records min/max and counts of a region into a stats buffer. */
export class MinMaxPass {
  readonly #device: GPUDevice;
  readonly #reduce: QuadPipelines;
  readonly #finalize: KernelPipelines;
  readonly #uniforms: UniformCache;
  #destroyed = false;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#device = device;
    this.#reduce = new QuadPipelines(device, shaders, 'MinMaxPass.pipeline', MIN_MAX_SHADERS, { WorkgroupSize: regionWorkgroupSize(device) });
    this.#finalize = new KernelPipelines(device, shaders, 'MinMaxPass.finalizePipeline', MIN_MAX_FINALIZE_SHADERS, {
      withLoadPrefix: false,
    });
    this.#uniforms = new UniformCache(device, 'MinMaxPass.params');
  }

  /** Compiles the pipelines for `format`; await it once before encode() with that format. */
  async ready(format: StorageFormat): Promise<void> {
    await Promise.all([this.#reduce.ready(format), this.#finalize.ready(format)]);
  }

  /** Records the clear, the reduction and the finalize step into `encoder` (no submit). */
  encode(encoder: GPUCommandEncoder, job: RegionJob, stats: GPUBuffer): void {
    if (this.#destroyed) throw new PassDestroyedError('MinMaxPass');
    checkCrop('MinMaxPass', job.region, job.rows, job.cols);
    checkOutputSize('MinMaxPass', 'stats', stats, MAP_STATS_BYTES);
    const binding = bindAttentionView(this.#device, job.input, job.rows * job.cols, 'MinMaxPass');
    const values = cropRows(job.region) * cropCols(job.region);
    const blocks = regionBlocks(this.#device, values);
    const reduce = this.#reduce.select(job.input.format, binding.resource);
    const finalize = this.#finalize.get(job.input.format);
    encoder.clearBuffer(stats, 0, MAP_STATS_BYTES);
    const pass = encoder.beginComputePass({ label: 'MinMaxPass.computePass' });
    pass.setPipeline(reduce.pipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'MinMaxPass.bindGroup',
        layout: reduce.pipeline.getBindGroupLayout(0),
        entries: [
          ...reduce.entries,
          { binding: 1, resource: { buffer: this.#uniforms.get(makeRegionParams(job, binding.elementOffset, blocks)) } },
          { binding: 2, resource: { buffer: stats, size: MAP_STATS_BYTES } },
        ],
      }),
    );
    pass.dispatchWorkgroups(...foldWorkgroups(this.#device, blocks.workgroups));
    countDispatch(this.#device, storageBytes(job.input.format, values) + MAP_STATS_BYTES);
    pass.setPipeline(finalize);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'MinMaxPass.finalizeBindGroup',
        layout: finalize.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: stats, size: MAP_STATS_BYTES } }],
      }),
    );
    pass.dispatchWorkgroups(1);
    countDispatch(this.#device, 2 * MAP_STATS_BYTES);
    pass.end();
  }

  /** Frees the pass's uniform buffers. Safe to call twice; encode() afterwards throws. */
  destroy(): void {
    this.#destroyed = true;
    this.#uniforms.destroy();
  }
}
