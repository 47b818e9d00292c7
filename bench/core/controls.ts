/**
 * From a control change (layer, head, softmax) to the new frame, through the engine, as the viewer does it:
 * computeMap, computeStats, read the range back (the colour bar needs it), draw the frame, wait for the GPU.
 * Also the time to the first map of a freshly opened file. Each change is split into "map" (request to range read
 * back, upload included when the layer is not resident) and "frame" (draw to onSubmittedWorkDone).
 *
 * Runs in Node and in the page: nothing here touches node: modules or the DOM.
 */
import type { AttentionEngine, AttentionMapRequest, ComputedMap, ComputedStats } from '../../src/engine.ts';
import { MAP_STATS_MIN_WORD } from '../../src/engine.ts';
import type { Crop } from '../../src/compute/region.ts';
import type { AttentionSource } from '../../src/data/tensor.ts';
import type { GpuTimer } from './gpuTimer.ts';
import { layoutSingle, type BenchScene, type FrameTarget } from './render.ts';
import { now, summarize, type Summary } from './stats.ts';

/** What the viewer shows after a change. */
export interface ViewState {
  readonly layer: number;
  readonly head: number;
  readonly softmax: 'none' | 'row';
  /** undefined: the full map. */
  readonly crop?: Crop;
}

/** Time of one change, split at the moment the new map's range was read back. */
export interface ChangeTime {
  readonly mapMs: number;
  readonly frameMs: number;
  readonly totalMs: number;
}

/**
 * Shows views one after another in a single-map scene, keeping the map and stats on screen until the next one
 * replaces them, as the viewer's cell does.
 */
export class SingleMapView {
  readonly #engine: AttentionEngine;
  readonly #tensorId: string;
  readonly #scene: BenchScene;
  readonly #target: FrameTarget;
  readonly #timer: GpuTimer;
  #shown: { map: ComputedMap; stats: ComputedStats } | undefined;

  constructor(engine: AttentionEngine, tensorId: string, scene: BenchScene, target: FrameTarget, timer: GpuTimer) {
    this.#engine = engine;
    this.#tensorId = tensorId;
    this.#scene = scene;
    this.#target = target;
    this.#timer = timer;
  }

