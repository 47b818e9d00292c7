/**
 * The heatmap of one unzoomed map drawn on the CPU: shaders/render/heatmap.wgsl's fragment shader, pixel by pixel,
 * for a figure raster on a CPU-only machine (the host path, src/compute/cpu/hostKinds.ts), where the emulated GPU
 * takes longer to draw a 640 x 640 raster than the whole map takes to compute. The arithmetic is rounded to float32
 * where the shader's is, so the pixels are the GPU's but for a colour index one step off where a value lies on the
 * boundary between two colours (tests/gpu/heatmapCpu.test.ts).
 */
import type { ColormapName } from '../view/spec.ts';
import { makeColormapLut } from '../view/colormaps.ts';

const f32 = Math.fround;
/** heatmap.wgsl's MAX_FOOTPRINT_SAMPLES. */
const MAX_FOOTPRINT_SAMPLES = 4;
/** f32's largest finite value (heatmap.wgsl's isFinite). */
const F32_MAX = 3.4028234663852886e38;
/** HeatmapDrawable's nonFinite colour (0.5, 0.5, 0.5, 1) as rgba8unorm, and its default background (0, 0, 0, 0). */
const NON_FINITE_RGBA = [128, 128, 128, 255];
const BACKGROUND_RGBA = [0, 0, 0, 0];

/** What one raster shows: a rows x cols map filling a width x height target, as MapScene places a figure's cell. */
export interface HeatmapRaster {
  readonly values: Float32Array;
  readonly rows: number;
  readonly cols: number;
  /** Map cells along each axis of the target (MapMarks' span); cols and rows when absent. */
  readonly span?: number;
  readonly width: number;
  readonly height: number;
  /** The colour scale's ends (ColorScale.low and high) and whether it is logarithmic. */
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly colormap: ColormapName;
  /** Bilinear between cell centres (the spec's smooth) instead of the nearest cell. */
  readonly smooth: boolean;
}

/** WGSL's round(): halfway cases to even. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** width x height RGBA pixels (top row first), as renderToPixels returns the GPU's. */
export function drawHeatmapCpu(raster: HeatmapRaster): Uint8Array {
  const { values, rows, cols, width, height, smooth } = raster;
  const lut = makeColormapLut(raster.colormap);
  const pixels = new Uint8Array(width * height * 4);
  // MapScene's mapToViewport for an unzoomed cell: x_px = x_map * width / span; the shader inverts it in f32.
  const toMapX = f32(1 / f32(width / (raster.span ?? cols)));
  const toMapY = f32(1 / f32(height / (raster.span ?? rows)));
  const samplesX = Math.min(Math.max(Math.ceil(toMapX), 1), MAX_FOOTPRINT_SAMPLES);
  const samplesY = Math.min(Math.max(Math.ceil(toMapY), 1), MAX_FOOTPRINT_SAMPLES);
  const offsetsX = footprintOffsets(samplesX, toMapX);
  const offsetsY = footprintOffsets(samplesY, toMapY);
  const cell = (column: number, row: number) => values[Math.min(Math.max(row, 0), rows - 1) * cols + Math.min(Math.max(column, 0), cols - 1)];
  const sampleAt = (x: number, y: number): number => {
    if (!smooth) return cell(Math.floor(x), Math.floor(y));
    const px = f32(x - 0.5);
    const py = f32(y - 0.5);
    const bx = Math.floor(px);
    const by = Math.floor(py);
    const fx = f32(px - bx);
    const fy = f32(py - by);
    const mix = (a: number, b: number, t: number) => f32(a + f32(f32(b - a) * t));
    const top = mix(cell(bx, by), cell(bx + 1, by), fx);
    const bottom = mix(cell(bx, by + 1), cell(bx + 1, by + 1), fx);
    return mix(top, bottom, fy);
  };
  let low = f32(raster.low);
  let high = f32(raster.high);
  let floorValue = 0;
  if (raster.log) {
    floorValue = f32(f32(Math.max(high, 1e-30)) * f32(1e-6));
    low = f32(Math.log10(Math.max(low, floorValue)));
    high = f32(Math.log10(Math.max(high, floorValue)));
  }
  const span = f32(high - low);
  const clipHigh = f32(low + span);
  const range = f32(clipHigh - low);
  const colour = (sum: number, count: number, at: number) => {
    if (count === 0) {
      pixels.set(NON_FINITE_RGBA, at);
      return;
    }
    let value = f32(sum / count);
    if (raster.log) value = f32(Math.log10(Math.max(value, floorValue)));
    const t = clipHigh > low ? Math.min(Math.max(f32(f32(value - low) / range), 0), 1) : 0.5;
    const entry = roundHalfEven(f32(t * 255)) * 4;
    pixels[at] = lut[entry];
    pixels[at + 1] = lut[entry + 1];
    pixels[at + 2] = lut[entry + 2];
    pixels[at + 3] = lut[entry + 3];
  };
  // Where each pixel's samples fall depends on its column (x) or its row (y) alone: found once per column and row.
  const pointsX = Float32Array.from({ length: width }, (_, x) => f32(f32(x + 0.5) * toMapX));
  const pointsY = Float32Array.from({ length: height }, (_, y) => f32(f32(y + 0.5) * toMapY));
  const clampIndex = (index: number, size: number) => Math.min(Math.max(index, 0), size - 1);
  const sampleCols = Int32Array.from({ length: width * samplesX }, (_, k) => clampIndex(Math.floor(f32(pointsX[Math.floor(k / samplesX)] + offsetsX[k % samplesX])), cols));
  const sampleRowStarts = Int32Array.from({ length: height * samplesY }, (_, k) => clampIndex(Math.floor(f32(pointsY[Math.floor(k / samplesY)] + offsetsY[k % samplesY])), rows) * cols);
  for (let y = 0; y < height; y++) {
    const pointY = pointsY[y];
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      const pointX = pointsX[x];
      if (pointX >= cols || pointY >= rows) {
        pixels.set(BACKGROUND_RGBA, at);
        continue;
      }
      let sum = 0;
      let count = 0;
      if (smooth) {
        for (const offsetX of offsetsX) {
          for (const offsetY of offsetsY) {
            const value = sampleAt(f32(pointX + offsetX), f32(pointY + offsetY));
            if (Math.abs(value) <= F32_MAX) {
              sum = f32(sum + value);
              count++;
            }
          }
        }
      } else {
        for (let i = 0; i < samplesX; i++) {
          const col = sampleCols[x * samplesX + i];
          for (let j = 0; j < samplesY; j++) {
            const value = values[sampleRowStarts[y * samplesY + j] + col];
            if (Math.abs(value) <= F32_MAX) {
              sum = f32(sum + value);
              count++;
            }
          }
        }
      }
      colour(sum, count, at);
    }
  }
  return pixels;
}

/** heatmap.wgsl's footprint: (i + 0.5) / samples - 0.5 of the pixel's width in frames, none for a single sample. */
function footprintOffsets(samples: number, framesPerPixel: number): number[] {
  const spread = samples >= 1.5 ? framesPerPixel : 0;
  return Array.from({ length: samples }, (_, i) => f32(f32(f32((i + 0.5) / samples) - 0.5) * spread));
}
