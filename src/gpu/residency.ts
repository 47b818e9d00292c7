/**
 * Which uploaded chunks stay on the GPU: a byte budget with least-recently-used eviction.
 *
 * A computation acquires the chunks it reads (which pins them: a pinned chunk is never evicted) and releases them
 * once its commands are submitted; destroying a buffer after submit is safe in WebGPU, so eviction never has to wait
 * for the GPU. The budget may be exceeded only while the chunks one computation needs at the same time are pinned;
 * on release the cache shrinks back under it. Concurrent requests for the same chunk share one upload.
 */

/** What a resident chunk holds; part of the memory report. */
export interface ResidentChunk {
  readonly tensorId: string;
  readonly layer: number;
  readonly firstHead: number;
  readonly headCount: number;
  /** Bytes of GPU memory the chunk's buffer takes. */
  readonly byteLength: number;
  /** Set for a buffer computed from the tensor rather than uploaded (e.g. a rollout product): what it holds. */
  readonly derived?: string;
}

/** Snapshot of GPU memory use by uploaded attention (outputs and scratch buffers are not counted). */
export interface MemoryReport {
  readonly budgetBytes: number;
  /** Bytes of chunks uploaded or being uploaded. */
  readonly residentBytes: number;
  /** Resident chunks, least recently used first. */
  readonly entries: readonly ResidentChunk[];
}

/** A chunk's buffer, pinned until release() is called (once). */
export interface AcquiredChunk {
  readonly buffer: GPUBuffer;
  release(): void;
}

interface Entry {
  readonly info: ResidentChunk;
  buffer?: GPUBuffer;
  loading?: Promise<GPUBuffer>;
  pins: number;
}

/** Thrown when one chunk alone is larger than the whole budget. */
export class BudgetTooSmallError extends Error {
  override readonly name = 'BudgetTooSmallError';
}

/** LRU cache of chunk buffers under a byte budget. */
export class ResidencyCache {
  #budgetBytes: number;
  #residentBytes = 0;
  /** Insertion order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<string, Entry>();
  readonly #onEvict: (chunk: ResidentChunk) => void;
  /** Bumped by clear(): loads that started before it are discarded when they finish. */
  #epoch = 0;

  /** `onEvict` hears about each chunk evicted to make room (not about clear()). */
  constructor(budgetBytes: number, onEvict: (chunk: ResidentChunk) => void = () => {}) {
    this.#budgetBytes = budgetBytes;
    this.#onEvict = onEvict;
  }

  get budgetBytes(): number {
    return this.#budgetBytes;
  }

  /** Changes the budget; evicts unpinned chunks at once if the new budget is smaller than what is resident. */
  set budgetBytes(bytes: number) {
    this.#budgetBytes = bytes;
    this.#shrink(0);
  }

  get residentBytes(): number {
    return this.#residentBytes;
  }

  /** The memory report: budget, resident bytes and entries, least recently used first. */
  report(): MemoryReport {
    return {
      budgetBytes: this.#budgetBytes,
      residentBytes: this.#residentBytes,
      entries: [...this.#entries.values()].map((entry) => entry.info),
    };
  }

  /** Whether `key` is resident or being uploaded. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /**
   * Returns the chunk's buffer, pinned, loading it with `load` when it is not resident. Before a load, unpinned
   * chunks are evicted, least recently used first, until it fits the budget; `load` gets `freeSomething` to evict
   * one more chunk when an allocation runs out of memory (it returns false when nothing evictable is left).
   */
  async acquire(
    key: string,
    info: ResidentChunk,
    load: (freeSomething: () => boolean) => Promise<GPUBuffer>,
  ): Promise<AcquiredChunk> {
    let entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    } else {
      if (info.byteLength > this.#budgetBytes) {
        throw new BudgetTooSmallError(
          `The GPU memory budget (${this.#budgetBytes} bytes) is smaller than one upload of ${info.tensorId} ` +
            `(layer ${info.layer}, ${info.headCount} head(s): ${info.byteLength} bytes); raise budgetBytes.`,
        );
      }
      this.#shrink(info.byteLength);
      const epoch = this.#epoch;
      const created: Entry = { info, pins: 0 };
      entry = created;
      this.#entries.set(key, created);
      this.#residentBytes += info.byteLength;
      created.loading = load(() => this.evictOne()).then(
        (buffer) => {
          created.loading = undefined;
          if (epoch !== this.#epoch) {
            // clear() ran while this was loading (device lost): the buffer belongs to a dead device.
            buffer.destroy();
          } else {
            created.buffer = buffer;
          }
          return buffer;
        },
        (error: unknown) => {
          if (epoch === this.#epoch && this.#entries.get(key) === created) {
            this.#entries.delete(key);
            this.#residentBytes -= info.byteLength;
          }
          throw error;
        },
      );
    }
    entry.pins += 1;
    const pinned = entry;
    let buffer: GPUBuffer;
    try {
      buffer = pinned.buffer ?? (await pinned.loading!);
    } catch (error) {
      pinned.pins -= 1;
      throw error;
    }
    let released = false;
    return {
      buffer,
      release: () => {
        if (released) return;
        released = true;
        pinned.pins -= 1;
        this.#shrink(0);
      },
    };
  }

  /** Evicts the least recently used unpinned, fully uploaded chunk. Returns false when there is none. */
  evictOne(): boolean {
    for (const [key, entry] of this.#entries) {
      if (entry.pins > 0 || !entry.buffer) continue;
      this.#entries.delete(key);
      this.#residentBytes -= entry.info.byteLength;
      entry.buffer.destroy();
      this.#onEvict(entry.info);
      return true;
    }
    return false;
  }

  /** Evicts (unpinned) chunks for which `predicate` holds, e.g. every chunk of a removed tensor. */
  evictWhere(predicate: (chunk: ResidentChunk) => boolean): void {
    for (const [key, entry] of [...this.#entries]) {
      if (entry.pins > 0 || !entry.buffer || !predicate(entry.info)) continue;
      this.#entries.delete(key);
      this.#residentBytes -= entry.info.byteLength;
      entry.buffer.destroy();
    }
  }

  /** Forgets every chunk and destroys their buffers (device lost, or engine destroyed). Pins no longer matter. */
  clear(): void {
    this.#epoch += 1;
    for (const entry of this.#entries.values()) entry.buffer?.destroy();
    this.#entries.clear();
    this.#residentBytes = 0;
  }

  /** Evicts until `incomingBytes` more would fit the budget, or nothing evictable is left. */
  #shrink(incomingBytes: number): void {
    while (this.#residentBytes + incomingBytes > this.#budgetBytes && this.evictOne()) {
      // evictOne() made progress; keep going.
    }
  }
}