  /** Computes and draws `state`; resolves when the frame is done on the GPU. */
  async show(state: ViewState): Promise<ChangeTime> {
    const start = now();
    const request: AttentionMapRequest = { kind: 'attention', tensorId: this.#tensorId, layer: state.layer, head: state.head, softmax: state.softmax, crop: state.crop };
    const map = await this.#engine.computeMap(request);
    const stats = await this.#engine.computeStats(map, { bins: 0 });
    await stats.read();
    const mapped = now();
    const scene = { values: map.buffer, rows: map.rows, cols: map.cols, range: stats.stats, rangeWord: MAP_STATS_MIN_WORD };
    if (this.#scene.cellCount === 0) {
      const phones = Array.from({ length: Math.floor(map.cols / 5) }, (_, index) => index * 5);
      const words = Array.from({ length: Math.floor(map.cols / 20) }, (_, index) => index * 20);
      this.#scene.setCells([scene], [layoutSingle(this.#target.width, this.#target.height)], { phones, words });
    } else {
      this.#scene.replaceMap(0, scene);
    }
    await this.#scene.drawFrame(this.#target, this.#timer);
    const done = now();
    this.#shown?.map.destroy();
    this.#shown?.stats.destroy();
    this.#shown = { map, stats };
    return { mapMs: mapped - start, frameMs: done - mapped, totalMs: done - start };
  }

  /** GPU bytes of the map on screen (f32). */
  get mapBytes(): number {
    return this.#shown ? this.#shown.map.rows * this.#shown.map.cols * 4 : 0;
  }

  /** Frees the map on screen and the scene's cells. */
  release(): void {
    this.#shown?.map.destroy();
    this.#shown?.stats.destroy();
    this.#shown = undefined;
    this.#scene.setCells([], []);
  }
}

/** Sizes of the control-change suite. */
export interface ControlSuiteConfig {
  /** Changes measured per kind and region. */
  readonly reps: number;
  /** The "3 words" crop: first frame and frames (STEVE's default view shows the first words of an utterance). */
  readonly cropStart: number;
  readonly cropFrames: number;
  /** Skip full-map changes (each costs seconds on a software adapter). */
  readonly cropOnly?: boolean;
  readonly log?: (line: string) => void;
}

/** Times of one kind of change in one region. */
export interface ControlResult {
  readonly id: string;
  readonly label: string;
  readonly region: string;
  readonly totalMs: Summary;
  readonly mapMs: Summary;
  readonly frameMs: Summary;
  readonly note?: string;
}

/**
 * Head changes and softmax toggles within a resident layer, layer changes with every layer resident, and layer
 * changes that must upload the layer first (the budget shrunk to one layer, so each change evicts and reads the
 * file again), for the full map and for a crop. Leaves the engine's budget as it found it.
 */
export async function runControlSuite(
  engine: AttentionEngine,
  tensorId: string,
  scene: BenchScene,
  target: FrameTarget,
  timer: GpuTimer,
  config: ControlSuiteConfig,
): Promise<ControlResult[]> {
  const log = config.log ?? (() => {});
  const shape = engine.tensorShape(tensorId);
  const view = new SingleMapView(engine, tensorId, scene, target, timer);
  const crop: Crop = {
    rowStart: Math.min(config.cropStart, shape.rows - 1),
    rowEnd: Math.min(config.cropStart + config.cropFrames, shape.rows),
    colStart: Math.min(config.cropStart, shape.cols - 1),
    colEnd: Math.min(config.cropStart + config.cropFrames, shape.cols),
  };
  const regions = [
    ...(config.cropOnly ? [] : [{ name: `full map (${shape.rows} x ${shape.cols})`, crop: undefined }]),
    { name: `crop (${crop.rowEnd - crop.rowStart} x ${crop.colEnd - crop.colStart} frames)`, crop },
  ];
  const budget = engine.memory.budgetBytes;
  const layerBytes = engine.storage === 'float16' ? Math.ceil((shape.heads * shape.rows * shape.cols) / 2) * 4 : shape.heads * shape.rows * shape.cols * 4;
  const results: ControlResult[] = [];
  const reps = Math.max(1, config.reps);
  const cycle = (count: number, index: number) => index % count;
  try {
    for (const region of regions) {
      const times = new Map<string, ChangeTime[]>();
      const record = (id: string, time: ChangeTime) => times.set(id, [...(times.get(id) ?? []), time]);
      // Warm: pipelines compiled, layer 0 uploaded, both softmax modes seen once.
      await view.show({ layer: 0, head: 0, softmax: 'none', crop: region.crop });
      await view.show({ layer: 0, head: 0, softmax: 'row', crop: region.crop });
      log(`controls ${region.name}: head changes`);
      for (let rep = 0; rep < reps; rep++) {
        record('head', await view.show({ layer: 0, head: cycle(shape.heads, rep + 1), softmax: 'row', crop: region.crop }));
      }
      log(`controls ${region.name}: softmax toggles`);
      for (let rep = 0; rep < reps; rep++) {
        record('softmax', await view.show({ layer: 0, head: cycle(shape.heads, reps), softmax: rep % 2 === 0 ? 'none' : 'row', crop: region.crop }));
      }
      if (shape.layers > 1) {
        log(`controls ${region.name}: layer changes, uploading each layer (budget: one layer)`);
        engine.setBudget(layerBytes);
        for (let rep = 0; rep < reps; rep++) {
          record('layer-upload', await view.show({ layer: cycle(shape.layers - 1, rep) + 1, head: 0, softmax: 'row', crop: region.crop }));
          // Back to layer 0 without timing it, so the next timed change uploads again.
          await view.show({ layer: 0, head: 0, softmax: 'row', crop: region.crop });
        }
        engine.setBudget(budget);
        log(`controls ${region.name}: layer changes, every layer resident`);
        await engine.prefetch(tensorId);
        for (let rep = 0; rep < reps; rep++) {
          record('layer-resident', await view.show({ layer: cycle(shape.layers, rep + 1), head: 0, softmax: 'row', crop: region.crop }));
        }
      }
      const labels: Record<string, string> = {
        head: 'head change (layer resident)',
        softmax: 'softmax on/off',
        'layer-upload': 'layer change, layer read + uploaded',
        'layer-resident': 'layer change, layer resident',
      };
      for (const [id, list] of times) {
        results.push({
          id: `${id}-${region.crop ? 'crop' : 'full'}`,
          label: labels[id],
          region: region.name,
          totalMs: summarize(list.map((time) => time.totalMs)),
          mapMs: summarize(list.map((time) => time.mapMs)),
          frameMs: summarize(list.map((time) => time.frameMs)),
        });
      }
    }
  } finally {
    engine.setBudget(budget);
    view.release();
  }
  return results;
}

/** Time to the first map of a file just opened, split into its steps. */
export interface FirstMapTime {
  /** Opening the source and parsing its header (openAttention). */
  readonly openMs: number;
  /** computeMap + computeStats + range read back: the first layer's read and upload are in here. */
  readonly mapMs: number;
  readonly frameMs: number;
  readonly totalMs: number;
}

/**
 * Opens a file (through `open`, which returns the AttentionSource), adds it to the engine and shows `state`, timing
 * each step. The tensor is removed afterwards so that the next call starts with nothing resident.
 */
export async function timeFirstMap(
  engine: AttentionEngine,
  open: () => Promise<AttentionSource>,
  tensorId: string,
  state: ViewState,
  scene: BenchScene,
  target: FrameTarget,
  timer: GpuTimer,
): Promise<FirstMapTime> {
  const start = now();
  const source = await open();
  engine.addTensor(tensorId, source);
  const opened = now();
  const view = new SingleMapView(engine, tensorId, scene, target, timer);
  try {
    const change = await view.show(state);
    return { openMs: opened - start, mapMs: change.mapMs, frameMs: change.frameMs, totalMs: opened - start + change.totalMs };
  } finally {
    view.release();
    engine.removeTensor(tensorId);
  }
}
