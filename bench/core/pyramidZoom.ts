/**
 * The model view zoomed from the whole model into one head, drawn from map pyramids (src/compute/pyramid.ts,
 * src/render/pyramidLevels.ts) through MapScene as the viewer draws them: one frame per zoom step, the camera
 * moving from the whole layout (every layer x head) to one head at one frame per pixel or more (full resolution).
 *
 * Per step it records: the frame drawn with the levels on hand (`frameMs`, what a user sees at once), the time until
 * the levels that frame asked for are built (`readyMs`, from the frame's start: compute the full maps on the engine,
 * pool them, keep them), the frame redrawn once they are there (`settledMs`), the level the zoomed-into head draws, cells drawn and culled, and
 * the engine's resident bytes (uploads + kept levels) against its budget. Runs in Node and in the page.
 *
 * runFirstView: the first view of a model view too large for its full maps (the viewer's runView in groups, the
 * very function), until its first frame with every cell filled: with the levels pooled in the groups (now) or
 * built after the frame (before), counting the maps computed.
 */
import { mat3 } from 'gl-matrix';
import type { AttentionShape } from '../../src/data/tensor.ts';
import type { AttentionEngine, PoolStatistic } from '../../src/engine.ts';
import { createStorageBufferFrom } from '../../src/gpu/buffers.ts';
import type { ShaderSources } from '../../src/gpu/pipeline.ts';
import { pyramidLevelRequest } from '../../src/compute/pyramid.ts';
import { MapScene, type SceneCell } from '../../src/render/mapScene.ts';
import { createTaskLimiter, cutsIntoWindows, levelRequest, PyramidLevels } from '../../src/render/pyramidLevels.ts';
import { zoomAbout } from '../../src/render/view.ts';
import { chooseLevelFactor } from '../../src/view/pyramidLevel.ts';
import { ATTENTION_MAP_KIND } from '../../src/compute/attentionMap.ts';
import { ColorRangePass } from '../../src/compute/colorRange.ts';
import { attachPyramids, frameLevelBudget } from '../../src/ui/pyramidCells.ts';
import { readColorbar, releaseRun, runView, sceneCell, type Cell, type ViewRun } from '../../src/ui/viewRun.ts';
import { planView } from '../../src/view/plan.ts';
import { parseViewArgs } from '../../src/view/spec.ts';
import { submitCounted } from '../../src/gpu/workCounters.ts';
import type { PlanUtterance } from '../../src/view/plan.ts';
import { layoutGrid, type FrameTarget } from './render.ts';
import { GpuTimer } from './gpuTimer.ts';
import { summarize, type Summary } from './stats.ts';

export interface PyramidZoomConfig {
  /** The tensor's shape: layers x heads maps of rows x cols (rows of the layout: layers; columns: heads). */
  readonly shape: AttentionShape;
  /** The engine's tensor id holding it. */
  readonly tensorId: string;
  /** Layer and head zoomed into. */
  readonly layer: number;
  readonly head: number;
  /** Zoom steps from the whole layout to one frame per pixel (and two more, past it). */
  readonly steps: number;
  readonly stat?: PoolStatistic;
  readonly log?: (line: string) => void;
}

/** One zoom step. */
export interface PyramidZoomStep {
  readonly step: number;
  /** Target pixels per frame of the zoomed-into head. */
  readonly pixelsPerFrame: number;
  /** The level (block size in frames) the head draws once its levels are built. */
  readonly headLevel: number;
  readonly frameMs: number;
  /** From the start of the step's first frame until every level it asked for is on hand (builds overlap that frame). */
  readonly readyMs: number;
  readonly settledMs: number;
  readonly drawn: number;
  readonly culled: number;
  /** Cells of the settled frame still drawn at another level than their zoom's (a build failed or is late). */
  readonly waiting: number;
  /** Cells drawn at each level factor in the settled frame. */
  readonly levels: Record<string, number>;
  readonly residentBytes: number;
}

export interface PyramidZoomResult {
  readonly shape: AttentionShape;
  readonly target: { readonly width: number; readonly height: number };
  readonly budgetBytes: number;
  readonly cellPixels: number;
  readonly steps: readonly PyramidZoomStep[];
  readonly frameMs: Summary;
  readonly settledMs: Summary;
  /** Sum of readyMs over the steps. */
  readonly readyMsTotal: number;
  readonly maxResidentBytes: number;
  /** Bytes every map at full resolution would take (f32). */
  readonly fullResolutionBytes: number;
}

