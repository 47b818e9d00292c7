/**
 * `npx tsx bench/encoder.ts`: the model encoders on the GPU (src/model/encoders), with random weights in the shapes
 * of openai/whisper-base and openai/whisper-large-v3, against a plain-JS float32 encoder layer measured in the same
 * run on the same values. Writes bench/results/<date>-<time>-<adapter>-encoder.json and prints a table.
 *
 *   npx tsx bench/encoder.ts                     Whisper base (6 layers, all of them) and large-v3 (2 of 32 layers)
 *   npx tsx bench/encoder.ts --large-layers 32   every large-v3 layer (a real GPU; hours on SwiftShader)
 *   npx tsx bench/encoder.ts --quick             base only, 1 layer, and the JS layer on 300 of the 1500 frames
 *   (--base-layers N, --no-large, --js-frames N choose other sizes)
 *   npx tsx bench/encoder.ts --kernels [--rows N] each kernel of one encoder layer, Whisper base and large-v3 shapes
 *   npx tsx bench/encoder.ts --host [--no-gpu] [--threads N]  also (or only) the host's forward pass,
 *       HostModelAttentionSource, the path `steve` takes on a software adapter (src/model/host), its matrix products
 *       on N threads (default: every core)
 *
 * --kernels (for a software adapter, where a whole forward pass takes hours): each kernel of one layer (q/k/v/out
 * projection, MLP fc1 with GELU and fc2, per-head scores q.k^T, probabilities.V, row softmax, layer norm) at the
 * layer's full width, heads and key count, on the first N of the 1500 query frames (default 64, a multiple of the
 * matmul's 32-row tile), timed alone (submit to onSubmittedWorkDone), next to the same operation in plain-JS float32
 * loops on the same rows in the same run. Every kernel's work is linear in the query rows (in 32-row tiles on the
 * GPU: 1500 rows are 47 tiles), so a full layer and a forward pass are ESTIMATED as (47 / (N / 32)) x the per-kernel
 * sum (projection x4, layer norm x2) x layers, (1500 / N) x for JS, plus the convolutional front end at the
 * projection's measured rate. Those totals are estimates, not measurements.
 *
 * Reported per model: weights (MB, read from memory here, so no disk time), forward time (weights' upload included) with GFLOP/s (the multiply-adds of the convs,
 * projections, q.k^T, probabilities.V and MLP, 2 FLOP each), time from the WAV's samples to the first map on the
 * engine (resampling, log-mel, forward, the first chunk's scores, row softmax, read back), and the plain-JS layer's
 * time and GFLOP/s. Layers beyond those run are not timed: on SwiftShader a full large-v3 forward would take hours.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { useGemmThreads } from '../src/node/gemmThreads.ts';
import { AttentionEngine } from '../src/engine.ts';
import { createStorageBufferFrom, readFloat32 } from '../src/gpu/buffers.ts';
import { encodeLinear } from '../src/model/ops/matmul.ts';
import type { EncoderCheckpoint } from '../src/model/checkpoint.ts';
import { expectedEncoderTensors } from '../src/model/checkpoint.ts';
import { parseModelConfig, type WhisperConfig } from '../src/model/config.ts';
import { prepareEncoderInput } from '../src/model/encoderInput.ts';
import { ModelAttentionSource } from '../src/model/modelSource.ts';
import { HostModelAttentionSource } from '../src/model/host/hostModelSource.ts';
import { ModelPasses } from '../src/model/ops/modelPasses.ts';
import { describeAdapter, getNodeGpu, requestNodeAdapter } from '../src/node/dawn.ts';
import { readShaderSources } from '../src/node/shaderFiles.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'base-layers': { type: 'string', default: '6' },
    'large-layers': { type: 'string', default: '2' },
    'no-large': { type: 'boolean', default: false },
    'js-frames': { type: 'string' },
    kernels: { type: 'boolean', default: false },
    host: { type: 'boolean', default: false },
    threads: { type: 'string', default: String(availableParallelism()) },
    'no-gpu': { type: 'boolean', default: false },
    rows: { type: 'string', default: '64' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
  },
});

interface ModelShape {
  readonly name: string;
  readonly dModel: number;
  readonly heads: number;
  readonly ffn: number;
  readonly layers: number;
  readonly melBins: number;
  /** Layers actually run (the checkpoint is cut to these). */
  readonly layersRun: number;
}

