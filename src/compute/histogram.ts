/**
 * HistogramPass: counts of a region's finite values in `bins` equal bins between the min and max that MinMaxPass
 * left in the stats buffer, for percentile clipping of the colour scale (shaders/compute/histogram.wgsl; CPU
 * reference in histogram.cpu.ts). The counts stay on the GPU; readHistogram() brings them back.
 *
 * Non-finite values are not binned (MinMaxPass counts them). Bin of v: floor((v - min) / (max - min) * bins),
 * clamped to [0, bins - 1]; when max == min every finite value is in bin 0.
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { StorageFormat } from '../gpu/storageFormat.ts';
import { readBufferBytes } from '../gpu/buffers.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { MAP_STATS_BYTES, makeRegionParams, regionBlocks, regionWorkgroupSize, type RegionJob } from './minMax.ts';
import { QUAD_LOADS_SHADER, QuadPipelines } from './quadPipelines.ts';
import { bindAttentionView, checkOutputSize, foldWorkgroups, PassDestroyedError, UniformCache } from './passSupport.ts';
import { checkCrop, cropCols, cropRows } from './region.ts';

/** WGSL files after the load prefix, in order (QuadPipelines swaps the loads file). */
export const HISTOGRAM_SHADERS = ['common/finite.wgsl', QUAD_LOADS_SHADER, 'compute/regionBlocks.wgsl', 'compute/histogram.wgsl'];

/** Most bins a histogram can have: the per-workgroup bins live in 16 KiB of workgroup memory. */
export const MAX_HISTOGRAM_BINS = 4096;


/** A histogram buffer of `bins` u32 counts (STORAGE, COPY_SRC, COPY_DST). */
export function createHistogramBuffer(device: GPUDevice, label: string, bins: number): GPUBuffer {
  return device.createBuffer({
    label,
    size: bins * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
}

/** Reads `bins` counts back (submits a copy and waits). */
export async function readHistogram(device: GPUDevice, histogram: GPUBuffer, bins: number): Promise<Uint32Array> {
  return new Uint32Array(await readBufferBytes(device, histogram, bins * 4));
}

/** Records a histogram of a region, after MinMaxPass has filled `stats` for the same region. */
export class HistogramPass {
  readonly #device: GPUDevice;
  readonly #shaders: ShaderSources;
  /** One pipeline set per bin count (Bins is a WGSL override). */
  readonly #pipelines = new Map<number, QuadPipelines>();
  readonly #uniforms: UniformCache;
  #destroyed = false;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#device = device;
    this.#shaders = shaders;
    this.#uniforms = new UniformCache(device, 'HistogramPass.params');
  }

  /** Compiles the pipeline for `format` and `bins` (1 .. MAX_HISTOGRAM_BINS); await it once before encode(). */
  async ready(format: StorageFormat, bins: number): Promise<void> {
    await this.#pipelinesFor(bins).ready(format);
  }

  /** Records the clear and the binning into `encoder` (no submit). `stats` must hold min/max of the same region. */
  encode(encoder: GPUCommandEncoder, job: RegionJob, stats: GPUBuffer, histogram: GPUBuffer, bins: number): void {
    if (this.#destroyed) throw new PassDestroyedError('HistogramPass');
    checkCrop('HistogramPass', job.region, job.rows, job.cols);
    checkOutputSize('HistogramPass', 'stats', stats, MAP_STATS_BYTES);
    checkOutputSize('HistogramPass', 'histogram', histogram, bins * 4);
    const binding = bindAttentionView(this.#device, job.input, job.rows * job.cols, 'HistogramPass');
    const values = cropRows(job.region) * cropCols(job.region);
    const blocks = regionBlocks(this.#device, values);
    const { pipeline, entries } = this.#pipelinesFor(bins).select(job.input.format, binding.resource);
    encoder.clearBuffer(histogram, 0, bins * 4);
    const pass = encoder.beginComputePass({ label: 'HistogramPass.computePass' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'HistogramPass.bindGroup',
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          ...entries,
          { binding: 1, resource: { buffer: this.#uniforms.get(makeRegionParams(job, binding.elementOffset, blocks)) } },
          { binding: 2, resource: { buffer: stats, size: MAP_STATS_BYTES } },
          { binding: 3, resource: { buffer: histogram, size: bins * 4 } },
        ],
      }),
    );
    pass.dispatchWorkgroups(...foldWorkgroups(this.#device, blocks.workgroups));
    countDispatch(this.#device, storageBytes(job.input.format, values) + MAP_STATS_BYTES + bins * 4);
    pass.end();
  }

  /** Frees the pass's uniform buffers. Safe to call twice; encode() afterwards throws. */
  destroy(): void {
    this.#destroyed = true;
    this.#uniforms.destroy();
  }

  #pipelinesFor(bins: number): QuadPipelines {
    if (!Number.isInteger(bins) || bins < 1 || bins > MAX_HISTOGRAM_BINS) {
      throw new RangeError(`HistogramPass: bins must be an integer in [1, ${MAX_HISTOGRAM_BINS}], got ${bins}`);
    }
    let pipelines = this.#pipelines.get(bins);
    if (!pipelines) {
      pipelines = new QuadPipelines(this.#device, this.#shaders, `HistogramPass.pipeline${bins}`, HISTOGRAM_SHADERS, {
        Bins: bins,
        WorkgroupSize: regionWorkgroupSize(this.#device),
      });
      this.#pipelines.set(bins, pipelines);
    }
    return pipelines;
  }
}

/**
 * Value below which `fraction` (0..1) of the finite values lie, estimated from a histogram between min and max by
 * linear interpolation inside the bin where the cumulative count crosses (percentile clipping of a colour scale).
 * Returns NaN for an empty histogram.
 */
export function percentileFromHistogram(histogram: ArrayLike<number>, min: number, max: number, fraction: number): number {
  let total = 0;
  for (let bin = 0; bin < histogram.length; bin++) total += histogram[bin];
  if (total === 0) return NaN;
  const target = Math.min(Math.max(fraction, 0), 1) * total;
  const binWidth = (max - min) / histogram.length;
  let below = 0;
  for (let bin = 0; bin < histogram.length; bin++) {
    const count = histogram[bin];
    if (count > 0 && below + count >= target) return min + (bin + (target - below) / count) * binWidth;
    below += count;
  }
  return max;
}
