/**
 * A speech encoder's self-attention as an AttentionSource: layers x heads x frames x frames PRE-SOFTMAX scores
 * (rows = queries, columns = keys, torch's q @ k^T, so a row softmax is the model's own attention).
 *
 * ModelAttentionSource.run() runs the encoder once on the engine's device (src/model/encoders) and keeps each
 * layer's attention input. The engine then asks it for chunks (src/gpu/producedChunks.ts): the scores of a chunk are
 * computed from that input straight into the engine's storage buffer, in the engine's storage format, and never
 * leave the GPU. An evicted layer is recomputed the same way, from its layer's input, not from the audio.
 *
 * What it keeps on the GPU (keptMemory) the engine takes off its budget. After a device loss the engine asks for
 * chunks on its new device: the source then runs the encoder again there, re-reading the weights from the same
 * checkpoint (whose files must stay readable until destroy()).
 */
import type { AttentionMetadata, AttentionShape, AttentionSource, StoredDType } from '../data/tensor.ts';
import { createStorageBuffer, readFloat32 } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { GpuProducedSource, KeptMemory } from '../gpu/producedChunks.ts';
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
  /**
   * Compiled kernels to use (the caller's, kept after destroy()); by default the source compiles and owns its own.
   * After a device loss the source compiles its own on the new device.
   */
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

/** What `steve inspect` and the banner say of `checkpoint`'s model run on `frames` frames. */
export function modelSummary(checkpoint: EncoderCheckpoint, frames: number): ModelSummary {
  const config = checkpoint.config;
  return {
    name: config.name,
    modelType: config.modelType,
    hiddenSize: config.hiddenSize,
    layers: config.layers,
    heads: config.heads,
    headDim: config.headDim,
    ffnDim: config.ffnDim,
    frames,
    weightDtype: checkpoint.storedDtype,
    encoderBytes: checkpoint.encoderBytes,
  };
}

/**
 * A model's attention from a forward pass on the GPU (ModelAttentionSource) or on the host
 * (host/hostModelSource.ts): an AttentionSource with the model's facts, freed by destroy().
 */
export interface EncoderAttention extends AttentionSource {
  readonly summary: ModelSummary;
  destroy(): void;
}

/** Everything a forward pass needs, kept to run it again on another device. */
interface RunRecipe {
  readonly shaders: ShaderSources;
  readonly checkpoint: EncoderCheckpoint;
  readonly input: EncoderInput;
  readonly options: ModelRunOptions;
}

/** The GPU state of one forward pass on one device. */
interface DeviceState {
  readonly run: EncoderRun;
  readonly passes: ModelPasses;
  readonly ownsPasses: boolean;
  /** f32 scores of the heads packed together into a float16 chunk (made on first use). */
  packScratch?: GPUBuffer;
}

export class ModelAttentionSource implements GpuProducedSource {
  readonly fileName: string;
  readonly shape: AttentionShape;
  readonly dtype: StoredDType = 'float32';
  readonly metadata: AttentionMetadata;
  readonly summary: ModelSummary;
  readonly #recipe: RunRecipe;
  #state: DeviceState;
  /** A forward pass under way on a new device, after the old one was lost. */
  #rebuilding: { readonly device: GPUDevice; readonly done: Promise<DeviceState> } | undefined;
  #rebuilds = 0;
  #destroyed = false;

  private constructor(state: DeviceState, recipe: RunRecipe, spf: number, fileName: string) {
    const { checkpoint } = recipe;
    const config = checkpoint.config;
    const run = state.run;
    this.#state = state;
    this.#recipe = recipe;
    this.fileName = fileName;
    this.shape = { layers: config.layers, heads: config.heads, rows: run.frames, cols: run.frames };
    this.metadata = { spf, sampleRate: 16000, model: config.name };
    this.summary = modelSummary(checkpoint, run.frames);
  }

  /**
   * Runs the encoder of `checkpoint` on `input`, on `device` (the engine's: engine.device). The checkpoint's files
   * must stay readable while the source lives: after a device loss it reads the weights again.
   */
  static async run(device: GPUDevice, shaders: ShaderSources, checkpoint: EncoderCheckpoint, input: EncoderInput, options: ModelRunOptions = {}): Promise<ModelAttentionSource> {
    const recipe: RunRecipe = { shaders, checkpoint, input, options };
    const { state, spf } = await forwardPass(device, recipe, options.passes);
    return new ModelAttentionSource(state, recipe, spf, options.fileName ?? checkpoint.config.name);
  }

  get config(): ModelConfig {
    return this.#state.run.config;
  }

  /** The encoder's last_hidden_state, frames x hiddenSize (for tests against a reference). */
  get lastHiddenState(): GPUBuffer {
    return this.#state.run.output;
  }

  /** Layer `layer`'s attention input on the GPU, frames x hiddenSize (for benchmarks and tests). */
  attentionInput(layer: number): GPUBuffer {
    return this.#state.run.attentionInputs[layer];
  }

  /** How many times the encoder ran again on a new device (after losses). */
  get rebuilds(): number {
    return this.#rebuilds;
  }