const SHAPES: ModelShape[] = [
  { name: 'whisper-base', dModel: 512, heads: 8, ffn: 2048, layers: 6, melBins: 80, layersRun: args.quick ? 1 : Number(args['base-layers']) },
  ...(args.quick || args['no-large'] ? [] : [{ name: 'whisper-large-v3', dModel: 1280, heads: 20, ffn: 5120, layers: 32, melBins: 128, layersRun: Number(args['large-layers']) }]),
];

/** Deterministic uniform values in [-scale, scale). */
function randomArray(length: number, seed: number, scale: number): Float32Array {
  const values = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = ((state / 4294967296) * 2 - 1) * scale;
  }
  return values;
}

/** An in-memory checkpoint of random weights in the model's exact tensor names and shapes. */
function randomCheckpoint(shape: ModelShape): EncoderCheckpoint {
  const config = parseModelConfig({
    name: `${shape.name}/config.json`,
    text: JSON.stringify({
      model_type: 'whisper',
      _name_or_path: `random-${shape.name}`,
      d_model: shape.dModel,
      encoder_layers: shape.layersRun,
      encoder_attention_heads: shape.heads,
      encoder_ffn_dim: shape.ffn,
      num_mel_bins: shape.melBins,
    }),
  }) as WhisperConfig;
  const tensors = expectedEncoderTensors(config);
  let bytes = 0;
  for (const tensor of tensors) bytes += tensor.shape.reduce((a, b) => a * b, 1) * 4;
  return {
    config,
    tensors,
    storedDtype: 'F32',
    encoderBytes: bytes,
    async readTensor(name) {
      const index = tensors.findIndex((tensor) => tensor.name === name);
      const tensor = tensors[index];
      const length = tensor.shape.reduce((a, b) => a * b, 1);
      // Layer norms near 1, everything else scaled like a trained layer (1/sqrt(fan-in)) so activations stay O(1).
      const isNormWeight = /layer_norm\.weight$/.test(name);
      const fanIn = tensor.shape.length > 1 ? tensor.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
      const data = randomArray(length, index + 1, isNormWeight ? 0.1 : 1 / Math.sqrt(fanIn));
      if (isNormWeight) for (let i = 0; i < length; i++) data[i] += 1;
      return { shape: tensor.shape, data };
    },
  };
}

/** FLOP of a Whisper encoder forward pass (2 per multiply-add). */
function whisperFlop(shape: ModelShape, layers: number, frames = 1500): number {
  const { dModel: d, ffn: f, melBins: m } = shape;
  const front = 2 * 2 * frames * d * m * 3 + 2 * frames * d * d * 3;
  return front + layers * layerFlop(d, f, frames);
}

function layerFlop(d: number, f: number, frames: number): number {
  return 2 * frames * d * d * 4 + 2 * 2 * frames * frames * d + 2 * 2 * frames * d * f;
}

/**
 * Plain-JS float32 encoder layer (pre-LN Whisper block), tight loops over Float32Arrays: the peer of one GPU layer.
 * `normed` is the layer's attention input (after its first LayerNorm: the GPU's kept input, so head 0's scores can
 * be compared); `x` the residual stream.
 */
