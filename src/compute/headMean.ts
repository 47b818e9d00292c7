/**
 * HeadMeanPass: the mean over several maps held in one buffer (all heads of a layer, or a chosen subset), each
 * cropped and optionally softmaxed first (shaders/compute/headMean.wgsl; CPU reference in headMean.cpu.ts).
 *
 * The kernel computes output (=|+=) weight * sum of maps, so a mean whose maps live in several buffers (a layer
 * uploaded head by head, or the layers of a layer mean: see LayerMeanPass) is a sequence of encodes with the same
 * weight, 1 / total maps, and `accumulate` set after the first.
 *
 * Non-finite values: softmax as SoftmaxPass (torch's rules); the sum follows IEEE 754 (a NaN in any map gives NaN
 * at that cell, +inf and -inf give NaN, otherwise an infinity wins).
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { StorageFormat } from '../gpu/storageFormat.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { cooperativeThreads, workgroupShapeOf } from '../gpu/workgroupShape.ts';
import { QUAD_LOADS_SHADER, QuadPipelines } from './quadPipelines.ts';
import { bindAttentionView, checkOutputSize, foldWorkgroups, PassDestroyedError, UniformCache } from './passSupport.ts';
import { checkCrop, cropCols, cropRows, normalisedColumns, type Crop, type SoftmaxScope } from './region.ts';

/** WGSL files after the load prefix, in order. */
export const HEAD_MEAN_SHADERS = ['common/finite.wgsl', 'common/rowSoftmax.wgsl', QUAD_LOADS_SHADER, 'compute/headMean.wgsl'];

/** Maps one dispatch sums (MAX_MAPS_PER_DISPATCH in headMean.wgsl); more take several dispatches. */
export const MAX_MAPS_PER_DISPATCH = 64;

/** Words in HeadMeanParams (headMean.wgsl): 12 scalars, then 16 vec4<u32> of map offsets. */
const HEAD_MEAN_PARAMS_WORDS = 12 + MAX_MAPS_PER_DISPATCH;
/** Threads per row on a GPU (WGSL override WorkgroupSize); one SIMD group on a software adapter (workgroupShape.ts). */
const ROW_THREADS = 256;

/** What HeadMeanPass.encode computes. */
export interface HeadMeanJob {
  /** Buffer holding the maps, and its storage format. */
  readonly input: { readonly buffer: GPUBuffer; readonly format: StorageFormat };
  /** Element index of each summed map's [0][0] in input.buffer (at least one). */
  readonly mapOffsets: readonly number[];
  readonly rows: number;
  readonly cols: number;
  /** Part of each map to output (ends exclusive). */
  readonly crop: Crop;
  readonly scope: SoftmaxScope;
  /** Factor for each map: 1 / mapOffsets.length for a plain mean, 1 / total maps for a mean spread over encodes. */
  readonly weight: number;
  /** false: output = weight * sum; true: output += weight * sum. */
  readonly accumulate: boolean;
  /** cropRows x cropCols f32 values, row-major. */
  readonly output: GPUBuffer;
}

