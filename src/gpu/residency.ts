/**
 * Which uploaded chunks stay on the GPU: a byte budget with least-recently-used eviction.
 *
 * A computation acquires the chunks it reads (which pins them: a pinned chunk is never evicted) and releases them
 * once its commands are submitted; destroying a buffer after submit is safe in WebGPU, so eviction never has to wait
 * for the GPU. The budget may be exceeded only while the chunks one computation needs at the same time are pinned;
 * on release the cache shrinks back under it. Concurrent requests for the same chunk share one upload.
 *
 * Buffers of evicted or removed chunks that were acquired with a `recycle` usage are not destroyed but pooled, keyed by
 * (size, usage), and handed to the next load of a chunk of that size and usage. Why: memory touched for the first
 * time costs a page fault per 4 KiB (on the bench machine's VM, 41-81 MB/s against GB/s into touched memory), and
 * every new GPU buffer on a software adapter is new memory; a recycled buffer is not (bench/README.md "Load at memory
 * speed"). Pooled bytes count in the budget and are the first thing dropped when room is needed; clear() destroys them.
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

/**
 * GPU memory a tensor's source holds for as long as it is added, outside the chunks (a model's kept layer inputs and
 * q/k weights): taken off the budget, so chunks get what is left.
 */
export interface Reservation {
  /** Who holds it, e.g. the tensor id. */
  readonly owner: string;
  /** What it holds, for the report. */
  readonly holds: string;
  readonly bytes: number;
}

/** Snapshot of GPU memory use by uploaded attention (outputs and transient scratch buffers are not counted). */
export interface MemoryReport {
  readonly budgetBytes: number;
  /** Bytes reserved by sources (sum of `reservations`); chunks may use budgetBytes - reservedBytes. */
  readonly reservedBytes: number;
  readonly reservations: readonly Reservation[];
  /** Bytes of chunks uploaded or being uploaded. */
  readonly residentBytes: number;
  /** Bytes of evicted chunks' buffers kept for reuse (counted in the budget, dropped first when room is needed). */
  readonly pooledBytes: number;
  /** How many buffers are pooled. */
  readonly pooledBuffers: number;
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
  /** The pool key (size and usage) of a recyclable entry's buffer; undefined: destroyed on eviction. */
  readonly poolKey?: string;
  buffer?: GPUBuffer;
  loading?: Promise<GPUBuffer>;
  pins: number;
}