function jsLayer(x: Float32Array, normed: Float32Array, frames: number, d: number, heads: number, f: number, w: Record<string, Float32Array>): { out: Float32Array; scores0: Float32Array } {
  const hd = d / heads;
  const layerNorm = (input: Float32Array, gamma: Float32Array, beta: Float32Array) => {
    const out = new Float32Array(input.length);
    for (let t = 0; t < frames; t++) {
      let mean = 0;
      for (let c = 0; c < d; c++) mean += input[t * d + c];
      mean /= d;
      let variance = 0;
      for (let c = 0; c < d; c++) variance += (input[t * d + c] - mean) ** 2;
      const inv = 1 / Math.sqrt(variance / d + 1e-5);
      for (let c = 0; c < d; c++) out[t * d + c] = (input[t * d + c] - mean) * inv * gamma[c] + beta[c];
    }
    return out;
  };
  const linear = (input: Float32Array, inF: number, weight: Float32Array, outF: number, bias?: Float32Array, scale = 1) => {
    const out = new Float32Array(frames * outF);
    for (let t = 0; t < frames; t++) {
      for (let o = 0; o < outF; o++) {
        let sum = 0;
        const wBase = o * inF;
        const xBase = t * inF;
        for (let i = 0; i < inF; i++) sum += input[xBase + i] * weight[wBase + i];
        out[t * outF + o] = (sum + (bias ? bias[o] : 0)) * scale;
      }
    }
    return out;
  };
  const erf = (z: number) => {
    const t = 1 / (1 + 0.5 * Math.abs(z));
    const y = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return z >= 0 ? 1 - y : y - 1;
  };
  const h = normed;
  const q = linear(h, d, w.q, d, w.qb, hd ** -0.5);
  const k = linear(h, d, w.k, d);
  const v = linear(h, d, w.v, d, w.vb);
  const context = new Float32Array(frames * d);
  const row = new Float32Array(frames);
  let scores0 = new Float32Array(0);
  for (let head = 0; head < heads; head++) {
    const scores = head === 0 ? new Float32Array(frames * frames) : undefined;
    for (let i = 0; i < frames; i++) {
      let max = -Infinity;
      for (let j = 0; j < frames; j++) {
        let sum = 0;
        for (let c = 0; c < hd; c++) sum += q[i * d + head * hd + c] * k[j * d + head * hd + c];
        row[j] = sum;
        if (scores) scores[i * frames + j] = sum;
        if (sum > max) max = sum;
      }
      let total = 0;
      for (let j = 0; j < frames; j++) total += row[j] = Math.exp(row[j] - max);
      for (let j = 0; j < frames; j++) {
        const p = row[j] / total;
        for (let c = 0; c < hd; c++) context[i * d + head * hd + c] += p * v[j * d + head * hd + c];
      }
    }
    if (scores) scores0 = scores;
  }
  const attn = linear(context, d, w.o, d, w.ob);
  const mid = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) mid[i] = x[i] + attn[i];
  const inner = linear(layerNorm(mid, w.ln2g, w.ln2b), d, w.fc1, f, w.fc1b);
  for (let i = 0; i < inner.length; i++) inner[i] = 0.5 * inner[i] * (1 + erf(inner[i] / Math.SQRT2));
  const ffn = linear(inner, f, w.fc2, d, w.fc2b);
  for (let i = 0; i < mid.length; i++) mid[i] += ffn[i];
  return { out: mid, scores0 };
}

/** A kernel's time on the GPU and of its plain-JS peer on the same rows, with the FLOP both did. */
interface KernelTiming {
  readonly kernel: string;
  readonly flop: number;
  readonly gpuMs: number;
  readonly jsMs: number;
  /** Times the kernel runs in one layer. */
  readonly perLayer: number;
}

/** Rows of the matmul's output tile (TILE in shaders/model/matmul.wgsl): the GPU computes whole tiles of rows. */
const MATMUL_TILE = 32;

