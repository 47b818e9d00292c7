/**
 * A speech encoder's self-attention as an AttentionSource: layers x heads x frames x frames PRE-SOFTMAX scores
 * (rows = queries, columns = keys, torch's q @ k^T, so a row softmax is the model's own attention).
 *
 * ModelAttentionSource.run() runs the encoder once on the engine's device (src/model/encoders) and keeps each
 * layer's attention input. The engine then asks it for chunks (src/gpu/producedChunks.ts): the scores of a chunk are
 * computed from that input straight into the engine's storage buffer, in the engine's storage format, and never
 * leave the GPU. An evicted layer is recomputed the same way, from its layer's input, not from the audio.
 */
import type { AttentionMetadata, AttentionShape, StoredDType } from '../data/tensor.ts';
import { createStorageBuffer, readFloat32 } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { GpuProducedSource } from '../gpu/producedChunks.ts';
import type { StorageFormat } from '../gpu/storageFormat.ts';
import type { UploadChunk } from '../gpu/upload.ts';
import type { EncoderCheckpoint } from './checkpoint.ts';
import type { ModelConfig } from './config.ts';
import type { EncoderRun } from './encoders/encoderRun.ts';
import { GpuWeights } from './encoders/gpuTensors.ts';
import { runWav2Vec2Encoder } from './encoders/wav2vec2.ts';
import { runWhisperEncoder, type WhisperMutation } from './encoders/whisper.ts';
import { ModelPasses } from './ops/modelPasses.ts';

/** Whisper: 160 samples per mel frame, and conv2's stride 2. */
export const WHISPER_SAMPLES_PER_FRAME = 320;

/** What the encoder reads: Whisper's log-mel (melBins x melFrames) or wav2vec 2.0's normalised 16 kHz waveform. */
export type EncoderInput = { readonly kind: 'log-mel'; readonly values: Float32Array } | { readonly kind: 'waveform'; readonly samples: Float32Array };

/** Where a run is: reading weights and running layers. */
export interface ModelProgress {
  readonly stage: 'weights' | 'encoder';
  /** 0..1 of the whole run (weights are read as the layers need them, so the two advance together). */
  readonly fraction: number;
  readonly layersDone: number;
  readonly layers: number;
}

export interface ModelRunOptions {
  /** The name the engine and titles show (by default the model's name). */
  readonly fileName?: string;
  readonly onProgress?: (progress: ModelProgress) => void;
  /** Compiled kernels to use (the caller's, kept after destroy()); by default the source compiles and owns its own. */
  readonly passes?: ModelPasses;
  /** Deliberate departures from Whisper, for tests only. */
  readonly whisperMutation?: WhisperMutation;
}

/** Facts about the model for `steve inspect` and the viewer's banner. */
export interface ModelSummary {
  readonly name: string;
  readonly modelType: string;
  readonly hiddenSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  readonly ffnDim: number;
  readonly frames: number;
  readonly weightDtype: string;
  /** Bytes of stored encoder weights read. */
  readonly encoderBytes: number;
}

export class ModelAttentionSource implements GpuProducedSource {
  readonly fileName: string;
  readonly shape: AttentionShape;
  readonly dtype: StoredDType = 'float32';
  readonly metadata: AttentionMetadata;
  readonly summary: ModelSummary;
  readonly #run: EncoderRun;
  readonly #passes: ModelPasses;
  readonly #ownsPasses: boolean;
  #destroyed = false;

  private constructor(run: EncoderRun, passes: ModelPasses, ownsPasses: boolean, checkpoint: EncoderCheckpoint, spf: number, fileName: string) {
    const config = checkpoint.config;
    this.#run = run;
    this.#passes = passes;
    this.#ownsPasses = ownsPasses;
    this.fileName = fileName;
    this.shape = { layers: config.layers, heads: config.heads, rows: run.frames, cols: run.frames };
    this.metadata = { spf, sampleRate: 16000, model: config.name };
    this.summary = {
      name: config.name,
      modelType: config.modelType,
      hiddenSize: config.hiddenSize,
      layers: config.layers,
      heads: config.heads,
      headDim: config.headDim,
      ffnDim: config.ffnDim,
      frames: run.frames,
      weightDtype: checkpoint.storedDtype,
      encoderBytes: checkpoint.encoderBytes,
    };
  }

