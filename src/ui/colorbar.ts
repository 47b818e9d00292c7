/**
 * The colour bar beside the map: the colormap from the bottom (low) to the top (high) of the range the maps are
 * coloured over, ticks where the scale puts those values (decades on a log scale), the clipped ends of a
 * percentile scale named as such ("p5" ... "p95"), and the quantity written along the bar.
 */
import type { ColormapName } from '../render/colormaps.ts';
import { makeColormapLut } from '../render/colormaps.ts';
import { formatValue } from '../view/formatValue.ts';

/** What a colour bar states; the same for the bar on screen and the one in an exported figure. */
export interface ColorbarSpec {
  readonly colormap: ColormapName;
  /** The values at the bottom and the top of the bar. */
  readonly low: number;
  readonly high: number;
  /** Log10 spacing between low and high (low > 0). */
  readonly log: boolean;
  /** Percentiles the ends stand for (a clipped scale); absent: the ends are the maps' min and max. */
  readonly clip?: readonly [number, number];
  /** The quantity: "attention (softmax)", "raw score", "difference", "rollout", with the scale's note. */
  readonly label: string;
}

/** A tick: its value, text, and position along the bar from 0 (bottom) to 1 (top). */
export interface ColorbarTick {
  readonly value: number;
  readonly text: string;
  readonly at: number;
}

/** Ticks of a bar: round values inside [low, high], decades for log, with the two ends always labelled. */
export function colorbarTicks(spec: Pick<ColorbarSpec, 'low' | 'high' | 'log' | 'clip'>): ColorbarTick[] {
  const { low, high, log, clip } = spec;
  if (!(high > low) || !Number.isFinite(low) || !Number.isFinite(high)) return [{ value: low, text: formatValue(low), at: 0.5 }];
  const position = log && low > 0 ? (v: number) => Math.log10(v / low) / Math.log10(high / low) : (v: number) => (v - low) / (high - low);
  const inner = log && low > 0 ? decadeTicks(low, high) : niceTicks(low, high, 5);
  const ends: ColorbarTick[] = [
    { value: low, text: clip ? `p${clip[0]} ${formatValue(low)}` : formatValue(low), at: 0 },
    { value: high, text: clip ? `p${clip[1]} ${formatValue(high)}` : formatValue(high), at: 1 },
  ];
  // Inner ticks too close to an end (under 8% of the bar) would overprint its label.
  const middle = inner
    .map((value) => ({ value, text: formatValue(value), at: position(value) }))
    .filter((tick) => tick.at > 0.08 && tick.at < 0.92);
  return [ends[0], ...middle, ends[1]];
}

/** 1, 2 or 5 times a power of ten, about `count` of them inside [low, high]. */
export function niceTicks(low: number, high: number, count: number): number[] {
  const raw = (high - low) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return ticks;
}

/** Powers of ten inside [low, high]; with fewer than two, 2x and 5x of them as well. */
export function decadeTicks(low: number, high: number): number[] {
  const decades: number[] = [];
  for (let k = Math.ceil(Math.log10(low) - 1e-9); 10 ** k <= high * (1 + 1e-9); k++) decades.push(10 ** k);
  if (decades.length >= 2) return decades;
  const finer: number[] = [];
  for (let k = Math.floor(Math.log10(low)); 10 ** k <= high; k++) for (const m of [1, 2, 5]) finer.push(m * 10 ** k);
  return finer.filter((v) => v >= low && v <= high);
}

const BAR_WIDTH = 14;

/** Draws `spec` into a canvas of CSS size (width, height) at the page's device pixel ratio. */
export function drawColorbar(canvas: HTMLCanvasElement, spec: ColorbarSpec, width: number, height: number): void {
  const dpr = globalThis.devicePixelRatio || 1;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.max(1, Math.round(width * dpr));
  canvas.height = Math.max(1, Math.round(height * dpr));
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
  for (const tick of colorbarTicks(spec)) {
    const y = bottom - tick.at * span;
    context.fillRect(BAR_WIDTH, Math.round(y), 4, 1);
    context.fillText(tick.text, BAR_WIDTH + 6, Math.min(Math.max(y, top + 5), bottom - 5));
  }
  context.save();
  context.translate(width - 6, top + span / 2);
  context.rotate(-Math.PI / 2);
  context.textAlign = 'center';
  context.textBaseline = 'bottom';
  context.fillText(spec.label, 0, 0, span);
  context.restore();
}