/** Records a (weighted) sum of maps of one buffer into an f32 buffer. */
export class HeadMeanPass {
  readonly #device: GPUDevice;
  readonly #pipelines: QuadPipelines;
  readonly #uniforms: UniformCache;
  readonly #sumInRegisters: boolean;
  #destroyed = false;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#device = device;
    // With softmax, on a GPU the maps are summed in registers (the least traffic), on a software adapter map by map;
    // without softmax always in registers (headMean.wgsl).
    this.#sumInRegisters = !workgroupShapeOf(device).software;
    this.#pipelines = new QuadPipelines(device, shaders, 'HeadMeanPass.pipeline', HEAD_MEAN_SHADERS, {
      WorkgroupSize: cooperativeThreads(device, ROW_THREADS),
      SumInRegisters: this.#sumInRegisters ? 1 : 0,
    });
    this.#uniforms = new UniformCache(device, 'HeadMeanPass.params', 256);
  }

  /** Compiles the pipeline for `format`; await it once before encode() with that format. */
  async ready(format: StorageFormat): Promise<void> {
    await this.#pipelines.ready(format);
  }

  /** Records the pass (no submit): one dispatch per MAX_MAPS_PER_DISPATCH maps. Precondition: ready() resolved. */
  encode(encoder: GPUCommandEncoder, job: HeadMeanJob): void {
    if (this.#destroyed) throw new PassDestroyedError('HeadMeanPass');
    const { crop, rows, cols, mapOffsets } = job;
    checkCrop('HeadMeanPass', crop, rows, cols);
    if (mapOffsets.length === 0) throw new RangeError('HeadMeanPass: no maps to average');
    const outRows = cropRows(crop);
    const outCols = cropCols(crop);
    checkOutputSize('HeadMeanPass', 'output', job.output, outRows * outCols * 4);
    const [normStart, normEnd] = normalisedColumns(job.scope, crop, cols);
    const pass = encoder.beginComputePass({ label: 'HeadMeanPass.computePass' });
    for (let first = 0; first < mapOffsets.length; first += MAX_MAPS_PER_DISPATCH) {
      const group = mapOffsets.slice(first, first + MAX_MAPS_PER_DISPATCH);
      const lowest = Math.min(...group);
      const span = Math.max(...group) - lowest + rows * cols;
      const binding = bindAttentionView(
        this.#device,
        { buffer: job.input.buffer, format: job.input.format, elementOffset: lowest },
        span,
        'HeadMeanPass',
      );
      const relative = group.map((offset) => offset - lowest + binding.elementOffset);
      const words = new Uint32Array(HEAD_MEAN_PARAMS_WORDS);
      words.set([
        cols, // cols
        crop.rowStart, // rowStart
        crop.colStart, // colStart
        outRows, // outRows
        outCols, // outCols
        normStart, // normStart
        normEnd, // normEnd
        job.scope === 'none' ? 0 : 1, // mode
        group.length, // mapCount
        job.accumulate || first > 0 ? 1 : 0, // accumulate
      ]);
      new Float32Array(words.buffer)[10] = job.weight; // weight
      // words[11]: padding; mapOffsets from word 12, relative to the bound range.
      words.set(relative, 12);
      // Quads (without softmax) when every map's rows start at the same place within a quad.
      const { pipeline, entries } = this.#pipelines.select(
        job.input.format,
        binding.resource,
        relative.every((offset) => offset % 4 === relative[0] % 4),
      );
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        this.#device.createBindGroup({
          label: 'HeadMeanPass.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            ...entries,
            { binding: 1, resource: { buffer: this.#uniforms.get(words) } },
            { binding: 2, resource: { buffer: job.output, size: outRows * outCols * 4 } },
          ],
        }),
      );
      pass.dispatchWorkgroups(...foldWorkgroups(this.#device, outRows));
      // Per map: the row statistics read its normalised columns, the output sweep its cropped columns. Summed in
      // registers (always without softmax), the output is written once (and read first when this dispatch adds onto
      // an earlier one); map by map, it is written per map and read back for every map that adds onto it.
      const readValues = group.length * outRows * (outCols + (job.scope === 'none' ? 0 : normEnd - normStart));
      const adds = job.accumulate || first > 0 ? 1 : 0;
      const outputPasses = this.#sumInRegisters || job.scope === 'none' ? 1 + adds : 2 * group.length - 1 + adds;
      countDispatch(this.#device, storageBytes(job.input.format, readValues) + outputPasses * outRows * outCols * 4);
    }
    pass.end();
  }

  /** Frees the pass's uniform buffers. Safe to call twice; encode() afterwards throws. */
  destroy(): void {
    this.#destroyed = true;
    this.#uniforms.destroy();
  }
}
