/**
 * The public API of the GPU side: one engine for the viewer, the CLI and the benchmarks, in the browser
 * (navigator.gpu) and in Node (getNodeGpu() from src/node/dawn.ts).
 *
 *   const engine = await AttentionEngine.create({ gpu, shaders: SHADER_SOURCES, storage: 'float16' });
 *   engine.addTensor('attn', source);                  // nothing is read yet
 *   const map = await engine.computeMap({ tensorId: 'attn', layer: 3, head: 'mean', softmax: 'row' });
 *   // map.buffer: f32 rows x cols on the GPU, for a render pass; engine.readMap(...) returns a Float32Array.
 *
 * Attention is uploaded lazily, a layer at a time (or a run of heads when a layer exceeds the device's buffer
 * limits), when a request first needs it; a byte budget with least-recently-used eviction bounds GPU memory;
 * allocations that run out of memory evict and retry; a lost device is replaced and what was uploaded is uploaded
 * again on demand (the AttentionSources stay with the engine). Requests are described in src/compute/mapRequest.ts.
 */
import { ATTENTION_MAP_KIND } from './compute/attentionMap.ts';
import { BLOCK_POOL_MAP_KIND } from './compute/blockPoolMap.ts';
import { tensorIdsOf } from './compute/pyramid.ts';
import { DIFFERENCE_MAP_KIND } from './compute/differenceMap.ts';
import { HEAD_STATS_MAP_KIND } from './compute/headStatsMap.ts';
import { ROLLOUT_MAP_KIND } from './compute/rolloutMap.ts';
import { SEGMENT_POOL_MAP_KIND } from './compute/segmentPoolMap.ts';
import { createHistogramBuffer, HistogramPass, readHistogram } from './compute/histogram.ts';
import type { AcquiredBuffer, AcquiredMaps, ChunkMaps, ComputedMap, MapContext, MapKindHandler } from './compute/mapKind.ts';
import { kindOf, type MapKindName, type MapRequest, type MapShape } from './compute/mapRequest.ts';
import { createMapStatsBuffer, MAP_STATS_BYTES, MAP_STATS_MAX_WORD, MAP_STATS_MIN_WORD, MinMaxPass, readMapStats, type MapStats } from './compute/minMax.ts';
import { checkCrop, fullCrop, type Crop } from './compute/region.ts';
import { readHeadInto, type AttentionShape, type AttentionSource } from './data/tensor.ts';
import { chunkBufferUsage, createBufferWithRetry, formatBytes, GpuMemoryError } from './gpu/allocate.ts';
import { readFloat32 } from './gpu/buffers.ts';
import { requestEngineDevice, watchDevice, type BufferLimits } from './gpu/device.ts';
import { MapRequestError } from './compute/requestError.ts';
import type { ShaderSources } from './gpu/pipeline.ts';
import { BudgetTooSmallError, ResidencyCache, type MemoryReport, type ResidentChunk } from './gpu/residency.ts';
import type { StorageFormat } from './gpu/storageFormat.ts';
import { submitCounted, workCountsOf, type WorkCounts } from './gpu/workCounters.ts';
import { createProducedChunkBuffer, isGpuProducedSource } from './gpu/producedChunks.ts';
import { HOST_KIND_NAMES, hostKind, isHostKindHandler, resolveCompute, type ComputeChoice } from './compute/cpu/hostKinds.ts';
import { regionHistogram, regionStats } from './compute/cpu/mapKernels.ts';
import { workgroupShapeOf } from './gpu/workgroupShape.ts';
import { planChunks, uploadChunk, type ChunkPlan, type UploadChunk } from './gpu/upload.ts';
import type { StoredWordsPath } from './gpu/storedUpload.ts';

export type { ComputedMap, MapContext, MapKindHandler, AcquiredMaps, ChunkMaps } from './compute/mapKind.ts';
export type {
  AttentionMapRequest,
  DifferenceMapRequest,
  HeadSelector,
  LayerSelector,
  MapKindName,
  MapRequest,
  MapRequestKinds,
  MapShape,
} from './compute/mapRequest.ts';
export type { Crop, SoftmaxScope } from './compute/region.ts';
export type { SegmentPoolMapRequest, PoolStatistic } from './compute/segmentPoolMap.ts';
export type { BlockPoolMapRequest } from './compute/blockPoolMap.ts';
export type { RolloutMapRequest } from './compute/rolloutMap.ts';
export type { HeadStatsMapRequest, HeadStatistic } from './compute/headStatsMap.ts';
export { msPerFrameFromSpf } from './compute/headStats.ts';
export type { MapStats } from './compute/minMax.ts';
export { MAP_STATS_BYTES, MAP_STATS_MAX_WORD, MAP_STATS_MIN_WORD } from './compute/minMax.ts';
export { percentileFromHistogram } from './compute/histogram.ts';
export type { MemoryReport, Reservation, ResidentChunk } from './gpu/residency.ts';
export type { StorageFormat } from './gpu/storageFormat.ts';
export type { ComputeChoice } from './compute/cpu/hostKinds.ts';
export type { WorkCounts } from './gpu/workCounters.ts';
export type { ShaderSources } from './gpu/pipeline.ts';
export { GpuMemoryError } from './gpu/allocate.ts';
export { MapRequestError } from './compute/requestError.ts';
export { BudgetTooSmallError } from './gpu/residency.ts';

/**
 * The request kinds every engine understands (src/compute/mapRequest.ts): attention maps, differences, segment and
 * k x k block pooling, attention rollout and per-head statistics.
 */
export const BUILT_IN_KINDS: readonly MapKindHandler[] = [
  ATTENTION_MAP_KIND,
  DIFFERENCE_MAP_KIND,
  SEGMENT_POOL_MAP_KIND,
  BLOCK_POOL_MAP_KIND,
  ROLLOUT_MAP_KIND,
  HEAD_STATS_MAP_KIND,
] as MapKindHandler[];

/** GPU memory for uploaded attention when the caller sets no budget: 1 GiB (WebGPU cannot report free memory). */
export const DEFAULT_BUDGET_BYTES = 1024 ** 3;

/** Bins of a histogram when the caller asks for none in particular. */
export const DEFAULT_HISTOGRAM_BINS = 256;

/** Something the engine did that a caller may want to show or log. */
export type EngineEvent =
  | ({ readonly type: 'upload' } & ResidentChunk)
  | ({ readonly type: 'evict' } & ResidentChunk)
  | { readonly type: 'device-lost'; readonly reason: string; readonly message: string }
  | { readonly type: 'device-restored'; readonly adapter: string }
  | { readonly type: 'gpu-error'; readonly message: string };

