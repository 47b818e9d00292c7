/**
 * The figure of a planned view as SVG: the maps' colour scale from their statistics (src/view/colorScale.ts: one
 * scale for the whole view by default, or one per map), each map drawn offscreen through the viewer's MapScene
 * (src/render/mapScene.ts) and embedded as PNG, then one map with axes, phone and word labels, boundary lines on
 * cell edges, colour bar and title (src/figure/figureSvg.ts, as the viewer's figure export), two utterances' maps
 * side by side (src/figure/pairSvg.ts), or a grid of maps (src/figure/gridSvg.ts).
 */
import type { AttentionEngine, ComputedMap } from '../engine.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { figureAxesOf, gridWordLabels } from '../figure/figureAxes.ts';
import { makeFigureSvg } from '../figure/figureSvg.ts';
import { makeGridSvg } from '../figure/gridSvg.ts';
import { makePairSvg } from '../figure/pairSvg.ts';
import type { HeatmapPass } from '../render/heatmap.ts';
import { MapScene, boundaryStyleFor, createRangeBuffer } from '../render/mapScene.ts';
import { renderToPixels } from '../render/offscreen.ts';
import { drawHeatmapCpu } from '../render/heatmap.cpu.ts';
import { encodeRgbaPng, pngDataUrl } from '../node/png.ts';
import type { ColorScale, MapValueStats } from '../view/colorScale.ts';
import { makeColorScale } from '../view/colorScale.ts';
import { makeColormapLut } from '../view/colormaps.ts';
import { formatValue } from '../view/formatValue.ts';
import type { ViewPlan } from '../view/plan.ts';
import { cellMarks, spanOf } from '../view/plan.ts';

/** The figure's size; how the maps look (colormap, scale, smoothing) is the plan's spec. */
export interface FigureLook {
  /** Side of the map (one map) or of each map (grids), in SVG pixels. */
  readonly size: number;
  /** Raster pixels per SVG pixel: the PNG's scale, so the map is never resampled on the way. */
  readonly rasterScale: number;
}

/** What draws the rasters: the engine's device, and the passes (an rgba8unorm heatmap pass may be shared). */
export interface FigureDrawing {
  readonly engine: AttentionEngine;
  readonly shaders: ShaderSources;
  /** Made (its pipeline compiled, ~0.1 s on SwiftShader) only when a map is drawn on the GPU: host maps never ask. */
  readonly heatmap: () => Promise<HeatmapPass>;
}

/** The figure of `plan` with its computed `maps` (one per plan cell, in order). */
export async function makeViewFigureSvg(drawing: FigureDrawing, plan: ViewPlan, maps: readonly ComputedMap[], look: FigureLook): Promise<string> {
  const rasterSize = Math.max(1, Math.round(look.size * look.rasterScale));
  const stats = await readMapStats(drawing.engine, maps, plan.range.scale === 'percentile');
  const shared = makeColorScale(plan.range, stats);
  const scales = plan.range.shared ? maps.map(() => shared) : stats.map((one) => makeColorScale(plan.range, [one]));
  const hrefs = await drawRasters(drawing, plan, maps, scales, rasterSize);
  const lut = makeColormapLut(plan.colorbar.colormap);
  const note = shared.note ? `, ${shared.note}` : '';
  const darkLines = plan.colorbar.colormap === 'diverging';
  const colorbar = plan.range.shared
    ? { lut, low: shared.lowLabel, high: shared.highLabel, ticks: shared.ticks, label: plan.colorbar.label + note }
    : { lut, low: 'min', high: 'max', label: `${plan.colorbar.label}${note}, each map its own range` };
  // Per-map scaling states each map's range in its title, since no one bar can.
  const cellTitle = (i: number) => (plan.range.shared ? plan.cells[i].title : `${plan.cells[i].title} (${formatValue(scales[i].low)}–${formatValue(scales[i].high)})`);
  if (plan.spec.view === 'pair') {
    // Two utterances: each map with its own frames' labels and lines.
    const panel = (i: number) => {
      const axes = figureAxesOf(cellMarks(plan, i), look.size);
      return { title: cellTitle(i), rasterHref: hrefs[i], columnLabels: axes.labels, rowLabels: axes.labels, phoneBoundaries: axes.phoneBoundaries, wordBoundaries: axes.wordBoundaries };
    };
    return makePairSvg({ title: plan.title, subtitle: plan.subtitle, mapSize: look.size, panels: [panel(0), panel(1)], colorbar, darkLines });
  }
  if (maps.length > 1) {
    const axes = figureAxesOf(plan.marks, look.size);
    const wordLabels = gridWordLabels(plan.marks, look.size);
    return makeGridSvg({
      title: plan.title,
      subtitle: plan.subtitle,
      cells: plan.cells.map((cell, i) => ({ title: cellTitle(i), rasterHref: hrefs[i] })),
      columns: plan.columns,
      cellSize: look.size,
      wordBoundaries: axes.wordBoundaries,
      wordLabels: wordLabels.columns,
      rowWordLabels: wordLabels.rows,
      darkLines,
      colorbar,
    });
  }
  const axes = figureAxesOf(plan.marks, look.size);
  return makeFigureSvg({
    title: plan.title,
    subtitle: plan.subtitle,
    mapSize: look.size,
    rasterHref: hrefs[0],
    columnLabels: axes.labels,
    rowLabels: axes.labels,
    phoneBoundaries: axes.phoneBoundaries,
    wordBoundaries: axes.wordBoundaries,
    darkLines,
    colorbar: { lut, low: shared.lowLabel, high: shared.highLabel, ticks: shared.ticks, label: plan.colorbar.label + note },
  });
}