/**
 * What both zoom runs draw: the model view's layout (layers as rows, heads as columns, the viewer's grid rules) of
 * `shape`'s maps on `target`, each cell drawing the pyramid `levelsOf` gives it, under one shared colour range and
 * half the engine's budget for the levels of a frame (as the viewer: src/ui/pyramidCells.ts frameLevelBudget).
 */
async function createPyramidGrid(
  engine: AttentionEngine,
  shaders: ShaderSources,
  target: FrameTarget,
  shape: AttentionShape,
  tensorId: string,
  label: string,
  levelsOf: (source: { tensorId: string; layer: number; head: number; softmax: 'row' }, map: { rows: number; cols: number }, onError: (error: Error) => void) => PyramidLevels,
) {
  const errors: Error[] = [];
  const device = engine.device;
  const timer = new GpuTimer(device);
  const scene = await MapScene.create(device, shaders, target.format);
  const range = createStorageBufferFrom(device, `${label}.range`, new Float32Array([0, 8 / shape.cols]));
  const rects = layoutGrid(shape.layers * shape.heads, shape.heads, target.width, target.height);
  const map = { rows: shape.rows, cols: shape.cols };
  const pyramids = rects.map((_, index) => levelsOf({ tensorId, layer: Math.floor(index / shape.heads), head: index % shape.heads, softmax: 'row' }, map, (error) => errors.push(error)));
  scene.setCells(rects.map((rect, index): SceneCell => ({ map, levels: pyramids[index], rect, range: { buffer: range, word: 0, log: false } })));
  scene.levelBudgetBytes = Math.floor(engine.memory.budgetBytes / 2);
  const draw = () =>
    timer.measure((encoder) => {
      const pass = encoder.beginRenderPass({
        label: `${label}.frame`,
        colorAttachments: [{ view: target.nextView(), loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 0 } }],
      });
      scene.encode(pass, target.width, target.height);
      pass.end();
    }, `${label}.frameEncoder`);
  /** One step: the frame drawn with the levels on hand, the wait until every level it asked for is built, the frame again. */
  const drawAndSettle = async () => {
    const frameStart = performance.now();
    const frame = await draw();
    scene.frameSubmitted();
    await Promise.all(pyramids.map((levels) => levels.whenSettled()));
    const readyMs = performance.now() - frameStart;
    if (errors.length > 0) throw errors[0];
    const settled = await draw();
    scene.frameSubmitted();
    return { frame, readyMs, settled, report: scene.lastFrame };
  };
  const destroy = () => {
    scene.setCells([]);
    pyramids.forEach((levels) => levels.destroy());
    scene.destroy();
    range.destroy();
    timer.destroy();
  };
  return { scene, rects, pyramids, drawAndSettle, destroy };
}

/** Camera that shows the layout at `scale`, moving `centre` (layout pixels) a fraction `t` of the way to `goal`. */
function cameraAt(scale: number, centre: [number, number], goal: [number, number], t: number): mat3 {
  const camera = mat3.create();
  mat3.translate(camera, camera, [centre[0] + (goal[0] - centre[0]) * t, centre[1] + (goal[1] - centre[1]) * t]);
  mat3.scale(camera, camera, [scale, scale]);
  mat3.translate(camera, camera, [-centre[0], -centre[1]]);
  return camera;
}