/** Options of AttentionEngine.create. */
export interface AttentionEngineOptions {
  /** navigator.gpu in the browser, getNodeGpu() in Node. */
  readonly gpu: GPU;
  /** WGSL sources: SHADER_SOURCES from shaders/index.ts (Vite) or readShaderSources() (Node). */
  readonly shaders: ShaderSources;
  /** How attention is stored on the GPU: 'float32' (default) or 'float16' (half the memory, ~1e-3 relative). */
  readonly storage?: StorageFormat;
  /** Bytes of GPU memory uploads may take before the least recently used are evicted. */
  readonly budgetBytes?: number;
  /** Largest upload (bytes); defaults to the device's min(maxStorageBufferBindingSize, maxBufferSize). */
  readonly maxChunkBytes?: number;
  /** After a tensor's first map, upload its other layers in the background while they fit the budget. */
  readonly prefetch?: boolean;
  readonly powerPreference?: GPUPowerPreference;
  /** Hears every EngineEvent (as subscribe() does). */
  readonly onEvent?: (event: EngineEvent) => void;
  /**
   * Where maps are computed: 'gpu' (default: the WGSL passes), 'cpu' (the host path of src/compute/cpu/hostKinds.ts:
   * attention, difference, pooling and rollout maps and their stats computed in TypeScript, the result uploaded; always at
   * full float32 precision, whatever `storage` says) or 'auto' ('cpu' on a software adapter such as SwiftShader).
   */
  readonly compute?: ComputeChoice;
}

/** Options of computeMap. */
export interface ComputeMapOptions {
  /** Write into this buffer (at least rows x cols x 4 bytes, STORAGE) instead of a new one; it stays the caller's. */
  readonly output?: GPUBuffer;
}

/** Options of computeStats and readStats. */
export interface StatsOptions {
  /** Part of the map (in the map's own rows and columns, ends exclusive) that the colour scale follows; all of it by default. */
  readonly region?: Crop;
  /** Histogram bins (1..4096), 0 for none; DEFAULT_HISTOGRAM_BINS by default. */
  readonly bins?: number;
}

/** Min/max and counts read back, with the histogram (empty when no bins were asked for). */
export interface ReadStats extends MapStats {
  readonly histogram: Uint32Array;
}

/** Min/max (and histogram) of a map, kept on the GPU for render passes. */
export interface ComputedStats {
  /** MAP_STATS_BYTES: words 6 and 7 are min and max (f32); see src/compute/minMax.ts for the layout. */
  readonly stats: GPUBuffer;
  /** `bins` u32 counts between min and max; undefined when bins is 0. */
  readonly histogram: GPUBuffer | undefined;
  readonly bins: number;
  /** Reads stats and histogram back. */
  read(): Promise<ReadStats>;
  /** Frees both buffers. Safe to call twice. */
  destroy(): void;
}

/** One device and everything made for it; replaced wholesale when the device is lost. */
interface DeviceGeneration {
  readonly id: number;
  readonly device: GPUDevice;
  readonly adapterDescription: string;
  readonly limits: BufferLimits;
  readonly passes: Map<string, { destroy(): void }>;
  lost: boolean;
  detach: () => void;
}

interface TensorEntry {
  readonly id: string;
  readonly source: AttentionSource;
  /** Distinguishes a tensor from an earlier one added under the same id (its chunks may still be cached). */
  readonly serial: number;
  plans: Map<number, ChunkPlan>;
  prefetched: boolean;
}

/** A map kept by the engine (AttentionEngine.keepMap), pinned until release(). */
export interface KeptMap extends MapShape {
  readonly buffer: GPUBuffer;
  /** The device the buffer lives on. */
  readonly device: GPUDevice;
  /** Unpins it (it stays kept until evicted). Call after the commands that read it are submitted. Safe to call twice. */
  release(): void;
}

/** How far computeMaps is: requests recorded, and within a long request (rollout) the steps done. */
export interface ComputeMapsProgress {
  readonly done: number;
  readonly total: number;
  /** Set while a request that runs in steps (rollout: one product per layer) is under way: steps finished on the GPU. */
  readonly step?: { readonly done: number; readonly total: number };
}

/** Options of computeMaps. */
export interface ComputeMapsOptions {
  /** Computes each map's stats (and histogram) too, left on the GPU. */
  readonly stats?: StatsOptions;
  /** Records more work (the frame) into the last command buffer before its submit, with the results in hand. */
  readonly finish?: (encoder: GPUCommandEncoder, results: readonly MapWithStats[]) => void;
  /**
   * Hears progress after each request is recorded and after each step of a request that runs in steps; with it (or
   * a signal) such a request waits for each step's GPU work before the next, so the steps report real progress.
   */
  readonly onProgress?: (progress: ComputeMapsProgress) => void;
  /**
   * Once aborted, no further request or step is recorded or submitted, nothing is drawn (finish is not called), and
   * computeMaps rejects with ComputeCancelledError. GPU work already submitted (a rollout's finished steps) completes.
   */
  readonly signal?: AbortSignal;
  /**
   * Maps to keep (as keepMap does) made from each result while it is alive: `keep(index)` gives requests whose inner
   * request is requests[index] (a map pyramid's level of it: src/compute/pyramid.ts), recorded into the same command
   * buffer with that inner map taken from the result instead of computed again; the same kernels on the same map, so
   * the same values as keepMap would give. Returned in MapWithStats.kept, pinned: release() them when done.
   */
  readonly keep?: (index: number) => readonly MapRequest[];
}

/** Thrown by computeMaps when its signal was aborted. */
export class ComputeCancelledError extends Error {
  override readonly name = 'ComputeCancelledError';
  constructor() {
    super('the computation was cancelled');
  }
}

/** MapContext's step hooks, given to handlers when computeMaps has progress or cancellation to serve. */
type StepHooks = Required<Pick<MapContext, 'stepDone' | 'throwIfCancelled'>>;

/** A map and, when asked for, its stats (AttentionEngine.computeMaps). */
export interface MapWithStats {
  readonly map: ComputedMap;
  readonly stats?: ComputedStats;
  /** The maps ComputeMapsOptions.keep asked for, from this map, in its order: kept by the engine, pinned until release(). */
  readonly kept?: readonly KeptMap[];
}

