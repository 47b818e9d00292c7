/**
 * The figure of a planned view as SVG: each computed map colour-mapped by the viewer's own heatmap render pass
 * (offscreen, read back, embedded as PNG), then one map with axes, phone and word labels, boundary lines, colour
 * bar and title (src/figure/figureSvg.ts, as the viewer's figure export), or a grid of maps
 * (src/figure/gridSvg.ts).
 */
import type { AttentionEngine, ComputedMap } from '../engine.ts';
import { MAP_STATS_MIN_WORD, percentileFromHistogram } from '../engine.ts';
import { createStorageBufferFrom } from '../gpu/buffers.ts';
import type { ColormapName } from '../render/colormaps.ts';
import { makeColormapLut } from '../render/colormaps.ts';
import type { FigureAxes } from '../figure/figureAxes.ts';
import { frameFigureAxes, segmentFigureAxes } from '../figure/figureAxes.ts';
import { makeFigureSvg } from '../figure/figureSvg.ts';
import { formatValue } from '../view/formatValue.ts';
import { makeGridSvg } from '../figure/gridSvg.ts';
import type { HeatmapPass } from '../render/heatmap.ts';
import { renderToPixels } from '../render/offscreen.ts';
import { makeMapToViewport } from '../render/view.ts';
import { encodeRgbaPng, pngDataUrl } from '../node/png.ts';
import type { ViewPlan } from './viewPlan.ts';

/** How maps look: the viewer's colormap, scale and smoothing, and the figure's size. */
export interface FigureLook {
  readonly colormap: ColormapName;
  readonly scale: 'linear' | 'log' | 'percentile';
  /** Percentiles (0..100) that the colour scale spans with scale 'percentile'. */
  readonly clip: readonly [number, number];
  readonly smooth: boolean;
  /** Side of the map (one map) or of each map (grids), in SVG pixels. */
  readonly size: number;
  /** Raster pixels per SVG pixel: the PNG's scale, so the map is never resampled on the way. */
  readonly rasterScale: number;
}

/** A map drawn: its raster and the values its colour scale spans. */
interface DrawnMap {
  readonly href: string;
  readonly low: number;
  readonly high: number;
}

/** The figure of `plan` with its computed `maps` (one per plan cell, in order). */
export async function makeViewFigureSvg(engine: AttentionEngine, heatmap: HeatmapPass, plan: ViewPlan, maps: readonly ComputedMap[], look: FigureLook): Promise<string> {
  const rasterSize = Math.max(1, Math.round(look.size * look.rasterScale));
  const drawn: DrawnMap[] = [];
  for (const map of maps) drawn.push(await drawMap(engine, heatmap, map, plan.diverging, look, rasterSize));
  const scaleNote = look.scale === 'log' ? ', log scale' : look.scale === 'percentile' ? `, ${look.clip[0]}-${look.clip[1]} percentile` : '';
  const lut = makeColormapLut(plan.diverging ? 'diverging' : look.colormap);
  if (maps.length > 1) {
    const axes = figureAxes(plan, maps[0], look.size);
    return makeGridSvg({
      title: plan.title,
      subtitle: plan.subtitle,
      cells: plan.cells.map((cell, i) => ({ title: cell.title, rasterHref: drawn[i].href })),
      columns: plan.columns,
      cellSize: look.size,
      wordBoundaries: axes.wordBoundaries,
      colorbar: { lut, low: 'min', high: 'max', label: plan.colorbarLabel + scaleNote },
    });
  }
  const axes = figureAxes(plan, maps[0], look.size);
  return makeFigureSvg({
    title: plan.title,
    subtitle: plan.subtitle,
    mapSize: look.size,
    rasterHref: drawn[0].href,
    columnLabels: axes.labels,
    rowLabels: axes.labels,
    phoneBoundaries: axes.phoneBoundaries,
    wordBoundaries: axes.wordBoundaries,
    colorbar: { lut, low: formatValue(drawn[0].low), high: formatValue(drawn[0].high), label: plan.colorbarLabel + scaleNote },
  });
}

/** Labels and boundaries of the plan's maps (all of one size) drawn at `size` pixels. */
function figureAxes(plan: ViewPlan, map: ComputedMap, size: number): FigureAxes {
  const { selection, axes } = plan;
  if (!selection) return { labels: [], phoneBoundaries: [], wordBoundaries: [] };
  if (axes.kind === 'segments') return segmentFigureAxes(axes.segments, axes.unit, selection.words, size);
  const pixelsPerFrame = size / (map.cols * axes.framesPerCell);
  return frameFigureAxes(selection, (position) => (position - plan.crop.colStart) * pixelsPerFrame, size);
}

/** Colour-maps one map offscreen as the viewer draws it, and returns it as a PNG data URL with its colour range. */
async function drawMap(engine: AttentionEngine, heatmap: HeatmapPass, map: ComputedMap, diverging: boolean, look: FigureLook, rasterSize: number): Promise<DrawnMap> {
  const percentile = look.scale === 'percentile' && !diverging;
  const stats = await engine.computeStats(map, { bins: percentile ? 256 : 0 });
  const drawable = heatmap.createDrawable('steve.figure.heatmap');
  let symmetric: GPUBuffer | undefined;
  try {
    const read = await stats.read();
    let low = read.min;
    let high = read.max;
    let clip: [number, number] = [0, 1];
    if (diverging) {
      // Differences are symmetric about 0, so white means "no change" whatever the range.
      const bound = Math.max(Math.abs(read.min), Math.abs(read.max)) || 1;
      [low, high] = [-bound, bound];
      symmetric = createStorageBufferFrom(engine.device, 'steve.figure.range', new Float32Array([low, high]));
    } else if (percentile && read.max > read.min) {
      low = percentileFromHistogram(read.histogram, read.min, read.max, look.clip[0] / 100);
      high = percentileFromHistogram(read.histogram, read.min, read.max, look.clip[1] / 100);
      clip = [(low - read.min) / (read.max - read.min), (high - read.min) / (read.max - read.min)];
    } else if (look.scale === 'log') {
      // The heatmap shader clamps values below max x 1e-6 to the bottom colour.
      low = Math.max(low, high * 1e-6);
    }
    drawable.update({
      values: map.buffer,
      cols: map.cols,
      rows: map.rows,
      valueRange: symmetric ?? stats.stats,
      rangeWord: symmetric ? 0 : MAP_STATS_MIN_WORD,
      viewport: { x: 0, y: 0, width: rasterSize, height: rasterSize },
      mapToViewport: makeMapToViewport({ x: 0, y: 0, width: map.cols, height: map.rows }, rasterSize, rasterSize),
      colormap: diverging ? 'diverging' : look.colormap,
      scale: look.scale === 'log' && !diverging ? 'log' : 'linear',
      smooth: look.smooth,
      clip,
    });
    const pixels = await renderToPixels(engine.device, rasterSize, rasterSize, (pass) => drawable.draw(pass));
    return { href: pngDataUrl(encodeRgbaPng(pixels, rasterSize, rasterSize)), low, high };
  } finally {
    drawable.destroy();
    stats.destroy();
    symmetric?.destroy();
  }
}
