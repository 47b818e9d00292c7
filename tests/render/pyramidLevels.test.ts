import { describe, expect, it } from 'vitest';
import { createTaskLimiter, PyramidLevels, type PinnedLevel } from '../../src/render/pyramidLevels.ts';

/** A fake engine: levels resolve when `settle()` says, and pins are counted. */
function fakeKeep() {
  const pins = new Map<number, number>();
  const asked: number[] = [];
  const pending: { factor: number; resolve: (level: PinnedLevel) => void; reject: (error: Error) => void }[] = [];
  const keep = (factor: number) =>
    new Promise<PinnedLevel>((resolve, reject) => {
      asked.push(factor);
      pending.push({ factor, resolve, reject });
    });
  const settle = async (factor: number, fail = false) => {
    const index = pending.findIndex((entry) => entry.factor === factor);
    const [entry] = pending.splice(index, 1);
    if (fail) {
      entry.reject(new Error(`level ${factor} failed`));
    } else {
      pins.set(factor, (pins.get(factor) ?? 0) + 1);
      let released = false;
      entry.resolve({
        buffer: { label: `level${factor}` } as GPUBuffer,
        release: () => {
          if (released) throw new Error('released twice');
          released = true;
          pins.set(factor, pins.get(factor)! - 1);
        },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { keep, asked, pins, settle };
}

describe(PyramidLevels.name, () => {
  it('asks once for the wanted level, draws the nearest held meanwhile, and lets go of levels no frame drew', async () => {
    const fake = fakeKeep();
    let ready = 0;
    const levels = new PyramidLevels(fake.keep, () => ready++);
    expect(levels.levelFor(16)).toBeUndefined();
    expect(levels.levelFor(16)).toBeUndefined();
    expect(fake.asked).toEqual([16]);
    await fake.settle(16);
    expect(ready).toBe(1);
    expect(levels.levelFor(16)).toEqual({ values: { label: 'level16' }, factor: 16 });
    levels.frameDone();
    // Zooming in: 4 is wanted; 16 is drawn until it arrives.
    expect(levels.levelFor(4)?.factor).toBe(16);
    levels.frameDone();
    await fake.settle(4);
    expect(levels.levelFor(4)?.factor).toBe(4);
    expect(fake.pins.get(16)).toBe(1);
    levels.frameDone();
    // 16 was not drawn in the last frame: unpinned (the engine may evict it now); 4 still pinned.
    expect(fake.pins.get(16)).toBe(0);
    expect(fake.pins.get(4)).toBe(1);
    expect(levels.heldFactors).toEqual([4]);
    levels.destroy();
    expect(fake.pins.get(4)).toBe(0);
  });

  it('falls back to the level closest in scale, the finer of two as close', async () => {
    const fake = fakeKeep();
    const levels = new PyramidLevels(fake.keep, () => {});
    levels.levelFor(2);
    levels.levelFor(8);
    await fake.settle(2);
    await fake.settle(8);
    expect(levels.levelFor(4)?.factor).toBe(2);
    expect(levels.levelFor(32)?.factor).toBe(8);
    expect(levels.levelFor(1)?.factor).toBe(2);
    levels.destroy();
  });

  it('does not ask again for a level that failed, and reports it', async () => {
    const fake = fakeKeep();
    const errors: string[] = [];
    const levels = new PyramidLevels(fake.keep, () => {}, (error) => errors.push(error.message));
    levels.levelFor(1);
    await fake.settle(1, true);
    expect(levels.levelFor(1)).toBeUndefined();
    expect(fake.asked).toEqual([1]);
    expect(errors).toEqual(['level 1 failed']);
  });

  it('lets go at once of a level that arrives after destroy()', async () => {
    const fake = fakeKeep();
    const levels = new PyramidLevels(fake.keep, () => {});
    levels.levelFor(8);
    levels.destroy();
    await fake.settle(8);
    expect(fake.pins.get(8)).toBe(0);
  });
});

describe(createTaskLimiter.name, () => {
  it('runs at most `limit` tasks at once, the rest in order', async () => {
    const limit = createTaskLimiter(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const task = (id: number) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(id);
      running--;
      return id * 10;
    };
    const results = await Promise.all([1, 2, 3, 4, 5].map((id) => limit(task(id))));
    expect(results).toEqual([10, 20, 30, 40, 50]);
    expect(most).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    await expect(limit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit(task(6))).toBe(60);
  });
});

describe('PyramidLevels and frames in flight', () => {
  it('keeps a level that arrived while the frame that asked for it was in flight', async () => {
    const fake = fakeKeep();
    const levels = new PyramidLevels(fake.keep, () => {});
    levels.levelFor(8);
    await fake.settle(8);
    levels.levelFor(8);
    levels.frameDone();
    // A frame asks for 2 (draws 8); level 2 arrives before that frame's frameDone().
    expect(levels.levelFor(2)?.factor).toBe(8);
    await fake.settle(2);
    levels.frameDone();
    expect(levels.heldFactors).toEqual([2, 8]);
    expect(levels.levelFor(2)?.factor).toBe(2);
    levels.frameDone();
    expect(levels.heldFactors).toEqual([2]);
    expect(fake.pins.get(8)).toBe(0);
  });
});