/** Times each kernel of one layer of `shape` on `rows` query rows (see --kernels above). */
async function kernelBench(device: GPUDevice, passes: ModelPasses, shape: ModelShape, rows: number) {
  if (!(rows > 0 && rows % MATMUL_TILE === 0 && rows <= 1500)) throw new RangeError(`--rows must be a multiple of ${MATMUL_TILE} up to 1500, got ${rows}`);
  const frames = 1500;
  const { dModel: d, heads, ffn: f } = shape;
  const hd = d / heads;
  const buffers: GPUBuffer[] = [];
  const upload = (values: Float32Array) => {
    const buffer = createStorageBufferFrom(device, 'bench', values);
    buffers.push(buffer);
    return buffer;
  };
  const zeros = (length: number) => upload(new Float32Array(length));
  const x = randomArray(rows * d, 1, 1);
  const keys = randomArray(frames * d, 2, 1);
  const wqkv = randomArray(d * d, 3, d ** -0.5);
  const bias = randomArray(Math.max(d, f), 4, 0.1);
  const w1 = randomArray(f * d, 5, d ** -0.5);
  const w2 = randomArray(d * f, 6, f ** -0.5);
  const probabilities = randomArray(heads * rows * frames, 7, 1 / frames).map(Math.abs);
  const gpu = {
    x: upload(x), keys: upload(keys), wqkv: upload(wqkv), bias: upload(bias), w1: upload(w1), w2: upload(w2),
    probabilities: upload(probabilities), gamma: upload(new Float32Array(d).fill(1)), beta: zeros(d),
    projected: zeros(rows * d), inner: zeros(rows * f), scores: zeros(heads * rows * frames), context: zeros(rows * d),
  };
  const time = async (record: (encoder: GPUCommandEncoder) => void) => {
    // Once untimed (bind groups, uniforms, the driver's first dispatch), then timed.
    for (let pass = 0; pass < 2; pass++) {
      const started = performance.now();
      const encoder = device.createCommandEncoder();
      record(encoder);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      if (pass === 1) return performance.now() - started;
    }
    return NaN;
  };
  const jsTime = (work: () => void) => {
    const started = performance.now();
    work();
    return performance.now() - started;
  };
  const jsLinear = (input: Float32Array, inF: number, weight: Float32Array, outF: number, gelu = false) => {
    const out = new Float32Array(rows * outF);
    for (let t = 0; t < rows; t++) {
      for (let o = 0; o < outF; o++) {
        let sum = 0;
        for (let i = 0; i < inF; i++) sum += input[t * inF + i] * weight[o * inF + i];
        sum += bias[o];
        // GELU's tanh form here: its cost next to the dot product is the same as erf's.
        out[t * outF + o] = gelu ? 0.5 * sum * (1 + Math.tanh(0.7978845608 * (sum + 0.044715 * sum ** 3))) : sum;
      }
    }
    return out;
  };
  const timings: KernelTiming[] = [];
  timings.push({
    kernel: `projection ${rows}x${d} . ${d}x${d} + bias (q, k, v, out)`,
    flop: 2 * rows * d * d,
    perLayer: 4,
    gpuMs: await time((encoder) => encodeLinear(passes.matmul, encoder, { input: gpu.x, rows, inFeatures: d, outFeatures: d, weight: gpu.wqkv, bias: gpu.bias, output: gpu.projected })),
    jsMs: jsTime(() => jsLinear(x, d, wqkv, d)),
  });
  const inner = jsLinear(x, d, w1, f, true);
  timings.push({
    kernel: `MLP fc1 ${rows}x${d} . ${d}x${f} + bias, GELU`,
    flop: 2 * rows * d * f,
    perLayer: 1,
    gpuMs: await time((encoder) => encodeLinear(passes.matmul, encoder, { input: gpu.x, rows, inFeatures: d, outFeatures: f, weight: gpu.w1, bias: gpu.bias, output: gpu.inner, activation: 'gelu' })),
    jsMs: jsTime(() => jsLinear(x, d, w1, f, true)),
  });
  timings.push({
    kernel: `MLP fc2 ${rows}x${f} . ${f}x${d} + bias`,
    flop: 2 * rows * f * d,
    perLayer: 1,
    gpuMs: await time((encoder) => encodeLinear(passes.matmul, encoder, { input: gpu.inner, rows, inFeatures: f, outFeatures: d, weight: gpu.w2, bias: gpu.bias, output: gpu.projected })),
    jsMs: jsTime(() => jsLinear(inner, f, w2, d)),
  });
  const operand = (buffer: GPUBuffer, rowStride: number) => ({ buffer, rowStride, batchStride: hd });
  timings.push({
    kernel: `scores q.k^T ${heads} heads x ${rows}x${frames}, head dim ${hd}`,
    flop: 2 * heads * rows * frames * hd,
    perLayer: 1,
    gpuMs: await time((encoder) =>
      passes.matmul.encode(encoder, { m: rows, n: frames, k: hd, batches: heads, a: operand(gpu.x, d), b: operand(gpu.keys, d), c: { buffer: gpu.scores, rowStride: frames, batchStride: rows * frames } }),
    ),
    jsMs: jsTime(() => {
      const out = new Float32Array(heads * rows * frames);
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < frames; j++) {
            let sum = 0;
            for (let c = 0; c < hd; c++) sum += x[i * d + h * hd + c] * keys[j * d + h * hd + c];
            out[(h * rows + i) * frames + j] = sum;
          }
    }),
  });
  timings.push({
    kernel: `probabilities.V ${heads} heads x ${rows}x${hd}, ${frames} keys`,
    flop: 2 * heads * rows * frames * hd,
    perLayer: 1,
    gpuMs: await time((encoder) =>
      passes.matmul.encode(encoder, {
        m: rows, n: hd, k: frames, batches: heads,
        a: { buffer: gpu.probabilities, rowStride: frames, batchStride: rows * frames },
        b: { buffer: gpu.keys, rowStride: 1, innerStride: d, batchStride: hd },
        c: { buffer: gpu.context, rowStride: d, batchStride: hd },
      }),
    ),
    jsMs: jsTime(() => {
      const out = new Float32Array(rows * d);
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < frames; j++) {
            const p = probabilities[(h * rows + i) * frames + j];
            for (let c = 0; c < hd; c++) out[i * d + h * hd + c] += p * keys[j * d + h * hd + c];
          }
    }),
  });
  timings.push({
    kernel: `row softmax ${heads * rows} rows of ${frames}`,
    flop: 0,
    perLayer: 1,
    gpuMs: await time((encoder) => passes.softmaxRows.encode(encoder, { values: gpu.scores, rows: heads * rows, cols: frames })),
    jsMs: jsTime(() => {
      const values = probabilities.slice();
      for (let r = 0; r < heads * rows; r++) {
        let max = -Infinity;
        for (let j = 0; j < frames; j++) max = Math.max(max, values[r * frames + j]);
        let total = 0;
        for (let j = 0; j < frames; j++) total += values[r * frames + j] = Math.exp(values[r * frames + j] - max);
        for (let j = 0; j < frames; j++) values[r * frames + j] /= total;
      }
    }),
  });
  timings.push({
    kernel: `layer norm ${rows}x${d}`,
    flop: 0,
    perLayer: 2,
    gpuMs: await time((encoder) => passes.normalize.encodeLayerNorm(encoder, { input: gpu.x, frames: rows, channels: d, gamma: gpu.gamma, beta: gpu.beta, eps: 1e-5, output: gpu.projected })),
    jsMs: jsTime(() => {
      const out = new Float32Array(rows * d);
      for (let t = 0; t < rows; t++) {
        let mean = 0;
        for (let c = 0; c < d; c++) mean += x[t * d + c];
        mean /= d;
        let variance = 0;
        for (let c = 0; c < d; c++) variance += (x[t * d + c] - mean) ** 2;
        const inv = 1 / Math.sqrt(variance / d + 1e-5);
        for (let c = 0; c < d; c++) out[t * d + c] = (x[t * d + c] - mean) * inv;
      }
    }),
  });
  for (const buffer of buffers) buffer.destroy();
  const scale = { gpuMs: Math.ceil(frames / MATMUL_TILE) / (rows / MATMUL_TILE), jsMs: frames / rows };
  const layerMs = (key: 'gpuMs' | 'jsMs') => timings.reduce((sum, t) => sum + t[key] * t.perLayer, 0) * scale[key];
  const projection = timings[0];
  const frontEndFlop = whisperFlop(shape, 0);
  const frontEndMs = (key: 'gpuMs' | 'jsMs') => (frontEndFlop / projection.flop) * projection[key];
  const forward = (key: 'gpuMs' | 'jsMs') => shape.layers * layerMs(key) + frontEndMs(key);
  return {
    model: shape.name,
    queryRows: rows,
    kernels: timings.map((t) => ({
      ...t,
      gflop: t.flop / 1e9,
      gpuGflopPerSec: t.flop ? t.flop / 1e6 / t.gpuMs : null,
      jsGflopPerSec: t.flop ? t.flop / 1e6 / t.jsMs : null,
      jsOverGpu: t.jsMs / t.gpuMs,
    })),
    estimate: {
      note: `ESTIMATE, not measured: ${scale.gpuMs.toFixed(2)} (GPU) or ${scale.jsMs.toFixed(2)} (JS) x per-kernel times on ${rows} rows x ${shape.layers} layers + front end at the projection's rate`,
      layerGflop: layerFlop(d, f, frames) / 1e9,
      gpuLayerSeconds: layerMs('gpuMs') / 1e3,
      jsLayerSeconds: layerMs('jsMs') / 1e3,
      gpuForwardSeconds: forward('gpuMs') / 1e3,
      jsForwardSeconds: forward('jsMs') / 1e3,
    },
  };
}