/** Min, max (and with `histograms`, 256-bin histograms) of each map, read back. */
async function readMapStats(engine: AttentionEngine, maps: readonly ComputedMap[], histograms: boolean): Promise<MapValueStats[]> {
  const all: MapValueStats[] = [];
  for (const map of maps) {
    const stats = await engine.computeStats(map, { bins: histograms ? 256 : 0 });
    try {
      const read = await stats.read();
      all.push({ min: read.min, max: read.max, histogram: read.histogram });
    } finally {
      stats.destroy();
    }
  }
  return all;
}

/** Each map drawn through MapScene into a rasterSize square (the lines are the SVG's), as PNG data URLs. */
async function drawRasters(drawing: FigureDrawing, plan: ViewPlan, maps: readonly ComputedMap[], scales: readonly ColorScale[], rasterSize: number): Promise<string[]> {
  const device = drawing.engine.device;
  // Made when the first map made on the GPU needs it: host maps are drawn without it.
  let scene: MapScene | undefined;
  const sceneOf = async (): Promise<MapScene> => {
    if (scene) return scene;
    scene = await MapScene.create(device, drawing.shaders, 'rgba8unorm', await drawing.heatmap());
    scene.look = { colormap: plan.colorbar.colormap, smooth: plan.spec.smooth, boundaryStyle: boundaryStyleFor(plan.colorbar.colormap) };
    return scene;
  };
  const ranges = new Map<ColorScale, GPUBuffer>();
  try {
    const hrefs: string[] = [];
    for (let i = 0; i < maps.length; i++) {
      const scale = scales[i];
      // A map the host path computed is drawn on the host too: the same pixels, without the emulated GPU.
      const values = drawing.engine.hostValuesOf(maps[i]);
      if (values) {
        const { rows, cols } = maps[i];
        const raster = { values, rows, cols, span: spanOf(plan.marks, cols), width: rasterSize, height: rasterSize, low: scale.low, high: scale.high, log: scale.log };
        const pixels = drawHeatmapCpu({ ...raster, colormap: plan.colorbar.colormap, smooth: plan.spec.smooth });
        hrefs.push(pngDataUrl(encodeRgbaPng(pixels, rasterSize, rasterSize)));
        continue;
      }
      let range = ranges.get(scale);
      if (!range) ranges.set(scale, (range = createRangeBuffer(device, scale, 'steve.figure.range')));
      const scene = await sceneOf();
      scene.setCells([
        { map: { values: maps[i].buffer, rows: maps[i].rows, cols: maps[i].cols, span: spanOf(plan.marks, maps[i].cols) }, rect: { x: 0, y: 0, width: rasterSize, height: rasterSize }, range: { buffer: range, word: 0, log: scale.log } },
      ]);
      const pixels = await renderToPixels(device, rasterSize, rasterSize, (pass) => scene.encode(pass, rasterSize, rasterSize));
      hrefs.push(pngDataUrl(encodeRgbaPng(pixels, rasterSize, rasterSize)));
    }
    return hrefs;
  } finally {
    scene?.destroy();
    for (const buffer of ranges.values()) buffer.destroy();
  }
}