/**
 * One command encoder shared by several requests, and the clean-ups (releases of pinned chunks, destruction of
 * scratch buffers) that must wait until it is submitted. submit() may be called any number of times: each submits
 * what was recorded since the last, runs the waiting clean-ups and starts a fresh encoder. `settled` hears each
 * submit (true) and the abandon (false): the engine keeps which derived buffers a batch still has to fill.
 */
class CommandBatch {
  readonly #device: GPUDevice;
  readonly #settled: (batch: CommandBatch, submitted: boolean) => void;
  #encoder: GPUCommandEncoder | undefined;
  #cleanups: (() => void)[] = [];

  constructor(device: GPUDevice, settled: (batch: CommandBatch, submitted: boolean) => void) {
    this.#device = device;
    this.#settled = settled;
  }

  /** Whether commands are recorded and not yet submitted. */
  get recording(): boolean {
    return this.#encoder !== undefined;
  }

  get encoder(): GPUCommandEncoder {
    this.#encoder ??= this.#device.createCommandEncoder({ label: 'AttentionEngine.batchEncoder' });
    return this.#encoder;
  }

  afterSubmit(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  submit(): void {
    const encoder = this.#encoder;
    this.#encoder = undefined;
    try {
      if (encoder) submitCounted(this.#device, [encoder.finish()]);
    } finally {
      this.#settled(this, true);
      this.#runCleanups();
    }
  }

  /** Drops what was recorded (never submitted), runs the clean-ups, then the engine drops the derived buffers it would have filled. */
  abandon(): void {
    this.#encoder = undefined;
    this.#runCleanups();
    this.#settled(this, false);
  }

  #runCleanups(): void {
    const cleanups = this.#cleanups;
    this.#cleanups = [];
    for (const cleanup of cleanups) cleanup();
  }
}

/** A host map without a buffer of its own (AttentionEngine #hostMap). */
interface HostMapRecord {
  /** rows x cols f32; undefined once the map is destroyed. */
  values: Float32Array | undefined;
  /** Makes (once) and fills its GPU buffer. */
  make(): Promise<GPUBuffer>;
}

/** Thrown when the engine is used after destroy(). */
export class EngineDestroyedError extends Error {
  override readonly name = 'EngineDestroyedError';
  constructor() {
    super('AttentionEngine was used after destroy()');
  }
}

/** Attention tensors on the GPU, and the maps computed from them. */
export class AttentionEngine {
  readonly #options: AttentionEngineOptions;
  readonly #format: StorageFormat;
  readonly #residency: ResidencyCache;
  readonly #tensors = new Map<string, TensorEntry>();
  readonly #kinds = new Map<MapKindName, MapKindHandler>();
  readonly #listeners = new Set<(event: EngineEvent) => void>();
  /**
   * Maps computed on the host path into a buffer the caller supplied, by that buffer: their stats and read-backs
   * need not come from the GPU.
   */
  readonly #hostValues = new WeakMap<GPUBuffer, Float32Array>();
  /**
   * Maps computed on the host path into no buffer of their own (#hostMap): their values (undefined once destroyed),
   * and what makes their GPU buffer should a GPU pass ask for it.
   */
  readonly #hostMaps = new WeakMap<ComputedMap, HostMapRecord>();
  readonly #compute: 'gpu' | 'cpu';
  /**
   * Kept buffers (MapContext.acquireDerived, and maps kept from a computeMaps result: #keepOn) whose filling commands
   * a shared command buffer holds unsubmitted, by residency key: that batch, and what drops the buffer should the
   * batch be abandoned (it would never be written).
   * The one record of them: a batch's submit or abandon settles its entries (#settleBatch).
   */
  readonly #unsubmittedDerived = new Map<string, { readonly batch: CommandBatch; readonly drop: () => void }>();
  #generation: DeviceGeneration;
  #recovering: Promise<DeviceGeneration> | undefined;
  #nextSerial = 0;
  #destroyed = false;

  /** Requests a device and returns an engine with no tensors. Throws when there is no WebGPU adapter. */
  static async create(options: AttentionEngineOptions): Promise<AttentionEngine> {
    const acquired = await requestEngineDevice(options.gpu, { powerPreference: options.powerPreference });
    return new AttentionEngine(options, acquired);
  }

  private constructor(options: AttentionEngineOptions, acquired: Awaited<ReturnType<typeof requestEngineDevice>>) {
    this.#options = options;
    this.#format = options.storage ?? 'float32';
    if (options.onEvent) this.#listeners.add(options.onEvent);
    this.#residency = new ResidencyCache(options.budgetBytes ?? DEFAULT_BUDGET_BYTES, (chunk) =>
      this.#emit({ type: 'evict', ...chunk }),
    );
    for (const handler of BUILT_IN_KINDS) this.#kinds.set(handler.kind, handler);
    this.#compute = resolveCompute(options.compute ?? 'gpu', workgroupShapeOf(acquired.device).software);
    if (this.#compute === 'cpu') for (const kind of HOST_KIND_NAMES) this.#kinds.set(kind, hostKind(this.#kinds.get(kind)!));
    this.#generation = this.#adopt(0, acquired);
  }

  /** Where the built-in attention, difference and pooling maps are computed (AttentionEngineOptions.compute). */
  get compute(): 'gpu' | 'cpu' {
    return this.#compute;
  }

  /** The current device. It changes after a device loss (see the 'device-restored' event). */
  get device(): GPUDevice {
    return this.#generation.device;
  }

  /** One line naming the adapter in use. */
  get adapterDescription(): string {
    return this.#generation.adapterDescription;
  }

  /** Storage format of uploaded attention. */
  get storage(): StorageFormat {
    return this.#format;
  }

  /** Budget, bytes resident, and the resident chunks (least recently used first). */
  get memory(): MemoryReport {
    return this.#residency.report();
  }

