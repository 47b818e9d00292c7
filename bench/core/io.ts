/**
 * Getting attention from a file onto the GPU, layer by layer, timed step by step and compared with a plain memory
 * copy of the same number of bytes measured in the same run:
 *   read          ByteSource.read of each layer's bytes into new memory (a file read in Node, Blob.slice().arrayBuffer()
 *                 in the page)
 *   read into     ByteSource.readInto of each layer's bytes into memory already held (pieces read in parallel in Node;
 *                 in the page once per read mode: parallel Blob.slice reads and File.stream(), against each other)
 *   read + parse  openAttention's source.readLayer(): the read plus decoding to float32 (a zero-copy view for
 *                 little-endian float32, a conversion for float16)
 *   upload        queue.writeBuffer of the float32 layer to a storage buffer, to onSubmittedWorkDone
 *   engine        the engine's own path for the whole file: addTensor + prefetch (read, parse, storage-format
 *                 conversion, allocation, upload), every layer fitting the budget. Files the engine uploads as stored
 *                 (src/gpu/storedUpload.ts) are also timed through the JS decode path they replaced ('engine-js').
 *                 Both start with the engine's buffer pool empty: every chunk buffer is new memory.
 *   engine reload the engine path again right after 'engine' removed its tensor: the same layers read again (a new
 *                 tensor: nothing is resident) into the chunk buffers that removal pooled (src/gpu/residency.ts),
 *                 memory already touched. What loading the next utterance of a batch, or a layer evicted and another
 *                 loaded, costs once the engine has run a while. Three times; the median.
 *   stored by     for files whose stored values are the storage words (float32 into float32 storage, float16 into
 *                 float16): uploadStoredChunk of each layer into one buffer already written, by each of its two ways
 *                 (StoredWordsPath: staging slabs and a GPU copy, or queue.writeBuffer), and writeBuffer with the
 *                 1 MiB reads it made before, alternating layer by layer, so that they are timed under the same load.
 *
 * Beside the copies into held memory, a copy into newly allocated memory is timed ('first-touch'): memory a process
 * touches for the first time costs a page fault per 4 KiB, and every new GPU buffer is such memory, so this is the
 * ceiling of any load into buffers that did not exist before. It is not the memcpy that the shares are taken of.
 *
 * Runs in Node and in the page: nothing here touches node: modules or the DOM.
 */
import type { ByteSource } from '../../src/data/byteSource.ts';
import type { AttentionSource } from '../../src/data/tensor.ts';
import { openAttention } from '../../src/data/openAttention.ts';
import type { AttentionEngine } from '../../src/engine.ts';
import { chunkBufferUsage } from '../../src/gpu/allocate.ts';
import { uploadStoredChunk, type StoredWordsPath } from '../../src/gpu/storedUpload.ts';
import { mbPerSec, now, repeat, summarize, type Summary } from './stats.ts';

/** Times the 'engine-reload' step is run (its median is reported). */
const ENGINE_RELOADS = 3;

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
  /** A copy of one layer's bytes into newly allocated memory (page faults included), as a share of the best memcpy. */
  readonly firstTouch?: ThroughputStep;
  readonly steps: readonly ThroughputStep[];
}

/** Another ByteSource over the same file, read by the 'read into' step (the page's two Blob read modes). */
export interface ReadVariant {
  readonly id: string;
  readonly label: string;
  readonly source: ByteSource;
}

/** Repetitions of the throughput suite. */
export interface ThroughputConfig {
  /** Layers read per step (from layer 0); fewer than the file's when the whole file would take too long. */
  readonly layers: number;
  /** Measured runs of each memory copy. */
  readonly copyReps: number;
  /** Sources timed by the 'read into' step, one step each; the suite's own source when absent. */
  readonly readVariants?: readonly ReadVariant[];
  readonly log?: (line: string) => void;
}

/** The headline of issue 12's load target, for the results JSON's `load` field. */
export interface LoadSummary {
  /** The engine's read + parse + upload of the first file as a share of memcpy (Node), into new buffers. */
  readonly engineOfMemcpy?: number;
  /** The same load again into recycled chunk buffers (the 'engine-reload' step), as a share of memcpy. */
  readonly engineReloadOfMemcpy?: number;
  /** The same in the page. */
  readonly pageEngineOfMemcpy?: number;
  /** The reload in the page. */
  readonly pageEngineReloadOfMemcpy?: number;
  /** A copy into newly allocated memory as a share of memcpy, same run: the page-fault ceiling of a load into new buffers. */
  readonly firstTouchOfMemcpy?: number;
  /** The engine's rate over the first-touch copy's. */
  readonly engineOfFirstTouch?: number;
  /** The file the numbers are of. */
  readonly file?: string;
}

