/**
 * GPU time of recorded work through timestamp queries, when the device has 'timestamp-query'; nothing otherwise
 * (callers then fall back to wall time around onSubmittedWorkDone).
 *
 * The passes under test record their own compute and render passes (`encoder.beginComputePass({ label })`), so the
 * timer hands them a wrapped encoder that adds `timestampWrites` to every pass they begin. The GPU time of a
 * measurement is the sum of its passes' durations: gaps between passes (and copies outside passes) are not counted.
 *
 * Traps, as webgpu-samples' TimestampQueryManager notes them: timestamps may be quantised (Chrome rounds to 100 us
 * unless developer features are on) and an end before its begin can happen, so each duration is clamped at 0; a
 * measurement whose passes all read 0 is reported as undefined, not as 0 ms.
 */

import { submitCounted } from '../../src/gpu/workCounters.ts';

/** Passes one measurement may time; more are recorded without timestamps. */
const MAX_TIMED_PASSES = 256;
/** Bytes per resolved timestamp: a u64 of nanoseconds. */
const TIMESTAMP_BYTES = 8;

/** Times the passes of recorded work; one measurement at a time. */
export class GpuTimer {
  readonly #device: GPUDevice;
  readonly #querySet: GPUQuerySet | undefined;
  readonly #resolve: GPUBuffer | undefined;
  readonly #readback: GPUBuffer | undefined;
  #used = 0;

  /** Timestamps are taken only when `device` was created with the 'timestamp-query' feature. */
  constructor(device: GPUDevice) {
    this.#device = device;
    if (!device.features.has('timestamp-query')) return;
    this.#querySet = device.createQuerySet({ label: 'GpuTimer.querySet', type: 'timestamp', count: MAX_TIMED_PASSES * 2 });
    const bytes = MAX_TIMED_PASSES * 2 * TIMESTAMP_BYTES;
    this.#resolve = device.createBuffer({ label: 'GpuTimer.resolve', size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.#readback = device.createBuffer({ label: 'GpuTimer.readback', size: bytes, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  }

  /** Whether GPU timestamps are available; when false, measure() reports only wall time. */
  get enabled(): boolean {
    return this.#querySet !== undefined;
  }

  /**
   * Records `record` into a fresh encoder (wrapped so that its passes are timed), submits it and waits for the GPU.
   * Returns the wall time from the first recorded command to onSubmittedWorkDone, and the GPU time of the passes
   * (undefined without timestamp queries, or when they all read 0).
   */
  async measure(record: (encoder: GPUCommandEncoder) => void, label = 'GpuTimer.encoder'): Promise<{ wallMs: number; gpuMs: number | undefined }> {
    const start = performance.now();
    const encoder = this.#device.createCommandEncoder({ label });
    record(this.#wrap(encoder));
    const passes = this.#finish(encoder);
    submitCounted(this.#device, [encoder.finish()]);
    await this.#device.queue.onSubmittedWorkDone();
    const wall = performance.now() - start;
    return { wallMs: wall, gpuMs: await this.#read(passes) };
  }

  /** The encoder with timestamp writes added to each pass it begins (up to MAX_TIMED_PASSES). */
  #wrap(encoder: GPUCommandEncoder): GPUCommandEncoder {
    this.#used = 0;
    const querySet = this.#querySet;
    if (!querySet) return encoder;
    const next = (): GPUComputePassTimestampWrites | undefined => {
      if (this.#used >= MAX_TIMED_PASSES) return undefined;
      const index = this.#used++;
      return { querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 };
    };
    return new Proxy(encoder, {
      get(target, property) {
        if (property === 'beginComputePass') {
          return (descriptor: GPUComputePassDescriptor = {}) => target.beginComputePass({ ...descriptor, timestampWrites: next() });
        }
        if (property === 'beginRenderPass') {
          return (descriptor: GPURenderPassDescriptor) => target.beginRenderPass({ ...descriptor, timestampWrites: next() });
        }
        const value = Reflect.get(target, property, target) as unknown;
        // Dawn's methods check that `this` is the native encoder, so they are called on the target, not the proxy.
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** Frees the query set and buffers. */
  destroy(): void {
    this.#querySet?.destroy();
    this.#resolve?.destroy();
    this.#readback?.destroy();
  }

  /** Records the resolve and copy of the timestamps written since #wrap(); returns how many passes were timed. */
  #finish(encoder: GPUCommandEncoder): number {
    const passes = this.#used;
    if (!this.#querySet || !this.#resolve || !this.#readback || passes === 0) return passes;
    encoder.resolveQuerySet(this.#querySet, 0, passes * 2, this.#resolve, 0);
    encoder.copyBufferToBuffer(this.#resolve, 0, this.#readback, 0, passes * 2 * TIMESTAMP_BYTES);
    return passes;
  }

  /** After the submit: the summed durations of `passes` passes, in ms. */
  async #read(passes: number): Promise<number | undefined> {
    if (!this.#readback || passes === 0) return undefined;
    await this.#readback.mapAsync(GPUMapMode.READ, 0, passes * 2 * TIMESTAMP_BYTES);
    const stamps = new BigInt64Array(this.#readback.getMappedRange(0, passes * 2 * TIMESTAMP_BYTES).slice(0));
    this.#readback.unmap();
    let nanoseconds = 0;
    for (let index = 0; index < passes; index++) {
      const elapsed = Number(stamps[2 * index + 1] - stamps[2 * index]);
      if (elapsed > 0) nanoseconds += elapsed;
    }
    return nanoseconds > 0 ? nanoseconds / 1e6 : undefined;
  }
}

/**
 * `gpu` with one change: devices it hands out also get 'timestamp-query' when the adapter has it, so that frames and
 * maps of an AttentionEngine (which requests its own device) can be timed on the GPU as well. Everything else goes
 * to the real objects (bound to them, since browser and Dawn methods check `this`).
 */
export function withTimestampQuery(gpu: GPU): GPU {
  const bindAll = <T extends object>(target: T, overrides: Partial<Record<PropertyKey, unknown>>): T =>
    new Proxy(target, {
      get(object, property) {
        if (property in overrides) return overrides[property];
        const value = Reflect.get(object, property, object) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
      },
    });
  const wrapAdapter = (adapter: GPUAdapter): GPUAdapter =>
    bindAll(adapter, {
      requestDevice: (descriptor: GPUDeviceDescriptor = {}) => {
        const features = new Set<GPUFeatureName>(descriptor.requiredFeatures ?? []);
        if (adapter.features.has('timestamp-query')) features.add('timestamp-query');
        return adapter.requestDevice({ ...descriptor, requiredFeatures: [...features] });
      },
    });
  return bindAll(gpu, {
    requestAdapter: async (options?: GPURequestAdapterOptions) => {
      const adapter = await gpu.requestAdapter(options);
      return adapter ? wrapAdapter(adapter) : adapter;
    },
  });
}
