/**
 * The host's matrix products over all cores (GemmThreads for src/model/host/gemm.ts): a pool of worker threads, each
 * running gemmRows on a band of C's rows while this thread runs the last band, all on shared memory. The encoder's
 * forward pass on a CPU-only node is almost all such products, so its time falls nearly with the cores (a cluster
 * node's 16-64 rather than one).
 *
 * This thread waits for the workers with Atomics.wait, so gemmTransposed stays synchronous for its callers (the
 * encoder reference); Node allows that on its main thread. A and B are copied into shared buffers (kept and grown,
 * never shrunk) and the workers' rows of C copied back: a few milliseconds against the product's seconds, which is
 * why small products stay on one thread (THREADED_MIN_FLOP in gemm.ts).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { gemmRows, setGemmThreads, type GemmJob, type GemmThreads } from '../model/host/gemm.ts';

/** What a worker is sent per product: shared A, B and C (C contiguous, n per row), and its rows. */
interface WorkerJob {
  readonly a: SharedArrayBuffer;
  readonly aOffset: number;
  readonly aStride: number;
  readonly b: SharedArrayBuffer;
  readonly bOffset: number;
  readonly bStride: number;
  readonly c: SharedArrayBuffer;
  readonly n: number;
  readonly k: number;
  readonly bias?: Float64Array;
  readonly firstRow: number;
  readonly endRow: number;
  /** Int32 [finished workers, failed workers]. */
  readonly done: SharedArrayBuffer;
}

/** The worker: gemmRows' own source, then a loop over jobs (CommonJS: an eval worker is a script). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const gemmRows = ${gemmRows.toString()};
parentPort.on('message', (job) => {
  const done = new Int32Array(job.done);
  try {
    const rows = job.endRow - job.firstRow;
    gemmRows(rows, job.n, job.k,
      { data: new Float64Array(job.a), offset: job.aOffset + job.firstRow * job.aStride, rowStride: job.aStride },
      { data: new Float64Array(job.b), offset: job.bOffset, rowStride: job.bStride },
      { data: new Float64Array(job.c), offset: job.firstRow * job.n, rowStride: job.n },
      job.bias);
  } catch (error) {
    Atomics.add(done, 1, 1);
  }
  Atomics.add(done, 0, 1);
  Atomics.notify(done, 0);
});
`;

/** The pool made by useGemmThreads, if any: one per process. */
let pool: GemmPool | undefined;

/**
 * Has gemmTransposed use `threads` threads (default: every core Node reports), this one included; with 1, none
 * besides it. The workers do not keep the process alive.
 */
export function useGemmThreads(threads = availableParallelism()): void {
  if (pool?.threads === threads) return;
  pool?.close();
  pool = threads > 1 ? new GemmPool(threads) : undefined;
  setGemmThreads(pool);
}

class GemmPool implements GemmThreads {
  readonly threads: number;
  readonly #workers: Worker[];
  #a = new SharedArrayBuffer(0);
  #b = new SharedArrayBuffer(0);
  #c = new SharedArrayBuffer(0);
  readonly #done = new SharedArrayBuffer(8);

  constructor(threads: number) {
    this.threads = threads;
    this.#workers = Array.from({ length: threads - 1 }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'steve-gemm' });
      worker.unref();
      return worker;
    });
  }

  run({ m, n, k, a, b, c, bias }: GemmJob): void {
    // Bands of whole 4-row blocks; this thread takes the last band, from the caller's own arrays.
    const band = 4 * Math.ceil(m / this.threads / 4);
    const workerBands = Math.min(this.#workers.length, Math.floor((m - 1) / band));
    const ownFirstRow = workerBands * band;
    this.#a = shared(this.#a, a.data);
    this.#b = shared(this.#b, b.data);
    if (this.#c.byteLength < ownFirstRow * n * 8) this.#c = new SharedArrayBuffer(ownFirstRow * n * 8);
    const done = new Int32Array(this.#done);
    done.fill(0);
    const biasValues = bias ? Float64Array.from(bias) : undefined;
    for (let i = 0; i < workerBands; i++) {
      const job: WorkerJob = {
        a: this.#a, aOffset: a.offset, aStride: a.rowStride, b: this.#b, bOffset: b.offset, bStride: b.rowStride, // prettier-ignore
        c: this.#c, n, k, bias: biasValues, firstRow: i * band, endRow: (i + 1) * band, done: this.#done, // prettier-ignore
      };
      this.#workers[i].postMessage(job);
    }
    const ownC = { data: c.data, offset: c.offset + ownFirstRow * c.rowStride, rowStride: c.rowStride };
    gemmRows(m - ownFirstRow, n, k, { ...a, offset: a.offset + ownFirstRow * a.rowStride }, b, ownC, bias);
    for (let finished = Atomics.load(done, 0); finished < workerBands; finished = Atomics.load(done, 0)) Atomics.wait(done, 0, finished);
    if (Atomics.load(done, 1) > 0) throw new Error(`gemm: ${Atomics.load(done, 1)} of ${workerBands} worker threads failed`);
    const rows = new Float64Array(this.#c, 0, ownFirstRow * n);
    for (let row = 0; row < ownFirstRow; row++) c.data.set(rows.subarray(row * n, (row + 1) * n), c.offset + row * c.rowStride);
  }

  close(): void {
    for (const worker of this.#workers) void worker.terminate();
  }
}

/** `values` copied into `buffer`, grown when too small. */
function shared(buffer: SharedArrayBuffer, values: Float64Array): SharedArrayBuffer {
  const target = buffer.byteLength >= values.byteLength ? buffer : new SharedArrayBuffer(values.byteLength);
  new Float64Array(target, 0, values.length).set(values);
  return target;
}