  /** Runs the encoder of `checkpoint` on `input`, on `device` (the engine's: engine.device). */
  static async run(device: GPUDevice, shaders: ShaderSources, checkpoint: EncoderCheckpoint, input: EncoderInput, options: ModelRunOptions = {}): Promise<ModelAttentionSource> {
    const config = checkpoint.config;
    const passes = options.passes ?? (await ModelPasses.create(device, shaders));
    if (passes.device !== device) throw new Error('ModelAttentionSource.run: the passes were made for another device');
    let bytesRead = 0;
    let layersDone = 0;
    const report = (stage: ModelProgress['stage']) => {
      // Weights dominate the reading, layers the computing: weigh them equally.
      const fraction = 0.5 * Math.min(1, bytesRead / Math.max(1, checkpoint.encoderBytes * (4 / bytesPerStored(checkpoint.storedDtype)))) + 0.5 * (layersDone / config.layers);
      options.onProgress?.({ stage, fraction, layersDone, layers: config.layers });
    };
    const weights = new GpuWeights(device, checkpoint, (bytes) => {
      bytesRead += bytes;
      report('weights');
    });
    const onLayer = (done: number) => {
      layersDone = done;
      report('encoder');
    };
    try {
      let run: EncoderRun;
      let spf: number;
      if (config.family === 'whisper') {
        if (input.kind !== 'log-mel') throw new RangeError(`${config.name} is a Whisper model: it needs a log-mel input`);
        run = await runWhisperEncoder(passes, weights, config, input.values, onLayer, options.whisperMutation);
        spf = WHISPER_SAMPLES_PER_FRAME;
      } else {
        if (input.kind !== 'waveform') throw new RangeError(`${config.name} is a ${config.modelType} model: it needs a waveform input`);
        run = await runWav2Vec2Encoder(passes, weights, config, input.samples, onLayer);
        spf = input.samples.length / run.frames;
      }
      return new ModelAttentionSource(run, passes, !options.passes, checkpoint, spf, options.fileName ?? config.name);
    } catch (error) {
      weights.destroy();
      if (!options.passes) passes.destroy();
      throw error;
    }
  }

  get config(): ModelConfig {
    return this.#run.config;
  }

  /** The encoder's last_hidden_state, frames x hiddenSize (for tests against a reference). */
  get lastHiddenState(): GPUBuffer {
    return this.#run.output;
  }

  /** Layer `layer`'s attention input on the GPU, frames x hiddenSize (for benchmarks and tests). */
  attentionInput(layer: number): GPUBuffer {
    return this.#run.attentionInputs[layer];
  }

  /** GPU bytes held outside the engine's budget: the layers' attention inputs, the q/k weights, the output. */
  get heldBytes(): number {
    return this.#run.heldBytes;
  }

  async writeChunk(device: GPUDevice, chunk: UploadChunk, format: StorageFormat, output: GPUBuffer): Promise<void> {
    this.#checkDevice(device);
    const elements = chunk.headCount * this.shape.rows * this.shape.cols;
    const encoder = device.createCommandEncoder({ label: `ModelAttentionSource.layer${chunk.layer}` });
    if (format === 'float32') {
      this.#run.encodeLayerScores(encoder, chunk.layer, chunk.firstHead, chunk.headCount, output);
    } else {
      const scores = this.#run.scratch.get('chunkScores', elements);
      this.#run.encodeLayerScores(encoder, chunk.layer, chunk.firstHead, chunk.headCount, scores);
      this.#passes.packFloat16.encode(encoder, { input: scores, count: elements, output });
    }
    device.queue.submit([encoder.finish()]);
  }

  async readHead(layer: number, head: number): Promise<Float32Array> {
    return this.#readScores(layer, head, 1);
  }

  async readLayer(layer: number): Promise<Float32Array> {
    return this.#readScores(layer, 0, this.shape.heads);
  }

  async #readScores(layer: number, firstHead: number, headCount: number): Promise<Float32Array> {
    this.#checkDevice(this.#run.device);
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.shape.layers) throw new RangeError(`${this.fileName}: no layer ${layer}`);
    const device = this.#run.device;
    const elements = headCount * this.shape.rows * this.shape.cols;
    const buffer = createStorageBuffer(device, 'ModelAttentionSource.read', elements * 4);
    try {
      const encoder = device.createCommandEncoder({ label: 'ModelAttentionSource.read' });
      this.#run.encodeLayerScores(encoder, layer, firstHead, headCount, buffer);
      device.queue.submit([encoder.finish()]);
      return await readFloat32(device, buffer, elements);
    } finally {
      buffer.destroy();
    }
  }

  #checkDevice(device: GPUDevice): void {
    if (this.#destroyed) throw new Error(`${this.fileName}: the model's GPU state was destroyed`);
    if (device !== this.#run.device) {
      throw new Error(`${this.fileName}: the encoder ran on a GPU device that is no longer in use (lost?); load the model again`);
    }
  }

  /** Frees the layers' inputs, the kept weights and (when it made them) the passes. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#run.destroy();
    if (this.#ownsPasses) this.#passes.destroy();
  }
}

function bytesPerStored(dtype: string): number {
  return dtype === 'F32' ? 4 : dtype === 'F64' ? 8 : 2;
}
