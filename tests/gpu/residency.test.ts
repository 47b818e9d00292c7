// The GPU memory policy without a GPU: fake buffers that only record destroy(), and a fake device whose
// out-of-memory scope fails on demand (a real OOM cannot be provoked reliably on SwiftShader or in CI).
import { describe, expect, it } from 'vitest';
import { createBufferWithRetry, GpuMemoryError } from '../../src/gpu/allocate.ts';
import { BudgetTooSmallError, ResidencyCache, type ResidentChunk } from '../../src/gpu/residency.ts';
import { planChunks } from '../../src/gpu/upload.ts';

type FakeBuffer = GPUBuffer & { destroyed: boolean };

function fakeBuffer(label: string): FakeBuffer {
  const buffer = { label, destroyed: false, destroy: () => void (buffer.destroyed = true) };
  return buffer as unknown as FakeBuffer;
}

function chunk(layer: number, byteLength = 100): ResidentChunk {
  return { tensorId: 't', layer, firstHead: 0, headCount: 1, byteLength };
}

describe(ResidencyCache.name, () => {
  it('evicts least recently used chunks beyond the budget, never pinned ones, and destroys their buffers', async () => {
    const evicted: number[] = [];
    const cache = new ResidencyCache(250, (info) => evicted.push(info.layer));
    const buffers: FakeBuffer[] = [];
    const touch = async (layer: number) => {
      const acquired = await cache.acquire(`l${layer}`, chunk(layer), async () => {
        const buffer = fakeBuffer(`l${layer}`);
        buffers[layer] = buffer;
        return buffer;
      });
      return acquired;
    };
    (await touch(0)).release();
    (await touch(1)).release();
    (await touch(0)).release(); // 0 is now the most recent
    const pinned = await touch(2); // evicts 1, the least recently used
    expect(evicted).toEqual([1]);
    expect(buffers[1].destroyed).toBe(true);
    // 0 is unpinned, 2 pinned: loading 3 evicts 0 only, and the budget is exceeded while 2 stays pinned.
    const three = await touch(3);
    expect(evicted).toEqual([1, 0]);
    expect(cache.report().entries.map((entry) => entry.layer)).toEqual([2, 3]);
    const four = await touch(4);
    expect(cache.residentBytes).toBe(300);
    pinned.release();
    pinned.release(); // twice is harmless
    expect(cache.report().entries.map((entry) => entry.layer)).toEqual([3, 4]);
    three.release();
    four.release();
    expect(cache.report()).toMatchObject({ budgetBytes: 250, residentBytes: 200 });
  });

  it('shares one upload between concurrent requests for the same chunk, and forgets failed uploads', async () => {
    const cache = new ResidencyCache(1000);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return fakeBuffer('shared');
    };
    const [a, b] = await Promise.all([cache.acquire('k', chunk(0), load), cache.acquire('k', chunk(0), load)]);
    expect(loads).toBe(1);
    expect(a.buffer).toBe(b.buffer);
    await expect(cache.acquire('bad', chunk(1), async () => Promise.reject(new Error('read failed')))).rejects.toThrowError('read failed');
    expect(cache.has('bad')).toBe(false);
    expect(cache.residentBytes).toBe(100);
  });

  it('refuses a chunk larger than the whole budget with a sentence, and clear() empties everything', async () => {
    const cache = new ResidencyCache(50);
    await expect(cache.acquire('big', chunk(0, 51), async () => fakeBuffer('big'))).rejects.toThrowError(BudgetTooSmallError);
    const small = fakeBuffer('small');
    (await cache.acquire('small', chunk(1, 50), async () => small)).release();
    cache.clear();
    expect(small.destroyed).toBe(true);
    expect(cache.report()).toEqual({ budgetBytes: 50, reservedBytes: 0, reservations: [], residentBytes: 0, pooledBytes: 0, pooledBuffers: 0, entries: [] });
  });

  it('takes reservations off the budget: evicts to make room, refuses one that leaves no room for a chunk, and survives clear()', async () => {
    const cache = new ResidencyCache(400);
    const buffers = [0, 1, 2].map((layer) => fakeBuffer(`layer${layer}`));
    for (const layer of [0, 1, 2]) (await cache.acquire(`k${layer}`, chunk(layer), async () => buffers[layer])).release();
    expect(cache.residentBytes).toBe(300);
    cache.reserve({ owner: 'model', holds: 'layer inputs', bytes: 150 }, 100);
    // 250 left for chunks: the least recently used one goes.
    expect(buffers.map((buffer) => buffer.destroyed)).toEqual([true, false, false]);
    expect(cache.availableBytes).toBe(250);
    expect(cache.report()).toMatchObject({ budgetBytes: 400, reservedBytes: 150, reservations: [{ owner: 'model', holds: 'layer inputs', bytes: 150 }], residentBytes: 200 });
    // A chunk larger than what is left is refused, naming the reservation.
    await expect(cache.acquire('big', chunk(3, 260), async () => fakeBuffer('big'))).rejects.toThrowError(/less 150 reserved/);
    // A second source that would leave no room for one chunk of 100 is refused with what is needed, and nothing changes.
    expect(() => cache.reserve({ owner: 'other', holds: 'q/k weights', bytes: 200 }, 100)).toThrowError(
      /cannot hold other: it keeps 200 bytes \(q\/k weights\), other sources keep 150.*at least 450/,
    );
    expect(cache.availableBytes).toBe(250);
    cache.clear();
    expect(cache.report().reservedBytes).toBe(150);
    cache.unreserve('model');
    expect(cache.availableBytes).toBe(400);
  });
});