export async function runPyramidZoom(engine: AttentionEngine, shaders: ShaderSources, target: FrameTarget, config: PyramidZoomConfig): Promise<PyramidZoomResult> {
  const { shape, layer, head, steps } = config;
  const log = config.log ?? (() => {});
  // As the viewer does (src/ui/pyramidCells.ts): a few level builds at once, each holding a full map while it pools.
  const buildQueue = createTaskLimiter(4);
  const { scene, rects, pyramids, drawAndSettle, destroy } = await createPyramidGrid(engine, shaders, target, shape, config.tensorId, 'PyramidZoom', (source, _map, onError) =>
    new PyramidLevels((factor) => buildQueue(() => engine.keepMap(pyramidLevelRequest(source, factor, config.stat ?? 'mean'))), () => {}, onError),
  );
  const headRect = rects[layer * shape.heads + head];
  const centre: [number, number] = [headRect.x + headRect.width / 2, headRect.y + headRect.height / 2];
  const goal: [number, number] = [target.width / 2, target.height / 2];
  // The last zoom-in step shows the head at one frame per pixel; two more steps go past it.
  const fullScale = Math.max(shape.rows, shape.cols) / headRect.width;
  const results: PyramidZoomStep[] = [];
  try {
    for (let step = 0; step <= steps + 2; step++) {
      const t = Math.min(1, step / steps);
      const scale = fullScale ** (step / steps);
      scene.camera = cameraAt(scale, centre, goal, t);
      const { frame, readyMs, settled, report } = await drawAndSettle();
      const headLevels = pyramids[layer * shape.heads + head].heldFactors;
      const entry: PyramidZoomStep = {
        step,
        pixelsPerFrame: (headRect.width * scale) / Math.max(shape.rows, shape.cols),
        headLevel: headLevels[0] ?? 0,
        frameMs: frame.wallMs,
        readyMs,
        settledMs: settled.wallMs,
        drawn: report.drawn,
        culled: report.culled,
        waiting: report.waiting,
        levels: Object.fromEntries([...report.levels].sort((a, b) => a[0] - b[0]).map(([factor, count]) => [String(factor), count])),
        residentBytes: engine.memory.residentBytes,
      };
      results.push(entry);
      log(
        `  step ${step}: ${entry.pixelsPerFrame.toFixed(3)} px/frame, head at level ${entry.headLevel}, ${entry.drawn} drawn / ${entry.culled} culled / ${entry.waiting} waiting, ` +
          `frame ${entry.frameMs.toFixed(1)} ms, levels ready after ${entry.readyMs.toFixed(0)} ms, settled ${entry.settledMs.toFixed(1)} ms, ` +
          `resident ${(entry.residentBytes / 2 ** 20).toFixed(1)} MiB`,
      );
    }
  } finally {
    destroy();
  }
  return {
    shape,
    target: { width: target.width, height: target.height },
    budgetBytes: engine.memory.budgetBytes,
    cellPixels: headRect.width,
    steps: results,
    frameMs: summarize(results.map((entry) => entry.frameMs)),
    settledMs: summarize(results.map((entry) => entry.settledMs)),
    readyMsTotal: results.reduce((sum, entry) => sum + entry.readyMs, 0),
    maxResidentBytes: Math.max(...results.map((entry) => entry.residentBytes)),
    fullResolutionBytes: shape.layers * shape.heads * shape.rows * shape.cols * 4,
  };
}

/** A zoom of every cell in step (the viewer's wheel zoom), with windowed levels or whole levels only. */
export interface InStepZoomConfig {
  readonly shape: AttentionShape;
  readonly tensorId: string;
  /** Zoom steps from the whole map to one frame per target pixel in every cell (and one more, past it). */
  readonly steps: number;
  /** Cells draw windows of their levels (src/view/pyramidWindow.ts); false: whole levels only (the path before). */
  readonly windows: boolean;
  readonly stat?: PoolStatistic;
  readonly log?: (line: string) => void;
}

/** One step of an in-step zoom. */
export interface InStepZoomStep {
  readonly step: number;
  /** Target pixels per frame in every cell. */
  readonly pixelsPerFrame: number;
  /** Frames of each map in view (a side). */
  readonly framesInView: number;
  /** The level every cell wants for its size, before the budget. */
  readonly wantedLevel: number;
  readonly frameMs: number;
  readonly readyMs: number;
  readonly settledMs: number;
  /** Cells drawn at each level factor in the settled frame. */
  readonly levels: Record<string, number>;
  readonly waiting: number;
  /** Bytes of the levels the cells hold pinned after the settled frame (windows or whole levels). */
  readonly pinnedLevelBytes: number;
  /** Bytes of every level the engine keeps (pinned or cached) after the step. */
  readonly keptLevelBytes: number;
  readonly residentBytes: number;
}

export interface InStepZoomResult {
  readonly shape: AttentionShape;
  readonly windows: boolean;
  readonly budgetBytes: number;
  readonly cellPixels: number;
  readonly steps: readonly InStepZoomStep[];
  readonly maxPinnedLevelBytes: number;
  readonly maxKeptLevelBytes: number;
  readonly maxResidentBytes: number;
  readonly readyMsTotal: number;
  readonly frameMs: Summary;
}

/**
 * Every cell of the model view zoomed in step about its centre (MapScene.zoom: the viewer's wheel zoom), from the
 * whole map to one frame per target pixel and one step past: each step draws a frame with the levels on hand,
 * waits for the levels it asked for, and draws again (settled). With windows each cell asks for its level over
 * what it shows; without, for whole levels, which fitLevelsToBudget coarsens together when they do not fit.
 */
