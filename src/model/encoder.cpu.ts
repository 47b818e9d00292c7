/**
 * Plain float64 TypeScript references of the Whisper and wav2vec 2.0 / HuBERT encoders: the numbers the WGSL
 * kernels are compared against (tests/model/encoder.cpu.test.ts checks these against the torch fixtures of
 * tests/fixtures/model), and the host's forward pass where there is no GPU (src/model/host/hostModelSource.ts).
 * Loops over row-major Float64Arrays, written for clarity except the matrix products (linear layers, q . k^T and
 * probabilities . v), which go through the blocked gemmTransposed (src/model/host/gemm.ts): ~4 GFLOP/s on one
 * core, a Whisper base forward pass in seconds rather than minutes.
 *
 * Layouts: hidden states are frames x hidden, row-major; conv activations are channels x time; scores of a layer
 * are heads x queries x keys, (q * head_dim^-0.5) @ k^T (softmax over the last axis is the model's attention).
 * Weights are the canonical names of checkpoint.ts.
 */
import type { EncoderTensor } from './checkpoint.ts';
import type { ModelConfig, Wav2Vec2Config, WhisperConfig } from './config.ts';
import { gemmTransposed } from './host/gemm.ts';

/** Encoder tensors by canonical name (EncoderWeights.tensors). */
export type WeightMap = ReadonlyMap<string, EncoderTensor>;

/** What a forward pass computes, stage by stage (every array frames x hidden unless said otherwise). */
export interface EncoderTrace {
  readonly frames: number;
  readonly hiddenSize: number;
  /** wav2vec 2.0 only: the conv feature encoder's output, frames x conv_dim[-1]. */
  readonly convFeatures?: Float64Array;
  /** wav2vec 2.0 only: after the feature projection. */
  readonly projected?: Float64Array;
  /** The input of layer 0: the front end's output (see tests/fixtures/model/README.md, `front_end`). */
  readonly frontEnd: Float64Array;
  /** hidden[i]: after layer i. */
  readonly hidden: readonly Float64Array[];
  /** last_hidden_state: after the final LayerNorm where the model has one. */
  readonly final: Float64Array;
  /** scores[i]: layer i's pre-softmax scores, heads x frames x frames. */
  readonly scores: readonly Float64Array[];
}

/** Switches for tests that show a wrong computation does not match (never for real use). */
export interface EncoderCpuOptions {
  /** The activation used everywhere GELU is (default: the exact erf GELU). */
  readonly activation?: (x: number) => number;
  /** Whisper only: add this layer's v_proj.bias to k, a mistake the raw scores must reveal. */
  readonly whisperKBiasFromV?: boolean;
  /**
   * Keep each layer's scores (heads x frames x frames) in the trace; true by default. A forward pass for use sets it
   * false and takes q and k from onQueryKey instead: a large-v3 layer's scores are 360 MB in float64.
   */
  readonly keepScores?: boolean;
  /** Hears each layer's scaled queries (q * head_dim^-0.5) and keys, frames x hidden each, as they are made. */
  readonly onQueryKey?: (layer: number, query: Float64Array, key: Float64Array) => void;
}

/** The forward pass of either family: Whisper takes its log-mel (melBins x melFrames), wav2vec 2.0 its waveform. */
export function encoderCpu(config: ModelConfig, weights: WeightMap, input: Float32Array, options: EncoderCpuOptions = {}): EncoderTrace {
  const front = frontEndCpu(config, weights, input, options);
  const trace = runLayers(config, weights, front.frontEnd, front.frames, options);
  const last = trace.hidden[trace.hidden.length - 1] ?? front.frontEnd;
  // Whisper's final layer_norm, and wav2vec 2.0's encoder LayerNorm after pre-LN layers (do_stable_layer_norm).
  const finalNorm = config.family === 'whisper' ? 'layer_norm' : config.doStableLayerNorm ? 'encoder.layer_norm' : undefined;
  const final = finalNorm ? layerNorm(last, front.frames, config.hiddenSize, tensor(weights, `${finalNorm}.weight`), tensor(weights, `${finalNorm}.bias`), config.layerNormEps) : last;
  return { ...front, ...trace, final };
}

/** What comes before the layers: the input of layer 0, frames x hidden, and wav2vec 2.0's intermediate stages. */
export type FrontEndTrace = Pick<EncoderTrace, 'frames' | 'hiddenSize' | 'frontEnd' | 'convFeatures' | 'projected'>;