  /**
   * Work given to the current device so far: submits, blocking readbacks, dispatches and the bytes the kernels
   * declare they move (src/gpu/workCounters.ts). Subtract two snapshots for the cost of one change.
   */
  get workCounts(): WorkCounts {
    return workCountsOf(this.#generation.device);
  }

  /** Changes the GPU memory budget; shrinking it evicts at once. */
  setBudget(budgetBytes: number): void {
    this.#residency.budgetBytes = budgetBytes;
  }

  /** Adds a listener for EngineEvents; returns the function that removes it. */
  subscribe(listener: (event: EngineEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Adds (or replaces) the handler of a request kind; see src/compute/mapRequest.ts. */
  registerKind<K extends MapKindName>(handler: MapKindHandler<K>): void {
    this.#kinds.set(handler.kind, handler as unknown as MapKindHandler);
  }

  /** Makes a tensor available under `id`, replacing any tensor with that id. Reads nothing yet. */
  addTensor(id: string, source: AttentionSource): void {
    this.#checkAlive();
    if (this.#tensors.has(id)) this.removeTensor(id);
    const tensor: TensorEntry = { id, source, serial: this.#nextSerial++, plans: new Map(), prefetched: false };
    this.#reserveKeptMemory(tensor);
    this.#tensors.set(id, tensor);
  }

  /** Forgets a tensor and frees its uploads (those in use are freed when released). */
  removeTensor(id: string): void {
    this.#tensors.delete(id);
    this.#residency.evictWhere((chunk) => chunk.tensorId === id);
    this.#residency.unreserve(`tensor '${id}'`);
  }

  /**
   * A source that computes its chunks (a model) keeps GPU memory of its own while added: that comes off the budget.
   * Throws BudgetTooSmallError when the rest could not hold one chunk (chunks are planned as for any tensor).
   */
  #reserveKeptMemory(tensor: TensorEntry): void {
    if (!isGpuProducedSource(tensor.source)) return;
    const kept = tensor.source.keptMemory(this.#format);
    const largestChunk = this.#planOf(tensor, this.#generation).chunkOf(0, 0).byteLength;
    this.#residency.reserve({ owner: `tensor '${tensor.id}'`, holds: kept.holds, bytes: kept.bytes }, largestChunk);
  }

  /** Shape of an added tensor. Throws a MapRequestError for an unknown id. */
  tensorShape(id: string): AttentionShape {
    return this.#tensor(id).source.shape;
  }

  /** Checks a request and returns the size of its map, without computing anything. */
  async outputShape(request: MapRequest): Promise<MapShape> {
    this.#checkAlive();
    const generation = await this.#currentGeneration();
    return this.#handler(request).outputShape(request as never, this.#context(generation));
  }

  /**
   * Computes a map on the GPU. The result's buffer is the caller's (destroy() it) unless options.output was given.
   * Throws a MapRequestError with a sentence for an invalid request, GpuMemoryError when memory cannot be found.
   */
  async computeMap(request: MapRequest, options: ComputeMapOptions = {}): Promise<ComputedMap> {
    return this.#withDevice((generation) => this.#computeOn(generation, request, options.output));
  }

  /**
   * Computes several maps, and the stats of each when `options.stats` is given, recording them all into one command
   * buffer and submitting it once: one submit per control change, whatever the number of maps (a grid of heads, the
   * model view). Request kinds whose handlers submit on their own (recordsThroughContext unset, e.g. rollout) are
   * run in order between shared submits; the shared buffer is also submitted early whenever the chunks it pins
   * exceed the memory budget, so a model view larger than the budget still fits. Nothing is read back: stats stay
   * on the GPU for the render passes (ComputedStats.read() when the numbers are wanted, after the frame).
   * `options.finish` records more work into the last command buffer before its submit, with the results in hand:
   * the frame's render pass, so that a control change is one submit in all.
   * Each result's buffers are the caller's. On an error everything made so far is freed.
   */
  async computeMaps(requests: readonly MapRequest[], options: ComputeMapsOptions = {}): Promise<MapWithStats[]> {
    return this.#withDevice(async (generation) => {
      const batch = new CommandBatch(generation.device, (settled, submitted) => this.#settleBatch(settled, submitted));
      const results: MapWithStats[] = [];
      const { onProgress, signal } = options;
      const throwIfCancelled = () => {
        if (signal?.aborted) throw new ComputeCancelledError();
      };
      try {
        for (const request of requests) {
          throwIfCancelled();
          const done = results.length;
          const steps: StepHooks | undefined =
            onProgress || signal
              ? {
                  throwIfCancelled,
                  stepDone: async (step, steps) => {
                    // A step recorded into the shared command buffer is submitted here, so that it is reported done.
                    batch.submit();
                    await generation.device.queue.onSubmittedWorkDone();
                    onProgress?.({ done, total: requests.length, step: { done: step, total: steps } });
                  },
                }
              : undefined;
          const map = await this.#computeOn(generation, request, undefined, batch, steps);
          results.push({ map });
          if (options.stats) {
            const stats = await this.#statsOn(generation, map, options.stats, batch.encoder);
            results[results.length - 1] = { map, stats };
          }
          const keep = options.keep?.(done) ?? [];
          if (keep.length > 0) results[results.length - 1] = { ...results[results.length - 1], kept: await this.#keepAllFrom(generation, keep, batch, map) };
          if (this.#residency.residentBytes > this.#residency.availableBytes) batch.submit();
          onProgress?.({ done: results.length, total: requests.length });
        }
        throwIfCancelled();
        options.finish?.(batch.encoder, results);
        batch.submit();
        return results;
      } catch (error) {
        // Unpinned first, so that abandoning the batch drops the kept maps it would have filled.
        results.forEach((result) => result.kept?.forEach((kept) => kept.release()));
        batch.abandon();
        for (const result of results) {
          result.map.destroy();
          result.stats?.destroy();
        }
        throw error;
      }
    });
  }

  /**
   * A map computed once and kept on the GPU under the memory budget, with the uploads (least recently used out
   * first), for maps a view draws again and again: the levels of a map pyramid (src/compute/pyramid.ts). Keyed by
   * the request and the tensors as added; part of the memory report (`derived` names the request). Returned pinned:
   * release() once the commands that read it are submitted; the buffer is the engine's, never destroy it.
   */
  async keepMap(request: MapRequest): Promise<KeptMap> {
    return this.#withDevice((generation) => this.#keepOn(generation, request));
  }

  /**
   * keepMap's work: `request` kept under its key, computed when not kept yet; with a `batch`, recorded into it, and
   * with `input`, that map standing in for the inner request it was computed from (ComputeMapsOptions.keep).
   */
  async #keepOn(generation: DeviceGeneration, request: MapRequest, batch?: CommandBatch, input?: ComputedMap): Promise<KeptMap> {
    const shape = await this.#handler(request).outputShape(request as never, this.#context(generation));
    const tensors = tensorIdsOf(request).map((id) => this.#tensor(id));
    const described = JSON.stringify(request);
    const layer = (request as { layer?: unknown }).layer;
    const info: ResidentChunk = {
      tensorId: tensors[0]?.id ?? '',
      layer: typeof layer === 'number' ? layer : 0,
      firstHead: 0,
      headCount: 0,
      byteLength: Math.max(4, shape.rows * shape.cols * 4),
      derived: described,
    };
    const key = `${generation.id}/${tensors.map((tensor) => tensor.serial).join(',')}/kept/${described}`;
    const acquired = await this.#residency.acquire(key, info, async () => {
      const buffer = await this.#bufferOf(await this.#computeOn(generation, request, undefined, batch, undefined, input));
      this.#markUnsubmitted(key, info, batch);
      return buffer;
    });
    this.#submitWriterOf(key, batch);
    return { buffer: acquired.buffer, rows: shape.rows, cols: shape.cols, device: generation.device, release: acquired.release };
  }

  /** ComputeMapsOptions.keep's maps from `input`, recorded into `batch`; on an error none stays pinned. */
  async #keepAllFrom(generation: DeviceGeneration, requests: readonly MapRequest[], batch: CommandBatch, input: ComputedMap): Promise<KeptMap[]> {
    const kept: KeptMap[] = [];
    try {
      for (const request of requests) kept.push(await this.#keepOn(generation, request, batch, input));
      return kept;
    } catch (error) {
      kept.forEach((map) => map.release());
      throw error;
    }
  }

  /**
   * The values of a map the host path computed (AttentionEngineOptions.compute), rows x cols f32, still on the host:
   * a figure can draw them without a read-back. Undefined for a map made on the GPU. Do not modify them.
   */
  hostValuesOf(map: ComputedMap): Float32Array | undefined {
    const host = this.#hostMaps.get(map);
    // A host map's buffer is made only when asked for: never ask for it here.
    return host ? host.values : this.#hostValues.get(map.buffer);
  }

  /** Computes a map and reads it back: rows x cols float32, row-major (for tests, the CLI and export). */
  async readMap(request: MapRequest): Promise<Float32Array> {
    return this.#withDevice(async (generation) => {
      const map = await this.#computeOn(generation, request);
      try {
        const host = this.hostValuesOf(map);
        if (host) return host.slice(0, map.rows * map.cols);
        return await readFloat32(generation.device, map.buffer, map.rows * map.cols);
      } finally {
        map.destroy();
      }
    });
  }

  /**
   * Min/max of the finite values of a map (or of `options.region` of it, so the colour scale can follow a crop) and
   * a histogram between them, left on the GPU. Non-finite values are counted, never part of min, max or bins.
   */
  async computeStats(map: ComputedMap, options: StatsOptions = {}): Promise<ComputedStats> {
    this.#checkAlive();
    const generation = await this.#currentGeneration();
    if (map.device !== generation.device) {
      throw new Error('computeStats: the map was computed on a device that has since been lost; compute it again');
    }
    return this.#statsOn(generation, map, options);
  }

  /** Computes a map and its stats and reads the stats back (the map itself is freed). */
  async readStats(request: MapRequest, options: StatsOptions = {}): Promise<ReadStats> {
    return this.#withDevice(async (generation) => {
      const map = await this.#computeOn(generation, request);
      try {
        const stats = await this.#statsOn(generation, map, options);
        try {
          return await stats.read();
        } finally {
          stats.destroy();
        }
      } finally {
        map.destroy();
      }
    });
  }