export async function runInStepZoom(engine: AttentionEngine, shaders: ShaderSources, target: FrameTarget, config: InStepZoomConfig): Promise<InStepZoomResult> {
  const { shape, steps } = config;
  const log = config.log ?? (() => {});
  const buildQueue = createTaskLimiter(4);
  const { scene, rects, pyramids, drawAndSettle, destroy } = await createPyramidGrid(engine, shaders, target, shape, config.tensorId, 'InStepZoom', (source, map, onError) => {
    const keep = (factor: number, window?: Parameters<typeof levelRequest>[4]) => buildQueue(() => engine.keepMap(levelRequest(source, map, factor, config.stat ?? 'mean', window)));
    return new PyramidLevels(keep, () => {}, onError, config.windows && cutsIntoWindows(source, map) ? map : undefined);
  });
  const cellPixels = rects[0].width;
  const frames = Math.max(shape.rows, shape.cols);
  const fullScale = frames / cellPixels;
  const keptLevelBytes = () => engine.memory.entries.filter((entry) => entry.derived).reduce((sum, entry) => sum + entry.byteLength, 0);
  const results: InStepZoomStep[] = [];
  try {
    for (let step = 0; step <= steps + 1; step++) {
      const scale = fullScale ** (step / steps);
      scene.zoom = zoomAbout(mat3.create(), scale, [0.5, 0.5]);
      const { frame, readyMs, settled, report } = await drawAndSettle();
      const pixelsPerFrame = (cellPixels * scale) / frames;
      const entry: InStepZoomStep = {
        step,
        pixelsPerFrame,
        framesInView: frames / scale,
        wantedLevel: chooseLevelFactor(frames, pixelsPerFrame),
        frameMs: frame.wallMs,
        readyMs,
        settledMs: settled.wallMs,
        levels: Object.fromEntries([...report.levels].sort((a, b) => a[0] - b[0]).map(([factor, count]) => [String(factor), count])),
        waiting: report.waiting,
        pinnedLevelBytes: pyramids.reduce((sum, levels) => sum + levels.heldBytes, 0),
        keptLevelBytes: keptLevelBytes(),
        residentBytes: engine.memory.residentBytes,
      };
      results.push(entry);
      log(
        `  ${config.windows ? 'windows' : 'whole'} step ${step}: ${entry.pixelsPerFrame.toFixed(3)} px/frame (${entry.framesInView.toFixed(1)} frames in view), ` +
          `wants level ${entry.wantedLevel}, drew ${JSON.stringify(entry.levels)} (${entry.waiting} waiting), frame ${entry.frameMs.toFixed(0)} ms, ` +
          `ready after ${entry.readyMs.toFixed(0)} ms, settled ${entry.settledMs.toFixed(0)} ms, levels pinned ${(entry.pinnedLevelBytes / 2 ** 20).toFixed(2)} MiB, ` +
          `kept ${(entry.keptLevelBytes / 2 ** 20).toFixed(2)} MiB, resident ${(entry.residentBytes / 2 ** 20).toFixed(1)} MiB`,
      );
    }
  } finally {
    destroy();
  }
  return {
    shape,
    windows: config.windows,
    budgetBytes: engine.memory.budgetBytes,
    cellPixels,
    steps: results,
    maxPinnedLevelBytes: Math.max(...results.map((entry) => entry.pinnedLevelBytes)),
    maxKeptLevelBytes: Math.max(...results.map((entry) => entry.keptLevelBytes)),
    maxResidentBytes: Math.max(...results.map((entry) => entry.residentBytes)),
    readyMsTotal: results.reduce((sum, entry) => sum + entry.readyMs, 0),
    frameMs: summarize(results.map((entry) => entry.frameMs)),
  };
}

/** The first view of a large model view (runFirstView). */
export interface FirstViewConfig {
  readonly shape: AttentionShape;
  readonly tensorId: string;
  /** The file name the tensor was added under (the plan's title). */
  readonly fileName: string;
  /** Levels of the first frame pooled from the full maps in their groups (GridPyramids), or built after it (before). */
  readonly handOver: boolean;
}

export interface FirstViewResult {
  readonly handOver: boolean;
  readonly maps: number;
  /** From the start until the first frame's GPU work is done (runView's frame; before: it drew no cell). */
  readonly firstFrameMs: number;
  /** Cells the first frame drew, and drew at their wanted level. */
  readonly firstFrameDrawn: number;
  /** From the start until a frame drew every cell at its wanted level (its GPU work done). */
  readonly filledMs: number;
  /** Attention maps computed (the handler's compute calls) until then, and submits. */
  readonly mapsComputed: number;
  readonly submits: number;
  /** Frames drawn until then. */
  readonly frames: number;
  readonly levels: Record<string, number>;
}