/** The front end of either family (its weights: every tensor outside the layers). */
export function frontEndCpu(config: ModelConfig, weights: WeightMap, input: Float32Array, options: EncoderCpuOptions = {}): FrontEndTrace {
  return config.family === 'whisper' ? whisperFrontEndCpu(config, weights, input, options) : wav2vec2FrontEndCpu(config, weights, input, options);
}

/**
 * WhisperEncoder's front end: gelu(conv1 (k3, pad 1)), gelu(conv2 (k3, stride 2, pad 1)), + embed_positions; its
 * pre-LN layers follow (q with bias and scaled, k without bias), then the final layer_norm. `logMel` is melBins x
 * melFrames.
 */
function whisperFrontEndCpu(config: WhisperConfig, weights: WeightMap, logMel: Float32Array, options: EncoderCpuOptions): FrontEndTrace {
  const act = options.activation ?? gelu;
  const { melBins, melFrames } = config.features;
  if (logMel.length !== melBins * melFrames) throw new RangeError(`whisperEncoderCpu: log-mel has ${logMel.length} values, expected ${melBins} x ${melFrames}`);
  const conv1 = conv1d(Float64Array.from(logMel), melBins, melFrames, tensor(weights, 'conv1.weight'), tensor(weights, 'conv1.bias'), 1, 1, 1);
  const x = conv1d(conv1.data.map(act), conv1.channels, conv1.length, tensor(weights, 'conv2.weight'), tensor(weights, 'conv2.bias'), 2, 1, 1);
  const frames = x.length;
  const d = config.hiddenSize;
  const positions = tensor(weights, 'embed_positions.weight');
  const frontEnd = new Float64Array(frames * d);
  for (let t = 0; t < frames; t++) for (let c = 0; c < d; c++) frontEnd[t * d + c] = act(x.data[c * frames + t]) + positions.data[t * d + c];
  return { frames, hiddenSize: d, frontEnd };
}

/**
 * Wav2Vec2Model / HubertModel's front end: the conv feature encoder (GroupNorm after conv 0 or a LayerNorm after
 * every conv, then GELU), the feature projection (LayerNorm, linear), + gelu(positional conv) (padding K/2, groups G,
 * the last frame dropped when K is even), then the encoder LayerNorm before post-LN layers (with pre-LN layers,
 * do_stable_layer_norm, it comes after them). `samples` is the 16 kHz waveform after do_normalize.
 */
function wav2vec2FrontEndCpu(config: Wav2Vec2Config, weights: WeightMap, samples: Float32Array, options: EncoderCpuOptions): FrontEndTrace {
  const act = options.activation ?? gelu;
  let x: { data: Float64Array; channels: number; length: number } = { data: Float64Array.from(samples), channels: 1, length: samples.length };
  config.convLayers.forEach(({ stride }, j) => {
    const prefix = `feature_extractor.conv_layers.${j}`;
    x = conv1d(x.data, x.channels, x.length, tensor(weights, `${prefix}.conv.weight`), config.convBias ? tensor(weights, `${prefix}.conv.bias`) : undefined, stride, 0, 1);
    if (config.featExtractNorm === 'group' && j === 0) {
      groupNormPerChannel(x.data, x.channels, x.length, tensor(weights, `${prefix}.layer_norm.weight`), tensor(weights, `${prefix}.layer_norm.bias`), 1e-5);
    } else if (config.featExtractNorm === 'layer') {
      const normed = layerNorm(transpose(x.data, x.channels, x.length), x.length, x.channels, tensor(weights, `${prefix}.layer_norm.weight`), tensor(weights, `${prefix}.layer_norm.bias`), 1e-5);
      x = { ...x, data: transpose(normed, x.length, x.channels) };
    }
    x = { ...x, data: x.data.map(act) };
  });
  const frames = x.length;
  const convDim = x.channels;
  const convFeatures = transpose(x.data, convDim, frames);
  const h = config.hiddenSize;
  const eps = config.layerNormEps;
  const projectionInput = config.featureProjectionLayerNorm
    ? layerNorm(convFeatures, frames, convDim, tensor(weights, 'feature_projection.layer_norm.weight'), tensor(weights, 'feature_projection.layer_norm.bias'), eps)
    : convFeatures;
  const projected = linear(projectionInput, frames, convDim, tensor(weights, 'feature_projection.projection.weight'), tensor(weights, 'feature_projection.projection.bias'));

  const kernel = config.posConvKernel;
  const position = conv1d(
    transpose(projected, frames, h),
    h,
    frames,
    tensor(weights, 'encoder.pos_conv_embed.conv.weight'),
    tensor(weights, 'encoder.pos_conv_embed.conv.bias'),
    1,
    Math.floor(kernel / 2),
    config.posConvGroups,
  );
  // An even kernel with padding K/2 gives one frame too many; Wav2Vec2SamePadLayer drops the last.
  let frontEnd: Float64Array = new Float64Array(frames * h);
  for (let t = 0; t < frames; t++) for (let c = 0; c < h; c++) frontEnd[t * h + c] = projected[t * h + c] + act(position.data[c * position.length + t]);
  if (!config.doStableLayerNorm) frontEnd = layerNorm(frontEnd, frames, h, tensor(weights, 'encoder.layer_norm.weight'), tensor(weights, 'encoder.layer_norm.bias'), eps);
  return { frames, hiddenSize: h, convFeatures, projected, frontEnd };
}

