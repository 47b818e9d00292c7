/**
 * The host's matrix product for running an encoder without a GPU: C = A . B^T (+ a bias per column), the shape of
 * torch's nn.Linear (B is the weight, outputs x inputs) and of attention's q . k^T. Plain TypeScript accumulating
 * in float64, on this thread, or split by rows over more threads where a runner for them is set (setGemmThreads:
 * src/node/gemmThreads.ts in Node).
 *
 * Why this shape of loop: A . B^T walks a row of A and a row of B together, both contiguous, so each output is a dot
 * product over two streams; a 4 x 4 block of outputs kept in 16 local variables reads 8 values per 16 multiply-adds,
 * which V8 keeps in registers. Measured on the 2-core machine: 3.1-4.8 GFLOP/s at Whisper base's and large-v3's
 * shapes (1500 x 2048 x 512 ... 1500 x 5120 x 1280, as busy as the machine was), against 0.04-0.1 GFLOP/s for the
 * WGSL kernels on SwiftShader and 0.12-0.25 for the naive triple loop (bench/README.md, "Encoders").
 */

/** A matrix inside a flat array: element (row, col) at offset + row * rowStride + col. */
export interface GemmOperand<Values extends Float32Array | Float64Array = Float64Array> {
  readonly data: Values;
  readonly offset: number;
  readonly rowStride: number;
}

/** One product C = A . B^T (+ bias), as gemmTransposed takes it. */
export interface GemmJob {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: GemmOperand;
  readonly b: GemmOperand;
  readonly c: GemmOperand<Float32Array | Float64Array>;
  readonly bias?: ArrayLike<number>;
}

/** Runs a product split by rows over several threads, this one included, and returns when all rows are written. */
export interface GemmThreads {
  /** Threads in all, this one included. */
  readonly threads: number;
  run(job: GemmJob): void;
}

/** Below this many FLOP a product stays on this thread: handing out its rows would cost more than it saves. */
const THREADED_MIN_FLOP = 5e7;

let gemmThreads: GemmThreads | undefined;

/** Has gemmTransposed split large products over `threads` (undefined: this thread only). */
export function setGemmThreads(threads: GemmThreads | undefined): void {
  gemmThreads = threads;
}

/**
 * Writes C = A . B^T (+ bias[col]) for A m x k, B n x k, C m x n, each a strided view (GemmOperand). Overwrites C.
 * Large products go to the threads of setGemmThreads, when set.
 */
export function gemmTransposed(
  m: number,
  n: number,
  k: number,
  a: GemmOperand,
  b: GemmOperand,
  c: GemmOperand<Float32Array | Float64Array>,
  bias?: ArrayLike<number>,
): void {
  if (gemmThreads && gemmThreads.threads > 1 && 2 * m * n * k >= THREADED_MIN_FLOP && m >= 8 * gemmThreads.threads) gemmThreads.run({ m, n, k, a, b, c, bias });
  else gemmRows(m, n, k, a, b, c, bias);
}

/**
 * gemmTransposed on this thread. Self-contained (it refers to nothing outside itself), so that its source can be
 * run in a worker as it is (src/node/gemmThreads.ts).
 *
 * A and B are float64 always: the inner loop's loads then see one array type and V8 compiles them for it (with
 * float32 weights at some calls and float64 activations at others the same loop ran at ~1.6 GFLOP/s instead of
 * 4.6-4.8). Blocking the inner dimension and B's rows for the caches (256 x 64) was tried, alternating with this
 * loop in one process: within 5% either way at all three shapes, so the loop stays plain.
 */
export function gemmRows(
  m: number,
  n: number,
  k: number,
  a: GemmOperand,
  b: GemmOperand,
  c: GemmOperand<Float32Array | Float64Array>,
  bias?: ArrayLike<number>,
): void {
  const A = a.data;
  const B = b.data;
  const C = c.data;
  const fullRows = m - (m % 4);
  const fullCols = n - (n % 4);
  for (let i = 0; i < m; i += 4) {
    const rows = Math.min(4, m - i);
    // Rows past the end of A repeat the last one (their outputs are not written), so the inner loop has no branch.
    const a0 = a.offset + i * a.rowStride;
    const a1 = rows > 1 ? a0 + a.rowStride : a0;
    const a2 = rows > 2 ? a1 + a.rowStride : a1;
    const a3 = rows > 3 ? a2 + a.rowStride : a2;
    for (let j = 0; j < n; j += 4) {
      const cols = Math.min(4, n - j);
      const b0 = b.offset + j * b.rowStride;
      const b1 = cols > 1 ? b0 + b.rowStride : b0;
      const b2 = cols > 2 ? b1 + b.rowStride : b1;
      const b3 = cols > 3 ? b2 + b.rowStride : b2;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0; // prettier-ignore
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0; // prettier-ignore
      for (let p = 0; p < k; p++) {
        const x0 = A[a0 + p], x1 = A[a1 + p], x2 = A[a2 + p], x3 = A[a3 + p]; // prettier-ignore
        const y0 = B[b0 + p], y1 = B[b1 + p], y2 = B[b2 + p], y3 = B[b3 + p]; // prettier-ignore
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3; // prettier-ignore
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3; // prettier-ignore
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3; // prettier-ignore
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3; // prettier-ignore
      }
      const d0 = bias ? bias[j] : 0;
      const d1 = bias && cols > 1 ? bias[j + 1] : 0;
      const d2 = bias && cols > 2 ? bias[j + 2] : 0;
      const d3 = bias && cols > 3 ? bias[j + 3] : 0;
      if (i < fullRows && j < fullCols) {
        let o = c.offset + i * c.rowStride + j;
        C[o] = c00 + d0; C[o + 1] = c01 + d1; C[o + 2] = c02 + d2; C[o + 3] = c03 + d3; o += c.rowStride; // prettier-ignore
        C[o] = c10 + d0; C[o + 1] = c11 + d1; C[o + 2] = c12 + d2; C[o + 3] = c13 + d3; o += c.rowStride; // prettier-ignore
        C[o] = c20 + d0; C[o + 1] = c21 + d1; C[o + 2] = c22 + d2; C[o + 3] = c23 + d3; o += c.rowStride; // prettier-ignore
        C[o] = c30 + d0; C[o + 1] = c31 + d1; C[o + 2] = c32 + d2; C[o + 3] = c33 + d3; // prettier-ignore
        continue;
      }
      // The last row or column block: only its real outputs are written.
      const block = [c00 + d0, c01 + d1, c02 + d2, c03 + d3, c10 + d0, c11 + d1, c12 + d2, c13 + d3, c20 + d0, c21 + d1, c22 + d2, c23 + d3, c30 + d0, c31 + d1, c32 + d2, c33 + d3]; // prettier-ignore
      for (let r = 0; r < rows; r++) {
        const o = c.offset + (i + r) * c.rowStride + j;
        for (let s = 0; s < cols; s++) C[o + s] = block[4 * r + s];
      }
    }
  }
}
