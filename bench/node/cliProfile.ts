/**
 * Where the time of one `steve render` goes, step by step, in one process: the steps runViewCommand and
 * makeViewFigureSvg take, each awaited to completion (the GPU's queue drained) before the clock is read, so each
 * step's time is its own. The figure itself is made by makeViewFigureSvg, as the CLI makes it; the steps inside it
 * (stats, raster with its read-back, PNG encode) are timed by running each once more on its own, beside it. Node only.
 */
import { performance } from 'node:perf_hooks';
import { makeViewFigureSvg } from '../../src/cli/figure.ts';
import { isHeadSoftmaxed } from '../../src/data/openAttention.ts';
import { loadUtterance } from '../../src/node/loadUtterance.ts';
import { createNodeEngine } from '../../src/node/nodeEngine.ts';
import { encodeRgbaPng } from '../../src/node/png.ts';
import { svgToPng } from '../../src/node/svgToPng.ts';
import { MapScene, createRangeBuffer } from '../../src/render/mapScene.ts';
import { renderToPixels } from '../../src/render/offscreen.ts';
import { drawHeatmapCpu } from '../../src/render/heatmap.cpu.ts';
import { makeColorScale } from '../../src/view/colorScale.ts';
import { planView, spanOf } from '../../src/view/plan.ts';
import { parseViewSpec } from '../../src/view/spec.ts';
import type { ComputeChoice } from '../../src/node/nodeEngine.ts';

/** The steps `steve render` itself takes (the others are its inner steps, timed once more on their own). */
const CLI_STEPS = ['dawnStartMs', 'openFileMs', 'softmaxCheckMs', 'planMs', 'computeMapMs', 'heatmapPipelineMs', 'figureSvgMs', 'resvgMs'];

/** Milliseconds of each step of one render, in order. */
export type RenderSteps = Record<string, number>;

/** Options of profileRender: the file, the map, the format, and which compute path the engine takes. */
export interface ProfileOptions {
  readonly npyPath: string;
  readonly layer: number;
  readonly head: number;
  readonly format: 'png' | 'svg';
  readonly compute: ComputeChoice;
}

/**
 * One `steve render --attention FILE --layer L --head H` (a full map, softmax over rows, 640 px) with every step
 * timed. `engine.compute` in the result says which path the engine took.
 */
export async function profileRender(options: ProfileOptions): Promise<{ steps: RenderSteps; totalMs: number; cliMs: number; compute: string; adapter: string }> {
  const steps: RenderSteps = {};
  const start = performance.now();
  let last = start;
  const lap = (name: string) => {
    const now = performance.now();
    steps[name] = now - last;
    last = now;
  };
  const node = await createNodeEngine({ compute: options.compute });
  try {
    const engine = node.engine;
    const drained = () => engine.device.queue.onSubmittedWorkDone();
    lap('dawnStartMs');
    const utterance = await loadUtterance({ attention: options.npyPath });
    engine.addTensor('utterance', utterance.attention);
    lap('openFileMs');
    const softmaxed = await isHeadSoftmaxed(utterance.attention);
    lap('softmaxCheckMs');
    const spec = parseViewSpec({ layer: String(options.layer), head: String(options.head) });
    const plan = planView(spec, utterance, { tensorId: 'utterance', softmaxed });
    lap('planMs');
    // The layer's read + upload, alone (what the first map of a layer costs before any kernel runs).
    const request = plan.cells[0].request;
    await utterance.attention.readLayer(options.layer);
    lap('readLayerMs');
    const map = await engine.computeMap(request);
    await drained();
    lap('computeMapMs');
    // The heatmap pipeline is compiled only for maps drawn on the GPU (src/cli/figure.ts): host maps skip the step.
    if (!engine.hostValuesOf(map)) {
      await node.heatmap();
      lap('heatmapPipelineMs');
    }
    // The steps inside makeViewFigureSvg, each on its own.
    const stats = await engine.computeStats(map, { bins: 0 });
    const read = await stats.read();
    stats.destroy();
    lap('statsMs');
    const scale = makeColorScale(plan.range, [{ min: read.min, max: read.max, histogram: read.histogram }]);
    const size = 640;
    const span = spanOf(plan.marks, map.cols);
    const hostValues = engine.hostValuesOf(map);
    let pixels: Uint8Array;
    if (hostValues) {
      pixels = drawHeatmapCpu({ values: hostValues, rows: map.rows, cols: map.cols, span, width: size, height: size, low: scale.low, high: scale.high, log: scale.log, colormap: plan.colorbar.colormap, smooth: plan.spec.smooth });
      lap('rasterMs');
    } else {
      const scene = await MapScene.create(engine.device, node.shaders, 'rgba8unorm', await node.heatmap());
      const range = createRangeBuffer(engine.device, scale, 'profile.range');
      lap('scenePipelinesMs');
      scene.setCells([{ map: { values: map.buffer, rows: map.rows, cols: map.cols, span }, rect: { x: 0, y: 0, width: size, height: size }, range: { buffer: range, word: 0, log: scale.log } }]);
      pixels = await renderToPixels(engine.device, size, size, (pass) => scene.encode(pass, size, size));
      scene.destroy();
      range.destroy();
      lap('rasterMs');
    }
    encodeRgbaPng(pixels, size, size);
    lap('rasterPngEncodeMs');
    // The figure as the CLI makes it (all of the above inside, again), then resvg for PNG.
    const svg = await makeViewFigureSvg({ engine, shaders: node.shaders, heatmap: node.heatmap }, plan, [map], { size, rasterScale: 1 });
    lap('figureSvgMs');
    if (options.format === 'png') {
      svgToPng(svg);
      lap('resvgMs');
    }
    map.destroy();
    engine.removeTensor('utterance');
    await utterance.close();
    const totalMs = performance.now() - start;
    // What the CLI itself runs, without the steps timed again on their own (readLayer, stats, raster, PNG encode).
    const cliMs = CLI_STEPS.reduce((sum, step) => sum + (steps[step] ?? 0), 0);
    return { steps, totalMs, cliMs, compute: engine.compute, adapter: engine.adapterDescription };
  } finally {
    node.destroy();
  }
}
