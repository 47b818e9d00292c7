/**
 * The viewer's audio strips, drawn with Canvas 2D: waveform, spectrogram and alignment tiers (phones, words), in the
 * manner of Praat's TextGrid editor.
 *
 * Every strip is drawn for an explicit visible time range {startSec, endSec} into a rectangle {x, y, width, height}
 * in the context's units, so the viewer zooms and pans by redrawing with the range its map view shows. Time runs
 * along x (left to right); a tier may instead run along y (top to bottom), for the map's left side.
 *
 * Speed: the waveform is one min/max bar per pixel column; the spectrogram is turned into pixels once per
 * (spectrogram, colormap) and cached in offscreen canvases, so a redraw is one scaled drawImage per tile.
 *
 * The pure helpers (mapping, column extremes, label thinning, hit testing, spectrogram pixels) are exported
 * separately and tested without a DOM in tests/data/stripsLayout.test.ts.
 * The stretches beside a map and the tiers' frame edges (visibleStretches, segmentsOnFrameEdges) are tested against
 * the map's own boundary lines in tests/ui/tierEdges.test.ts.
 */
import { STEVE_SAMPLE_RATE, toFrameSegments } from '../data/frames.ts';
import type { Segment } from '../data/alignment.ts';
import { labelEnd } from '../data/segment.ts';
import { MAX_LABEL_OVER_SEGMENT, labelShortenings } from '../view/axisLabels.ts';
import type { Spectrogram } from '../data/spectrogram.ts';
import type { WavAudio } from '../data/wav.ts';
import { COLORMAP_SIZE, makeColormapLut } from '../render/colormaps.ts';
import type { AxisPiece } from './axisFrames.ts';
import { frameInPiece, secondsInPiece } from './axisFrames.ts';

/** A visible time range in seconds; endSec > startSec. */
export interface TimeRange {
  readonly startSec: number;
  readonly endSec: number;
}

