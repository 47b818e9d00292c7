/**
 * How a request kind is computed: the interface between the engine (device, memory, uploads) and the passes.
 * See src/compute/mapRequest.ts for how a new kind is added.
 */
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { StorageFormat } from '../gpu/storageFormat.ts';
import type { AttentionShape } from '../data/tensor.ts';
import type { MapKindName, MapRequest, MapRequestKinds, MapShape } from './mapRequest.ts';

/** A map computed on the GPU: rows x cols f32, row-major, in a storage buffer. */
export interface ComputedMap extends MapShape {
  /** STORAGE | COPY_SRC | COPY_DST; at least rows x cols x 4 bytes. Bind it read-only in render passes. */
  readonly buffer: GPUBuffer;
  readonly request: MapRequest;
  /** The device the buffer lives on. After a device loss ('device-restored' event) compute the map again. */
  readonly device: GPUDevice;
  /** Frees the buffer unless the caller supplied it. Safe to call twice. */
  destroy(): void;
}

/** Maps of one uploaded chunk: its buffer and where each selected head's map starts in it. */
export interface ChunkMaps {
  readonly input: { readonly buffer: GPUBuffer; readonly format: StorageFormat };
  /** Heads of the request found in this chunk. */
  readonly heads: readonly number[];
  /** Element index of each of those heads' [0][0] in input.buffer. */
  readonly mapOffsets: readonly number[];
}

/** Chunks of one layer, pinned in GPU memory until release(). */
export interface AcquiredMaps {
  readonly parts: readonly ChunkMaps[];
  /** Unpins the chunks. Call after the commands that read them are submitted. Safe to call twice. */
  release(): void;
}

/** A buffer kept by the engine for a handler (MapContext.acquireDerived), pinned until release(). */
export interface AcquiredBuffer {
  readonly buffer: GPUBuffer;
  /** Unpins the buffer. Call after the commands that read it are submitted. Safe to call twice. */
  release(): void;
}

/** What a handler can use while computing a request. Valid for one compute() call. */
export interface MapContext {
  readonly device: GPUDevice;
  readonly shaders: ShaderSources;
  /** Storage format of uploaded attention. */
  readonly format: StorageFormat;
  /** Shape of an added tensor; throws a RangeError for an unknown id. */
  tensorShape(tensorId: string): AttentionShape;
  /** Uploads (if needed) and pins the chunks holding `heads` of `layer`. Preconditions: indices in range. */
  acquireMaps(tensorId: string, layer: number, heads: readonly number[]): Promise<AcquiredMaps>;
  /**
   * A buffer derived from a tensor's values (rollout's running product through a layer) that the engine keeps between
   * requests, under its memory budget together with the uploads (least recently used out first). `name` identifies
   * the content within the tensor. It belongs to the tensor as added: removing the tensor, or adding another under the
   * same id, drops it, and a later tensor never gets an earlier one's buffer; so does a device loss. Returned pinned;
   * when it is not kept, `create` makes it, and must submit the commands that fill it before it returns, or record
   * them through this context (createEncoder, submit): when those land in a command buffer shared by several requests
   * (computeMaps), the engine submits it before another computation reads the buffer, and drops the buffer should the
   * shared command buffer never be submitted. `create` may call `freeSomething` when an allocation runs out of memory.
   */
  acquireDerived(
    tensorId: string,
    derived: { readonly name: string; readonly layer: number; readonly byteLength: number },
    create: (freeSomething: () => boolean) => Promise<GPUBuffer>,
  ): Promise<AcquiredBuffer>;
  /** Output size of any request (checking it), e.g. of a nested one. */
  shapeOf(request: MapRequest): Promise<MapShape>;
  /** Computes any request into a new map, which the caller destroys once its commands are submitted. */
  computeInner(request: MapRequest): Promise<ComputedMap>;
  /** The pass registered under `key` for this device, created with `create` on first use; the engine destroys it. */
  pass<T extends { destroy(): void }>(key: string, create: (device: GPUDevice, shaders: ShaderSources) => T): T;
  /** A command encoder labelled for this request. */
  createEncoder(label: string): GPUCommandEncoder;
  /** Submits an encoder's commands (or, when the engine records several requests into one command buffer, nothing yet). */
  submit(encoder: GPUCommandEncoder): void;
  /**
   * Runs `cleanup` (release acquired maps, destroy scratch buffers and inner maps) once the commands recorded so far
   * are submitted: at once when the handler submits its own encoders, after the shared submit when the engine
   * records several requests into one command buffer (a buffer destroyed before the submit that uses it is an error).
   */
  afterSubmit(cleanup: () => void): void;
  /**
   * The host path (src/compute/cpu/hostKinds.ts): one stored map of a tensor (rows x cols f32) read from its source,
   * or undefined when the source has no values off the GPU (a model's scores are made on the GPU). With `into`
   * (rows x cols values) the map is read into it and `into` returned: the caller's to write over; without, treat
   * the result as read-only.
   */
  readHeadValues?(tensorId: string, layer: number, head: number, into?: Float32Array): Promise<Float32Array | undefined>;
  /** The host path: uploads a map computed on the host into `output`, and keeps the values for its stats and read-back. */
  writeHostValues?(output: GPUBuffer, values: Float32Array): void;
  /**
   * For handlers that work in steps (rollout: one product per layer), set when the caller wants progress or may
   * cancel (AttentionEngine.computeMaps): stepDone after a step is recorded (submits what the context recorded, waits
   * for it, then reports it), throwIfCancelled before each step is recorded. Absent otherwise: steps are then
   * submitted (or recorded) without waiting.
   */
  stepDone?(done: number, total: number): Promise<void>;
  throwIfCancelled?(): void;
}

/** Computes one kind of request. */
export interface MapKindHandler<K extends MapKindName = MapKindName> {
  readonly kind: K;
  /** Checks the request (RangeError with a sentence when invalid) and returns the output size. */
  outputShape(request: MapRequestKinds[K], context: MapContext): Promise<MapShape> | MapShape;
  /**
   * True when the handler records only through the context (createEncoder, submit, afterSubmit): the engine may then
   * record it into a command buffer shared with other requests (AttentionEngine.computeMaps). A handler without it
   * runs on its own submits, after what was recorded before it has been submitted.
   */
  readonly recordsThroughContext?: boolean;
  /** Records and submits the passes that write the map into `output` (rows x cols f32, row-major). */
  compute(request: MapRequestKinds[K], output: GPUBuffer, context: MapContext): Promise<void>;
}