  /**
   * Uploads a tensor's layers in order while they fit the budget without evicting anything, so later requests
   * start at once. Stops at the first layer that does not fit. Two chunks are loaded at a time, so that the read
   * of one overlaps the upload of the other.
   */
  async prefetch(tensorId: string): Promise<void> {
    await this.#withDevice(async (generation) => {
      const tensor = this.#tensor(tensorId);
      const plan = this.#planOf(tensor, generation);
      const inFlight: Promise<void>[] = [];
      try {
        for (let layer = 0; layer < tensor.source.shape.layers; layer++) {
          for (const chunk of plan.chunksOfLayer(layer)) {
            if (this.#destroyed || this.#tensors.get(tensorId) !== tensor) return;
            if (this.#residency.has(this.#chunkKey(generation, tensor, chunk))) continue;
            if (this.#residency.residentBytes + chunk.byteLength > this.#residency.availableBytes) return;
            if (inFlight.length >= 2) await inFlight.shift();
            const loading = this.#acquireChunk(generation, tensor, chunk, 'staging').then((acquired) => acquired.release());
            // Handled here so that a failure while the other load is awaited is not an unhandled rejection; it is
            // still thrown when this load is awaited.
            loading.catch(() => {});
            inFlight.push(loading);
          }
        }
      } finally {
        // Wait for (and surface the first error of) what is still loading.
        await Promise.all(inFlight);
      }
    });
  }

  /** Frees every GPU resource and the device. Safe to call twice; any other call afterwards throws. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#residency.clear();
    this.#retire(this.#generation);
    this.#generation.device.destroy();
    this.#tensors.clear();
    this.#listeners.clear();
  }

  // ---- computing ---------------------------------------------------------------------------------------------

  /**
   * Computes `request` into a new buffer (or `supplied`). With a `batch`, a handler that records through its context
   * is recorded into the batch's command buffer; any other handler first has the batch submitted, then submits its own.
   */
  async #computeOn(generation: DeviceGeneration, request: MapRequest, supplied?: GPUBuffer, batch?: CommandBatch, steps?: StepHooks, input?: ComputedMap): Promise<ComputedMap> {
    this.#checkAlive();
    let handler = this.#handler(request);
    if (batch && !handler.recordsThroughContext) batch.submit();
    const context = this.#context(generation, handler.recordsThroughContext ? batch : undefined, steps, input);
    const shape = await handler.outputShape(request as never, context);
    const byteLength = shape.rows * shape.cols * 4;
    if (byteLength > generation.limits.maxStorageBufferBindingSize) {
      throw new MapRequestError(
        `A ${shape.rows} x ${shape.cols} map takes ${formatBytes(byteLength)}, more than this GPU binds at once ` +
          `(${formatBytes(generation.limits.maxStorageBufferBindingSize)}); request a crop.`,
      );
    }
    if (supplied && supplied.size < byteLength) {
      throw new MapRequestError(`computeMap: the output buffer has ${supplied.size} bytes, the map needs ${byteLength}`);
    }
    if (!supplied && isHostKindHandler(handler)) {
      // The host path: the values stay on the host, and a GPU buffer is made only if a GPU pass asks for one (a
      // figure drawn on the host never does; creating and filling one cost more than the map's arithmetic).
      const values = await handler.hostValues(request, context);
      if (values) {
        this.#maybePrefetch(request);
        return this.#hostMap(generation, request, shape, values);
      }
      // Some part of it cannot be had on the host (a model's scores): the GPU handler computes it.
      handler = handler.gpu;
    }
    const buffer =
      supplied ??
      (await createBufferWithRetry(
        generation.device,
        {
          label: `AttentionEngine.map.${kindOf(request)}`,
          size: Math.max(4, byteLength),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        },
        () => this.#residency.evictOne(),
      ));
    // A supplied buffer may hold an earlier host map: its values are stale from here on.
    this.#hostValues.delete(buffer);
    try {
      await handler.compute(request as never, buffer, context);
    } catch (error) {
      if (!supplied) buffer.destroy();
      throw error;
    }
    this.#maybePrefetch(request);
    let destroyed = false;
    return {
      buffer,
      rows: shape.rows,
      cols: shape.cols,
      request,
      device: generation.device,
      destroy: () => {
        if (destroyed || supplied) return;
        destroyed = true;
        this.#hostValues.delete(buffer);
        buffer.destroy();
      },
    };
  }