/** A strip: the time range shown and the rectangle it fills, in the 2D context's units. */
export interface StripView extends TimeRange {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** 'horizontal': time along x, left to right. 'vertical': time along y, top to bottom (the map's left side). */
export type TierOrientation = 'horizontal' | 'vertical';

/** A tier's strip; orientation defaults to 'horizontal'. */
export interface TierView extends StripView {
  readonly orientation?: TierOrientation;
}

/** The time axis of a strip in pixels: where it starts and how long it is. */
export interface PixelAxis {
  readonly start: number;
  readonly length: number;
}

/** Pixel position of `timeSec` on an axis that shows `range` over [axis.start, axis.start + axis.length]. */
export function timeToPixel(timeSec: number, range: TimeRange, axis: PixelAxis): number {
  return axis.start + ((timeSec - range.startSec) / (range.endSec - range.startSec)) * axis.length;
}

/** Time in seconds at pixel position `pixel`: the inverse of timeToPixel. */
export function pixelToTime(pixel: number, range: TimeRange, axis: PixelAxis): number {
  return range.startSec + ((pixel - axis.start) / axis.length) * (range.endSec - range.startSec);
}

/** The time axis of a tier view: x and width when horizontal, y and height when vertical. */
export function tierTimeAxis(view: TierView): PixelAxis {
  return view.orientation === 'vertical' ? { start: view.y, length: view.height } : { start: view.x, length: view.width };
}

// ---------------------------------------------------------------------------------------------------------------
// Strips beside a map

/** Where one axis of a map lies on the page: position = offset + cell * scale, the map covering [from, to]. */
export interface PageAxis {
  readonly offset: number;
  readonly scale: number;
  readonly from: number;
  readonly to: number;
}

/** A visible stretch of a strip along a page axis: its pixel extent and the time range it shows. */
export interface Stretch extends TimeRange {
  readonly at: number;
  readonly length: number;
}

/**
 * The visible part of each axis piece (axisFrames.ts) along a page axis, with the time each cell position stands
 * for: 'audio' is the audio's own time (the waveform and spectrogram: a pooled segment's cell shows its own
 * stretch of audio); 'frames' is the time of the frame under it, f * secondsPerFrame (the tiers, drawn with
 * segmentsOnFrameEdges: their boundaries then lie on the cell edges where the map draws its lines).
 */
export function visibleStretches(pieces: readonly AxisPiece[], axis: PageAxis, clock: 'audio' | 'frames', secondsPerFrame: number): Stretch[] {
  const timeAt = (piece: AxisPiece, cell: number) => (clock === 'audio' ? secondsInPiece(piece, cell) : frameInPiece(piece, cell) * secondsPerFrame);
  return pieces.flatMap((piece) => {
    const from = Math.max(axis.offset + piece.fromCell * axis.scale, axis.from);
    const to = Math.min(axis.offset + piece.toCell * axis.scale, axis.to);
    if (!(to > from)) return [];
    const cellAt = (page: number) => (page - axis.offset) / axis.scale;
    const startSec = timeAt(piece, cellAt(from));
    const endSec = timeAt(piece, cellAt(to));
    // On the frames clock, a piece of no frames (a segment clamped away by the crop) has no range to draw a tier in.
    return clock === 'audio' || endSec > startSec ? [{ at: from, length: to - from, startSec, endSec }] : [];
  });
}

/**
 * `segments` with their ends moved onto the model's frame edges: a segment from frame f to frame g (the project's
 * frame rounding, toFrameSegments, as the map's marks use) runs from f * samplesPerFrame to g * samplesPerFrame.
 * Drawn over stretches on the 'frames' clock, a tier's boundary at frame f is the map's line on the edge between
 * cells f - 1 and f, and the tier continues into the map. Same order and length as `segments`.
 */
export function segmentsOnFrameEdges(segments: readonly Segment[], samplesPerFrame: number, roundUp: boolean): Segment[] {
  return toFrameSegments(segments, samplesPerFrame, roundUp).map((segment) => ({
    label: segment.label,
    startSample: segment.startFrame * samplesPerFrame,
    endSample: segment.stopFrame * samplesPerFrame,
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Waveform

/** The lowest and highest sample under each pixel column; NaN in both where the column lies outside the audio. */
export interface ColumnExtremes {
  readonly min: Float32Array;
  readonly max: Float32Array;
}

/**
 * Min and max of the samples under each of `columns` equal columns spanning `range`. Column c takes samples
 * floor(t0 * rate) ..= floor(t1 * rate) of its span [t0, t1]: the last one is also the next column's first, so that
 * neighbouring bars touch and a zoomed-in waveform reads as a line. `columns` must be a positive integer.
 */
export function waveformColumns(samples: Float32Array, sampleRate: number, range: TimeRange, columns: number): ColumnExtremes {
  const min = new Float32Array(columns).fill(NaN);
  const max = new Float32Array(columns).fill(NaN);
  const secondsPerColumn = (range.endSec - range.startSec) / columns;
  const last = samples.length - 1;
  for (let column = 0; column < columns; column++) {
    const first = Math.floor((range.startSec + column * secondsPerColumn) * sampleRate);
    const end = Math.floor((range.startSec + (column + 1) * secondsPerColumn) * sampleRate);
    if (end < 0 || first > last) continue;
    let low = Infinity;
    let high = -Infinity;
    for (let i = Math.max(first, 0); i <= Math.min(end, last); i++) {
      const value = samples[i];
      if (value < low) low = value;
      if (value > high) high = value;
    }
    min[column] = low;
    max[column] = high;
  }
  return { min, max };
}

/** The largest |sample|, or 1 for silence, so that dividing by it is safe. */
export function peakAmplitude(samples: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
  return peak > 0 ? peak : 1;
}

/** Colours and scale of drawWaveform. */
export interface WaveformStyle {
  /** Fill of the bars. */
  readonly color?: string;
  /** The zero line, or undefined for none. */
  readonly zeroLineColor?: string;
  /** Fill behind the waveform, or undefined to leave the canvas as it is. */
  readonly background?: string;
  /**
   * Amplitude that reaches the strip's top and bottom edge. By default the whole file's peak, so that zooming keeps
   * the scale (Praat scales to the visible part; a fixed scale makes loud and soft stretches comparable).
   */
  readonly peak?: number;
  /** Device pixels per context unit (window.devicePixelRatio when the context is scaled by it): one bar each. */
  readonly pixelRatio?: number;
}

const WAVEFORM_DEFAULTS = { color: '#1f3b73', zeroLineColor: '#b0b0b0', pixelRatio: 1 } as const;

const peakCache = new WeakMap<Float32Array, number>();

function cachedPeak(samples: Float32Array): number {
  let peak = peakCache.get(samples);
  if (peak === undefined) {
    peak = peakAmplitude(samples);
    peakCache.set(samples, peak);
  }
  return peak;
}

/** Draws `audio`'s samples over `view.startSec .. view.endSec` into the view's rectangle, one min/max bar per column. */
export function drawWaveform(ctx: CanvasRenderingContext2D, audio: WavAudio, view: StripView, style: WaveformStyle = {}): void {
  const { color, zeroLineColor, pixelRatio } = { ...WAVEFORM_DEFAULTS, ...style };
  const columns = Math.max(1, Math.round(view.width * pixelRatio));
  const { min, max } = waveformColumns(audio.samples, audio.sampleRate, view, columns);
  const peak = style.peak ?? cachedPeak(audio.samples);
  const middle = view.y + view.height / 2;
  const halfHeight = view.height / 2;
  const columnWidth = view.width / columns;
  ctx.save();
  clipTo(ctx, view);
  if (style.background) {
    ctx.fillStyle = style.background;
    ctx.fillRect(view.x, view.y, view.width, view.height);
  }
  if (zeroLineColor) {
    ctx.fillStyle = zeroLineColor;
    ctx.fillRect(view.x, middle - 0.5 / pixelRatio, view.width, 1 / pixelRatio);
  }
  // One path with a rectangle per column, filled once: far fewer canvas calls than a fillRect per column.
  ctx.beginPath();
  for (let column = 0; column < columns; column++) {
    if (Number.isNaN(min[column])) continue;
    const top = middle - (max[column] / peak) * halfHeight;
    const bottom = middle - (min[column] / peak) * halfHeight;
    ctx.rect(view.x + column * columnWidth, top, columnWidth, Math.max(bottom - top, 1 / pixelRatio));
  }
  ctx.fillStyle = color;
  ctx.fill();
  ctx.restore();
}

// ---------------------------------------------------------------------------------------------------------------
// Spectrogram

/** Frames per cached tile: canvases wider than about 32767 pixels fail, and a long file has more frames than that. */
export const SPECTROGRAM_TILE_FRAMES = 4096;

/**
 * RGBA pixels of frames firstFrame .. firstFrame + frameCount - 1 of `spectrogram`: one column per frame, one row per
 * bin, the highest frequency in row 0. Each level picks LUT entry round((db - floorDb) / (maxDb - floorDb) * 255).
 * `lut` holds 256 RGBA entries, entry 0 for the floor.
 */
export function makeSpectrogramPixels(spectrogram: Spectrogram, lut: Uint8Array, firstFrame: number, frameCount: number): Uint8ClampedArray<ArrayBuffer> {
  const bins = spectrogram.frequencies;
  const pixels = new Uint8ClampedArray(frameCount * bins * 4);
  const range = spectrogram.maxDb - spectrogram.floorDb;
  const scale = range > 0 ? (COLORMAP_SIZE - 1) / range : 0;
  for (let column = 0; column < frameCount; column++) {
    const rowStart = (firstFrame + column) * bins;
    for (let bin = 0; bin < bins; bin++) {
      const db = spectrogram.magnitudeDb[rowStart + bin];
      const entry = Math.min(COLORMAP_SIZE - 1, Math.max(0, Math.round((db - spectrogram.floorDb) * scale))) * 4;
      const at = ((bins - 1 - bin) * frameCount + column) * 4;
      pixels[at] = lut[entry];
      pixels[at + 1] = lut[entry + 1];
      pixels[at + 2] = lut[entry + 2];
      pixels[at + 3] = lut[entry + 3];
    }
  }
  return pixels;
}

/** One drawImage of a cached tile: source columns (frames within the tile) and destination span along x. */
export interface TileDraw {
  readonly tile: number;
  readonly sourceX: number;
  readonly sourceWidth: number;
  readonly destX: number;
  readonly destWidth: number;
}

/**
 * The drawImage calls that show `view`'s time range of a spectrogram of `frames` frames `hopSec` apart, cut into
 * tiles of `tileFrames` frames. Frame f covers [f * hopSec, (f + 1) * hopSec); time outside the frames is left undrawn.
 */
export function spectrogramTileDraws(frames: number, hopSec: number, view: StripView, tileFrames = SPECTROGRAM_TILE_FRAMES): TileDraw[] {
  const axis = { start: view.x, length: view.width };
  const first = Math.max(0, view.startSec / hopSec);
  const end = Math.min(frames, view.endSec / hopSec);
  const draws: TileDraw[] = [];
  for (let tile = 0; tile * tileFrames < frames; tile++) {
    const tileStart = tile * tileFrames;
    const from = Math.max(first, tileStart);
    const to = Math.min(end, tileStart + tileFrames);
    if (to <= from) continue;
    const destX = timeToPixel(from * hopSec, view, axis);
    draws.push({ tile, sourceX: from - tileStart, sourceWidth: to - from, destX, destWidth: timeToPixel(to * hopSec, view, axis) - destX });
  }
  return draws;
}

type TileCanvas = OffscreenCanvas | HTMLCanvasElement;

const tileCache = new WeakMap<Spectrogram, WeakMap<Uint8Array, TileCanvas[]>>();
let greysLut: Uint8Array | undefined;

/** Praat's look: white at the floor, black at the maximum (matplotlib's "Greys", the same table the maps offer). */
export function defaultSpectrogramLut(): Uint8Array {
  greysLut ??= makeColormapLut('greys');
  return greysLut;
}

function createCanvas(width: number, height: number): TileCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function makeTiles(spectrogram: Spectrogram, lut: Uint8Array): TileCanvas[] {
  const tiles: TileCanvas[] = [];
  for (let firstFrame = 0; firstFrame < spectrogram.times; firstFrame += SPECTROGRAM_TILE_FRAMES) {
    const frameCount = Math.min(SPECTROGRAM_TILE_FRAMES, spectrogram.times - firstFrame);
    const canvas = createCanvas(frameCount, spectrogram.frequencies);
    const context = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
    if (!context) throw new Error('drawSpectrogram: no 2D context for the spectrogram tile');
    const pixels = makeSpectrogramPixels(spectrogram, lut, firstFrame, frameCount);
    context.putImageData(new ImageData(pixels, frameCount, spectrogram.frequencies), 0, 0);
    tiles.push(canvas);
  }
  return tiles;
}

function cachedTiles(spectrogram: Spectrogram, lut: Uint8Array): TileCanvas[] {
  let byLut = tileCache.get(spectrogram);
  if (!byLut) {
    byLut = new WeakMap();
    tileCache.set(spectrogram, byLut);
  }
  let tiles = byLut.get(lut);
  if (!tiles) {
    tiles = makeTiles(spectrogram, lut);
    byLut.set(lut, tiles);
  }
  return tiles;
}

/**
 * Draws `view`'s time range of `spectrogram`, bins 0 .. frequencies - 1 from the bottom of the rectangle to its top.
 * `lut` is a 256-entry RGBA colormap (makeColormapLut), entry 0 for the floor; pass the same array again to hit the
 * cache, which holds one set of tiles per (spectrogram, lut) pair for as long as both are alive.
 */
export function drawSpectrogram(ctx: CanvasRenderingContext2D, spectrogram: Spectrogram, view: StripView, lut: Uint8Array = defaultSpectrogramLut()): void {
  if (spectrogram.times === 0 || spectrogram.frequencies === 0) return;
  const tiles = cachedTiles(spectrogram, lut);
  ctx.save();
  clipTo(ctx, view);
  // Smoothing interpolates between frames and bins when zoomed in, as Praat's painting does.
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  for (const draw of spectrogramTileDraws(spectrogram.times, spectrogram.hopSec, view)) {
    ctx.drawImage(tiles[draw.tile], draw.sourceX, 0, draw.sourceWidth, spectrogram.frequencies, draw.destX, view.y, draw.destWidth, view.height);
  }
  ctx.restore();
}

// ---------------------------------------------------------------------------------------------------------------
// Tiers

/** A label placed along the time axis: its segment and its pixel span [start, end] (centre in between). */
export interface PlacedLabel {
  readonly index: number;
  readonly start: number;
  readonly end: number;
  /** What to write, when not the segment's label: a label the view's edge cuts, shortened to fit its part in view. */
  readonly text?: string;
}

/**
 * Left-to-right thinning: keeps a label when it starts at least `gapPx` after the end of the last label kept, so
 * that no two drawn labels overlap. `labels` must be sorted by centre. Returns the kept labels.
 */
export function thinLabels(labels: readonly PlacedLabel[], gapPx: number): PlacedLabel[] {
  const kept: PlacedLabel[] = [];
  let lastEnd = -Infinity;
  for (const label of labels) {
    if (label.start < lastEnd + gapPx) continue;
    kept.push(label);
    lastEnd = label.end;
  }
  return kept;
}

/**
 * Where the labels of `segments` go on `view`'s time axis, after thinning: each non-empty label is centred on the
 * visible part of its interval and `extentOf(label)` long (its text width when horizontal, its line height when
 * vertical). Segments outside the range are left out.
 */
export function layoutTierLabels(
  segments: readonly Segment[],
  view: TierView,
  extentOf: (label: string) => number,
  gapPx: number,
): PlacedLabel[] {
  const axis = tierTimeAxis(view);
  const placed: PlacedLabel[] = [];
  segments.forEach((segment, index) => {
    if (segment.label === '') return;
    // Overlapping segments (TIMIT's words): each label in its block up to the next one's start.
    const blockStartSec = segment.startSample / STEVE_SAMPLE_RATE;
    const blockEndSec = labelEnd(segments, index, (s) => [s.startSample, s.endSample]) / STEVE_SAMPLE_RATE;
    const startSec = Math.max(blockStartSec, view.startSec);
    const endSec = Math.min(blockEndSec, view.endSec);
    if (endSec <= startSec) return;
    const [from, to] = [timeToPixel(startSec, view, axis), timeToPixel(endSec, view, axis)].sort((a, b) => a - b);
    const span = to - from;
    // An interval the view's edge cuts: its label fits in the part in view, or ends in an ellipsis, or is left out
    // (clipped at the edge, "dark" would read "dar", "dcl" "dc"). A whole interval's label may overhang it, by up to
    // the axis labels' limit (MAX_LABEL_OVER_SEGMENT: beyond, it sits over other words and reads as theirs), and is
    // moved in from the strip's end rather than cut by it ("she" clipped to "he").
    const cut = blockStartSec < view.startSec || blockEndSec > view.endSec;
    for (const text of labelShortenings(segment.label)) {
      const extent = extentOf(text);
      if (extent > (cut ? span : MAX_LABEL_OVER_SEGMENT * span)) continue;
      const [half, middle] = [extent / 2, (from + to) / 2];
      // Inside the strip, and still over its interval's middle.
      const [low, high] = [Math.max(middle - half, axis.start + half), Math.min(middle + half, axis.start + axis.length - half)];
      if (low > high) continue;
      const centre = Math.min(Math.max(middle, low), high);
      placed.push({ index, start: centre - half, end: centre + half, ...(text !== segment.label ? { text } : {}) });
      return;
    }
  });
  placed.sort((a, b) => a.start + a.end - (b.start + b.end));
  return thinLabels(placed, gapPx);
}

/** The distinct boundary times (seconds) of `segments` that fall inside `range` (ends included), in increasing order. */
export function tierBoundaryTimes(segments: readonly Segment[], range: TimeRange): number[] {
  const times = new Set<number>();
  for (const segment of segments) {
    for (const sample of [segment.startSample, segment.endSample]) {
      const time = sample / STEVE_SAMPLE_RATE;
      if (time >= range.startSec && time <= range.endSec) times.add(time);
    }
  }
  return [...times].sort((a, b) => a - b);
}

/**
 * The segment under pixel `position` (x for a horizontal tier, y for a vertical one), or -1 where there is none or
 * the position is outside the strip. Where segments overlap (TIMIT words may), the one whose centre is nearest wins.
 */
export function hitTestTier(segments: readonly Segment[], view: TierView, position: number): number {
  const axis = tierTimeAxis(view);
  if (!(position >= axis.start && position < axis.start + axis.length)) return -1;
  const timeSec = pixelToTime(position, view, axis);
  let best = -1;
  let bestDistance = Infinity;
  segments.forEach((segment, index) => {
    const startSec = segment.startSample / STEVE_SAMPLE_RATE;
    const endSec = segment.endSample / STEVE_SAMPLE_RATE;
    if (timeSec < startSec || timeSec >= endSec) return;
    const distance = Math.abs(timeSec - (startSec + endSec) / 2);
    if (distance < bestDistance) {
      best = index;
      bestDistance = distance;
    }
  });
  return best;
}

/** Fonts and colours of drawTier. */
export interface TierStyle {
  /** CSS font of the labels. */
  readonly font?: string;
  readonly labelColor?: string;
  readonly boundaryColor?: string;
  /** Width of the boundary lines in context units. */
  readonly boundaryWidth?: number;
  /** Fill behind the tier, or undefined to leave the canvas as it is. */
  readonly background?: string;
  /** Smallest space between two drawn labels; labels that would come closer are skipped. */
  readonly labelGapPx?: number;
}

const TIER_DEFAULTS = {
  font: '12px system-ui, sans-serif',
  labelColor: '#000000',
  boundaryColor: '#1f5fbf',
  boundaryWidth: 1,
  labelGapPx: 4,
} as const;

/**
 * Draws a tier as Praat's TextGrid editor does: a line at every interval boundary and each label centred in the
 * visible part of its interval, skipping labels that would overlap a label already drawn. In a vertical tier the
 * boundaries are horizontal lines and the labels stay horizontal text, centred across the strip's width.
 */
export function drawTier(ctx: CanvasRenderingContext2D, segments: readonly Segment[], view: TierView, style: TierStyle = {}): void {
  const settings = { ...TIER_DEFAULTS, ...style };
  const vertical = view.orientation === 'vertical';
  const axis = tierTimeAxis(view);
  ctx.save();
  clipTo(ctx, view);
  if (style.background) {
    ctx.fillStyle = style.background;
    ctx.fillRect(view.x, view.y, view.width, view.height);
  }
  ctx.fillStyle = settings.boundaryColor;
  for (const time of tierBoundaryTimes(segments, view)) {
    const at = timeToPixel(time, view, axis) - settings.boundaryWidth / 2;
    if (vertical) ctx.fillRect(view.x, at, view.width, settings.boundaryWidth);
    else ctx.fillRect(at, view.y, settings.boundaryWidth, view.height);
  }
  ctx.font = settings.font;
  ctx.fillStyle = settings.labelColor;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  const lineHeight = vertical ? measureLineHeight(ctx) : 0;
  const extentOf = vertical ? () => lineHeight : (label: string) => ctx.measureText(label).width;
  for (const label of layoutTierLabels(segments, view, extentOf, settings.labelGapPx)) {
    const centre = (label.start + label.end) / 2;
    const text = label.text ?? segments[label.index].label;
    if (vertical) ctx.fillText(text, view.x + view.width / 2, centre);
    else ctx.fillText(text, centre, view.y + view.height / 2);
  }
  ctx.restore();
}

/** Height of a line of text in the context's current font (font box, or the ink of "Mg" where the box is unknown). */
function measureLineHeight(ctx: CanvasRenderingContext2D): number {
  const metrics = ctx.measureText('Mg');
  const fontBox = metrics.fontBoundingBoxAscent + metrics.fontBoundingBoxDescent;
  if (Number.isFinite(fontBox) && fontBox > 0) return fontBox;
  return metrics.actualBoundingBoxAscent + metrics.actualBoundingBoxDescent;
}

function clipTo(ctx: CanvasRenderingContext2D, view: StripView): void {
  ctx.beginPath();
  ctx.rect(view.x, view.y, view.width, view.height);
  ctx.clip();
}
