/**
 * Whisper's encoder on the GPU, as transformers' WhisperEncoder computes it:
 *   conv1 (kernel 3, padding 1) + GELU, conv2 (kernel 3, stride 2, padding 1) + GELU, + embed_positions,
 *   then per layer (pre-LN, eps 1e-5): x = LN(h); h += out_proj(softmax(q k^T) v) with q = q_proj(x) * head_dim^-0.5
 *   (q_proj with bias), k = k_proj(x) WITHOUT bias, v_proj with bias; h += fc2(GELU(fc1(LN(h)))),
 *   and a final layer_norm. GELU is the exact erf form.
 * Input: the log-mel spectrogram, melBins x melFrames (channels first), from src/model/whisperFeatures.ts.
 */
import { createStorageBuffer, createStorageBufferFrom } from '../../gpu/buffers.ts';
import type { WhisperConfig } from '../config.ts';
import type { Activation } from '../ops/modelKernel.ts';
import type { ModelPasses } from '../ops/modelPasses.ts';
import { encodeFeedForward, encodeSelfAttention } from './attention.ts';
import { EncoderRun, type LayerProgress, type QueryKeyNames } from './encoderRun.ts';
import { ScratchBuffers, type GpuWeights } from './gpuTensors.ts';

/** Deliberate departures from the model, for tests that show the comparison would catch them. */
export interface WhisperMutation {
  /** Give k a bias (v_proj's, as the fixture generator's wrong variant does); Whisper's k_proj has none. */
  readonly kBias?: boolean;
  /** The GELU to use instead of the exact erf form. */
  readonly gelu?: Activation;
}

function layerNames(layer: number) {
  const p = `layers.${layer}.`;
  return {
    attnNormWeight: `${p}self_attn_layer_norm.weight`,
    attnNormBias: `${p}self_attn_layer_norm.bias`,
    qWeight: `${p}self_attn.q_proj.weight`,
    qBias: `${p}self_attn.q_proj.bias`,
    kWeight: `${p}self_attn.k_proj.weight`,
    vWeight: `${p}self_attn.v_proj.weight`,
    vBias: `${p}self_attn.v_proj.bias`,
    outWeight: `${p}self_attn.out_proj.weight`,
    outBias: `${p}self_attn.out_proj.bias`,
    ffnNormWeight: `${p}final_layer_norm.weight`,
    ffnNormBias: `${p}final_layer_norm.bias`,
    fc1Weight: `${p}fc1.weight`,
    fc1Bias: `${p}fc1.bias`,
    fc2Weight: `${p}fc2.weight`,
    fc2Bias: `${p}fc2.bias`,
  };
}

export function whisperQueryKeyNames(layer: number, mutation: WhisperMutation = {}): QueryKeyNames {
  const names = layerNames(layer);
  return { qWeight: names.qWeight, qBias: names.qBias, kWeight: names.kWeight, kBias: mutation.kBias ? names.vBias : undefined };
}

/**
 * Runs the encoder on `mel` (melBins x melFrames). Weights are read from the checkpoint layer by layer; afterwards
 * only the q/k projections stay on the GPU, beside each layer's attention input.
 */
