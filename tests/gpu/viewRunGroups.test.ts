/**
 * The viewer's run of a grid too large for all its full maps at once (src/ui/viewRun.ts runView, pyramidGroups):
 * a model view of 2 layers x 4 heads of 64^2 maps (16 KiB each, 128 KiB in all) under a budget whose frame level
 * budget (half) is smaller than that. Its maps must be computed in groups of at most a quarter of the budget, never
 * more full-map bytes alive at once; its colour ranges and scales must be those of the same maps computed together
 * (the one-submit path, under a large budget); it must cost one submit per group plus the frame; cancel between
 * groups frees everything; and once the levels settle every cell draws one. Given GridPyramids, the level each
 * cell's first frame draws is pooled from its full map within its group's submit: that frame draws every cell, bit
 * for bit the level a separate build gives, with no map computed a second time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColorRangePass } from '../../src/compute/colorRange.ts';
import { ATTENTION_MAP_KIND } from '../../src/compute/attentionMap.ts';
import { AttentionEngine, ComputeCancelledError, type MapWithStats } from '../../src/engine.ts';
import { readFloat32 } from '../../src/gpu/buffers.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { MapScene } from '../../src/render/mapScene.ts';
import { renderToPixels } from '../../src/render/offscreen.ts';
import { attachPyramids, cellLevelRequest, levelBuildsInFlight, mapGroups } from '../../src/ui/pyramidCells.ts';
import { readColorbar, releaseRun, runView, sceneCell, type Cell, type GridPyramids, type ViewRun } from '../../src/ui/viewRun.ts';
import { planView, type PlanUtterance, type ViewPlan } from '../../src/view/plan.ts';
import { parseViewArgs } from '../../src/view/spec.ts';
import { zoomAbout } from '../../src/render/view.ts';
import { mat3 } from 'gl-matrix';
import { SHADERS, makeRandom, makeRecordingSource } from './support.ts';

const SHAPE = { layers: 2, heads: 4, rows: 64, cols: 64 };
const MAP_BYTES = SHAPE.rows * SHAPE.cols * 4;
const MAPS = SHAPE.layers * SHAPE.heads;
/** Frame level budget 96 KiB < 128 KiB of full maps: the grouped path; groups of 48 KiB, 3 maps. */
const SMALL_BUDGET = 192 * 1024;
const GROUP_BYTES = SMALL_BUDGET / 4;
const UTTERANCE: PlanUtterance = { name: 'grid', attention: { fileName: 'grid.npy', shape: SHAPE } as PlanUtterance['attention'] };
const source = makeRecordingSource('grid.npy', SHAPE, makeRandom(31));

/** Full-map bytes alive now and at most, counted on the maps engine.computeMaps hands out (the grouped path's). */
interface MapCount {
  live: number;
  peak: number;
  statsLive: number;
}

/** Wraps `engine.computeMaps` so that each map and stats it returns is counted until destroyed. */
function countMaps(engine: AttentionEngine): MapCount {
  const count: MapCount = { live: 0, peak: 0, statsLive: 0 };
  const computeMaps = engine.computeMaps.bind(engine);
  engine.computeMaps = async (requests, options) => {
    const results = await computeMaps(requests, options);
    return results.map(({ map, stats, kept }): MapWithStats => {
      const bytes = map.rows * map.cols * 4;
      count.live += bytes;
      count.peak = Math.max(count.peak, count.live);
      let mapAlive = true;
      let statsAlive = stats !== undefined;
      if (stats) count.statsLive++;
      return {
        map: { ...map, destroy: () => (mapAlive && ((mapAlive = false), (count.live -= bytes)), map.destroy()) },
        stats: stats && { ...stats, read: () => stats.read(), destroy: () => (statsAlive && ((statsAlive = false), count.statsLive--), stats.destroy()) },
        kept,
      };
    });
  };
  return count;
}

function modelPlan(...args: string[]): ViewPlan {
  return planView(parseViewArgs(['--view', 'model', ...args]), UTTERANCE, { tensorId: 'u0' });
}

