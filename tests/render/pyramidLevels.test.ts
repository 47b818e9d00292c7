import { describe, expect, it } from 'vitest';
import { createTaskLimiter, PyramidLevels, type PinnedLevel } from '../../src/render/pyramidLevels.ts';
import type { LevelWindow } from '../../src/view/pyramidWindow.ts';

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

describe('PyramidLevels with windows', () => {
  /** A fake engine keyed by level and window: levels resolve when `settle()` says, and pins are counted. */
  function fakeWindowKeep() {
    const asked: string[] = [];
    const pins = new Map<string, number>();
    const pending = new Map<string, (level: PinnedLevel) => void>();
    const name = (factor: number, window?: LevelWindow) => (window ? `${factor}@${window.rowStart}-${window.rowEnd},${window.colStart}-${window.colEnd}` : `${factor}`);
    const keep = (factor: number, window?: LevelWindow) =>
      new Promise<PinnedLevel>((resolve) => {
        asked.push(name(factor, window));
        pending.set(name(factor, window), resolve);
      });
    /** Builds the level named `key`, of `cells` x `cells` level cells. */
    const settle = async (key: string, cells: number) => {
      pins.set(key, (pins.get(key) ?? 0) + 1);
      pending.get(key)!({ buffer: { label: key } as GPUBuffer, rows: cells, cols: cells, release: () => pins.set(key, pins.get(key)! - 1) });
      pending.delete(key);
      await new Promise((resolve) => setTimeout(resolve, 0));
    };
    return { keep, asked, pins, settle };
  }

  const view = (start: number, end: number) => ({ rowStart: start, rowEnd: end, colStart: start, colEnd: end });
  const ALL = view(0, 1500);

  it('asks for the visible window only, draws the whole level on hand meanwhile, and keeps using the window while it covers the view', async () => {
    const fake = fakeWindowKeep();
    const levels = new PyramidLevels(fake.keep, () => {}, () => {}, { rows: 1500, cols: 1500 });
    // Zoomed out: the whole map shows, the whole level is asked for.
    levels.levelFor(16, ALL);
    await fake.settle('16', 94);
    expect(levels.levelFor(16, ALL)).toMatchObject({ values: { label: '16' }, factor: 16, window: undefined });
    levels.frameDone();
    // Zoomed in to frames 300..400 at full resolution: only level 1's cells 256..448 are asked for; 16 is drawn meanwhile.
    expect(levels.levelFor(1, view(300, 400))?.factor).toBe(16);
    expect(fake.asked).toEqual(['16', '1@256-448,256-448']);
    levels.frameDone();
    await fake.settle('1@256-448,256-448', 192);
    const drawn = levels.levelFor(1, view(300, 400));
    expect(drawn).toMatchObject({ values: { label: '1@256-448,256-448' }, factor: 1, window: { factor: 1, rowStart: 256, rowEnd: 448, colStart: 256, colEnd: 448 } });
    // The frame pins the window and the whole level 16, kept to draw while the next window is built.
    expect(levels.bytesFor(1, view(300, 400), 1500, 1500)).toBe(192 * 192 * 4 + 94 * 94 * 4);
    levels.frameDone();
    expect(fake.pins.get('16')).toBe(1);
    expect(levels.heldBytes).toBe(192 * 192 * 4 + 94 * 94 * 4);
    // A small pan stays inside the window: nothing asked.
    expect(levels.levelFor(1, view(330, 430))?.window?.rowStart).toBe(256);
    levels.frameDone();
    expect(fake.asked).toHaveLength(2);
    // A pan out of it: the next window is asked for; the old one does not cover the view, so 16 is drawn meanwhile.
    expect(levels.levelFor(1, view(600, 700))).toMatchObject({ factor: 16, window: undefined });
    expect(fake.asked.at(-1)).toBe('1@576-704,576-704');
    levels.frameDone();
    expect(fake.pins.get('1@256-448,256-448')).toBe(0);
    await fake.settle('1@576-704,576-704', 128);
    // Zooming out to level 2 over the same frames: the level-1 window covering the view is drawn until level 2's arrives.
    expect(levels.levelFor(2, view(620, 680))).toMatchObject({ factor: 1, window: { rowStart: 576 } });
    expect(fake.asked.at(-1)).toBe('2@256-384,256-384');
    levels.destroy();
    expect([...fake.pins.values()].every((count) => count === 0)).toBe(true);
  });

  it('asks for whole levels only without windows (a request that cannot be cut)', () => {
    const fake = fakeWindowKeep();
    const levels = new PyramidLevels(fake.keep, () => {});
    levels.levelFor(1, view(300, 400));
    expect(fake.asked).toEqual(['1']);
    expect(levels.bytesFor(1, view(300, 400), 1500, 1500)).toBe(1500 * 1500 * 4);
  });
});
