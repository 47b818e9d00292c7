/**
 * LayerMeanPass: the mean over layers of one head's map or of the head mean, each map cropped and optionally
 * softmaxed first (CPU reference in layerMean.cpu.ts).
 *
 * Layers live in separate buffers (they are uploaded and evicted one by one), so this pass has no kernel of its
 * own: it records HeadMeanPass once per layer part with weight 1 / (layers x heads) and accumulation after the first.
 * The mean over layers of the head mean is then the mean of all layers x heads maps, which is the same number.
 * A caller short of GPU memory encodes the parts in several batches (setting `accumulate` for later batches) and
 * submits between them, so that only one batch of layers must be resident at a time.
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { StorageFormat } from '../gpu/storageFormat.ts';
import { HeadMeanPass } from './headMean.ts';
import { PassDestroyedError } from './passSupport.ts';
import type { Crop, SoftmaxScope } from './region.ts';

/** Maps of one buffer that take part in a layer mean: a layer's chunk and the selected heads' offsets in it. */
export interface LayerMeanPart {
  readonly input: { readonly buffer: GPUBuffer; readonly format: StorageFormat };
  /** Element index of each selected map's [0][0] in input.buffer. */
  readonly mapOffsets: readonly number[];
}

/** What LayerMeanPass.encode computes (one batch of parts). */
export interface LayerMeanJob {
  readonly parts: readonly LayerMeanPart[];
  /** Maps in the whole mean, over every batch: layers x selected heads. */
  readonly totalMaps: number;
  /** false for the first batch (it overwrites the output), true for later ones. */
  readonly accumulate: boolean;
  readonly rows: number;
  readonly cols: number;
  readonly crop: Crop;
  readonly scope: SoftmaxScope;
  /** cropRows x cropCols f32 values, row-major. */
  readonly output: GPUBuffer;
}

/** Records a mean over layers as a sequence of weighted, accumulating head sums. */
export class LayerMeanPass {
  readonly #headMean: HeadMeanPass;
  #destroyed = false;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#headMean = new HeadMeanPass(device, shaders);
  }

  /** Compiles the pipeline for `format`; await it once before encode() with that format. */
  ready(format: StorageFormat): Promise<void> {
    return this.#headMean.ready(format);
  }

  /** Records one batch of parts (no submit). Precondition: ready() resolved. */
  encode(encoder: GPUCommandEncoder, job: LayerMeanJob): void {
    if (this.#destroyed) throw new PassDestroyedError('LayerMeanPass');
    job.parts.forEach((part, index) =>
      this.#headMean.encode(encoder, {
        input: part.input,
        mapOffsets: part.mapOffsets,
        rows: job.rows,
        cols: job.cols,
        crop: job.crop,
        scope: job.scope,
        weight: 1 / job.totalMaps,
        accumulate: job.accumulate || index > 0,
        output: job.output,
      }),
    );
  }

  /** Frees the pass's buffers. Safe to call twice; encode() afterwards throws. */
  destroy(): void {
    this.#destroyed = true;
    this.#headMean.destroy();
  }
}