function runLayers(config: ModelConfig, weights: WeightMap, input: Float64Array, frames: number, options: EncoderCpuOptions): { hidden: Float64Array[]; scores: Float64Array[] } {
  const hidden: Float64Array[] = [];
  const scores: Float64Array[] = [];
  let x = input;
  for (let layer = 0; layer < config.layers; layer++) {
    const result = encoderLayerCpu(config, weights, layer, x, frames, options);
    hidden.push(result.output);
    if (result.scores) scores.push(result.scores);
    x = result.output;
  }
  return { hidden, scores };
}

/**
 * One encoder layer on its input hidden states (frames x hidden): its output and its pre-softmax scores. This is
 * what recomputing an evicted layer's scores from the kept hidden states amounts to.
 */
export function encoderLayerCpu(
  config: ModelConfig,
  weights: WeightMap,
  layer: number,
  input: Float64Array,
  frames: number,
  options: EncoderCpuOptions = {},
): { output: Float64Array; scores?: Float64Array } {
  const act = options.activation ?? gelu;
  const d = config.hiddenSize;
  const eps = config.layerNormEps;
  const w = (name: string) => tensor(weights, name);
  if (config.family === 'whisper') {
    const p = `layers.${layer}`;
    const normed = layerNorm(input, frames, d, w(`${p}.self_attn_layer_norm.weight`), w(`${p}.self_attn_layer_norm.bias`), eps);
    const kBias = options.whisperKBiasFromV ? w(`${p}.self_attn.v_proj.bias`) : undefined;
    const { output: attention, scores } = selfAttention(normed, frames, config, weights, `${p}.self_attn`, kBias, layer, options);
    const x = add(input, attention);
    const mlpInput = layerNorm(x, frames, d, w(`${p}.final_layer_norm.weight`), w(`${p}.final_layer_norm.bias`), eps);
    const inner = linear(mlpInput, frames, d, w(`${p}.fc1.weight`), w(`${p}.fc1.bias`)).map(act);
    return { output: add(x, linear(inner, frames, config.ffnDim, w(`${p}.fc2.weight`), w(`${p}.fc2.bias`))), scores };
  }
  const p = `encoder.layers.${layer}`;
  const feedForward = (h: Float64Array) => {
    const inner = linear(h, frames, d, w(`${p}.feed_forward.intermediate_dense.weight`), w(`${p}.feed_forward.intermediate_dense.bias`)).map(act);
    return linear(inner, frames, config.ffnDim, w(`${p}.feed_forward.output_dense.weight`), w(`${p}.feed_forward.output_dense.bias`));
  };
  const kBias = w(`${p}.attention.k_proj.bias`);
  if (config.doStableLayerNorm) {
    const normed = layerNorm(input, frames, d, w(`${p}.layer_norm.weight`), w(`${p}.layer_norm.bias`), eps);
    const { output: attention, scores } = selfAttention(normed, frames, config, weights, `${p}.attention`, kBias, layer, options);
    const x = add(input, attention);
    const mlpInput = layerNorm(x, frames, d, w(`${p}.final_layer_norm.weight`), w(`${p}.final_layer_norm.bias`), eps);
    return { output: add(x, feedForward(mlpInput)), scores };
  }
  const { output: attention, scores } = selfAttention(input, frames, config, weights, `${p}.attention`, kBias, layer, options);
  const x = layerNorm(add(input, attention), frames, d, w(`${p}.layer_norm.weight`), w(`${p}.layer_norm.bias`), eps);
  return { output: layerNorm(add(x, feedForward(x)), frames, d, w(`${p}.final_layer_norm.weight`), w(`${p}.final_layer_norm.bias`), eps), scores };
}