export async function runWhisperEncoder(
  passes: ModelPasses,
  weights: GpuWeights,
  config: WhisperConfig,
  mel: Float32Array,
  onProgress: LayerProgress = () => {},
  mutation: WhisperMutation = {},
): Promise<EncoderRun> {
  const device = passes.device;
  const melFrames = config.features.melFrames;
  const { hiddenSize: width, layers, numMelBins } = config;
  if (mel.length !== numMelBins * melFrames) {
    throw new RangeError(`runWhisperEncoder: the log-mel has ${mel.length} values, ${config.name} needs ${numMelBins} x ${melFrames}`);
  }
  const frames = config.maxSourcePositions;
  const eps = config.layerNormEps;
  const gelu = mutation.gelu ?? 'gelu';
  const scratch = new ScratchBuffers(device);
  const hidden = createStorageBuffer(device, 'Whisper.hidden', frames * width * 4);
  const output = createStorageBuffer(device, 'Whisper.output', frames * width * 4);
  const attentionInputs: GPUBuffer[] = [];
  const keep = new Set<string>();
  const submit = async (encoder: GPUCommandEncoder) => {
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };

  await weights.load(['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'embed_positions.weight']);
  const melBuffer = createStorageBufferFrom(device, 'Whisper.mel', mel);
  let encoder = device.createCommandEncoder({ label: 'Whisper.frontEnd' });
  const conv1Out = scratch.get('conv1', melFrames * width);
  passes.conv1d.encode(encoder, {
    input: melBuffer,
    inputLayout: 'channelsFirst',
    inChannels: numMelBins,
    inLength: melFrames,
    weight: weights.get('conv1.weight'),
    bias: weights.get('conv1.bias'),
    outChannels: width,
    kernelSize: 3,
    padding: 1,
    output: conv1Out,
    outputLayout: 'framesFirst',
    activation: gelu,
  });
  const conv2Out = scratch.get('conv2', frames * width);
  passes.conv1d.encode(encoder, {
    input: conv1Out,
    inputLayout: 'framesFirst',
    inChannels: width,
    inLength: melFrames,
    weight: weights.get('conv2.weight'),
    bias: weights.get('conv2.bias'),
    outChannels: width,
    kernelSize: 3,
    stride: 2,
    padding: 1,
    output: conv2Out,
    outputLayout: 'framesFirst',
    activation: gelu,
  });
  passes.elementwise.encode(encoder, {
    input: conv2Out,
    count: frames * width,
    addend: { buffer: weights.get('embed_positions.weight'), period: frames * width },
    output: hidden,
  });
  await submit(encoder);
  melBuffer.destroy();
  weights.releaseExcept((name) => keep.has(name));
  onProgress(0, layers);

  const dims = { frames, heads: config.heads, headDim: config.headDim };
  for (let layer = 0; layer < layers; layer++) {
    const names = layerNames(layer);
    await weights.load(Object.values(names));
    const qk = whisperQueryKeyNames(layer, mutation);
    for (const name of Object.values(qk)) if (name) keep.add(name);
    encoder = device.createCommandEncoder({ label: `Whisper.layer${layer}` });
    const attentionInput = createStorageBuffer(device, `Whisper.attentionInput${layer}`, frames * width * 4);
    attentionInputs.push(attentionInput);
    passes.normalize.encodeLayerNorm(encoder, {
      input: hidden,
      frames,
      channels: width,
      gamma: weights.get(names.attnNormWeight),
      beta: weights.get(names.attnNormBias),
      eps,
      output: attentionInput,
    });
    encodeSelfAttention(
      passes,
      encoder,
      scratch,
      attentionInput,
      {
        qWeight: weights.get(qk.qWeight),
        qBias: weights.get(qk.qBias),
        kWeight: weights.get(qk.kWeight),
        kBias: qk.kBias ? weights.get(qk.kBias) : undefined,
        vWeight: weights.get(names.vWeight),
        vBias: weights.get(names.vBias),
        outWeight: weights.get(names.outWeight),
        outBias: weights.get(names.outBias),
      },
      dims,
      hidden,
    );
    const normed = scratch.get('normed', frames * width);
    passes.normalize.encodeLayerNorm(encoder, {
      input: hidden,
      frames,
      channels: width,
      gamma: weights.get(names.ffnNormWeight),
      beta: weights.get(names.ffnNormBias),
      eps,
      output: normed,
    });
    encodeFeedForward(
      passes,
      encoder,
      scratch,
      normed,
      { fc1Weight: weights.get(names.fc1Weight), fc1Bias: weights.get(names.fc1Bias), fc2Weight: weights.get(names.fc2Weight), fc2Bias: weights.get(names.fc2Bias) },
      frames,
      width,
      config.ffnDim,
      hidden,
      gelu,
    );
    await submit(encoder);
    weights.releaseExcept((name) => keep.has(name));
    onProgress(layer + 1, layers);
  }

  await weights.load(['layer_norm.weight', 'layer_norm.bias']);
  encoder = device.createCommandEncoder({ label: 'Whisper.finalNorm' });
  passes.normalize.encodeLayerNorm(encoder, {
    input: hidden,
    frames,
    channels: width,
    gamma: weights.get('layer_norm.weight'),
    beta: weights.get('layer_norm.bias'),
    eps,
    output,
  });
  await submit(encoder);
  hidden.destroy();
  weights.releaseExcept((name) => keep.has(name));
  return new EncoderRun(config, frames, passes, weights, scratch, attentionInputs, output, (layer) => whisperQueryKeyNames(layer, mutation));
}