describe('ResidencyCache buffer pool', () => {
  const USAGE = 0x8c;
  /** Acquires and releases `key`, recording which buffer its load got and returning the one it used. */
  async function load(cache: ResidencyCache, key: string, info: ResidentChunk, got: (GPUBuffer | undefined)[], usage: number | null = USAGE) {
    let used: GPUBuffer | undefined;
    (await cache.acquire(key, info, async (_free, recycled) => {
      got.push(recycled);
      used = recycled ?? fakeBuffer(key);
      return used;
    }, usage ?? undefined)).release();
    return used as FakeBuffer;
  }

  it('pools evicted and removed buffers in the budget, hands them to loads of the same size and usage, and drops them first', async () => {
    const evicted: number[] = [];
    const cache = new ResidencyCache(250, (info) => evicted.push(info.layer));
    const got: (GPUBuffer | undefined)[] = [];
    const zero = await load(cache, 'l0', chunk(0), got);
    const one = await load(cache, 'l1', chunk(1), got);
    // Loading layer 2 evicts layer 0, whose buffer becomes layer 2's: no new buffer, nothing destroyed.
    expect(await load(cache, 'l2', chunk(2), got)).toBe(zero);
    expect(got).toEqual([undefined, undefined, zero]);
    expect([evicted, zero.destroyed]).toEqual([[0], false]);
    // A removed tensor's buffers are pooled and count in the budget.
    cache.evictWhere((info) => info.layer === 1);
    expect(one.destroyed).toBe(false);
    expect(cache.report()).toMatchObject({ residentBytes: 100, pooledBytes: 100, pooledBuffers: 1 });
    // Another size (or usage) never gets a pooled buffer; the pooled one is dropped first to make room, then layer 2 evicted.
    const big = await load(cache, 'big', chunk(3, 200), got);
    expect(got.at(-1)).toBeUndefined();
    expect([one.destroyed, zero.destroyed, evicted]).toEqual([true, true, [0, 2]]);
    expect(cache.report()).toMatchObject({ residentBytes: 200, pooledBytes: 0 });
    // A buffer loaded without a usage is destroyed on eviction, never pooled.
    const plain = await load(cache, 'plain', chunk(4, 50), got, null);
    cache.evictWhere(() => true);
    expect([plain.destroyed, big.destroyed, cache.report().pooledBytes]).toEqual([true, false, 200]);
    // evictOne (asked when an allocation runs out of memory) destroys a pooled buffer before evicting anything.
    expect(cache.evictOne()).toBe(true);
    expect([big.destroyed, cache.report().pooledBytes]).toEqual([true, 0]);
    expect(cache.evictOne()).toBe(false);
  });

  it('counts pooled bytes when the budget shrinks, and clear() destroys the pool', async () => {
    const cache = new ResidencyCache(300);
    const got: (GPUBuffer | undefined)[] = [];
    const buffers = [await load(cache, 'a', chunk(0), got), await load(cache, 'b', chunk(1), got)];
    cache.evictWhere(() => true);
    expect(cache.report()).toMatchObject({ residentBytes: 0, pooledBytes: 200, pooledBuffers: 2 });
    cache.budgetBytes = 150;
    expect(buffers.map((buffer) => buffer.destroyed)).toEqual([true, false]);
    // A load that fails with a recycled buffer: the buffer is destroyed, not pooled again, and nothing is counted.
    await expect(cache.acquire('c', chunk(2), async () => Promise.reject(new Error('read failed')), USAGE)).rejects.toThrow('read failed');
    expect(buffers[1].destroyed).toBe(true);
    expect(cache.report()).toMatchObject({ residentBytes: 0, pooledBytes: 0, pooledBuffers: 0, entries: [] });
    buffers[1].destroyed = false;
    (await cache.acquire('d', chunk(3), async () => buffers[1], USAGE)).release();
    cache.evictWhere(() => true);
    expect(cache.report()).toMatchObject({ pooledBytes: 100, pooledBuffers: 1 });
    cache.clear();
    expect(buffers[1].destroyed).toBe(true);
    expect(cache.report()).toMatchObject({ pooledBytes: 0, pooledBuffers: 0 });
  });
});