/**
 * Multi-head self-attention: out_proj(softmax(scores) v) and, with options.keepScores (the default), the pre-softmax
 * scores (heads x frames x frames).
 */
function selfAttention(
  x: Float64Array,
  frames: number,
  config: ModelConfig,
  weights: WeightMap,
  prefix: string,
  kBias: EncoderTensor | undefined,
  layer: number,
  options: EncoderCpuOptions,
): { output: Float64Array; scores?: Float64Array } {
  const { hiddenSize: d, heads, headDim } = config;
  const scale = headDim ** -0.5;
  const q = linear(x, frames, d, tensor(weights, `${prefix}.q_proj.weight`), tensor(weights, `${prefix}.q_proj.bias`)).map((v) => v * scale);
  const k = linear(x, frames, d, tensor(weights, `${prefix}.k_proj.weight`), kBias);
  const v = linear(x, frames, d, tensor(weights, `${prefix}.v_proj.weight`), tensor(weights, `${prefix}.v_proj.bias`));
  options.onQueryKey?.(layer, q, k);
  const keepScores = options.keepScores ?? true;
  const scores = keepScores ? new Float64Array(heads * frames * frames) : undefined;
  const headScores = keepScores ? undefined : new Float64Array(frames * frames);
  const mixed = new Float64Array(frames * d);
  // One head's values transposed (headDim x frames), so that probabilities . v is a product with B^T as well.
  const valuesT = new Float64Array(headDim * frames);
  for (let h = 0; h < heads; h++) {
    const offset = h * headDim;
    const probabilities = scores ? scores.subarray(h * frames * frames, (h + 1) * frames * frames) : headScores!;
    gemmTransposed(frames, frames, headDim, { data: q, offset, rowStride: d }, { data: k, offset, rowStride: d }, { data: probabilities, offset: 0, rowStride: frames });
    // The scores are kept; softmax goes into a copy when they are.
    const weightsOfRows = scores ? probabilities.slice() : probabilities;
    for (let i = 0; i < frames; i++) softmaxInPlace(weightsOfRows.subarray(i * frames, (i + 1) * frames));
    for (let j = 0; j < frames; j++) for (let c = 0; c < headDim; c++) valuesT[c * frames + j] = v[j * d + offset + c];
    gemmTransposed(frames, headDim, frames, { data: weightsOfRows, offset: 0, rowStride: frames }, { data: valuesT, offset: 0, rowStride: frames }, { data: mixed, offset, rowStride: d });
  }
  return { output: linear(mixed, frames, d, tensor(weights, `${prefix}.out_proj.weight`), tensor(weights, `${prefix}.out_proj.bias`)), scores };
}

/** exp(x - max) / sum over one row, in place. */
function softmaxInPlace(row: Float64Array): void {
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) if (row[j] > max) max = row[j];
  let sum = 0;
  for (let j = 0; j < row.length; j++) sum += row[j] = Math.exp(row[j] - max);
  for (let j = 0; j < row.length; j++) row[j] /= sum;
}

function tensor(weights: WeightMap, name: string): EncoderTensor {
  const found = weights.get(name);
  if (!found) throw new RangeError(`encoder reference: no tensor '${name}'`);
  return found;
}

/** x (rows x inputs) W^T + b, W being outputs x inputs (torch's Linear). */
export function linear(x: Float64Array, rows: number, inputs: number, weight: EncoderTensor, bias?: EncoderTensor): Float64Array {
  const outputs = weight.shape[0];
  const y = new Float64Array(rows * outputs);
  gemmTransposed(rows, outputs, inputs, { data: x, offset: 0, rowStride: inputs }, { data: Float64Array.from(weight.data), offset: 0, rowStride: inputs }, { data: y, offset: 0, rowStride: outputs }, bias?.data);
  return y;
}

/** LayerNorm over the last axis (biased variance), rows x width. */
export function layerNorm(x: Float64Array, rows: number, width: number, weight: EncoderTensor, bias: EncoderTensor, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < width; c++) mean += x[r * width + c];
    mean /= width;
    let variance = 0;
    for (let c = 0; c < width; c++) variance += (x[r * width + c] - mean) ** 2;
    const inverse = 1 / Math.sqrt(variance / width + eps);
    for (let c = 0; c < width; c++) y[r * width + c] = (x[r * width + c] - mean) * inverse * weight.data[c] + bias.data[c];
  }
  return y;
}