/** `load` of a results JSON from its throughput results: the first file's engine step. */
export function summarizeLoad(throughput: readonly ThroughputResult[], where: 'node' | 'page'): LoadSummary {
  const first = throughput[0];
  const engine = first?.steps.find((step) => step.id === 'engine');
  if (!first || !engine) return {};
  const reload = first.steps.find((step) => step.id === 'engine-reload');
  return {
    [where === 'node' ? 'engineOfMemcpy' : 'pageEngineOfMemcpy']: engine.shareOfMemcpy,
    ...(reload ? { [where === 'node' ? 'engineReloadOfMemcpy' : 'pageEngineReloadOfMemcpy']: reload.shareOfMemcpy } : {}),
    firstTouchOfMemcpy: first.firstTouch?.shareOfMemcpy,
    engineOfFirstTouch: first.firstTouch ? engine.mbPerSec / first.firstTouch.mbPerSec : undefined,
    file: first.file,
  };
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
  const firstTouchSamples = await repeat({ warmup: 0, reps: Math.min(3, config.copyReps) }, async () => {
    const start = now();
    new Uint8Array(layerBytes).set(from);
    return now() - start;
  });
  const firstTouchMs = summarize(firstTouchSamples);
  const firstTouchRate = mbPerSec(layerBytes, firstTouchMs.median);
  const firstTouch: ThroughputStep = { id: 'first-touch', label: 'copy into new memory', bytes: layerBytes, ms: firstTouchMs, mbPerSec: firstTouchRate, shareOfMemcpy: firstTouchRate / bestCopy };

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
  const held = new Uint8Array(layerBytes);
  const readVariants = config.readVariants ?? [{ id: 'read-into', label: 'read into held memory', source }];
  const readInto: { variant: ReadVariant; ms: Summary }[] = [];
  for (const variant of readVariants) {
    const target = variant.source;
    if (!target.readInto) continue;
    readInto.push({ variant, ms: await perLayer((layer) => target.readInto!(dataOffset + layer * layerBytes, held)) });
  }
  const parse = await perLayer(async (layer) => void (await attention.readLayer(layer)));
  const device = engine.device;
  const staging = device.createBuffer({ label: 'ThroughputSuite.layer', size: float32LayerBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const values = await attention.readLayer(0);
  const upload = await perLayer(async () => {
    device.queue.writeBuffer(staging, 0, values.buffer, values.byteOffset, values.byteLength);
    await device.queue.onSubmittedWorkDone();
  });
  staging.destroy();
  const storedBy = await timeStoredWords(device, attention, engine.storage, layers, log);

  log(`throughput ${source.name}: engine addTensor + prefetch of ${layers} layer(s)`);
  const storageLayerBytes = engine.storage === 'float16' ? Math.ceil((shape.heads * shape.rows * shape.cols) / 2) * 4 : float32LayerBytes;
  emptyBufferPool(engine);
  const engineMs = await timeEngineLoad(engine, attention, storageLayerBytes * layers);
  log(`throughput ${source.name}: engine reload of ${layers} layer(s) into the pooled buffers`);
  const pooled = engine.memory.pooledBuffers;
  // Three reloads (each removal pools the buffers again): one sample swung 4x between runs at a load average of ~10.
  const engineReloadMs: number[] = [];
  for (let rep = 0; rep < ENGINE_RELOADS; rep++) engineReloadMs.push(await timeEngineLoad(engine, attention, storageLayerBytes * layers));
  // The JS decode path the stored upload replaced, on the same file: the stored bytes hidden from the engine.
  emptyBufferPool(engine);
  const engineJsMs = attention.stored ? await timeEngineLoad(engine, { ...attention, stored: undefined }, storageLayerBytes * layers) : undefined;
  emptyBufferPool(engine);

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
    firstTouch,
    steps: [
      step('read', 'read into new memory (per layer)', layerBytes, read),
      ...readInto.map(({ variant, ms }) => step(variant.id, `${variant.label} (per layer)`, layerBytes, ms)),
      step('read-parse', 'read + parse (per layer)', layerBytes, parse),
      step('upload', 'upload float32 (per layer)', float32LayerBytes, upload),
      step('engine', `engine: read + parse + ${engine.storage} upload (${layers} layer${layers === 1 ? '' : 's'}, new buffers)`, layerBytes * layers, summarize([engineMs])),
      step('engine-reload', `engine again into ${pooled} recycled buffer${pooled === 1 ? '' : 's'} (${layers} layer${layers === 1 ? '' : 's'})`, layerBytes * layers, summarize(engineReloadMs)),
      ...storedBy.map(({ way, ms }) => step(way.id, `${way.label}, into a buffer already written (per layer)`, layerBytes, ms)),
      ...(engineJsMs === undefined ? [] : [step('engine-js', `engine through the JS decode path (${layers} layer${layers === 1 ? '' : 's'})`, layerBytes * layers, summarize([engineJsMs]))]),
    ],
  };
}

/** One way of uploadStoredChunk timed by the 'stored-*' steps. */
interface StoredWay {
  readonly id: string;
  readonly label: string;
  readonly words: StoredWordsPath;
  /** uploadStoredChunk's maxPieceBytes; its default when absent. */
  readonly maxPieceBytes?: number;
}

const STORED_WAYS: readonly StoredWay[] = [
  { id: 'stored-staging', label: 'upload as stored by staging slabs + GPU copy', words: 'staging' },
  { id: 'stored-writeBuffer', label: 'upload as stored by queue.writeBuffer', words: 'writeBuffer' },
  // The writeBuffer path as it was before round 4: reads of 1 MiB, each written at once.
  { id: 'stored-writeBuffer-1MiB', label: 'upload as stored by queue.writeBuffer, 1 MiB reads', words: 'writeBuffer', maxPieceBytes: 1 << 20 },
];

/**
 * uploadStoredChunk of each of the first `layers` layers (whole layers) into one buffer already written, each of
 * STORED_WAYS, alternating layer by layer (one untimed round first); ms per layer, to onSubmittedWorkDone.
 * Empty when the file's stored values are not the storage words.
 */
async function timeStoredWords(
  device: GPUDevice,
  attention: AttentionSource,
  storage: AttentionEngine['storage'],
  layers: number,
  log: (line: string) => void,
): Promise<{ way: StoredWay; ms: Summary }[]> {
  const stored = attention.stored;
  if (!stored || !stored.littleEndian || (stored.dtype as string) !== storage) return [];
  log(`throughput ${attention.shape.layers} layers: upload as stored, staging against writeBuffer`);
  const { heads, rows, cols } = attention.shape;
  const byteLength = storage === 'float16' ? Math.ceil((heads * rows * cols) / 2) * 4 : heads * rows * cols * 4;
  let target = device.createBuffer({ label: 'ThroughputSuite.recycled', size: byteLength, usage: chunkBufferUsage() });
  device.queue.writeBuffer(target, 0, new Uint8Array(byteLength));
  const samples = new Map<StoredWay, number[]>(STORED_WAYS.map((way) => [way, []]));
  try {
    for (let layer = -1; layer < layers; layer++) {
      for (const way of layer % 2 ? STORED_WAYS : [...STORED_WAYS].reverse()) {
        const chunk = { layer: Math.max(0, layer), firstHead: 0, headCount: heads, byteLength };
        const start = now();
        target = await uploadStoredChunk(device, 'ThroughputSuite.recycled', chunk, attention.shape, stored, storage, () => false, undefined, way.maxPieceBytes, target, way.words);
        await device.queue.onSubmittedWorkDone();
        if (layer >= 0) samples.get(way)!.push(now() - start);
      }
    }
  } finally {
    target.destroy();
  }
  return STORED_WAYS.map((way) => ({ way, ms: summarize(samples.get(way)!) }));
}

/** Destroys the engine's pooled chunk buffers (a budget of 0 drops them; nothing is resident between loads here). */
function emptyBufferPool(engine: AttentionEngine): void {
  const budget = engine.memory.budgetBytes;
  engine.setBudget(0);
  engine.setBudget(budget);
}

/**
 * addTensor + prefetch of `attention` with the budget set to `budgetBytes`, to onSubmittedWorkDone; ms. The tensor is
 * removed afterwards, which pools its chunk buffers.
 */
async function timeEngineLoad(engine: AttentionEngine, attention: AttentionSource, budgetBytes: number): Promise<number> {
  const budget = engine.memory.budgetBytes;
  const tensorId = 'ThroughputSuite.tensor';
  engine.setBudget(budgetBytes);
  try {
    const start = now();
    engine.addTensor(tensorId, attention);
    await engine.prefetch(tensorId);
    await engine.device.queue.onSubmittedWorkDone();
    return now() - start;
  } finally {
    engine.removeTensor(tensorId);
    engine.setBudget(budget);
  }
}