const shaders = readShaderSources();
const adapter = describeAdapter(await requestNodeAdapter());
const results: unknown[] = [];
console.log(`encoder benchmark on ${adapter}`);
if (args.kernels) {
  const nodeAdapter = await requestNodeAdapter();
  const device = await nodeAdapter.requestDevice({
    label: 'bench.encoder.kernels',
    requiredLimits: { maxStorageBufferBindingSize: nodeAdapter.limits.maxStorageBufferBindingSize, maxBufferSize: nodeAdapter.limits.maxBufferSize },
  });
  const passes = await ModelPasses.create(device, shaders);
  const largeV3: ModelShape = { name: 'whisper-large-v3', dModel: 1280, heads: 20, ffn: 5120, layers: 32, melBins: 128, layersRun: 0 };
  for (const shape of [{ ...SHAPES[0], layersRun: 0 }, largeV3]) {
    const result = await kernelBench(device, passes, shape, Number(args.rows));
    results.push(result);
    console.log(JSON.stringify(result, null, 2));
  }
  passes.destroy();
  device.destroy();
}
/** 10 s of a 220 Hz tone with noise at 44.1 kHz: resampled and turned into Whisper's log-mel as a WAV would be. */
const WAV = Float32Array.from({ length: 441000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 44100) + 0.01 * Math.sin(i * 12.9898));