/** GroupNorm with one group per channel, in place on channels x time: each channel normalised over time. */
function groupNormPerChannel(x: Float64Array, channels: number, length: number, weight: EncoderTensor, bias: EncoderTensor, eps: number): void {
  for (let c = 0; c < channels; c++) {
    const row = x.subarray(c * length, (c + 1) * length);
    let mean = 0;
    for (let t = 0; t < length; t++) mean += row[t];
    mean /= length;
    let variance = 0;
    for (let t = 0; t < length; t++) variance += (row[t] - mean) ** 2;
    const inverse = 1 / Math.sqrt(variance / length + eps);
    for (let t = 0; t < length; t++) row[t] = (row[t] - mean) * inverse * weight.data[c] + bias.data[c];
  }
}

/** Most bytes of input windows conv1d holds at once. */
const CONV_WINDOW_BYTES = 32 * 1024 * 1024;

/**
 * torch's conv1d on channels x length input with zero padding: weight is out x (in / groups) x kernel; output
 * length floor((length + 2 padding - kernel) / stride) + 1.
 */
export function conv1d(
  x: Float64Array,
  channels: number,
  length: number,
  weight: EncoderTensor,
  bias: EncoderTensor | undefined,
  stride: number,
  padding: number,
  groups: number,
): { data: Float64Array; channels: number; length: number } {
  const [outChannels, groupInputs, kernel] = weight.shape;
  if (groupInputs * groups !== channels) throw new RangeError(`conv1d: weight [${weight.shape}] with ${groups} groups does not take ${channels} channels`);
  const outLength = Math.floor((length + 2 * padding - kernel) / stride) + 1;
  const groupOutputs = outChannels / groups;
  const taps = groupInputs * kernel;
  const y = new Float64Array(outChannels * outLength);
  // Per group, the input windows as rows (time x groupInputs * kernel, zero where the window leaves the input), so
  // that the group's outputs are one matrix product, weight . windows^T, straight into y's channels x time rows; a
  // span of CONV_WINDOW_BYTES at a time (wav2vec 2.0's second conv over 30 s of audio has 48 000 windows of 1536).
  const span = Math.max(1, Math.min(outLength, Math.floor(CONV_WINDOW_BYTES / 8 / taps)));
  const windows = new Float64Array(span * taps);
  const weights = Float64Array.from(weight.data);
  for (let group = 0; group < groups; group++) {
    const first = group * groupOutputs;
    for (let start = 0; start < outLength; start += span) {
      const count = Math.min(span, outLength - start);
      for (let w = 0; w < count; w++) {
        for (let i = 0; i < groupInputs; i++) {
          const row = (group * groupInputs + i) * length;
          for (let k = 0; k < kernel; k++) {
            const position = (start + w) * stride + k - padding;
            windows[w * taps + i * kernel + k] = position >= 0 && position < length ? x[row + position] : 0;
          }
        }
      }
      gemmTransposed(groupOutputs, count, taps, { data: weights, offset: first * taps, rowStride: taps }, { data: windows, offset: 0, rowStride: taps }, { data: y, offset: first * outLength + start, rowStride: outLength });
    }
  }
  if (bias) for (let o = 0; o < outChannels; o++) for (let t = 0; t < outLength; t++) y[o * outLength + t] += bias.data[o];
  return { data: y, channels: outChannels, length: outLength };
}

function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[c * rows + r] = x[r * cols + c];
  return y;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]);
}

/** The exact GELU, x Phi(x) = x (1 + erf(x / sqrt 2)) / 2. */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** The tanh approximation of GELU (GPT-2's "gelu_new"): not what these models use; for tests that must fail. */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/**
 * erf in float64, to about 1e-15: its Maclaurin series below |x| = 2 (terms stay under e^4, so little is lost
 * to cancellation), and 1 - erfc(x) from erfc's continued fraction (120 terms) above.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2) {
    // erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = a;
    let sum = a;
    const square = a * a;
    for (let n = 1; n < 200; n++) {
      term *= -square / n;
      const next = term / (2 * n + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  if (a > 6) return Math.sign(x);
  // erfc(a) = exp(-a^2) / sqrt(pi) * 1 / (a + (1/2) / (a + 1 / (a + (3/2) / (a + 2 / (a + ...))))), evaluated bottom-up.
  let fraction = a;
  for (let n = 120; n >= 1; n--) fraction = a + n / 2 / fraction;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction;
  return Math.sign(x) * (1 - erfc);
}