describe('a model view larger than its level budget (runView in groups)', () => {
  let large: AttentionEngine;
  let small: AttentionEngine;
  let colorRanges: Map<GPUDevice, ColorRangePass>;
  beforeAll(async () => {
    large = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS });
    small = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, budgetBytes: SMALL_BUDGET });
    colorRanges = new Map();
    for (const engine of [large, small]) {
      engine.addTensor('u0', source);
      colorRanges.set(engine.device, await ColorRangePass.create(engine.device, SHADERS));
    }
  });
  afterAll(() => {
    colorRanges.forEach((pass) => pass.destroy());
    large.destroy();
    small.destroy();
  });

  async function run(engine: AttentionEngine, plan: ViewPlan, signal?: AbortSignal, onProgress?: (done: number) => void): Promise<ViewRun> {
    return runView(engine, plan, { colorRange: colorRanges.get(engine.device)!, signal, onProgress: (progress) => onProgress?.(progress.done), show: () => {} });
  }

  it('cuts maps into consecutive groups of at most the limit, a larger map alone', () => {
    const map = (side: number) => ({ rows: side, cols: side });
    expect(mapGroups([map(64), map(64), map(64), map(64)], 2 * MAP_BYTES)).toEqual([[0, 2], [2, 4]]);
    expect(mapGroups([map(64), map(128), map(64), map(64)], 2 * MAP_BYTES)).toEqual([[0, 1], [1, 2], [2, 4]]);
    expect(mapGroups([map(64)], 1)).toEqual([[0, 1]]);
    expect(mapGroups([], 1)).toEqual([]);
  });

  for (const args of [[], ['--scale', 'percentile', '--clip', '5:95', '--color-range', 'per-map'], ['--scale', 'log']]) {
    it(`holds one group of full maps at most, with the colour ranges of the maps computed together (${args.join(' ') || 'shared linear'})`, async () => {
      const plan = modelPlan(...args);
      expect(plan.cells).toHaveLength(MAPS);
      const together = await run(large, plan);
      const count = countMaps(small);
      const grouped = await run(small, plan);
      try {
        expect(together.pyramids).toBe(false);
        expect(together.work.submits).toBe(1);
        expect(grouped.pyramids).toBe(true);
        // Groups of 3, 3 and 2 maps, then the frame.
        expect(grouped.work.submits).toBe(4);
        expect(count.peak).toBe(3 * MAP_BYTES);
        expect(count.peak).toBeLessThanOrEqual(GROUP_BYTES);
        expect(count.live).toBe(0);
        expect(grouped.cells.every((cell) => cell.map === undefined && cell.rows === SHAPE.rows && cell.cols === SHAPE.cols)).toBe(true);
        // The GPU's colour ranges (what the frame draws with), then the colour bar's scales read after the frame.
        const rangesTogether = await readFloat32(large.device, together.ranges, 2 * MAPS);
        const rangesGrouped = await readFloat32(small.device, grouped.ranges, 2 * MAPS);
        expect([...rangesGrouped]).toEqual([...rangesTogether]);
        const sharedTogether = await readColorbar(large, plan, together);
        const sharedGrouped = await readColorbar(small, plan, grouped);
        expect(sharedGrouped).toEqual(sharedTogether);
        expect(grouped.cells.map((cell) => cell.scale)).toEqual(together.cells.map((cell) => cell.scale));
        expect(count.statsLive).toBe(0);
      } finally {
        releaseRun(together);
        releaseRun(grouped);
      }
    });
  }

  it('draws every cell from a level once the levels settle', async () => {
    const plan = modelPlan();
    const grouped = await run(small, plan);
    const scene = await MapScene.create(small.device, SHADERS, 'rgba8unorm');
    try {
      await readColorbar(small, plan, grouped);
      let errors = 0;
      attachPyramids(small, grouped.cells, () => {}, () => errors++);
      // A 4 x 2 grid of 32-px cells: 0.5 px per frame, level 2 wanted.
      grouped.cells.forEach((cell, i) => (cell.rect = { x: (i % SHAPE.heads) * 32, y: Math.floor(i / SHAPE.heads) * 32, width: 32, height: 32 }));
      scene.setCells(grouped.cells.map((cell) => sceneCell(cell)));
      const frame = async () => {
        await renderToPixels(small.device, 128, 64, (pass) => scene.encode(pass, 128, 64));
        grouped.cells.forEach((cell) => cell.levels!.frameDone());
        return scene.lastFrame;
      };
      // No level yet: the first frame draws nothing and waits for every cell.
      expect(await frame()).toMatchObject({ drawn: 0, waiting: MAPS });
      await Promise.all(grouped.cells.map((cell) => cell.levels!.whenSettled()));
      const settled = await frame();
      expect(errors).toBe(0);
      expect(settled).toMatchObject({ drawn: MAPS, waiting: 0 });
      expect([...settled.levels]).toEqual([[2, MAPS]]);
    } finally {
      scene.destroy();
      releaseRun(grouped);
    }
  });

  /** A 4 x 2 grid of 32-px cells on a 128 x 64 target: 0.5 px per frame, level 2 wanted. */
  const placeGrid = (cells: readonly Cell[]) => cells.forEach((cell, i) => (cell.rect = { x: (i % SHAPE.heads) * 32, y: Math.floor(i / SHAPE.heads) * 32, width: 32, height: 32 }));

  it('draws every cell of its first frame from the level pooled in its group, the same bits as a separate build, no map computed again', async () => {
    // A fresh engine whose attention maps are counted as they are computed (whatever asks: computeMaps, a level build).
    const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, budgetBytes: SMALL_BUDGET });
    let attentionMaps = 0;
    engine.registerKind({ ...ATTENTION_MAP_KIND, compute: (request, output, context) => (attentionMaps++, ATTENTION_MAP_KIND.compute(request, output, context)) });
    engine.addTensor('u0', source);
    const colorRange = await ColorRangePass.create(engine.device, SHADERS);
    const scene = await MapScene.create(engine.device, SHADERS, 'rgba8unorm');
    scene.levelBudgetBytes = SMALL_BUDGET / 2;
    const plan = modelPlan();
    let keepCalls = 0;
    const keepMap = engine.keepMap.bind(engine);
    engine.keepMap = (request) => (keepCalls++, keepMap(request));
    const count = countMaps(engine);
    const pyramids: GridPyramids = {
      firstLevels: (cells) => (placeGrid(cells), scene.wantedLevels(cells.map((cell) => sceneCell(cell)), 128, 64)),
      onReady: () => {},
      onError: (error) => {
        throw error;
      },
    };
    const target = engine.device.createTexture({ size: [128, 64], format: 'rgba8unorm', usage: GPUTextureUsage.RENDER_ATTACHMENT });
    let report: typeof scene.lastFrame | undefined;
    const grouped = await runView(engine, plan, {
      colorRange,
      pyramids,
      show: (encoder, run) => {
        // The first frame, recorded into the run's last submit as the viewer records it.
        scene.setCells(run.cells.map((cell) => sceneCell(cell)));
        const pass = encoder.beginRenderPass({ colorAttachments: [{ view: target.createView(), loadOp: 'clear', storeOp: 'store' }] });
        scene.encode(pass, 128, 64);
        pass.end();
        report = scene.lastFrame;
      },
    });
    try {
      expect(grouped.pyramids).toBe(true);
      // Groups of 3, 3 and 2 maps (each with its levels), then the frame; full maps of one group at most alive.
      expect(grouped.work.submits).toBe(4);
      expect(count.peak).toBe(3 * MAP_BYTES);
      expect(count.live).toBe(0);
      expect(report).toMatchObject({ drawn: MAPS, waiting: 0 });
      expect([...report!.levels]).toEqual([[2, MAPS]]);
      scene.frameSubmitted();
      // Each map computed once (for its stats and its level together); the frame asked nothing to be built.
      expect(attentionMaps).toBe(MAPS);
      expect(keepCalls).toBe(0);
      expect(levelBuildsInFlight()).toBe(0);
      expect(grouped.cells.map((cell) => cell.levels!.heldFactors)).toEqual(grouped.cells.map(() => [2]));
      for (const cell of grouped.cells) {
        const held = cell.levels!.levelFor(2)!;
        const handed = await readFloat32(engine.device, held.values, 32 * 32);
        const separate = await large.readMap(cellLevelRequest(cell.request, cell, { factor: 2 }));
        expect(new Uint32Array(handed.buffer)).toEqual(new Uint32Array(separate.buffer));
      }
      // The colour ranges are those of the maps computed together.
      const together = await run(large, plan);
      try {
        expect([...(await readFloat32(engine.device, grouped.ranges, 2 * MAPS))]).toEqual([...(await readFloat32(large.device, together.ranges, 2 * MAPS))]);
      } finally {
        releaseRun(together);
      }
    } finally {
      scene.destroy();
      releaseRun(grouped);
      target.destroy();
      colorRange.destroy();
      engine.destroy();
    }
  });

  it('shown zoomed (its cells want windows), draws every cell of its first frame from the whole level it would draw unzoomed', async () => {
    // 4 maps of 256^2 (256 KiB each) under a 1 MiB budget: one map per group. 32-px cells zoomed 8x about their
    // centres show 32 frames at 1 px per frame: a window of level 1 (frames 64-192); unzoomed they draw level 8.
    const shape = { layers: 1, heads: 4, rows: 256, cols: 256 };
    const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, budgetBytes: 1024 * 1024 });
    let attentionMaps = 0;
    engine.registerKind({ ...ATTENTION_MAP_KIND, compute: (request, output, context) => (attentionMaps++, ATTENTION_MAP_KIND.compute(request, output, context)) });
    engine.addTensor('u0', makeRecordingSource('zoomed.npy', shape, makeRandom(7)));
    const colorRange = await ColorRangePass.create(engine.device, SHADERS);
    const scene = await MapScene.create(engine.device, SHADERS, 'rgba8unorm');
    scene.levelBudgetBytes = 512 * 1024;
    const zoomed = zoomAbout(mat3.create(), 8, [0.5, 0.5]);
    const utterance: PlanUtterance = { name: 'zoomed', attention: { fileName: 'zoomed.npy', shape } as PlanUtterance['attention'] };
    const plan = planView(parseViewArgs(['--view', 'model']), utterance, { tensorId: 'u0' });
    const place = (cells: readonly Cell[]) => cells.forEach((cell, i) => (cell.rect = { x: i * 32, y: 0, width: 32, height: 32 }));
    let report: typeof scene.lastFrame | undefined;
    let renderTarget: GPUTexture | undefined;
    const grouped = await runView(engine, plan, {
      colorRange,
      pyramids: {
        firstLevels: (cells, unzoomed) => {
          place(cells);
          scene.zoom = unzoomed ? mat3.create() : zoomed;
          return scene.wantedLevels(cells.map((cell) => sceneCell(cell)), 128, 32);
        },
        onReady: () => {},
        onError: () => {},
      },
      show: (encoder, run) => {
        scene.setCells(run.cells.map((cell) => sceneCell(cell)));
        scene.zoom = zoomed;
        renderTarget ??= engine.device.createTexture({ size: [128, 32], format: 'rgba8unorm', usage: GPUTextureUsage.RENDER_ATTACHMENT });
        const pass = encoder.beginRenderPass({ colorAttachments: [{ view: renderTarget.createView(), loadOp: 'clear', storeOp: 'store' }] });
        scene.encode(pass, 128, 32);
        pass.end();
        report = scene.lastFrame;
      },
    });
    try {
      expect(grouped.work.submits).toBe(5);
      // Every cell drawn, from whole level 8, while its window of level 1 (asked for by that frame) is built.
      expect(report).toMatchObject({ drawn: 4, waiting: 4 });
      expect([...report!.levels]).toEqual([[8, 4]]);
      expect(attentionMaps).toBe(4);
      scene.frameSubmitted();
      await Promise.all(grouped.cells.map((cell) => cell.levels!.whenSettled()));
      expect(grouped.cells.map((cell) => cell.levels!.heldWindows.map((window) => window.factor))).toEqual(grouped.cells.map(() => [1]));
    } finally {
      scene.destroy();
      releaseRun(grouped);
      renderTarget?.destroy();
      colorRange.destroy();
      engine.destroy();
    }
  });

  it('given pyramids and cancelled in a later group, keeps only the submitted groups\' levels, none pinned', async () => {
    const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, budgetBytes: SMALL_BUDGET });
    engine.addTensor('u0', source);
    const colorRange = await ColorRangePass.create(engine.device, SHADERS);
    const scene = await MapScene.create(engine.device, SHADERS, 'rgba8unorm');
    scene.levelBudgetBytes = SMALL_BUDGET / 2;
    const controller = new AbortController();
    const count = countMaps(engine);
    try {
      const cancelled = runView(engine, modelPlan(), {
        colorRange,
        signal: controller.signal,
        onProgress: ({ done }) => done === 4 && controller.abort(),
        show: () => {},
        pyramids: {
          firstLevels: (cells) => (placeGrid(cells), scene.wantedLevels(cells.map((cell) => sceneCell(cell)), 128, 64)),
          onReady: () => {},
          onError: () => {},
        },
      });
      await expect(cancelled).rejects.toBeInstanceOf(ComputeCancelledError);
      expect(count.live).toBe(0);
      expect(count.statsLive).toBe(0);
      const levels = () => engine.memory.entries.filter((entry) => entry.derived);
      // The first group's 3 levels were submitted and stay cached; the second group's first, never submitted, was dropped.
      expect(levels()).toHaveLength(3);
      // None is pinned: a budget of 0 evicts them all.
      engine.setBudget(0);
      expect(levels()).toHaveLength(0);
    } finally {
      scene.destroy();
      colorRange.destroy();
      engine.destroy();
    }
  });

  it('stops at the next map when cancelled in a later group and frees every map and stats', async () => {
    const count = countMaps(small);
    const controller = new AbortController();
    const before = small.workCounts;
    const done: number[] = [];
    const cancelled = run(small, modelPlan(), controller.signal, (mapsDone) => {
      done.push(mapsDone);
      if (mapsDone === 4) controller.abort();
    });
    await expect(cancelled).rejects.toBeInstanceOf(ComputeCancelledError);
    // The first group (3 maps) was submitted; the second, aborted after its first map, was not, nor anything after.
    expect(small.workCounts.submits - before.submits).toBe(1);
    expect(done).toEqual([1, 2, 3, 4]);
    expect(count.live).toBe(0);
    expect(count.statsLive).toBe(0);
  });
});