/**
 * The model view of `shape` on `target` as the viewer shows it first: runView (src/ui/viewRun.ts) computes its maps
 * in groups under the engine's budget, then its first frame; with `handOver` each cell's first level comes from its
 * group (GridPyramids, the viewer's path now), else (the path before) the first frame draws no cell, the colour bar
 * is read, pyramids are attached (attachPyramids) and frames are drawn as their levels are built until every cell is
 * drawn at its level. The cells are placed by the viewer's grid rules (layoutGrid) and drawn by MapScene with the
 * viewer's frame level budget. Counts the attention maps computed through the engine's handler (it wraps it: an
 * engine computing on the GPU only).
 */
export async function runFirstView(engine: AttentionEngine, shaders: ShaderSources, target: FrameTarget, config: FirstViewConfig): Promise<FirstViewResult> {
  if (engine.compute !== 'gpu') throw new Error('runFirstView counts the GPU attention handler: give it an engine computing on the GPU');
  let mapsComputed = 0;
  engine.registerKind({ ...ATTENTION_MAP_KIND, compute: (request, output, context) => (mapsComputed++, ATTENTION_MAP_KIND.compute(request, output, context)) });
  const { shape, tensorId, handOver } = config;
  const utterance = { name: 'model', attention: { fileName: config.fileName, shape } as PlanUtterance['attention'] };
  const plan = planView(parseViewArgs(['--view', 'model']), utterance, { tensorId });
  const device = engine.device;
  const scene = await MapScene.create(device, shaders, target.format);
  scene.levelBudgetBytes = frameLevelBudget(engine);
  const colorRange = await ColorRangePass.create(device, shaders);
  const rects = layoutGrid(plan.cells.length, plan.columns, target.width, target.height);
  const place = (cells: readonly Cell[]) => cells.forEach((cell, i) => (cell.rect = rects[i]));
  const errors: Error[] = [];
  let frames = 0;
  const encodeFrame = (encoder: GPUCommandEncoder) => {
    const pass = encoder.beginRenderPass({
      label: 'FirstView.frame',
      colorAttachments: [{ view: target.nextView(), loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 0 } }],
    });
    scene.encode(pass, target.width, target.height);
    pass.end();
    frames++;
  };
  const before = engine.workCounts;
  const started = performance.now();
  let run: ViewRun | undefined;
  try {
    run = await runView(engine, plan, {
      colorRange,
      show: (encoder, shown) => {
        place(shown.cells);
        scene.setCells(shown.cells.map((cell) => sceneCell(cell)));
        encodeFrame(encoder);
      },
      pyramids: handOver
        ? {
            firstLevels: (cells) => (place(cells), scene.wantedLevels(cells.map((cell) => sceneCell(cell)), target.width, target.height)),
            onReady: () => {},
            onError: (error) => errors.push(error),
          }
        : undefined,
    });
    await device.queue.onSubmittedWorkDone();
    scene.frameSubmitted();
    const firstFrameMs = performance.now() - started;
    const first = scene.lastFrame;
    const firstFrameDrawn = first.drawn - first.waiting;
    if (!handOver) {
      await readColorbar(engine, plan, run);
      attachPyramids(engine, run.cells, () => {}, (error) => errors.push(error));
      scene.setCells(run.cells.map((cell) => sceneCell(cell)));
    }
    // Frames until every cell is drawn at its level (one when the first frame already was).
    while (scene.lastFrame.waiting > 0 || scene.lastFrame.drawn < plan.cells.length - scene.lastFrame.culled) {
      if (errors.length > 0) throw errors[0];
      await Promise.all(run.cells.map((cell) => cell.levels?.whenSettled()));
      const encoder = device.createCommandEncoder({ label: 'FirstView.frameEncoder' });
      encodeFrame(encoder);
      submitCounted(device, [encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      scene.frameSubmitted();
    }
    const filledMs = performance.now() - started;
    if (errors.length > 0) throw errors[0];
    const report = scene.lastFrame;
    return {
      handOver,
      maps: plan.cells.length,
      firstFrameMs,
      firstFrameDrawn,
      filledMs,
      mapsComputed,
      submits: engine.workCounts.submits - before.submits,
      frames,
      levels: Object.fromEntries([...report.levels].sort((a, b) => a[0] - b[0]).map(([factor, count]) => [String(factor), count])),
    };
  } finally {
    scene.setCells([]);
    if (run) releaseRun(run);
    scene.destroy();
    colorRange.destroy();
  }
}
