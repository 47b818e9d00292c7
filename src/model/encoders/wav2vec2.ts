/**
 * The wav2vec 2.0 / HuBERT encoder on the GPU, as transformers' Wav2Vec2Model (and HubertModel) compute it:
 *   feature encoder: conv j (kernel k_j, stride s_j, bias when conv_bias), then
 *     'group': GroupNorm(C, C) after conv 0 only (each channel over time), GELU after every conv;
 *     'layer': LayerNorm over channels after every conv, then GELU;
 *   feature projection: LayerNorm (always for wav2vec2, feat_proj_layer_norm for HuBERT), then linear;
 *   h += GELU(positional conv(h)) (kernel K, padding K/2, groups G, the last frame dropped when K is even);
 *   post-LN (base): h = LN(h); per layer: h = LN(h + attention(h)); h = LN(h + FF(h));
 *   pre-LN (do_stable_layer_norm): per layer: h += attention(LN(h)); h += FF(LN(h)); finally h = LN(h);
 *   attention: biased q, k, v with q scaled by head_dim^-0.5, biased out_proj; FF: dense, GELU, dense.
 * Input: the waveform at 16 kHz, already normalised when the preprocessor asks for it (src/model/audio.ts).
 * The feature encoder keeps frames-first [T][C] data throughout, so no transposes are needed.
 */
import { createStorageBuffer, createStorageBufferFrom } from '../../gpu/buffers.ts';
import type { Wav2Vec2Config } from '../config.ts';
import type { ModelPasses } from '../ops/modelPasses.ts';
import { encodeLinear } from '../ops/matmul.ts';
import { encodeFeedForward, encodeSelfAttention } from './attention.ts';
import { EncoderRun, type LayerProgress, type QueryKeyNames } from './encoderRun.ts';
import { ScratchBuffers, type GpuWeights } from './gpuTensors.ts';

function layerNames(layer: number) {
  const p = `encoder.layers.${layer}.`;
  return {
    qWeight: `${p}attention.q_proj.weight`,
    qBias: `${p}attention.q_proj.bias`,
    kWeight: `${p}attention.k_proj.weight`,
    kBias: `${p}attention.k_proj.bias`,
    vWeight: `${p}attention.v_proj.weight`,
    vBias: `${p}attention.v_proj.bias`,
    outWeight: `${p}attention.out_proj.weight`,
    outBias: `${p}attention.out_proj.bias`,
    attnNormWeight: `${p}layer_norm.weight`,
    attnNormBias: `${p}layer_norm.bias`,
    ffnNormWeight: `${p}final_layer_norm.weight`,
    ffnNormBias: `${p}final_layer_norm.bias`,
    fc1Weight: `${p}feed_forward.intermediate_dense.weight`,
    fc1Bias: `${p}feed_forward.intermediate_dense.bias`,
    fc2Weight: `${p}feed_forward.output_dense.weight`,
    fc2Bias: `${p}feed_forward.output_dense.bias`,
  };
}

export function wav2vec2QueryKeyNames(layer: number): QueryKeyNames {
  const names = layerNames(layer);
  return { qWeight: names.qWeight, qBias: names.qBias, kWeight: names.kWeight, kBias: names.kBias };
}

/** Frames after each conv of the feature encoder, torch's floor((L - k) / s) + 1. */
export function convFrames(config: Wav2Vec2Config, samples: number): number[] {
  const lengths: number[] = [];
  let length = samples;
  for (const { kernel, stride } of config.convLayers) {
    length = Math.floor((length - kernel) / stride) + 1;
    lengths.push(length);
  }
  return lengths;
}

