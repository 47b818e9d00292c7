/**
 * Getting attention from a file onto the GPU, layer by layer, timed step by step and compared with a plain memory
 * copy of the same number of bytes measured in the same run:
 *   read          ByteSource.read of each layer's bytes (a file read in Node, Blob.slice().arrayBuffer() in the page)
 *   read + parse  openAttention's source.readLayer(): the read plus decoding to float32 (a zero-copy view for
 *                 little-endian float32, a conversion for float16)
 *   upload        queue.writeBuffer of the float32 layer to a storage buffer, to onSubmittedWorkDone
 *   engine        the engine's own path for the whole file: addTensor + prefetch (read, parse, storage-format
 *                 conversion, allocation, upload), every layer fitting the budget
 *
 * Runs in Node and in the page: nothing here touches node: modules or the DOM.
 */
import type { ByteSource } from '../../src/data/byteSource.ts';
import { openAttention } from '../../src/data/openAttention.ts';
import type { AttentionEngine } from '../../src/engine.ts';
import { mbPerSec, now, repeat, summarize, type Summary } from './stats.ts';

/** A way to copy `source` into `target` (same length), timed as the baseline. */
export interface CopyBaseline {
  readonly id: string;
  readonly label: string;
  readonly copy: (source: Uint8Array, target: Uint8Array) => void;
}

/** TypedArray.prototype.set: the copy every platform has. */
export const TYPED_ARRAY_SET: CopyBaseline = { id: 'typedarray-set', label: 'Uint8Array.set', copy: (source, target) => target.set(source) };

/** One step's throughput. */
export interface ThroughputStep {
  readonly id: string;
  readonly label: string;
  readonly bytes: number;
  readonly ms: Summary;
  /** 10^6 bytes per second at the median time. */
  readonly mbPerSec: number;
  /** This step's MB/s over the fastest memory copy's: 1 means as fast as copying the bytes in memory. */
  readonly shareOfMemcpy?: number;
}

/** The throughput suite's output for one file. */
export interface ThroughputResult {
  readonly file: string;
  readonly fileBytes: number;
  readonly dtype: string;
  readonly layerBytes: number;
  readonly layers: number;
  /** Memory copies of one layer's bytes. */
  readonly memcpy: readonly ThroughputStep[];
  readonly steps: readonly ThroughputStep[];
}

/** Repetitions of the throughput suite. */
export interface ThroughputConfig {
  /** Layers read per step (from layer 0); fewer than the file's when the whole file would take too long. */
  readonly layers: number;
  /** Measured runs of each memory copy. */
  readonly copyReps: number;
  readonly log?: (line: string) => void;
}

/**
 * Measures each step over the first `config.layers` layers of `source`, and the engine path over the same layers
 * (a budget of exactly those layers; the engine is left with its budget restored and the tensor removed).
 */
export async function runThroughputSuite(
  engine: AttentionEngine,
  source: ByteSource,
  baselines: readonly CopyBaseline[],
  config: ThroughputConfig,
): Promise<ThroughputResult> {
  const log = config.log ?? (() => {});
  const attention = await openAttention(source);
  const { shape } = attention;
  const layers = Math.min(config.layers, shape.layers);
  const bytesPer = attention.dtype === 'float16' || attention.dtype === 'bfloat16' ? 2 : attention.dtype === 'float64' ? 8 : 4;
  const layerBytes = shape.heads * shape.rows * shape.cols * bytesPer;
  const float32LayerBytes = shape.heads * shape.rows * shape.cols * 4;
  const dataOffset = source.byteLength - shape.layers * layerBytes;

  log(`throughput ${source.name}: memory copies of ${layerBytes} bytes`);
  const memcpy: ThroughputStep[] = [];
  const from = new Uint8Array(layerBytes);
  for (let index = 0; index < from.length; index += 4096) from[index] = index & 0xff;
  const to = new Uint8Array(layerBytes);
  for (const baseline of baselines) {
    // Browsers coarsen performance.now() (to 0.1 ms or 5 us): a small copy is repeated until one sample spans 2 ms.
    let copies = 1;
    for (;;) {
      const start = now();
      for (let index = 0; index < copies; index++) baseline.copy(from, to);
      if (now() - start >= 2 || copies >= 1 << 20) break;
      copies *= 2;
    }
    const samples = await repeat({ warmup: 0, reps: config.copyReps }, async () => {
      const start = now();
      for (let index = 0; index < copies; index++) baseline.copy(from, to);
      return (now() - start) / copies;
    });
    const ms = summarize(samples);
    memcpy.push({ id: baseline.id, label: baseline.label, bytes: layerBytes, ms, mbPerSec: mbPerSec(layerBytes, ms.median) });
  }
  const bestCopy = Math.max(...memcpy.map((step) => step.mbPerSec));

  const perLayer = async (run: (layer: number) => Promise<void>): Promise<Summary> => {
    // One untimed run first, so that the first timed layer does not pay for JIT compilation and first allocations.
    await run(0);
    const samples: number[] = [];
    for (let layer = 0; layer < layers; layer++) {
      const start = now();
      await run(layer);
      samples.push(now() - start);
    }
    return summarize(samples);
  };
  log(`throughput ${source.name}: read, read + parse, upload of ${layers} layer(s)`);
  const read = await perLayer(async (layer) => void (await source.read(dataOffset + layer * layerBytes, layerBytes)));
  const parse = await perLayer(async (layer) => void (await attention.readLayer(layer)));
  const device = engine.device;
  const staging = device.createBuffer({ label: 'ThroughputSuite.layer', size: float32LayerBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const values = await attention.readLayer(0);
  const upload = await perLayer(async () => {
    device.queue.writeBuffer(staging, 0, values.buffer, values.byteOffset, values.byteLength);
    await device.queue.onSubmittedWorkDone();
  });
  staging.destroy();

  log(`throughput ${source.name}: engine addTensor + prefetch of ${layers} layer(s)`);
  const budget = engine.memory.budgetBytes;
  const tensorId = 'ThroughputSuite.tensor';
  const storageLayerBytes = engine.storage === 'float16' ? Math.ceil((shape.heads * shape.rows * shape.cols) / 2) * 4 : float32LayerBytes;
  engine.setBudget(storageLayerBytes * layers);
  const start = now();
  engine.addTensor(tensorId, attention);
  await engine.prefetch(tensorId);
  await device.queue.onSubmittedWorkDone();
  const engineMs = now() - start;
  engine.removeTensor(tensorId);
  engine.setBudget(budget);

  const step = (id: string, label: string, bytes: number, ms: Summary): ThroughputStep => {
    const rate = mbPerSec(bytes, ms.median);
    return { id, label, bytes, ms, mbPerSec: rate, shareOfMemcpy: rate / bestCopy };
  };
  return {
    file: source.name,
    fileBytes: source.byteLength,
    dtype: attention.dtype,
    layerBytes,
    layers,
    memcpy,
    steps: [
      step('read', 'read (per layer)', layerBytes, read),
      step('read-parse', 'read + parse (per layer)', layerBytes, parse),
      step('upload', 'upload float32 (per layer)', float32LayerBytes, upload),
      step('engine', `engine: read + parse + ${engine.storage} upload (${layers} layer${layers === 1 ? '' : 's'})`, layerBytes * layers, summarize([engineMs])),
    ],
  };
}
