/**
 * A speech encoder's self-attention computed on the host, for machines whose only WebGPU adapter is a software one
 * (CPU-only cluster nodes, where Dawn finds SwiftShader). There the WGSL encoder ran at 0.04-0.1 GFLOP/s: half an
 * hour and more for Whisper base, hours for large-v3. The same forward pass in TypeScript (the encoder reference,
 * src/model/encoder.cpu.ts, whose matrix products are blocked: src/model/host/gemm.ts) runs at ~4 GFLOP/s on one
 * core.
 *
 * It is an AttentionSource like a tensor file: layers x heads x frames x frames PRE-SOFTMAX scores, the same values
 * as ModelAttentionSource gives (rows = queries, columns = keys, (q * head_dim^-0.5) . k^T). The forward pass keeps
 * each layer's scaled queries and keys (float32; 2 x frames x hidden per layer: 37 MB for Whisper base, 490 MB for
 * large-v3) and a head's scores are computed from them when read: 0.3 GFLOP for a 1500-frame head, ~0.1 s. Weights
 * are read layer by layer and dropped after their layer.
 */
import type { AttentionMetadata, AttentionShape, AttentionSource, StoredDType } from '../../data/tensor.ts';
import type { EncoderCheckpoint, EncoderTensor } from '../checkpoint.ts';
import type { ModelConfig } from '../config.ts';
import { encoderLayerCpu, frontEndCpu } from '../encoder.cpu.ts';
import { modelSummary, WHISPER_SAMPLES_PER_FRAME, type EncoderInput, type ModelProgress, type ModelSummary } from '../modelSource.ts';
import { gemmTransposed } from './gemm.ts';

/** A layer's tensors by canonical name: `layers.3.` (Whisper) or `encoder.layers.3.` (wav2vec 2.0, HuBERT). */
const LAYER_TENSOR = /(^|\.)layers\.(\d+)\./;

export interface HostModelRunOptions {
  /** The name the engine and titles show (by default the model's name). */
  readonly fileName?: string;
  readonly onProgress?: (progress: ModelProgress) => void;
}

export class HostModelAttentionSource implements AttentionSource {
  readonly fileName: string;
  readonly shape: AttentionShape;
  readonly dtype: StoredDType = 'float32';
  readonly metadata: AttentionMetadata;
  readonly summary: ModelSummary;
  /** Per layer: the scaled queries and the keys, frames x hidden each. */
  readonly #queries: Float32Array[];
  readonly #keys: Float32Array[];
  readonly #hiddenSize: number;
  readonly #headDim: number;
  #destroyed = false;

  private constructor(checkpoint: EncoderCheckpoint, frames: number, spf: number, queries: Float32Array[], keys: Float32Array[], fileName: string) {
    const config = checkpoint.config;
    this.fileName = fileName;
    this.shape = { layers: config.layers, heads: config.heads, rows: frames, cols: frames };
    this.metadata = { spf, sampleRate: 16000, model: config.name };
    this.summary = modelSummary(checkpoint, frames);
    this.#queries = queries;
    this.#keys = keys;
    this.#hiddenSize = config.hiddenSize;
    this.#headDim = config.headDim;
  }