/** Thrown when one chunk alone, or a source's reservation with one chunk, is larger than the whole budget. */
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
  readonly #reservations = new Map<string, Reservation>();
  #reservedBytes = 0;
  /** Bumped by clear(): loads that started before it are discarded when they finish. */
  #epoch = 0;
  /** Buffers of evicted recyclable chunks by pool key; insertion order is age (oldest first, dropped first). */
  readonly #pool = new Map<string, GPUBuffer[]>();
  #pooledBytes = 0;
  #pooledBuffers = 0;

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

  /** Bytes of buffers kept for reuse; they count in the budget. */
  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  /** What chunks may use: the budget less the reservations. */
  get availableBytes(): number {
    return this.#budgetBytes - this.#reservedBytes;
  }

  /**
   * Takes `reservation.bytes` off the budget for its owner (replacing the owner's previous one) and evicts unpinned
   * chunks until the rest fits. Throws BudgetTooSmallError, reserving nothing, when the budget cannot hold all
   * reservations and `chunkBytes` more (the largest chunk of the source's tensor).
   */
  reserve(reservation: Reservation, chunkBytes: number): void {
    const others = this.#reservedBytes - (this.#reservations.get(reservation.owner)?.bytes ?? 0);
    const needed = others + reservation.bytes + chunkBytes;
    if (needed > this.#budgetBytes) {
      throw new BudgetTooSmallError(
        `The GPU memory budget (${this.#budgetBytes} bytes) cannot hold ${reservation.owner}: it keeps ${reservation.bytes} bytes ` +
          `(${reservation.holds})${others > 0 ? `, other sources keep ${others}` : ''}, and one chunk needs ${chunkBytes} more; ` +
          `raise budgetBytes to at least ${needed}.`,
      );
    }
    this.#reservations.set(reservation.owner, reservation);
    this.#reservedBytes = others + reservation.bytes;
    this.#shrink(0);
  }

  /** Returns an owner's reservation to the budget. */
  unreserve(owner: string): void {
    const reservation = this.#reservations.get(owner);
    if (!reservation) return;
    this.#reservations.delete(owner);
    this.#reservedBytes -= reservation.bytes;
  }

  /** The memory report: budget, resident bytes and entries, least recently used first. */
  report(): MemoryReport {
    return {
      budgetBytes: this.#budgetBytes,
      reservedBytes: this.#reservedBytes,
      reservations: [...this.#reservations.values()],
      residentBytes: this.#residentBytes,
      pooledBytes: this.#pooledBytes,
      pooledBuffers: this.#pooledBuffers,
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
   *
   * With `recycle` (the usage flags `load` creates the buffer with, which must be info.byteLength bytes), the chunk's
   * buffer is pooled rather than destroyed when evicted, and `load` gets a pooled buffer of that size and usage when
   * there is one (`recycled`): it must fill that buffer instead of creating one; on failure the cache destroys it.
   */
  async acquire(
    key: string,
    info: ResidentChunk,
    load: (freeSomething: () => boolean, recycled?: GPUBuffer) => Promise<GPUBuffer>,
    recycle?: GPUBufferUsageFlags,
  ): Promise<AcquiredChunk> {
    let entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    } else {
      if (info.byteLength > this.availableBytes) {
        const reserved = this.#reservedBytes > 0 ? ` less ${this.#reservedBytes} reserved by sources` : '';
        throw new BudgetTooSmallError(
          `The GPU memory budget (${this.#budgetBytes} bytes${reserved}) is smaller than one upload of ${info.tensorId} ` +
            `(layer ${info.layer}, ${info.headCount} head(s): ${info.byteLength} bytes); raise budgetBytes.`,
        );
      }
      const poolKey = recycle === undefined ? undefined : poolKeyOf(info.byteLength, recycle);
      const recycled = this.#makeRoom(info.byteLength, poolKey);
      const epoch = this.#epoch;
      const created: Entry = { info, poolKey, pins: 0 };
      entry = created;
      this.#entries.set(key, created);
      this.#residentBytes += info.byteLength;
      created.loading = load(() => this.evictOne(), recycled).then(
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
          // Whatever the load did with it, a recycled buffer is not pooled again after a failure (destroy is idempotent).
          recycled?.destroy();
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

  /**
   * Frees GPU memory for an allocation that ran out of it: destroys the oldest pooled buffer, or else evicts the
   * least recently used unpinned, fully uploaded chunk and destroys its buffer. Returns false when there is neither.
   */
  evictOne(): boolean {
    return this.#dropPooled() || this.#evictLeastRecent(false) !== undefined;
  }

  /** Evicts (unpinned) chunks for which `predicate` holds, e.g. every chunk of a removed tensor; recyclable buffers are pooled. */
  evictWhere(predicate: (chunk: ResidentChunk) => boolean): void {
    for (const [key, entry] of [...this.#entries]) {
      if (entry.pins > 0 || !entry.buffer || !predicate(entry.info)) continue;
      this.#entries.delete(key);
      this.#residentBytes -= entry.info.byteLength;
      this.#retire(entry, entry.buffer, true);
    }
    this.#shrink(0);
  }

  /**
   * Forgets every chunk and destroys their buffers (device lost, or engine destroyed). Pins no longer matter.
   * Reservations stay: their sources rebuild what they keep on the next device.
   */
  clear(): void {
    this.#epoch += 1;
    for (const entry of this.#entries.values()) entry.buffer?.destroy();
    this.#entries.clear();
    this.#residentBytes = 0;
    while (this.#dropPooled()) {
      // Pooled buffers belong to the old device too.
    }
  }

  /** Drops pooled buffers, then evicts, until `incomingBytes` more would fit the budget, or nothing is left to free. */
  #shrink(incomingBytes: number): void {
    while (this.#residentBytes + this.#pooledBytes + incomingBytes > this.availableBytes && this.evictOne()) {
      // evictOne() made progress; keep going.
    }
  }

  /**
   * Makes room for a load of `incomingBytes`. With a pool key, a pooled buffer of that key is taken out of the pool
   * and returned (it is the room); otherwise pooled buffers of other keys are dropped and least recently used chunks
   * evicted into the pool, stopping as soon as one of them has the key or the load fits.
   */
  #makeRoom(incomingBytes: number, poolKey: string | undefined): GPUBuffer | undefined {
    for (;;) {
      const recycled = poolKey === undefined ? undefined : this.#takePooled(poolKey, incomingBytes);
      if (recycled) return recycled;
      if (this.#residentBytes + this.#pooledBytes + incomingBytes <= this.availableBytes) return undefined;
      if (this.#dropPooled()) continue;
      if (this.#evictLeastRecent(poolKey !== undefined) === undefined) return undefined;
    }
  }

  /** Evicts the least recently used unpinned, loaded chunk; its buffer is pooled when `pool` and it is recyclable. */
  #evictLeastRecent(pool: boolean): Entry | undefined {
    for (const [key, entry] of this.#entries) {
      if (entry.pins > 0 || !entry.buffer) continue;
      this.#entries.delete(key);
      this.#residentBytes -= entry.info.byteLength;
      this.#retire(entry, entry.buffer, pool);
      this.#onEvict(entry.info);
      return entry;
    }
    return undefined;
  }

  #retire(entry: Entry, buffer: GPUBuffer, pool: boolean): void {
    if (!pool || entry.poolKey === undefined) {
      buffer.destroy();
      return;
    }
    const buffers = this.#pool.get(entry.poolKey) ?? [];
    buffers.push(buffer);
    // Re-inserted so that the key's place in the map is the age of its newest buffer.
    this.#pool.delete(entry.poolKey);
    this.#pool.set(entry.poolKey, buffers);
    this.#pooledBytes += entry.info.byteLength;
    this.#pooledBuffers += 1;
  }

  #takePooled(poolKey: string, byteLength: number): GPUBuffer | undefined {
    const buffers = this.#pool.get(poolKey);
    const buffer = buffers?.pop();
    if (!buffer) return undefined;
    if (buffers!.length === 0) this.#pool.delete(poolKey);
    this.#pooledBytes -= byteLength;
    this.#pooledBuffers -= 1;
    return buffer;
  }

  /** Destroys the oldest buffer of the oldest pool key (a load takes the newest). Returns false when the pool is empty. */
  #dropPooled(): boolean {
    const oldest = this.#pool.keys().next();
    if (oldest.done) return false;
    const buffers = this.#pool.get(oldest.value)!;
    const buffer = buffers.shift()!;
    if (buffers.length === 0) this.#pool.delete(oldest.value);
    this.#pooledBytes -= poolBytesOf(oldest.value);
    this.#pooledBuffers -= 1;
    buffer.destroy();
    return true;
  }
}

function poolKeyOf(byteLength: number, usage: GPUBufferUsageFlags): string {
  return `${byteLength}/${usage}`;
}

function poolBytesOf(poolKey: string): number {
  return Number(poolKey.slice(0, poolKey.indexOf('/')));
}