  /**
   * A map the host path computed, with no GPU buffer yet: `buffer` makes one and uploads the values when first read
   * (a GPU pass drawing or reducing it), #bufferOf does the same with the engine's retry on out-of-memory.
   */
  #hostMap(generation: DeviceGeneration, request: MapRequest, shape: MapShape, values: Float32Array): ComputedMap {
    const label = `AttentionEngine.map.${kindOf(request)}`;
    const descriptor = { label, size: Math.max(4, values.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST };
    let buffer: GPUBuffer | undefined;
    let destroyed = false;
    const adopt = (made: GPUBuffer): GPUBuffer => {
      if (buffer) {
        made.destroy();
        return buffer;
      }
      buffer = made;
      generation.device.queue.writeBuffer(made, 0, values as Float32Array<ArrayBuffer>);
      // A map destroyed before its buffer was asked for: the buffer is as a destroyed map's would be.
      if (destroyed) made.destroy();
      return made;
    };
    const record: HostMapRecord = {
      values,
      make: async () => buffer ?? adopt(await createBufferWithRetry(generation.device, descriptor, () => this.#residency.evictOne())),
    };
    const map: ComputedMap = {
      get buffer() {
        return buffer ?? adopt(generation.device.createBuffer(descriptor));
      },
      rows: shape.rows,
      cols: shape.cols,
      request,
      device: generation.device,
      destroy: () => {
        if (destroyed) return;
        destroyed = true;
        record.values = undefined;
        buffer?.destroy();
      },
    };
    this.#hostMaps.set(map, record);
    return map;
  }

  /** The map's GPU buffer; a host map's is made now (with the retry on out-of-memory) if it was not yet. */
  async #bufferOf(map: ComputedMap): Promise<GPUBuffer> {
    const host = this.#hostMaps.get(map);
    return host ? host.make() : map.buffer;
  }

  /** Records min/max (and histogram) of `map` into `into` when given, else into its own command buffer, submitted. */
  async #statsOn(generation: DeviceGeneration, map: ComputedMap, options: StatsOptions, into?: GPUCommandEncoder): Promise<ComputedStats> {
    const region = options.region ?? fullCrop(map.rows, map.cols);
    checkCrop('stats region', region, map.rows, map.cols);
    const bins = options.bins ?? DEFAULT_HISTOGRAM_BINS;
    const host = this.hostValuesOf(map);
    if (host) return this.#hostStats(generation, host, map.cols, region, bins);
    const context = this.#context(generation);
    const minMax = context.pass('MinMaxPass', (device, shaders) => new MinMaxPass(device, shaders));
    const histogramPass = context.pass('HistogramPass', (device, shaders) => new HistogramPass(device, shaders));
    await minMax.ready('float32');
    if (bins > 0) await histogramPass.ready('float32', bins);
    const device = generation.device;
    const stats = createMapStatsBuffer(device, 'AttentionEngine.stats');
    const histogram = bins > 0 ? createHistogramBuffer(device, 'AttentionEngine.histogram', bins) : undefined;
    const job = { input: { buffer: map.buffer, format: 'float32' as const, elementOffset: 0 }, rows: map.rows, cols: map.cols, region };
    const encoder = into ?? device.createCommandEncoder({ label: 'AttentionEngine.statsEncoder' });
    minMax.encode(encoder, job, stats);
    if (histogram) histogramPass.encode(encoder, job, stats, histogram, bins);
    if (!into) submitCounted(device, [encoder.finish()]);
    let destroyed = false;
    return {
      stats,
      histogram,
      bins,
      read: async () => ({
        ...(await readMapStats(device, stats)),
        histogram: histogram ? await readHistogram(device, histogram, bins) : new Uint32Array(0),
      }),
      destroy: () => {
        if (destroyed) return;
        destroyed = true;
        stats.destroy();
        histogram?.destroy();
      },
    };
  }

  /**
   * The stats of a host map, computed on the host; the stats buffers the render passes bind are made and filled
   * when first asked for (a figure drawn on the host reads the numbers only).
   */
  #hostStats(generation: DeviceGeneration, values: Float32Array, cols: number, region: Crop, bins: number): ComputedStats {
    const device = generation.device;
    const read = regionStats(values, cols, region);
    const counts = bins > 0 ? regionHistogram(values, cols, region, read.min, read.max, bins) : new Uint32Array(0);
    let stats: GPUBuffer | undefined;
    let histogram: GPUBuffer | undefined;
    let destroyed = false;
    const made = (buffer: GPUBuffer): GPUBuffer => {
      if (destroyed) buffer.destroy();
      return buffer;
    };
    return {
      get stats() {
        if (stats) return stats;
        const words = new Uint32Array(MAP_STATS_BYTES / 4);
        const floats = new Float32Array(words.buffer);
        words.set([0, 0, read.finiteCount, read.nanCount, read.posInfCount, read.negInfCount]);
        floats[MAP_STATS_MIN_WORD] = read.min;
        floats[MAP_STATS_MAX_WORD] = read.max;
        stats = createMapStatsBuffer(device, 'AttentionEngine.stats');
        device.queue.writeBuffer(stats, 0, words);
        return made(stats);
      },
      get histogram() {
        if (histogram || bins === 0) return histogram;
        histogram = createHistogramBuffer(device, 'AttentionEngine.histogram', bins);
        device.queue.writeBuffer(histogram, 0, counts as Uint32Array<ArrayBuffer>);
        return made(histogram);
      },
      bins,
      read: async () => ({ ...read, histogram: counts.slice() }),
      destroy: () => {
        if (destroyed) return;
        destroyed = true;
        stats?.destroy();
        histogram?.destroy();
      },
    };
  }