/** The host's forward pass (HostModelAttentionSource, no GPU) on the same input, and its first head read. */
async function hostRun(shape: ModelShape) {
  const checkpoint = randomCheckpoint(shape);
  const started = performance.now();
  const prepared = prepareEncoderInput(checkpoint.config, WAV, 44100, 'synthetic.wav');
  const frontEndMs = performance.now() - started;
  const source = await HostModelAttentionSource.run(checkpoint, prepared.input);
  const forwardMs = performance.now() - started - frontEndMs;
  const headStarted = performance.now();
  await source.readHead(0, 0);
  const headMs = performance.now() - headStarted;
  const forwardFlop = whisperFlop(shape, shape.layersRun);
  source.destroy();
  return {
    model: shape.name,
    path: 'host',
    layers: `${shape.layersRun} of ${shape.layers}`,
    frontEndMs,
    forwardMs,
    forwardGflop: forwardFlop / 1e9,
    forwardGflopPerSec: forwardFlop / 1e6 / forwardMs,
    firstMapFromWavMs: performance.now() - started,
    headScoresMs: headMs,
    layerMsEstimate: (forwardMs * layerFlop(shape.dModel, shape.ffn, 1500)) / forwardFlop,
  };
}

for (const shape of args.host ? SHAPES : []) {
  useGemmThreads(Number(args.threads));
  const result = { ...(await hostRun(shape)), threads: Number(args.threads) };
  results.push(result);
  console.log(JSON.stringify(result, null, 2));
}
for (const shape of args.kernels || args['no-gpu'] ? [] : SHAPES) {
  const checkpoint = randomCheckpoint(shape);
  const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders, budgetBytes: 2 * 1024 ** 3 });
  try {
    const passes = await ModelPasses.create(engine.device, shaders);
    const started = performance.now();
    const prepared = prepareEncoderInput(checkpoint.config, WAV, 44100, 'synthetic.wav');
    const frontEndMs = performance.now() - started;
    const source = await ModelAttentionSource.run(engine.device, shaders, checkpoint, prepared.input, { passes });
    const forwardMs = performance.now() - started - frontEndMs;
    engine.addTensor('model', source);
    await engine.readMap({ tensorId: 'model', layer: 0, head: 0, softmax: 'row' });
    const firstMapMs = performance.now() - started;
    const forwardFlop = whisperFlop(shape, shape.layersRun);

    // The plain-JS peer: one layer on the GPU's own input to layer 0 (on fewer frames with --js-frames / --quick).
    const jsFrames = Number(args['js-frames'] ?? (args.quick ? 300 : 1500));
    const d = shape.dModel;
    const input = (await readFloat32(engine.device, source.attentionInput(0), 1500 * d)).subarray(0, jsFrames * d);
    const read = async (name: string) => (await checkpoint.readTensor(`layers.0.${name}`)).data;
    const w = {
      q: await read('self_attn.q_proj.weight'), qb: await read('self_attn.q_proj.bias'), k: await read('self_attn.k_proj.weight'),
      v: await read('self_attn.v_proj.weight'), vb: await read('self_attn.v_proj.bias'),
      o: await read('self_attn.out_proj.weight'), ob: await read('self_attn.out_proj.bias'),
      ln2g: await read('final_layer_norm.weight'), ln2b: await read('final_layer_norm.bias'),
      fc1: await read('fc1.weight'), fc1b: await read('fc1.bias'), fc2: await read('fc2.weight'), fc2b: await read('fc2.bias'),
    };
    const jsStarted = performance.now();
    const js = jsLayer(input, input, jsFrames, d, shape.heads, shape.ffn, w);
    const jsMs = performance.now() - jsStarted;
    const jsFlop = layerFlop(d, shape.ffn, jsFrames);
    let maxScoreDifference: number | null = null;
    if (jsFrames === 1500) {
      const gpuScores = await source.readHead(0, 0);
      maxScoreDifference = 0;
      for (let i = 0; i < gpuScores.length; i++) maxScoreDifference = Math.max(maxScoreDifference, Math.abs(gpuScores[i] - js.scores0[i]));
    }
    const result = {
      model: shape.name,
      path: 'gpu',
      layers: `${shape.layersRun} of ${shape.layers}`,
      weightMB: checkpoint.encoderBytes / 1e6,
      frontEndMs,
      forwardMs,
      forwardGflop: forwardFlop / 1e9,
      forwardGflopPerSec: forwardFlop / 1e6 / forwardMs,
      firstMapFromWavMs: firstMapMs,
      jsLayer: { frames: jsFrames, ms: jsMs, gflop: jsFlop / 1e9, gflopPerSec: jsFlop / 1e6 / jsMs },
      gpuLayerMsEstimate: (forwardMs * layerFlop(d, shape.ffn, 1500)) / forwardFlop,
      maxScoreDifferenceVsJs: maxScoreDifference,
      keptGpuMB: source.keptMemory('float32').bytes / 1e6,
    };
    results.push(result);
    console.log(JSON.stringify(result, null, 2));
    source.destroy();
    passes.destroy();
  } finally {
    engine.destroy();
  }
}
mkdirSync(args.out!, { recursive: true });
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
const path = join(args.out!, `${stamp}-${adapter.split(' / ').slice(0, 2).join('-').replace(/[^a-z0-9-]+/gi, '-')}-encoder.json`);
writeFileSync(path, JSON.stringify({ suite: args.kernels ? 'encoder-kernels' : 'encoder', adapter, date: new Date().toISOString(), quick: args.quick, results }, null, 2) + '\n');
console.log(`wrote ${path}`);
