/**
 * A speech encoder's architecture, read from a Hugging Face model folder: `config.json` (model_type, dims, layers,
 * heads, conv specs, eps) and, when present, `preprocessor_config.json` (the audio front end's parameters).
 *
 * Two families of encoder are supported, told apart by `family`:
 * - 'whisper': Whisper's encoder (model_type "whisper"), log-mel input, tiny to large-v3 (80 or 128 mel bins);
 * - 'wav2vec2': the wav2vec 2.0 encoder, raw waveform input (model_type "wav2vec2"), which HuBERT (model_type
 *   "hubert") shares layer for layer; `modelType` keeps which of the two the file named.
 *
 * Defaults are those of the transformers classes (WhisperConfig, Wav2Vec2Config, HubertConfig,
 * WhisperFeatureExtractor, Wav2Vec2FeatureExtractor) for keys a config.json leaves out. Every error is an
 * InputError naming the file that holds the bad value.
 */
import { InputError, check } from '../data/inputError.ts';
import { printable } from './untrustedText.ts';

/** model_type values we run, in the order the "unknown model_type" error lists them. */
export const SUPPORTED_MODEL_TYPES = ['whisper', 'wav2vec2', 'hubert'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** What every transformer encoder stack has, whatever its front end. */
export interface EncoderDims {
  /** Width of the hidden states (Whisper's d_model, wav2vec 2.0's hidden_size). */
  readonly hiddenSize: number;
  readonly layers: number;
  readonly heads: number;
  /** hiddenSize / heads; queries are scaled by headDim^-0.5. */
  readonly headDim: number;
  /** Width of the MLP's inner layer (encoder_ffn_dim, intermediate_size). */
  readonly ffnDim: number;
  /** eps of every LayerNorm of the stack. */
  readonly layerNormEps: number;
}

/** Whisper's log-mel front end (WhisperFeatureExtractor). */
export interface WhisperFeatureParams {
  readonly samplingRate: number;
  readonly nFft: number;
  readonly hopLength: number;
  /** Seconds of audio per input: the input is zero-padded or trimmed to nSamples = chunkLength x samplingRate. */
  readonly chunkLength: number;
  readonly nSamples: number;
  /** Mel frames fed to the encoder: nSamples / hopLength (the STFT's last frame is dropped). */
  readonly melFrames: number;
  readonly melBins: number;
  /** The mel filters span 0 Hz to this (8000 Hz in every Whisper). */
  readonly maxFrequencyHz: number;
}

export interface WhisperConfig extends EncoderDims {
  readonly family: 'whisper';
  readonly modelType: 'whisper';
  /** `_name_or_path` from config.json, or the caller's fallback (the folder name). */
  readonly name: string;
  readonly numMelBins: number;
  /** Encoder frames: melFrames / 2 (conv2 has stride 2); also the rows of embed_positions. */
  readonly maxSourcePositions: number;
  readonly features: WhisperFeatureParams;
}

/** One layer of wav2vec 2.0's convolutional feature encoder. */
export interface ConvLayerSpec {
  /** Output channels. */
  readonly dim: number;
  readonly kernel: number;
  readonly stride: number;
}

/** wav2vec 2.0's raw-waveform front end (Wav2Vec2FeatureExtractor). */
export interface Wav2Vec2FeatureParams {
  readonly samplingRate: number;
  /** Zero mean and unit variance over the utterance before the conv encoder. */
  readonly doNormalize: boolean;
  /** Added to the variance before its square root when normalising (the feature extractor's 1e-7). */
  readonly normalizeEps: number;
}

export interface Wav2Vec2Config extends EncoderDims {
  readonly family: 'wav2vec2';
  readonly modelType: 'wav2vec2' | 'hubert';
  readonly name: string;
  readonly convLayers: readonly ConvLayerSpec[];
  readonly convBias: boolean;
  /** 'group': a GroupNorm (one group per channel) after the first conv only; 'layer': a LayerNorm after every conv. */
  readonly featExtractNorm: 'group' | 'layer';
  /** Whether the feature projection starts with a LayerNorm (always for wav2vec2; HuBERT's feat_proj_layer_norm). */
  readonly featureProjectionLayerNorm: boolean;
  /** true: pre-LN layers and a final LayerNorm (large-lv60); false: post-LN with the LayerNorm before the layers (base). */
  readonly doStableLayerNorm: boolean;
  /** Positional conv: kernel (num_conv_pos_embeddings), padding kernel / 2, the last frame dropped when even. */
  readonly posConvKernel: number;
  readonly posConvGroups: number;
  readonly features: Wav2Vec2FeatureParams;
}

export type ModelConfig = WhisperConfig | Wav2Vec2Config;

/** A JSON file's name and its text (or bytes). */
export interface JsonFile {
  readonly name: string;
  readonly text: string | Uint8Array;
}

/** Bound on every size in a config (dims, kernels, rates); layers have their own, MAX_LAYERS. */
const MAX_CONFIG_INTEGER = 1 << 24;
/** Far above any encoder's depth (large-v3 has 32, wav2vec 2.0 large 24). */
const MAX_LAYERS = 1024;

/** config.json and preprocessor_config.json are a few kilobytes; anything this big is not one. */
export const MAX_CONFIG_BYTES = 4_000_000;

/** Whisper's mel filters end at 8 kHz for every model size (WhisperFeatureExtractor's max_frequency). */
const WHISPER_MAX_FREQUENCY_HZ = 8000;
/** Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm adds this to the variance. */
const WAV2VEC2_NORMALIZE_EPS = 1e-7;

/**
 * Parses config.json (and preprocessor_config.json when given) into a ModelConfig. `fallbackName` names the model
 * when config.json has no `_name_or_path` (the viewer and CLI pass the folder's name).
 */
export function parseModelConfig(config: JsonFile, preprocessor?: JsonFile, fallbackName = 'model'): ModelConfig {
  const root = new JsonReader(config);
  const pre = preprocessor ? new JsonReader(preprocessor) : undefined;
  const modelType = root.raw('model_type');
  check(
    typeof modelType === 'string' && (SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType),
    config.name,
    'unsupported-layout',
    () => `model_type ${modelType === undefined ? 'is missing' : printable(JSON.stringify(modelType))}; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
  );
  const nameOrPath = root.raw('_name_or_path');
  const name = typeof nameOrPath === 'string' && nameOrPath.trim() !== '' && nameOrPath !== '.' ? nameOrPath : fallbackName;
  return modelType === 'whisper' ? parseWhisper(root, pre, name) : parseWav2Vec2(root, pre, modelType as 'wav2vec2' | 'hubert', name);
}

function parseWhisper(root: JsonReader, pre: JsonReader | undefined, name: string): WhisperConfig {
  const hiddenSize = root.int('d_model', 384);
  const heads = root.int('encoder_attention_heads', 6);
  const numMelBins = root.int('num_mel_bins', 80);
  const maxSourcePositions = root.int('max_source_positions', 1500);
  const activation = root.string('activation_function', 'gelu');
  check(activation === 'gelu', root.file, 'unsupported-layout', () => `activation_function is "${printable(activation)}"; only "gelu" (exact erf GELU) is supported`);
  checkHeads(root, hiddenSize, heads, 'd_model', 'encoder_attention_heads');

  const samplingRate = pre?.int('sampling_rate', 16000) ?? 16000;
  const nFft = pre?.int('n_fft', 400) ?? 400;
  const hopLength = pre?.int('hop_length', 160) ?? 160;
  const chunkLength = pre?.positive('chunk_length', 30) ?? 30;
  // WhisperFeatureExtractor derives n_samples from chunk_length itself (a saved n_samples key is overridden).
  const nSamples = Math.round(chunkLength * samplingRate);
  const melBins = pre?.int('feature_size', numMelBins) ?? numMelBins;
  if (pre) {
    check(melBins === numMelBins, pre.file, 'mismatch', () => `feature_size is ${melBins} but ${root.file} has num_mel_bins ${numMelBins}`);
    check(nFft >= 2 && nFft % 2 === 0, pre.file, 'unsupported-layout', () => `n_fft is ${nFft}; expected an even number of at least 2`);
  }
  const melFrames = Math.floor(nSamples / hopLength);
  check(
    nSamples % hopLength === 0 && melFrames === 2 * maxSourcePositions,
    pre?.file ?? root.file,
    'mismatch',
    () =>
      `${nSamples} samples at hop ${hopLength} give ${nSamples / hopLength} mel frames, but max_source_positions ${maxSourcePositions} in ${root.file} needs ${2 * maxSourcePositions}` +
      (pre ? '' : ' (no preprocessor_config.json: the defaults are 30 s at hop 160)'),
  );
  return {
    family: 'whisper',
    modelType: 'whisper',
    name,
    hiddenSize,
    layers: root.int('encoder_layers', 4, MAX_LAYERS),
    heads,
    headDim: hiddenSize / heads,
    ffnDim: root.int('encoder_ffn_dim', 1536),
    // WhisperEncoderLayer's LayerNorms take torch's default eps; config.json has no key for it.
    layerNormEps: 1e-5,
    numMelBins,
    maxSourcePositions,
    features: { samplingRate, nFft, hopLength, chunkLength, nSamples, melFrames, melBins, maxFrequencyHz: WHISPER_MAX_FREQUENCY_HZ },
  };
}

function parseWav2Vec2(root: JsonReader, pre: JsonReader | undefined, modelType: 'wav2vec2' | 'hubert', name: string): Wav2Vec2Config {
  const hiddenSize = root.int('hidden_size', 768);
  const heads = root.int('num_attention_heads', 12);
  checkHeads(root, hiddenSize, heads, 'hidden_size', 'num_attention_heads');
  for (const key of ['hidden_act', 'feat_extract_activation']) {
    const activation = root.string(key, 'gelu');
    check(activation === 'gelu', root.file, 'unsupported-layout', () => `${key} is "${printable(activation)}"; only "gelu" (exact erf GELU) is supported`);
  }
  const dims = root.intArray('conv_dim', [512, 512, 512, 512, 512, 512, 512]);
  const kernels = root.intArray('conv_kernel', [10, 3, 3, 3, 3, 2, 2]);
  const strides = root.intArray('conv_stride', [5, 2, 2, 2, 2, 2, 2]);
  check(
    dims.length === kernels.length && dims.length === strides.length && dims.length > 0,
    root.file,
    'mismatch',
    () => `conv_dim, conv_kernel and conv_stride have ${dims.length}, ${kernels.length} and ${strides.length} entries; they must have the same number, at least one`,
  );
  const featExtractNorm = root.string('feat_extract_norm', 'group');
  check(featExtractNorm === 'group' || featExtractNorm === 'layer', root.file, 'unsupported-layout', () => `feat_extract_norm is "${printable(featExtractNorm)}"; expected "group" or "layer"`);
  const posConvGroups = root.int('num_conv_pos_embedding_groups', 16);
  // HuBERT can replace the positional conv's weight norm by a batch norm (conv_pos_batch_norm); not supported.
  check(root.raw('conv_pos_batch_norm') !== true, root.file, 'unsupported-layout', () => 'conv_pos_batch_norm is true; only the weight-normed positional conv is supported');
  check(hiddenSize % posConvGroups === 0, root.file, 'mismatch', () => `hidden_size ${hiddenSize} is not divisible by num_conv_pos_embedding_groups ${posConvGroups}`);
  const samplingRate = pre?.int('sampling_rate', 16000) ?? 16000;
  const doNormalize = pre?.boolean('do_normalize', true) ?? true;
  return {
    family: 'wav2vec2',
    modelType,
    name,
    hiddenSize,
    layers: root.int('num_hidden_layers', 12, MAX_LAYERS),
    heads,
    headDim: hiddenSize / heads,
    ffnDim: root.int('intermediate_size', 3072),
    layerNormEps: root.positive('layer_norm_eps', 1e-5),
    convLayers: dims.map((dim, i) => ({ dim, kernel: kernels[i], stride: strides[i] })),
    convBias: root.boolean('conv_bias', false),
    featExtractNorm,
    // Wav2Vec2FeatureProjection always has the LayerNorm; HubertFeatureProjection only when feat_proj_layer_norm.
    featureProjectionLayerNorm: modelType === 'wav2vec2' ? true : root.boolean('feat_proj_layer_norm', true),
    doStableLayerNorm: root.boolean('do_stable_layer_norm', false),
    posConvKernel: root.int('num_conv_pos_embeddings', 128),
    posConvGroups,
    features: { samplingRate, doNormalize, normalizeEps: WAV2VEC2_NORMALIZE_EPS },
  };
}

function checkHeads(root: JsonReader, hiddenSize: number, heads: number, sizeKey: string, headsKey: string): void {
  check(hiddenSize % heads === 0, root.file, 'mismatch', () => `${sizeKey} ${hiddenSize} is not divisible by ${headsKey} ${heads}`);
}

/**
 * Encoder frames for `samples` samples at the model's rate: Whisper always gives maxSourcePositions (its input is
 * padded to 30 s); wav2vec 2.0 applies floor((L - kernel) / stride) + 1 for each conv. Throws InputError naming
 * `audioName` when the audio is too short for even one frame.
 */
export function encoderFrames(config: ModelConfig, samples: number, audioName: string): number {
  if (config.family === 'whisper') return config.maxSourcePositions;
  let length = samples;
  for (const { kernel, stride } of config.convLayers) {
    check(length >= kernel, audioName, 'out-of-range', () => `${samples} samples is too short for ${config.name}: the feature encoder needs at least ${minimumSamples(config)}`);
    length = Math.floor((length - kernel) / stride) + 1;
  }
  return length;
}

/** The fewest samples that give one wav2vec 2.0 frame (400 for the usual conv stack: 25 ms at 16 kHz). */
export function minimumSamples(config: Wav2Vec2Config): number {
  let length = 1;
  for (let i = config.convLayers.length - 1; i >= 0; i--) length = (length - 1) * config.convLayers[i].stride + config.convLayers[i].kernel;
  return length;
}

/** Typed access to one parsed JSON object, with errors naming its file and key. */
class JsonReader {
  readonly file: string;
  private readonly root: Record<string, unknown>;

  constructor(json: JsonFile) {
    this.file = json.name;
    const text = typeof json.text === 'string' ? json.text : decodeUtf8(json.text, json.name);
    let root: unknown;
    try {
      root = JSON.parse(text);
    } catch (error) {
      throw new InputError(json.name, 'parse', `is not valid JSON (${printable(error instanceof Error ? error.message : String(error))})`);
    }
    check(typeof root === 'object' && root !== null && !Array.isArray(root), json.name, 'parse', () => 'is not a JSON object');
    this.root = root as Record<string, unknown>;
  }

  raw(key: string): unknown {
    return Object.hasOwn(this.root, key) ? this.root[key] : undefined;
  }

  /**
   * A positive integer up to `max` (or the default when the key is absent or null). The bound keeps a hostile
   * config from making us list billions of tensors; real models are orders of magnitude below it.
   */
  int(key: string, fallback: number, max = MAX_CONFIG_INTEGER): number {
    const value = this.raw(key) ?? fallback;
    check(
      Number.isSafeInteger(value) && (value as number) > 0 && (value as number) <= max,
      this.file,
      'bad-header',
      () => `${key} is ${printable(JSON.stringify(value) ?? String(value))}; expected a positive integer up to ${max}`,
    );
    return value as number;
  }

  /** A positive finite number. */
  positive(key: string, fallback: number): number {
    const value = this.raw(key) ?? fallback;
    check(typeof value === 'number' && Number.isFinite(value) && value > 0, this.file, 'bad-header', () => `${key} is ${printable(JSON.stringify(value) ?? String(value))}; expected a positive number`);
    return value;
  }

  string(key: string, fallback: string): string {
    const value = this.raw(key) ?? fallback;
    check(typeof value === 'string', this.file, 'bad-header', () => `${key} is ${printable(JSON.stringify(value) ?? String(value))}; expected a string`);
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw(key) ?? fallback;
    check(typeof value === 'boolean', this.file, 'bad-header', () => `${key} is ${printable(JSON.stringify(value) ?? String(value))}; expected true or false`);
    return value;
  }

  /** A non-empty list of positive integers, at most 64 long (a conv stack). */
  intArray(key: string, fallback: readonly number[]): number[] {
    const value = this.raw(key) ?? fallback;
    check(
      Array.isArray(value) && value.length > 0 && value.length <= 64 && value.every((v) => Number.isSafeInteger(v) && v > 0 && v <= MAX_CONFIG_INTEGER),
      this.file,
      'bad-header',
      () => `${key} is ${printable(JSON.stringify(value) ?? String(value))}; expected a list of positive integers`,
    );
    return value as number[];
  }
}

function decodeUtf8(bytes: Uint8Array, name: string): string {
  check(bytes.byteLength <= MAX_CONFIG_BYTES, name, 'bad-header', () => `${bytes.byteLength} bytes is too large for a model config (at most ${MAX_CONFIG_BYTES})`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(name, 'parse', 'is not UTF-8 text');
  }
}