describe(createBufferWithRetry.name, () => {
  /** A device whose first `failures` allocations report out-of-memory. */
  function fakeDevice(failures: number) {
    const calls: string[] = [];
    let remaining = failures;
    let failNext = false;
    const device = {
      pushErrorScope: (filter: string) => calls.push(`push ${filter}`),
      createBuffer: (descriptor: GPUBufferDescriptor) => {
        calls.push(`create ${descriptor.size}`);
        failNext = remaining-- > 0;
        return fakeBuffer(descriptor.label ?? '');
      },
      popErrorScope: async () => {
        calls.push('pop');
        return failNext ? ({ message: 'out of memory' } as GPUError) : null;
      },
    } as unknown as GPUDevice;
    return { device, calls };
  }

  it('evicts and retries while allocations run out of memory', async () => {
    const { device, calls } = fakeDevice(2);
    let evictions = 0;
    await createBufferWithRetry(device, { label: 'b', size: 64, usage: 0 }, () => {
      evictions++;
      return true;
    });
    expect(evictions).toBe(2);
    expect(calls).toEqual(['push out-of-memory', 'create 64', 'pop', 'push out-of-memory', 'create 64', 'pop', 'push out-of-memory', 'create 64', 'pop']);
  });

  it('fails with a sentence when nothing is left to evict', async () => {
    const { device } = fakeDevice(5);
    await expect(
      createBufferWithRetry(device, { label: 'Upload.attn.layer3', size: 75_497_472, usage: 0 }, () => false),
    ).rejects.toThrowError(
      new GpuMemoryError('Upload.attn.layer3', 75_497_472),
    );
    expect(new GpuMemoryError('Upload.attn.layer3', 75_497_472).message).toBe(
      'Not enough GPU memory for Upload.attn.layer3 (72.0 MiB), even after freeing every cached upload. ' +
        'Use float16 storage, a smaller crop, or close other GPU-heavy tabs and programs.',
    );
  });
});

describe(planChunks.name, () => {
  const whisperBase = { layers: 6, heads: 8, rows: 1500, cols: 1500 };
  const largeV3 = { layers: 32, heads: 20, rows: 1500, cols: 1500 };

  it('keeps a layer whole when it fits (Whisper base: 72 MB per layer under 128 MiB)', () => {
    const plan = planChunks(whisperBase, 'float32', 128 * 1024 ** 2);
    expect(plan.chunksPerLayer).toBe(1);
    expect(plan.chunkOf(5, 7)).toEqual({ layer: 5, firstHead: 0, headCount: 8, byteLength: 72_000_000 });
  });

  it('splits a layer into even runs of heads when it does not (large-v3: 180 MB per layer)', () => {
    const plan = planChunks(largeV3, 'float32', 128 * 1024 ** 2);
    expect([plan.chunksPerLayer, plan.headsPerChunk]).toEqual([2, 10]);
    expect(plan.chunkOf(3, 13)).toEqual({ layer: 3, firstHead: 10, headCount: 10, byteLength: 90_000_000 });
    expect(planChunks(largeV3, 'float16', 128 * 1024 ** 2).chunksPerLayer).toBe(1);
    // 7 heads in runs of at most 3: 3 chunks of 3, 3, 1.
    const odd = planChunks({ layers: 1, heads: 7, rows: 1, cols: 1 }, 'float32', 12);
    expect(odd.chunksOfLayer(0).map((c) => c.headCount)).toEqual([3, 3, 1]);
  });

  it('rounds float16 chunks up to whole words and refuses a single map that cannot be bound', () => {
    expect(planChunks({ layers: 1, heads: 3, rows: 1, cols: 7 }, 'float16', 1024).chunkOf(0, 0).byteLength).toBe(44);
    expect(() => planChunks(whisperBase, 'float32', 8_000_000)).toThrowError(
      'One attention map (1500 x 1500) needs 8.6 MiB as float32, more than this GPU can bind at once (7.6 MiB). Try float16 storage.',
    );
  });
});
