/**
 * ColorRangePass: each map's colour range ([low, high] f32, what the heatmap pass binds as its value range) from the
 * maps' stats and histograms, on the GPU (shaders/compute/colorRange.wgsl), so that a control change can compute its
 * maps and draw them in one submit with nothing read back first. The rule is makeColorScale's in
 * src/view/colorScale.ts (the CPU reference the tests compare with): min to max, percentile clip from the histograms,
 * symmetric about 0, log floor, shared over all maps or per map. The colour bar's numbers still come from the CPU rule
 * once the stats are read back after the frame (readGathered); both agree to f32 rounding.
 */
import { createComputePipelineFromFiles, type ShaderSources } from '../gpu/pipeline.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { readBufferBytes } from '../gpu/buffers.ts';
import { MAP_STATS_BYTES, MAP_STATS_WORDS, parseMapStats, type MapStats } from './minMax.ts';
import { PassDestroyedError, UniformCache } from './passSupport.ts';

/** Bytes of one map's range in the output: low and high, f32. */
export const COLOR_RANGE_BYTES = 8;

/** Threads per workgroup of colorRange.wgsl. */
const WORKGROUP_SIZE = 64;

/** How the ranges are made (ViewPlan.range with the percentiles as fractions). */
export interface ColorRangeRule {
  /** One range over every map (written for each), or one per map. */
  readonly shared: boolean;
  readonly symmetric: boolean;
  readonly log: boolean;
  /** Clip quantiles as fractions in [0, 1]; every input then needs a histogram of `bins` counts. */
  readonly percentile?: readonly [number, number];
}

/** One map's stats buffer (MinMaxPass) and, for a percentile, its histogram (HistogramPass). */
export interface ColorRangeInput {
  readonly stats: GPUBuffer;
  readonly histogram?: GPUBuffer;
}

/**
 * What encode() made, all the caller's: the ranges, and the maps' stats and histograms gathered into one buffer each
 * (readGathered() reads every map's numbers back in two readbacks, whatever the number of maps).
 */
export interface EncodedColorRanges {
  /** count x [low, high] f32: map i's range at words 2i and 2i + 1. */
  readonly ranges: GPUBuffer;
  readonly scratch: readonly GPUBuffer[];
  readonly count: number;
  /** Histogram bins per map gathered (0 without a percentile). */
  readonly bins: number;
}

/** Each map's stats (and histogram, empty without a percentile) from encode()'s gathered buffers, once submitted. */
export async function readGathered(device: GPUDevice, encoded: EncodedColorRanges): Promise<(MapStats & { histogram: Uint32Array })[]> {
  const { count, bins } = encoded;
  const [statsBuffer, histogramBuffer] = encoded.scratch;
  const words = new Uint32Array(await readBufferBytes(device, statsBuffer, count * MAP_STATS_BYTES));
  const counts = bins > 0 ? new Uint32Array(await readBufferBytes(device, histogramBuffer, count * bins * 4)) : new Uint32Array(0);
  return Array.from({ length: count }, (_, i) => ({
    ...parseMapStats(words.subarray(i * MAP_STATS_WORDS, (i + 1) * MAP_STATS_WORDS)),
    histogram: counts.slice(i * bins, (i + 1) * bins),
  }));
}

export class ColorRangePass {
  readonly #device: GPUDevice;
  readonly #pipeline: GPUComputePipeline;
  readonly #uniforms: UniformCache;
  #destroyed = false;

  private constructor(device: GPUDevice, pipeline: GPUComputePipeline) {
    this.#device = device;
    this.#pipeline = pipeline;
    this.#uniforms = new UniformCache(device, 'ColorRangePass.params');
  }

  static async create(device: GPUDevice, shaders: ShaderSources): Promise<ColorRangePass> {
    return new ColorRangePass(device, await createComputePipelineFromFiles(device, shaders, 'ColorRangePass.pipeline', ['compute/colorRange.wgsl']));
  }

  /**
   * Records copies gathering the maps' stats (and histograms) into one buffer each and the dispatch that writes the
   * ranges (no submit). The stats must be written earlier in the same encoder or an earlier submit.
   */
  encode(encoder: GPUCommandEncoder, maps: readonly ColorRangeInput[], rule: ColorRangeRule, bins: number, label = 'ColorRangePass'): EncodedColorRanges {
    if (this.#destroyed) throw new PassDestroyedError('ColorRangePass');
    const count = maps.length;
    const percentile = rule.percentile !== undefined;
    if (percentile && (bins < 1 || maps.some((map) => !map.histogram || map.histogram.size < bins * 4))) {
      throw new Error(`${label}: a percentile range needs a histogram of ${bins} bins for every map`);
    }
    const device = this.#device;
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const stats = device.createBuffer({ label: `${label}.stats`, size: Math.max(1, count) * MAP_STATS_BYTES, usage: storage });
    const histograms = device.createBuffer({ label: `${label}.histograms`, size: percentile ? count * bins * 4 : 4, usage: storage });
    const ranges = device.createBuffer({
      label: `${label}.ranges`,
      size: Math.max(1, count) * COLOR_RANGE_BYTES,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    maps.forEach((map, i) => {
      encoder.copyBufferToBuffer(map.stats, 0, stats, i * MAP_STATS_BYTES, MAP_STATS_BYTES);
      if (percentile) encoder.copyBufferToBuffer(map.histogram!, 0, histograms, i * bins * 4, bins * 4);
    });
    const words = new Uint32Array(8);
    words.set([count, percentile ? bins : 0, rule.shared ? 1 : 0, rule.symmetric ? 1 : 0, rule.log ? 1 : 0, percentile ? 1 : 0]);
    new Float32Array(words.buffer).set([rule.percentile?.[0] ?? 0, rule.percentile?.[1] ?? 1], 6);
    const pass = encoder.beginComputePass({ label: `${label}.computePass` });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        label: `${label}.bindGroup`,
        layout: this.#pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: stats } },
          { binding: 1, resource: { buffer: histograms } },
          { binding: 2, resource: { buffer: this.#uniforms.get(words) } },
          { binding: 3, resource: { buffer: ranges } },
        ],
      }),
    );
    pass.dispatchWorkgroups(rule.shared ? 1 : Math.max(1, Math.ceil(count / WORKGROUP_SIZE)));
    countDispatch(device, count * (MAP_STATS_BYTES + (percentile ? bins * 4 : 0) + COLOR_RANGE_BYTES));
    pass.end();
    return { ranges, scratch: [stats, histograms], count, bins: percentile ? bins : 0 };
  }

  /** Frees the uniform buffers. Safe to call twice; encode() afterwards throws. */
  destroy(): void {
    this.#destroyed = true;
    this.#uniforms.destroy();
  }
}
