/**
 * Reference for MatmulPass, in float64 with plain loops: C = activation((A . B^T + bias) * scale) [+ C].
 */
import { activateCpu, type ActivationCpu } from './gelu.cpu.ts';

export interface MatmulCpuOperand {
  readonly data: ArrayLike<number>;
  readonly offset?: number;
  readonly rowStride: number;
  readonly innerStride?: number;
  readonly batchStride?: number;
}

export interface MatmulCpuJob {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly batches?: number;
  readonly a: MatmulCpuOperand;
  readonly b: MatmulCpuOperand;
  /** Written in place. */
  readonly c: { readonly data: Float64Array | Float32Array; readonly offset?: number; readonly rowStride: number; readonly batchStride?: number };
  readonly bias?: { readonly data: ArrayLike<number>; readonly offset?: number };
  readonly scale?: number;
  readonly activation?: ActivationCpu;
  readonly accumulate?: boolean;
}

export function matmulCpu(job: MatmulCpuJob): void {
  const { a, b, c } = job;
  for (let batch = 0; batch < (job.batches ?? 1); batch++) {
    for (let row = 0; row < job.m; row++) {
      for (let col = 0; col < job.n; col++) {
        let sum = 0;
        for (let inner = 0; inner < job.k; inner++) {
          const aValue = a.data[(a.offset ?? 0) + batch * (a.batchStride ?? 0) + row * a.rowStride + inner];
          const bValue = b.data[(b.offset ?? 0) + batch * (b.batchStride ?? 0) + col * b.rowStride + inner * (b.innerStride ?? 1)];
          sum += aValue * bValue;
        }
        if (job.bias) sum += job.bias.data[(job.bias.offset ?? 0) + col];
        let value = activateCpu(sum * (job.scale ?? 1), job.activation ?? 'none');
        const index = (c.offset ?? 0) + batch * (c.batchStride ?? 0) + row * c.rowStride + col;
        if (job.accumulate) value += c.data[index];
        c.data[index] = value;
      }
    }
  }
}

/** torch's nn.Linear: rows x inFeatures input, outFeatures x inFeatures weight -> rows x outFeatures. */
export function linearCpu(
  input: ArrayLike<number>,
  rows: number,
  inFeatures: number,
  weight: ArrayLike<number>,
  outFeatures: number,
  bias?: ArrayLike<number>,
  scale = 1,
  activation: ActivationCpu = 'none',
): Float64Array {
  const output = new Float64Array(rows * outFeatures);
  matmulCpu({
    m: rows,
    n: outFeatures,
    k: inFeatures,
    a: { data: input, rowStride: inFeatures },
    b: { data: weight, rowStride: inFeatures },
    c: { data: output, rowStride: outFeatures },
    bias: bias ? { data: bias } : undefined,
    scale,
    activation,
  });
  return output;
}
