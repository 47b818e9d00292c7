/**
 * What a forward pass leaves on the GPU, and how an evicted layer's scores are recomputed from it.
 *
 * A run keeps each layer's attention input (the hidden states after the pre-LN, or the hidden states themselves for
 * post-LN layers) and the q/k projections: the scores of any layer are then two linear layers and q . k^T away,
 * never the whole encoder. Other weights are freed as soon as their layer has run.
 */
import type { ModelConfig } from '../config.ts';
import type { ModelPasses } from '../ops/modelPasses.ts';
import { encodeQueryKey, encodeScores, type AttentionDims, type AttentionWeights } from './attention.ts';
import type { GpuWeights, ScratchBuffers } from './gpuTensors.ts';

/** Canonical names of a layer's q/k projection tensors (kBias absent for Whisper). */
export interface QueryKeyNames {
  readonly qWeight: string;
  readonly qBias: string;
  readonly kWeight: string;
  readonly kBias?: string;
}

/** Progress of a forward pass: `layer` of `layers` done (0 after the front end). */
export type LayerProgress = (layersDone: number, layers: number) => void;

export class EncoderRun {
  readonly config: ModelConfig;
  readonly dims: AttentionDims;
  /** Per layer: frames x hiddenSize, the input of that layer's q/k projections. */
  readonly attentionInputs: readonly GPUBuffer[];
  /** The encoder's last_hidden_state, frames x hiddenSize. */
  readonly output: GPUBuffer;
  readonly #passes: ModelPasses;
  readonly #weights: GpuWeights;
  readonly #scratch: ScratchBuffers;
  readonly #queryKeyNames: (layer: number) => QueryKeyNames;

  constructor(
    config: ModelConfig,
    frames: number,
    passes: ModelPasses,
    weights: GpuWeights,
    scratch: ScratchBuffers,
    attentionInputs: GPUBuffer[],
    output: GPUBuffer,
    queryKeyNames: (layer: number) => QueryKeyNames,
  ) {
    this.config = config;
    this.dims = { frames, heads: config.heads, headDim: config.headDim };
    this.#passes = passes;
    this.#weights = weights;
    this.#scratch = scratch;
    this.attentionInputs = attentionInputs;
    this.output = output;
    this.#queryKeyNames = queryKeyNames;
  }

  get device(): GPUDevice {
    return this.#passes.device;
  }

  get frames(): number {
    return this.dims.frames;
  }

  /**
   * What the run keeps on the GPU to recompute scores, by kind, once releaseForwardScratch() has run: the scratch is
   * then q and k, which every recomputation reuses.
   */
  get keptBytes(): { readonly layerInputs: number; readonly output: number; readonly queryKeyWeights: number; readonly queryKeyScratch: number } {
    const width = this.dims.heads * this.dims.headDim;
    return {
      layerInputs: this.attentionInputs.reduce((sum, buffer) => sum + buffer.size, 0),
      output: this.output.size,
      queryKeyWeights: this.#weights.residentBytes,
      queryKeyScratch: 2 * this.dims.frames * width * 4,
    };
  }

  /** Frees the forward pass's scratch (values, context, scores, MLP, convolutions), keeping q and k's. */
  releaseForwardScratch(): void {
    this.#scratch.releaseExcept(['q', 'k']);
  }

  /**
   * Records the pre-softmax scores of heads firstHead .. firstHead + headCount - 1 of `layer` as f32, head after
   * head (frames x frames each, rows = queries), into `output` from element `outputOffset`.
   */
  encodeLayerScores(encoder: GPUCommandEncoder, layer: number, firstHead: number, headCount: number, output: GPUBuffer, outputOffset = 0): void {
    const names = this.#queryKeyNames(layer);
    const weights: Pick<AttentionWeights, 'qWeight' | 'qBias' | 'kWeight' | 'kBias'> = {
      qWeight: this.#weights.get(names.qWeight),
      qBias: this.#weights.get(names.qBias),
      kWeight: this.#weights.get(names.kWeight),
      kBias: names.kBias ? this.#weights.get(names.kBias) : undefined,
    };
    const { q, k } = encodeQueryKey(this.#passes, encoder, this.#scratch, this.attentionInputs[layer], weights, this.dims);
    encodeScores(this.#passes, encoder, q, k, this.dims, firstHead, headCount, output, outputOffset);
  }

  get passes(): ModelPasses {
    return this.#passes;
  }

  destroy(): void {
    for (const buffer of this.attentionInputs) buffer.destroy();
    this.output.destroy();
    this.#weights.destroy();
    this.#scratch.destroy();
  }
}
