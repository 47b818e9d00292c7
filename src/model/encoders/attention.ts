/**
 * The self-attention both encoder families share, on the GPU: q, k, v projections, per-head scores q . k^T with q
 * scaled by head_dim^-0.5 (rows = queries, columns = keys, as torch's q @ k^T), softmax over keys, probabilities . V,
 * and the output projection added to the residual stream.
 */
import type { Activation } from '../ops/modelKernel.ts';
import { encodeLinear } from '../ops/matmul.ts';
import type { ModelPasses } from '../ops/modelPasses.ts';
import type { ScratchBuffers } from './gpuTensors.ts';

/** The four projections of one layer; kBias is absent for Whisper. */
export interface AttentionWeights {
  readonly qWeight: GPUBuffer;
  readonly qBias: GPUBuffer;
  readonly kWeight: GPUBuffer;
  readonly kBias?: GPUBuffer;
  readonly vWeight: GPUBuffer;
  readonly vBias: GPUBuffer;
  readonly outWeight: GPUBuffer;
  readonly outBias: GPUBuffer;
}

export interface AttentionDims {
  readonly frames: number;
  readonly heads: number;
  readonly headDim: number;
}

/** Largest scratch for scores of several heads at once; heads beyond it are done in later groups. */
const MAX_SCORES_SCRATCH_BYTES = 64 * 1024 ** 2;

/** Records q = (x Wq^T + bq) head_dim^-0.5 and k = x Wk^T [+ bk] into the scratch buffers 'q' and 'k'. */
export function encodeQueryKey(
  passes: ModelPasses,
  encoder: GPUCommandEncoder,
  scratch: ScratchBuffers,
  input: GPUBuffer,
  weights: Pick<AttentionWeights, 'qWeight' | 'qBias' | 'kWeight' | 'kBias'>,
  dims: AttentionDims,
): { q: GPUBuffer; k: GPUBuffer } {
  const width = dims.heads * dims.headDim;
  const q = scratch.get('q', dims.frames * width);
  const k = scratch.get('k', dims.frames * width);
  const common = { input, rows: dims.frames, inFeatures: width, outFeatures: width };
  encodeLinear(passes.matmul, encoder, { ...common, weight: weights.qWeight, bias: weights.qBias, output: q, scale: dims.headDim ** -0.5 });
  encodeLinear(passes.matmul, encoder, { ...common, weight: weights.kWeight, bias: weights.kBias, output: k });
  return { q, k };
}

/** Records the scores of heads firstHead .. firstHead + headCount - 1 into output[offset ..], head after head. */
export function encodeScores(
  passes: ModelPasses,
  encoder: GPUCommandEncoder,
  q: GPUBuffer,
  k: GPUBuffer,
  dims: AttentionDims,
  firstHead: number,
  headCount: number,
  output: GPUBuffer,
  outputOffset = 0,
): void {
  const width = dims.heads * dims.headDim;
  const operand = (buffer: GPUBuffer) => ({ buffer, offset: firstHead * dims.headDim, rowStride: width, batchStride: dims.headDim });
  passes.matmul.encode(encoder, {
    m: dims.frames,
    n: dims.frames,
    k: dims.headDim,
    batches: headCount,
    a: operand(q),
    b: operand(k),
    c: { buffer: output, offset: outputOffset, rowStride: dims.frames, batchStride: dims.frames * dims.frames },
  });
}

/** Heads whose scores fit the scratch at once (at least one). */
export function headsPerGroup(dims: AttentionDims): number {
  return Math.max(1, Math.min(dims.heads, Math.floor(MAX_SCORES_SCRATCH_BYTES / (dims.frames * dims.frames * 4))));
}

/** Records residual += out_proj(softmax(q k^T) v) for the attention input `input` (already layer-normed if pre-LN). */
export function encodeSelfAttention(
  passes: ModelPasses,
  encoder: GPUCommandEncoder,
  scratch: ScratchBuffers,
  input: GPUBuffer,
  weights: AttentionWeights,
  dims: AttentionDims,
  residual: GPUBuffer,
): void {
  const { frames, heads, headDim } = dims;
  const width = heads * headDim;
  const { q, k } = encodeQueryKey(passes, encoder, scratch, input, weights, dims);
  const v = scratch.get('v', frames * width);
  encodeLinear(passes.matmul, encoder, { input, rows: frames, inFeatures: width, outFeatures: width, weight: weights.vWeight, bias: weights.vBias, output: v });
  const context = scratch.get('context', frames * width);
  const group = headsPerGroup(dims);
  const scores = scratch.get('scores', group * frames * frames);
  for (let firstHead = 0; firstHead < heads; firstHead += group) {
    const headCount = Math.min(group, heads - firstHead);
    encodeScores(passes, encoder, q, k, dims, firstHead, headCount, scores);
    passes.softmaxRows.encode(encoder, { values: scores, rows: headCount * frames, cols: frames });
    passes.matmul.encode(encoder, {
      m: frames,
      n: headDim,
      k: frames,
      batches: headCount,
      a: { buffer: scores, rowStride: frames, batchStride: frames * frames },
      b: { buffer: v, offset: firstHead * headDim, rowStride: 1, innerStride: width, batchStride: headDim },
      c: { buffer: context, offset: firstHead * headDim, rowStride: width, batchStride: headDim },
    });
  }
  encodeLinear(passes.matmul, encoder, {
    input: context,
    rows: frames,
    inFeatures: width,
    outFeatures: width,
    weight: weights.outWeight,
    bias: weights.outBias,
    output: residual,
    accumulate: true,
  });
}

/** Records residual += fc2(gelu(fc1(input))). */
export function encodeFeedForward(
  passes: ModelPasses,
  encoder: GPUCommandEncoder,
  scratch: ScratchBuffers,
  input: GPUBuffer,
  weights: { fc1Weight: GPUBuffer; fc1Bias: GPUBuffer; fc2Weight: GPUBuffer; fc2Bias: GPUBuffer },
  frames: number,
  width: number,
  ffnDim: number,
  residual: GPUBuffer,
  gelu: Activation = 'gelu',
): void {
  const inner = scratch.get('ffn', frames * ffnDim);
  encodeLinear(passes.matmul, encoder, { input, rows: frames, inFeatures: width, outFeatures: ffnDim, weight: weights.fc1Weight, bias: weights.fc1Bias, output: inner, activation: gelu });
  encodeLinear(passes.matmul, encoder, { input: inner, rows: frames, inFeatures: ffnDim, outFeatures: width, weight: weights.fc2Weight, bias: weights.fc2Bias, output: residual, accumulate: true });
}
