/**
 * SoftmaxPass: one attention map -> an f32 map of its crop, optionally softmaxed over the last axis
 * (shaders/compute/softmax.wgsl; CPU reference in softmax.cpu.ts).
 *
 * Non-finite inputs follow torch.softmax: a NaN or +inf among the normalised columns makes the row NaN, -inf gets
 * weight 0, and a row with no finite value is NaN. Without softmax, values (non-finite ones too) are copied as is.
 *
 * Two shapes, chosen per adapter (src/gpu/workgroupShape.ts): on a GPU one workgroup of 256 threads per row
 * (softmax.wgsl: coalesced loads, the row's max and sum reduced in workgroup memory); on a software adapter one
 * invocation per row reading 16-byte quads, branch-free (softmaxRows.wgsl, where the reasons are).
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import { storageBytes } from '../gpu/storageFormat.ts';
import { countDispatch } from '../gpu/workCounters.ts';
import { workgroupShapeOf } from '../gpu/workgroupShape.ts';
import { KernelPipelines } from './kernelPipelines.ts';
import { QUAD_LOADS_SHADER, QuadPipelines } from './quadPipelines.ts';
import { bindAttentionView, checkOutputSize, foldWorkgroups, PassDestroyedError, UniformCache } from './passSupport.ts';
import { checkCrop, cropCols, cropRows, normalisedColumns, type Crop, type SoftmaxScope } from './region.ts';

/** WGSL files after the load prefix, in order: the GPU shape. */
export const SOFTMAX_SHADERS = ['common/finite.wgsl', 'common/rowSoftmax.wgsl', 'compute/softmaxParams.wgsl', 'compute/softmax.wgsl'];
/** The software adapters' shape (QuadPipelines swaps the loads file). */
export const SOFTMAX_ROWS_SHADERS = ['common/finite.wgsl', 'common/rowSoftmax.wgsl', QUAD_LOADS_SHADER, 'compute/softmaxParams.wgsl', 'compute/softmaxRows.wgsl'];

/** Words in SoftmaxParams (softmaxParams.wgsl). */
const SOFTMAX_PARAMS_WORDS = 9;
/** Threads per row in the GPU shape (WGSL override WorkgroupSize of softmax.wgsl). */
const ROW_THREADS = 256;

/** What SoftmaxPass.encode computes. */
export interface SoftmaxJob {
  /** The map: rows x cols values from input.elementOffset. */
  readonly input: AttentionView;
  readonly rows: number;
  readonly cols: number;
  /** Part of the map to output (ends exclusive). */
  readonly crop: Crop;
  readonly scope: SoftmaxScope;
  /** Receives cropRows x cropCols f32 values, row-major. */
  readonly output: GPUBuffer;
}

/** A shape's pipelines: compiled per storage format, and the pipeline and the map's bind group entries for a job. */
interface ShapePipelines {
  ready(format: StorageFormat): Promise<unknown>;
  select(format: StorageFormat, binding: GPUBufferBinding): { pipeline: GPUComputePipeline; entries: GPUBindGroupEntry[] };
}

/** Records the crop (and softmax) of one map into an f32 buffer. */
export class SoftmaxPass {
  readonly #device: GPUDevice;
  readonly #pipelines: ShapePipelines;
  /** Output rows per workgroup: 1 in the GPU shape, one SIMD group's invocations in the software shape. */
  readonly #rowsPerWorkgroup: number;
  readonly #uniforms: UniformCache;
  #destroyed = false;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#device = device;
    const shape = workgroupShapeOf(device);
    if (shape.software) {
      this.#rowsPerWorkgroup = shape.simdWidth;
      this.#pipelines = new QuadPipelines(device, shaders, 'SoftmaxPass.rowsPipeline', SOFTMAX_ROWS_SHADERS, { WorkgroupSize: shape.simdWidth });
    } else {
      this.#rowsPerWorkgroup = 1;
      const pipelines = new KernelPipelines(device, shaders, 'SoftmaxPass.pipeline', SOFTMAX_SHADERS, {
        constants: { WorkgroupSize: ROW_THREADS },
      });
      this.#pipelines = {
        ready: (format) => pipelines.ready(format),
        select: (format, binding) => ({ pipeline: pipelines.get(format), entries: [{ binding: 0, resource: binding }] }),
      };
    }
    this.#uniforms = new UniformCache(device, 'SoftmaxPass.params');
  }

  /** Compiles the pipeline for `format`; await it once before encode() with that format. */
  async ready(format: StorageFormat): Promise<void> {
    await this.#pipelines.ready(format);
  }

  /** Records the pass into `encoder` (no submit). Preconditions: ready(job.input.format) resolved, crop inside the map. */
  encode(encoder: GPUCommandEncoder, job: SoftmaxJob): void {
    if (this.#destroyed) throw new PassDestroyedError('SoftmaxPass');
    const { crop, rows, cols } = job;
    checkCrop('SoftmaxPass', crop, rows, cols);
    const outRows = cropRows(crop);
    const outCols = cropCols(crop);
    checkOutputSize('SoftmaxPass', 'output', job.output, outRows * outCols * 4);
    const binding = bindAttentionView(this.#device, job.input, rows * cols, 'SoftmaxPass');
    const [normStart, normEnd] = normalisedColumns(job.scope, crop, cols);
    const words = new Uint32Array(SOFTMAX_PARAMS_WORDS);
    words.set([
      binding.elementOffset, // elementOffset
      cols, // cols
      crop.rowStart, // rowStart
      crop.colStart, // colStart
      outRows, // outRows
      outCols, // outCols
      normStart, // normStart
      normEnd, // normEnd
      job.scope === 'none' ? 0 : 1, // mode
    ]);
    const { pipeline, entries } = this.#pipelines.select(job.input.format, binding.resource);
    const bindGroup = this.#device.createBindGroup({
      label: 'SoftmaxPass.bindGroup',
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        ...entries,
        { binding: 1, resource: { buffer: this.#uniforms.get(words) } },
        { binding: 2, resource: { buffer: job.output, size: outRows * outCols * 4 } },
      ],
    });
    const pass = encoder.beginComputePass({ label: 'SoftmaxPass.computePass' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...foldWorkgroups(this.#device, Math.ceil(outRows / this.#rowsPerWorkgroup)));
    // Softmax reads each row's normalised columns for its statistics, then the cropped columns again for the output
    // (in both shapes).
    const readValues = outRows * (outCols + (job.scope === 'none' ? 0 : normEnd - normStart));
    countDispatch(this.#device, storageBytes(job.input.format, readValues) + outRows * outCols * 4);
    pass.end();
  }

  /** Frees the pass's uniform buffers. Safe to call twice; encode() afterwards throws. */
  destroy(): void {
    this.#destroyed = true;
    this.#uniforms.destroy();
  }
}