  #handler(request: MapRequest): MapKindHandler {
    const kind = kindOf(request);
    const handler = this.#kinds.get(kind);
    if (!handler) throw new MapRequestError(`No handler for map requests of kind '${kind}'; register one with registerKind()`);
    return handler;
  }

  /** A handler's context; `input`: a map already computed, given to computeInner for its own request (#keepOn). */
  #context(generation: DeviceGeneration, batch?: CommandBatch, steps?: StepHooks, input?: ComputedMap): MapContext {
    return {
      ...steps,
      device: generation.device,
      shaders: this.#options.shaders,
      format: this.#format,
      tensorShape: (tensorId) => this.tensorShape(tensorId),
      acquireMaps: (tensorId, layer, heads) => this.#acquireMaps(generation, tensorId, layer, heads),
      acquireDerived: (tensorId, derived, create) => this.#acquireDerived(generation, tensorId, derived, create, batch),
      shapeOf: async (request) => this.#handler(request).outputShape(request as never, this.#context(generation)),
      computeInner: async (request) => {
        // The map already computed (#keepOn's input) stands in for its own request; the caller keeps ownership of it.
        const given = input && JSON.stringify(request) === JSON.stringify(input.request);
        const inner = given ? input : await this.#computeOn(generation, request, undefined, batch);
        // Its caller is a GPU pass: a host map's buffer is made now, with the retry on out-of-memory.
        await this.#bufferOf(inner);
        return given ? { ...inner, destroy: () => {} } : inner;
      },
      pass: <T extends { destroy(): void }>(key: string, create: (device: GPUDevice, shaders: ShaderSources) => T): T => {
        let pass = generation.passes.get(key) as T | undefined;
        if (!pass) {
          pass = create(generation.device, this.#options.shaders);
          generation.passes.set(key, pass);
        }
        return pass;
      },
      createEncoder: (label) => batch?.encoder ?? generation.device.createCommandEncoder({ label }),
      submit: (encoder) => {
        if (!batch) submitCounted(generation.device, [encoder.finish()]);
      },
      afterSubmit: (cleanup) => (batch ? batch.afterSubmit(cleanup) : cleanup()),
      readHeadValues: async (tensorId, layer, head, into) => {
        const source = this.#tensor(tensorId).source;
        if (isGpuProducedSource(source)) return undefined;
        return into ? readHeadInto(source, layer, head, into) : source.readHead(layer, head);
      },
      writeHostValues: (output, values) => {
        generation.device.queue.writeBuffer(output, 0, values as Float32Array<ArrayBuffer>);
        this.#hostValues.set(output, values);
      },
    };
  }

  #maybePrefetch(request: MapRequest): void {
    if (!this.#options.prefetch || kindOf(request) !== 'attention') return;
    const tensor = this.#tensors.get((request as { tensorId: string }).tensorId);
    if (!tensor || tensor.prefetched) return;
    tensor.prefetched = true;
    this.prefetch(tensor.id).catch((error: unknown) =>
      this.#emit({ type: 'gpu-error', message: `prefetch of ${tensor.id} failed: ${(error as Error).message}` }),
    );
  }

  // ---- uploads -----------------------------------------------------------------------------------------------

  #tensor(id: string): TensorEntry {
    const tensor = this.#tensors.get(id);
    if (!tensor) {
      const known = [...this.#tensors.keys()].map((key) => `'${key}'`).join(', ') || 'none';
      throw new MapRequestError(`No tensor '${id}' has been added (added: ${known})`);
    }
    return tensor;
  }

  #planOf(tensor: TensorEntry, generation: DeviceGeneration): ChunkPlan {
    let plan = tensor.plans.get(generation.id);
    if (!plan) {
      const limit = Math.min(generation.limits.maxStorageBufferBindingSize, generation.limits.maxBufferSize);
      plan = planChunks(tensor.source.shape, this.#format, Math.min(limit, this.#options.maxChunkBytes ?? limit));
      tensor.plans = new Map([[generation.id, plan]]);
    }
    return plan;
  }

  #chunkKey(generation: DeviceGeneration, tensor: TensorEntry, chunk: UploadChunk): string {
    return `${generation.id}/${tensor.serial}/${chunk.layer}/${chunk.firstHead}`;
  }

  async #acquireMaps(generation: DeviceGeneration, tensorId: string, layer: number, heads: readonly number[]): Promise<AcquiredMaps> {
    const tensor = this.#tensor(tensorId);
    const plan = this.#planOf(tensor, generation);
    const mapSize = tensor.source.shape.rows * tensor.source.shape.cols;
    const byChunk = new Map<number, { chunk: UploadChunk; heads: number[] }>();
    for (const head of heads) {
      const chunk = plan.chunkOf(layer, head);
      const group = byChunk.get(chunk.firstHead) ?? { chunk, heads: [] };
      group.heads.push(head);
      byChunk.set(chunk.firstHead, group);
    }
    const releases: (() => void)[] = [];
    const parts: ChunkMaps[] = [];
    try {
      for (const { chunk, heads: chunkHeads } of byChunk.values()) {
        const acquired = await this.#acquireChunk(generation, tensor, chunk);
        releases.push(acquired.release);
        parts.push({
          input: { buffer: acquired.buffer, format: this.#format },
          heads: chunkHeads,
          mapOffsets: chunkHeads.map((head) => (head - chunk.firstHead) * mapSize),
        });
      }
    } catch (error) {
      releases.forEach((release) => release());
      throw error;
    }
    return { parts, release: () => releases.forEach((release) => release()) };
  }

  /**
   * A handler's derived buffer in the residency cache. The key holds the device generation and the tensor's serial,
   * so a tensor added again under the same id (the CLI's 'utterance' for every file of a batch) never finds the
   * buffers of the one before, even one still pinned by a computation when removeTensor ran.
   */
  async #acquireDerived(
    generation: DeviceGeneration,
    tensorId: string,
    derived: { readonly name: string; readonly layer: number; readonly byteLength: number },
    create: (freeSomething: () => boolean) => Promise<GPUBuffer>,
    batch: CommandBatch | undefined,
  ): Promise<AcquiredBuffer> {
    const tensor = this.#tensor(tensorId);
    const key = `${generation.id}/${tensor.serial}/derived/${derived.name}`;
    const info: ResidentChunk = { tensorId, layer: derived.layer, firstHead: 0, headCount: 0, byteLength: derived.byteLength, derived: derived.name };
    const acquired = await this.#residency.acquire(key, info, async (freeSomething) => {
      if (generation.lost) throw new Error('the GPU device was lost before a derived buffer was computed');
      const buffer = await create(freeSomething);
      this.#markUnsubmitted(key, info, batch);
      return buffer;
    });
    this.#submitWriterOf(key, batch);
    return acquired;
  }

  /**
   * A kept buffer (`key`, `info`) just made: its commands may still sit in `batch`, a shared command buffer not yet
   * submitted; then it is recorded (the one record: #unsubmittedDerived), and dropped should the batch be abandoned
   * (#settleBatch).
   */
  #markUnsubmitted(key: string, info: ResidentChunk, batch: CommandBatch | undefined): void {
    if (batch?.recording) this.#unsubmittedDerived.set(key, { batch, drop: () => this.#residency.evictWhere((chunk) => chunk === info) });
  }

  /**
   * Another computation's shared command buffer that fills kept buffer `key` is submitted now, before the one
   * recording into `batch` (or submitting its own) records anything that reads it (commands run in submit order).
   */
  #submitWriterOf(key: string, batch: CommandBatch | undefined): void {
    const writer = this.#unsubmittedDerived.get(key)?.batch;
    if (writer && writer !== batch) writer.submit();
  }

  /**
   * A shared command buffer was submitted (its derived buffers are filled by the time anything submitted later reads
   * them) or abandoned (they never will be: dropped from the cache).
   */
  #settleBatch(batch: CommandBatch, submitted: boolean): void {
    for (const [key, entry] of this.#unsubmittedDerived) {
      if (entry.batch !== batch) continue;
      this.#unsubmittedDerived.delete(key);
      if (!submitted) entry.drop();
    }
  }

  /**
   * `words`: how a file's bytes that are the storage words are uploaded (src/gpu/storedUpload.ts). A map's own request
   * takes 'writeBuffer' (no submit of ours: a control change stays one submit); prefetch takes 'staging' (faster, a
   * submit per 4 MiB piece). Concurrent requests for a chunk share the first one's load.
   */
  #acquireChunk(generation: DeviceGeneration, tensor: TensorEntry, chunk: UploadChunk, words: StoredWordsPath = 'writeBuffer') {
    const info: ResidentChunk = {
      tensorId: tensor.id,
      layer: chunk.layer,
      firstHead: chunk.firstHead,
      headCount: chunk.headCount,
      byteLength: chunk.byteLength,
    };
    // A file's chunk buffers are recycled after eviction (src/gpu/residency.ts); a model's are made by its own code.
    const recycle = isGpuProducedSource(tensor.source) ? undefined : chunkBufferUsage();
    return this.#residency.acquire(this.#chunkKey(generation, tensor, chunk), info, async (freeSomething, recycled) => {
      // A load for a device already lost would read the file for nothing: the retry on the new device reads it.
      if (generation.lost) throw new Error('the GPU device was lost before the upload');
      const whole = chunk.headCount === tensor.source.shape.heads;
      const label = `Upload.${tensor.id}.layer${chunk.layer}${whole ? '' : `.heads${chunk.firstHead}-${chunk.firstHead + chunk.headCount - 1}`}`;
      // A model's scores are computed straight into the chunk's buffer; a file's values are read and uploaded.
      if (isGpuProducedSource(tensor.source)) {
        const buffer = await createProducedChunkBuffer(generation.device, label, chunk, tensor.source, this.#format, freeSomething);
        this.#emit({ type: 'upload', ...info });
        return buffer;
      }
      const buffer = await uploadChunk(generation.device, label, chunk, tensor.source, this.#format, freeSomething, this.#options.shaders, recycled, words);
      if (generation.lost) {
        buffer.destroy();
        throw new Error('the GPU device was lost during the upload');
      }
      this.#emit({ type: 'upload', ...info });
      return buffer;
    }, recycle);
  }

  // ---- device loss -------------------------------------------------------------------------------------------

  #adopt(id: number, acquired: Awaited<ReturnType<typeof requestEngineDevice>>): DeviceGeneration {
    const generation: DeviceGeneration = {
      id,
      device: acquired.device,
      adapterDescription: acquired.adapterDescription,
      limits: acquired.limits,
      passes: new Map(),
      lost: false,
      detach: () => {},
    };
    generation.detach = watchDevice(acquired.device, {
      onLost: (info) => {
        generation.lost = true;
        if (this.#destroyed || this.#generation !== generation || this.#recovering) return;
        this.#recovering = this.#recover(generation, info);
      },
      onUncapturedError: (error) => this.#emit({ type: 'gpu-error', message: error.message }),
    });
    return generation;
  }

  async #recover(lost: DeviceGeneration, info: GPUDeviceLostInfo): Promise<DeviceGeneration> {
    this.#emit({ type: 'device-lost', reason: String(info.reason), message: info.message });
    this.#residency.clear();
    this.#retire(lost);
    try {
      const acquired = await requestEngineDevice(this.#options.gpu, { powerPreference: this.#options.powerPreference });
      if (this.#destroyed) {
        acquired.device.destroy();
        throw new EngineDestroyedError();
      }
      this.#generation = this.#adopt(lost.id + 1, acquired);
      this.#emit({ type: 'device-restored', adapter: acquired.adapterDescription });
      return this.#generation;
    } finally {
      this.#recovering = undefined;
    }
  }

  #retire(generation: DeviceGeneration): void {
    generation.detach();
    for (const pass of generation.passes.values()) pass.destroy();
    generation.passes.clear();
  }

  async #currentGeneration(): Promise<DeviceGeneration> {
    this.#checkAlive();
    return this.#recovering ?? this.#generation;
  }

  /**
   * Runs an operation on the current device. If it fails because the device was lost meanwhile, waits for the
   * replacement device and runs it again (up to twice): uploads are redone from the AttentionSources on demand.
   */
  async #withDevice<T>(operation: (generation: DeviceGeneration) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const generation = await this.#currentGeneration();
      try {
        return await operation(generation);
      } catch (error) {
        const ours = error instanceof MapRequestError || error instanceof GpuMemoryError || error instanceof BudgetTooSmallError;
        if (this.#destroyed || attempt >= 2 || ours || !(await wasLost(generation))) throw error;
      }
    }
  }

  #checkAlive(): void {
    if (this.#destroyed) throw new EngineDestroyedError();
  }

  #emit(event: EngineEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}

/** Whether the generation's device is lost, waiting briefly for device.lost (it settles after the failure it causes). */
async function wasLost(generation: DeviceGeneration): Promise<boolean> {
  if (generation.lost) return true;
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), 250));
  return Promise.race([generation.device.lost.then(() => true), timeout]);
}