export async function runWav2Vec2Encoder(
  passes: ModelPasses,
  weights: GpuWeights,
  config: Wav2Vec2Config,
  samples: Float32Array,
  onProgress: LayerProgress = () => {},
): Promise<EncoderRun> {
  const device = passes.device;
  const lengths = convFrames(config, samples.length);
  const frames = lengths[lengths.length - 1];
  if (!(frames >= 1)) throw new RangeError(`runWav2Vec2Encoder: ${samples.length} samples give no frame for ${config.name}`);
  const { hiddenSize: width, layers } = config;
  const eps = config.layerNormEps;
  const scratch = new ScratchBuffers(device);
  const keep = new Set<string>();
  const submit = async (encoder: GPUCommandEncoder) => {
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };

  // Feature encoder, one command buffer per conv so its two ping-pong buffers can be freed as it shrinks.
  let current = createStorageBufferFrom(device, 'Wav2Vec2.samples', samples);
  let channels = 1;
  let length = samples.length;
  for (let j = 0; j < config.convLayers.length; j++) {
    const { dim, kernel, stride } = config.convLayers[j];
    const prefix = `feature_extractor.conv_layers.${j}.`;
    const norm = config.featExtractNorm === 'layer' || j === 0 ? `${prefix}layer_norm.` : undefined;
    const needed = [`${prefix}conv.weight`];
    if (config.convBias) needed.push(`${prefix}conv.bias`);
    if (norm) needed.push(`${norm}weight`, `${norm}bias`);
    await weights.load(needed);
    const outLength = lengths[j];
    const encoder = device.createCommandEncoder({ label: `Wav2Vec2.conv${j}` });
    const convOut = createStorageBuffer(device, `Wav2Vec2.conv${j}`, outLength * dim * 4);
    passes.conv1d.encode(encoder, {
      input: current,
      inputLayout: 'framesFirst',
      inChannels: channels,
      inLength: length,
      weight: weights.get(`${prefix}conv.weight`),
      bias: config.convBias ? weights.get(`${prefix}conv.bias`) : undefined,
      outChannels: dim,
      kernelSize: kernel,
      stride,
      output: convOut,
      outputLayout: 'framesFirst',
      activation: norm ? 'none' : 'gelu',
    });
    let result = convOut;
    if (norm) {
      result = createStorageBuffer(device, `Wav2Vec2.conv${j}.normed`, outLength * dim * 4);
      // torch's GroupNorm and LayerNorm defaults: the feature encoder's norms ignore layer_norm_eps.
      const job = { input: convOut, frames: outLength, channels: dim, gamma: weights.get(`${norm}weight`), beta: weights.get(`${norm}bias`), eps: 1e-5, output: result, activation: 'gelu' as const };
      if (config.featExtractNorm === 'layer') passes.normalize.encodeLayerNorm(encoder, job);
      else passes.normalize.encodeChannelNorm(encoder, job);
    }
    await submit(encoder);
    current.destroy();
    if (result !== convOut) convOut.destroy();
    current = result;
    channels = dim;
    length = outLength;
    weights.releaseExcept((name) => keep.has(name));
  }

  // Feature projection and positional conv.
  const projectionNames = ['feature_projection.projection.weight', 'feature_projection.projection.bias', 'encoder.pos_conv_embed.conv.weight', 'encoder.pos_conv_embed.conv.bias', 'encoder.layer_norm.weight', 'encoder.layer_norm.bias'];
  if (config.featureProjectionLayerNorm) projectionNames.push('feature_projection.layer_norm.weight', 'feature_projection.layer_norm.bias');
  await weights.load(projectionNames);
  let encoder = device.createCommandEncoder({ label: 'Wav2Vec2.projection' });
  let projectionInput = current;
  if (config.featureProjectionLayerNorm) {
    projectionInput = scratch.get('projectionNorm', frames * channels);
    passes.normalize.encodeLayerNorm(encoder, {
      input: current,
      frames,
      channels,
      gamma: weights.get('feature_projection.layer_norm.weight'),
      beta: weights.get('feature_projection.layer_norm.bias'),
      eps,
      output: projectionInput,
    });
  }
  let hidden = createStorageBuffer(device, 'Wav2Vec2.hidden', frames * width * 4);
  encodeLinear(passes.matmul, encoder, {
    input: projectionInput,
    rows: frames,
    inFeatures: channels,
    outFeatures: width,
    weight: weights.get('feature_projection.projection.weight'),
    bias: weights.get('feature_projection.projection.bias'),
    output: hidden,
  });
  // The conv reads a copy: a buffer cannot be read and accumulated into in one dispatch.
  const hiddenCopy = scratch.get('hiddenCopy', frames * width);
  encoder.copyBufferToBuffer(hidden, 0, hiddenCopy, 0, frames * width * 4);
  const posKernel = config.posConvKernel;
  passes.conv1d.encode(encoder, {
    input: hiddenCopy,
    inputLayout: 'framesFirst',
    inChannels: width,
    inLength: frames,
    weight: weights.get('encoder.pos_conv_embed.conv.weight'),
    bias: weights.get('encoder.pos_conv_embed.conv.bias'),
    outChannels: width,
    kernelSize: posKernel,
    padding: Math.floor(posKernel / 2),
    groups: config.posConvGroups,
    outLength: frames, // SamePad: with an even kernel the padded conv gives frames + 1, and the last is dropped
    output: hidden,
    outputLayout: 'framesFirst',
    activation: 'gelu',
    accumulate: true,
  });
  const encoderNorm = { gamma: weights.get('encoder.layer_norm.weight'), beta: weights.get('encoder.layer_norm.bias'), eps, frames, channels: width };
  if (!config.doStableLayerNorm) {
    const normed = createStorageBuffer(device, 'Wav2Vec2.hidden', frames * width * 4);
    passes.normalize.encodeLayerNorm(encoder, { ...encoderNorm, input: hidden, output: normed });
    await submit(encoder);
    hidden.destroy();
    hidden = normed;
  } else {
    await submit(encoder);
  }
  current.destroy();
  keep.add('encoder.layer_norm.weight').add('encoder.layer_norm.bias');
  weights.releaseExcept((name) => keep.has(name));
  onProgress(0, layers);

  const dims = { frames, heads: config.heads, headDim: config.headDim };
  const attentionInputs: GPUBuffer[] = [];
  for (let layer = 0; layer < layers; layer++) {
    const names = layerNames(layer);
    await weights.load(Object.values(names));
    for (const name of Object.values(wav2vec2QueryKeyNames(layer))) if (name) keep.add(name);
    encoder = device.createCommandEncoder({ label: `Wav2Vec2.layer${layer}` });
    const attentionInput = createStorageBuffer(device, `Wav2Vec2.attentionInput${layer}`, frames * width * 4);
    attentionInputs.push(attentionInput);
    const attentionWeights = {
      qWeight: weights.get(names.qWeight),
      qBias: weights.get(names.qBias),
      kWeight: weights.get(names.kWeight),
      kBias: weights.get(names.kBias),
      vWeight: weights.get(names.vWeight),
      vBias: weights.get(names.vBias),
      outWeight: weights.get(names.outWeight),
      outBias: weights.get(names.outBias),
    };
    const ffnWeights = { fc1Weight: weights.get(names.fc1Weight), fc1Bias: weights.get(names.fc1Bias), fc2Weight: weights.get(names.fc2Weight), fc2Bias: weights.get(names.fc2Bias) };
    const attnNorm = { gamma: weights.get(names.attnNormWeight), beta: weights.get(names.attnNormBias), eps, frames, channels: width };
    const ffnNorm = { gamma: weights.get(names.ffnNormWeight), beta: weights.get(names.ffnNormBias), eps, frames, channels: width };
    if (config.doStableLayerNorm) {
      passes.normalize.encodeLayerNorm(encoder, { ...attnNorm, input: hidden, output: attentionInput });
      encodeSelfAttention(passes, encoder, scratch, attentionInput, attentionWeights, dims, hidden);
      const normed = scratch.get('normed', frames * width);
      passes.normalize.encodeLayerNorm(encoder, { ...ffnNorm, input: hidden, output: normed });
      encodeFeedForward(passes, encoder, scratch, normed, ffnWeights, frames, width, config.ffnDim, hidden);
    } else {
      encoder.copyBufferToBuffer(hidden, 0, attentionInput, 0, frames * width * 4);
      encodeSelfAttention(passes, encoder, scratch, attentionInput, attentionWeights, dims, hidden);
      const normed = scratch.get('normed', frames * width);
      passes.normalize.encodeLayerNorm(encoder, { ...attnNorm, input: hidden, output: normed });
      encodeFeedForward(passes, encoder, scratch, normed, ffnWeights, frames, width, config.ffnDim, normed);
      passes.normalize.encodeLayerNorm(encoder, { ...ffnNorm, input: normed, output: hidden });
    }
    await submit(encoder);
    weights.releaseExcept((name) => keep.has(name));
    onProgress(layer + 1, layers);
  }

  const output = createStorageBuffer(device, 'Wav2Vec2.output', frames * width * 4);
  encoder = device.createCommandEncoder({ label: 'Wav2Vec2.output' });
  if (config.doStableLayerNorm) passes.normalize.encodeLayerNorm(encoder, { ...encoderNorm, input: hidden, output });
  else encoder.copyBufferToBuffer(hidden, 0, output, 0, frames * width * 4);
  await submit(encoder);
  hidden.destroy();
  keep.delete('encoder.layer_norm.weight');
  keep.delete('encoder.layer_norm.bias');
  weights.releaseExcept((name) => keep.has(name));
  return new EncoderRun(config, frames, passes, weights, scratch, attentionInputs, output, wav2vec2QueryKeyNames);
}
