/**
 * The colour bar beside the maps on screen: the colormap from the bottom (low) to the top (high) of the view's
 * colour scale (src/view/colorScale.ts: the same ticks, end labels and note as the exported figures), ticks where
 * the scale puts their values (powers of ten on a log scale, "p5 ..." and "p95 ..." at the ends of a clipped one),
 * and the quantity written along the bar.
 */
import type { ColorScale } from '../view/colorScale.ts';
import type { ColormapName } from '../view/spec.ts';
import { makeColormapLut } from '../view/colormaps.ts';

/** What the bar states. */
export interface ColorbarSpec {
  readonly colormap: ColormapName;
  readonly scale: ColorScale;
  /** Texts for the ends instead of the scale's ("min", "max" when each map of a grid has its own range). */
  readonly ends?: readonly [string, string];
  /** The quantity ("attention (softmax)", "raw score", "difference of ...", "rollout") with the scale's note. */
  readonly label: string;
}

/** The bar's labelled positions, bottom first: the ends, and the scale's ticks that do not crowd them. */
export function colorbarLabels(spec: ColorbarSpec): { text: string; at: number }[] {
  const { scale, ends } = spec;
  if (ends) return [{ text: ends[0], at: 0 }, { text: ends[1], at: 1 }];
  const inner = scale.ticks.filter((tick) => tick.at > 0.08 && tick.at < 0.92).map((tick) => ({ text: tick.label, at: tick.at }));
  return [{ text: scale.lowLabel, at: 0 }, ...inner, { text: scale.highLabel, at: 1 }];
}

const BAR_WIDTH = 14;

/** Draws `spec` into a canvas of CSS size (width, height) at the page's device pixel ratio. */
export function drawColorbar(canvas: HTMLCanvasElement, spec: ColorbarSpec, width: number, height: number): void {
  const dpr = globalThis.devicePixelRatio || 1;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.max(1, Math.round(width * dpr));
  canvas.height = Math.max(1, Math.round(height * dpr));
  // The texts as data too, for tests and assistive tools.
  canvas.dataset.label = spec.label;
  canvas.dataset.ticks = colorbarLabels(spec).map((label) => label.text).join('|');
  canvas.setAttribute('aria-label', `colour bar: ${spec.label}, ${canvas.dataset.ticks.replaceAll('|', ', ')}`);
  const context = canvas.getContext('2d');
  if (!context) return;
  context.setTransform(dpr, 0, 0, dpr, 0, 0);
  context.clearRect(0, 0, width, height);
  const lut = makeColormapLut(spec.colormap);
  const top = 6;
  const bottom = height - 6;
  const span = Math.max(1, bottom - top);
  for (let y = top; y < bottom; y++) {
    const index = Math.round(((bottom - 1 - y) / Math.max(1, span - 1)) * 255);
    context.fillStyle = `rgb(${lut[index * 4]},${lut[index * 4 + 1]},${lut[index * 4 + 2]})`;
    context.fillRect(0, y, BAR_WIDTH, 1);
  }
  context.strokeStyle = '#444';
  context.strokeRect(0.5, top + 0.5, BAR_WIDTH - 1, span - 1);
  context.fillStyle = '#222';
  context.font = '11px sans-serif';
  context.textBaseline = 'middle';
  for (const label of colorbarLabels(spec)) {
    const y = bottom - label.at * span;
    context.fillRect(BAR_WIDTH, Math.round(y), 4, 1);
    context.fillText(label.text, BAR_WIDTH + 6, Math.min(Math.max(y, top + 5), bottom - 5));
  }
  context.save();
  context.translate(width - 4, top + span / 2);
  context.rotate(-Math.PI / 2);
  context.textAlign = 'center';
  context.textBaseline = 'bottom';
  context.fillText(spec.label, 0, 0, span);
  context.restore();
}