  /**
   * Runs the encoder of `checkpoint` on `input` on this thread, yielding to the event loop between layers so that
   * progress is heard. Errors in reading a tensor are the checkpoint's (InputErrors naming the file).
   */
  static async run(checkpoint: EncoderCheckpoint, input: EncoderInput, options: HostModelRunOptions = {}): Promise<HostModelAttentionSource> {
    const config = checkpoint.config;
    const expected = config.family === 'whisper' ? 'log-mel' : 'waveform';
    if (input.kind !== expected) throw new RangeError(`${config.name} is a ${config.modelType} model: it needs a ${expected} input`);
    const values = input.kind === 'log-mel' ? input.values : input.samples;
    // The front end and each layer are one step each of layers + 1.
    const report = (stage: ModelProgress['stage'], stepsDone: number) =>
      options.onProgress?.({ stage, fraction: stepsDone / (config.layers + 1), layersDone: Math.max(0, stepsDone - 1), layers: config.layers });

    const byLayer = tensorNamesByLayer(checkpoint, config);
    report('weights', 0);
    const front = frontEndCpu(config, await readTensors(checkpoint, byLayer.frontEnd), values);
    report('encoder', 1);
    const queries: Float32Array[] = [];
    const keys: Float32Array[] = [];
    let hidden = front.frontEnd;
    for (let layer = 0; layer < config.layers; layer++) {
      await nextTurn();
      const weights = await readTensors(checkpoint, byLayer.layers[layer]);
      hidden = encoderLayerCpu(config, weights, layer, hidden, front.frames, {
        keepScores: false,
        onQueryKey: (_, query, key) => {
          queries.push(Float32Array.from(query));
          keys.push(Float32Array.from(key));
        },
      }).output;
      report('encoder', layer + 2);
    }
    const spf = config.family === 'whisper' ? WHISPER_SAMPLES_PER_FRAME : values.length / front.frames;
    return new HostModelAttentionSource(checkpoint, front.frames, spf, queries, keys, options.fileName ?? config.name);
  }

  async readHead(layer: number, head: number): Promise<Float32Array> {
    return this.#scores(layer, head, 1);
  }

  async readLayer(layer: number): Promise<Float32Array> {
    return this.#scores(layer, 0, this.shape.heads);
  }

  /** Heads firstHead .. firstHead + count of `layer`: (q * head_dim^-0.5) . k^T per head, back to back. */
  #scores(layer: number, firstHead: number, count: number): Float32Array {
    if (this.#destroyed) throw new Error(`${this.fileName}: the model's scores were freed`);
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.shape.layers) throw new RangeError(`${this.fileName}: no layer ${layer}`);
    if (!Number.isInteger(firstHead) || firstHead < 0 || firstHead + count > this.shape.heads) throw new RangeError(`${this.fileName}: no head ${firstHead}`);
    const frames = this.shape.rows;
    const headDim = this.#headDim;
    const output = new Float32Array(count * frames * frames);
    // One head's queries and keys gathered into float64 rows of headDim (gemmTransposed reads float64 only).
    const query = new Float64Array(frames * headDim);
    const key = new Float64Array(frames * headDim);
    for (let i = 0; i < count; i++) {
      const offset = (firstHead + i) * headDim;
      for (let t = 0; t < frames; t++) {
        const row = t * this.#hiddenSize + offset;
        query.set(this.#queries[layer].subarray(row, row + headDim), t * headDim);
        key.set(this.#keys[layer].subarray(row, row + headDim), t * headDim);
      }
      gemmTransposed(frames, frames, headDim, { data: query, offset: 0, rowStride: headDim }, { data: key, offset: 0, rowStride: headDim }, { data: output, offset: i * frames * frames, rowStride: frames });
    }
    return output;
  }

  /** Frees the kept queries and keys; reads afterwards throw. */
  destroy(): void {
    this.#destroyed = true;
    this.#queries.length = 0;
    this.#keys.length = 0;
  }
}

/** The checkpoint's tensor names: those of each layer, and the rest (the front end's; Whisper's final norm too). */
function tensorNamesByLayer(checkpoint: EncoderCheckpoint, config: ModelConfig): { frontEnd: string[]; layers: string[][] } {
  const layers: string[][] = Array.from({ length: config.layers }, () => []);
  const frontEnd: string[] = [];
  for (const { name } of checkpoint.tensors) {
    const match = LAYER_TENSOR.exec(name);
    if (match) layers[Number(match[2])]?.push(name);
    else frontEnd.push(name);
  }
  return { frontEnd, layers };
}

async function readTensors(checkpoint: EncoderCheckpoint, names: readonly string[]): Promise<Map<string, EncoderTensor>> {
  const tensors = new Map<string, EncoderTensor>();
  for (const name of names) tensors.set(name, await checkpoint.readTensor(name));
  return tensors;
}

/** Lets timers, I/O and progress output run between layers (each is seconds of computing). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