  /**
   * GPU memory kept while the source lives, beyond the chunks: each layer's attention input, the last hidden state,
   * the q/k weights, the q/k scratch of a recomputation, and for float16 chunks the f32 scores of up to two heads
   * before packing. Exact once run() has resolved (the forward pass's other scratch and weights are freed by then).
   */
  keptMemory(format: StorageFormat): KeptMemory {
    const kept = this.#state.run.keptBytes;
    const pack = format === 'float16' ? this.#packScratchBytes() : 0;
    const bytes = kept.layerInputs + kept.output + kept.queryKeyWeights + kept.queryKeyScratch + pack;
    const mb = (value: number) => `${(value / 2 ** 20).toFixed(1)} MiB`;
    const holds =
      `${this.summary.name}: ${this.shape.layers} layer inputs ${mb(kept.layerInputs)}, last hidden state ${mb(kept.output)}, ` +
      `q/k weights ${mb(kept.queryKeyWeights)}, q/k scratch ${mb(kept.queryKeyScratch)}` +
      (pack ? `, float16 packing scratch ${mb(pack)}` : '');
    return { bytes, holds };
  }

  async writeChunk(device: GPUDevice, chunk: UploadChunk, format: StorageFormat, output: GPUBuffer): Promise<void> {
    const state = await this.#stateOn(device);
    const { rows, cols } = this.shape;
    const encoder = device.createCommandEncoder({ label: `ModelAttentionSource.layer${chunk.layer}` });
    if (format === 'float32') {
      state.run.encodeLayerScores(encoder, chunk.layer, chunk.firstHead, chunk.headCount, output);
    } else {
      // Heads are packed a group at a time from one small f32 scratch; a group holds an even number of values, so
      // every group starts on a whole float16 word of the chunk.
      const group = this.#headsPerPackGroup();
      state.packScratch ??= createStorageBuffer(device, 'ModelAttentionSource.packScratch', this.#packScratchBytes());
      for (let first = 0; first < chunk.headCount; first += group) {
        const heads = Math.min(group, chunk.headCount - first);
        state.run.encodeLayerScores(encoder, chunk.layer, chunk.firstHead + first, heads, state.packScratch);
        state.passes.packFloat16.encode(encoder, { input: state.packScratch, count: heads * rows * cols, output, outputOffset: (first * rows * cols) / 2 });
      }
    }
    device.queue.submit([encoder.finish()]);
  }

  #headsPerPackGroup(): number {
    return (this.shape.rows * this.shape.cols) % 2 === 0 ? 1 : 2;
  }

  #packScratchBytes(): number {
    return Math.min(this.#headsPerPackGroup(), this.shape.heads) * this.shape.rows * this.shape.cols * 4;
  }

  /** The state on `device`: the current one, or the encoder run again there (once, however many chunks ask). */
  async #stateOn(device: GPUDevice): Promise<DeviceState> {
    if (this.#destroyed) throw new Error(`${this.fileName}: the model's GPU state was destroyed`);
    if (device === this.#state.run.device) return this.#state;
    if (this.#rebuilding?.device !== device) {
      const done = forwardPass(device, this.#recipe).then(({ state }) => {
        if (this.#destroyed || this.#rebuilding?.device !== device) {
          destroyState(state);
          throw new Error(`${this.fileName}: the model was destroyed, or its device replaced again, while it ran again`);
        }
        destroyState(this.#state);
        this.#state = state;
        this.#rebuilding = undefined;
        this.#rebuilds += 1;
        return state;
      });
      this.#rebuilding = { device, done };
      done.catch(() => {
        if (this.#rebuilding?.done === done) this.#rebuilding = undefined;
      });
    }
    return this.#rebuilding.done;
  }

  async readHead(layer: number, head: number): Promise<Float32Array> {
    return this.#readScores(layer, head, 1);
  }

  async readLayer(layer: number): Promise<Float32Array> {
    return this.#readScores(layer, 0, this.shape.heads);
  }

  async #readScores(layer: number, firstHead: number, headCount: number): Promise<Float32Array> {
    if (this.#destroyed) throw new Error(`${this.fileName}: the model's GPU state was destroyed`);
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.shape.layers) throw new RangeError(`${this.fileName}: no layer ${layer}`);
    const run = this.#state.run;
    const device = run.device;
    const elements = headCount * this.shape.rows * this.shape.cols;
    const buffer = createStorageBuffer(device, 'ModelAttentionSource.read', elements * 4);
    try {
      const encoder = device.createCommandEncoder({ label: 'ModelAttentionSource.read' });
      run.encodeLayerScores(encoder, layer, firstHead, headCount, buffer);
      device.queue.submit([encoder.finish()]);
      return await readFloat32(device, buffer, elements);
    } finally {
      buffer.destroy();
    }
  }

  /** Frees the layers' inputs, the kept weights and (when it made them) the passes. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    destroyState(this.#state);
  }
}

/** Runs the encoder on `device` with `passes` (compiled there when not given) and frees the forward pass's scratch. */
async function forwardPass(device: GPUDevice, recipe: RunRecipe, givenPasses?: ModelPasses): Promise<{ state: DeviceState; spf: number }> {
  const { shaders, checkpoint, input, options } = recipe;
  const config = checkpoint.config;
  const passes = givenPasses ?? (await ModelPasses.create(device, shaders));
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
    run.releaseForwardScratch();
    return { state: { run, passes, ownsPasses: !givenPasses }, spf };
  } catch (error) {
    weights.destroy();
    if (!givenPasses) passes.destroy();
    throw error;
  }
}

function destroyState(state: DeviceState): void {
  state.run.destroy();
  state.packScratch?.destroy();
  if (state.ownsPasses) state.passes.destroy();
}

function bytesPerStored(dtype: string): number {
  return dtype === 'F32' ? 4 : dtype === 'F64' ? 8 : 2;
}
