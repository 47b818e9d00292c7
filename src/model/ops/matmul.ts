/**
 * MatmulPass: C = activation((A . B^T + bias) * scale) [+ C], batched and strided (shaders/model/matmul.wgsl; CPU
 * reference in matmul.cpu.ts). A linear layer is linear() below; per-head scores and probabilities . V set the
 * strides themselves (src/model/encoders/attention.ts).
 */
import type { ShaderSources } from '../../gpu/pipeline.ts';
import { ACTIVATION_CODE, checkElements, checkWords, float32Word, ModelKernel, type Activation } from './modelKernel.ts';

/** Side of the output tile one workgroup computes (TILE in matmul.wgsl). */
const TILE = 32;

/** A strided operand: element (row, inner) of batch b is at offset + b * batchStride + row * rowStride + inner * innerStride. */
export interface MatmulOperand {
  readonly buffer: GPUBuffer;
  readonly offset?: number;
  readonly rowStride: number;
  /** Stride of the summed axis; A's must be 1 (omit it). */
  readonly innerStride?: number;
  readonly batchStride?: number;
}

export interface MatmulJob {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly batches?: number;
  readonly a: MatmulOperand;
  readonly b: MatmulOperand;
  readonly c: MatmulOperand;
  /** bias[offset + column] is added before scaling. */
  readonly bias?: { readonly buffer: GPUBuffer; readonly offset?: number };
  readonly scale?: number;
  readonly activation?: Activation;
  /** Add the result to what C holds (a residual connection). */
  readonly accumulate?: boolean;
}

/** Index one past the last element an operand touches. */
function extent(operand: MatmulOperand, rows: number, inner: number, batches: number): number {
  if (rows === 0 || inner === 0 || batches === 0) return 0;
  return (
    (operand.offset ?? 0) +
    (batches - 1) * (operand.batchStride ?? 0) +
    (rows - 1) * operand.rowStride +
    (inner - 1) * (operand.innerStride ?? 1) +
    1
  );
}

export class MatmulPass {
  readonly #kernel: ModelKernel;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#kernel = new ModelKernel(device, shaders, 'MatmulPass', 'model/matmul.wgsl');
  }

  ready(): Promise<void> {
    return this.#kernel.ready();
  }

  encode(encoder: GPUCommandEncoder, job: MatmulJob): void {
    const batches = job.batches ?? 1;
    const { a, b, c } = job;
    if ((a.innerStride ?? 1) !== 1) throw new RangeError('MatmulPass: A must be contiguous along the summed axis');
    const words = {
      m: job.m,
      n: job.n,
      k: job.k,
      aOffset: a.offset ?? 0,
      aRowStride: a.rowStride,
      aBatchStride: a.batchStride ?? 0,
      bOffset: b.offset ?? 0,
      bRowStride: b.rowStride,
      bInnerStride: b.innerStride ?? 1,
      bBatchStride: b.batchStride ?? 0,
      cOffset: c.offset ?? 0,
      cRowStride: c.rowStride,
      cBatchStride: c.batchStride ?? 0,
      biasOffset: job.bias?.offset ?? 0,
      hasBias: job.bias ? 1 : 0,
      activation: ACTIVATION_CODE[job.activation ?? 'none'],
      accumulate: job.accumulate ? 1 : 0,
    };
    checkWords('MatmulPass', words);
    checkElements('MatmulPass', 'A', a.buffer, extent(a, job.m, job.k, batches));
    checkElements('MatmulPass', 'B', b.buffer, extent(b, job.n, job.k, batches));
    checkElements('MatmulPass', 'C', c.buffer, extent(c, job.m, job.n, batches));
    if (job.bias) checkElements('MatmulPass', 'bias', job.bias.buffer, (job.bias.offset ?? 0) + job.n);
    const params = new Uint32Array([...Object.values(words), float32Word(job.scale ?? 1)]);
    this.#kernel.dispatch(
      encoder,
      [a.buffer, b.buffer, job.bias?.buffer ?? this.#kernel.placeholder, c.buffer],
      params,
      [Math.ceil(job.n / TILE), Math.ceil(job.m / TILE), batches],
    );
  }

  destroy(): void {
    this.#kernel.destroy();
  }
}

/** torch's nn.Linear on rows x inFeatures row-major input: weight is outFeatures x inFeatures. */
export interface LinearJob {
  readonly input: GPUBuffer;
  readonly rows: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: GPUBuffer;
  readonly bias?: GPUBuffer;
  readonly output: GPUBuffer;
  readonly scale?: number;
  readonly activation?: Activation;
  readonly accumulate?: boolean;
}

/** Records output = activation((input . weight^T + bias) * scale) [+ output]. */
export function encodeLinear(pass: MatmulPass, encoder: GPUCommandEncoder, job: LinearJob): void {
  pass.encode(encoder, {
    m: job.rows,
    n: job.outFeatures,
    k: job.inFeatures,
    a: { buffer: job.input, rowStride: job.inFeatures },
    b: { buffer: job.weight, rowStride: job.inFeatures },
    c: { buffer: job.output, rowStride: job.outFeatures },
    bias: job.bias ? { buffer: job.bias } : undefined,
    scale: job.scale,
    activation: job.activation,
    accumulate: job.accumulate,
  });
}
