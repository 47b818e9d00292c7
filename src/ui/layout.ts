/**
 * Where things sit on the viewer's stage, in CSS pixels: the audio strips (Praat-like, along the top and down the
 * left), the band of axis labels inside them, the map, and the colour bar beside it. One place, so the viewer, the
 * strips and the overlay agree without importing each other.
 */

/** Heights of the top strips (widths of the left ones); left tiers are wider for horizontal labels. */
export const STRIP = { spectrogram: 56, waveform: 34, tier: 18, leftTier: 40 };
export const STRIPS_TOP = STRIP.spectrogram + STRIP.waveform + 2 * STRIP.tier + 8;
export const STRIPS_LEFT = STRIP.spectrogram + STRIP.waveform + 2 * STRIP.leftTier + 10;

/** Width of the band of axis labels (phones, boundaries, words) on the top and left, as STEVE places them. */
export const LABEL_BAND = 96;

/** Width of the colour bar's band right of the maps: bar, tick labels, and the quantity written along it. */
export const COLORBAR_BAND = 104;

/** Pixel margins of the single-map view: audio strips outside, then the labels, then the map, then the colour bar. */
export const LABEL_MARGIN = { left: STRIPS_LEFT + LABEL_BAND, top: STRIPS_TOP + LABEL_BAND, right: COLORBAR_BAND, bottom: 16 };

/** Grids: space between maps, above each map for its title, and on the top and left for word labels. */
export const GRID_GAP = 6;
export const GRID_TITLE = 16;
export const GRID_EDGE = 22;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The maps' places in a stage of width x height: one map square between the strips and labels and the colour bar;
 * a grid of `columns` with titles above each map and words along the top and left edges.
 */
export function placeCells(count: number, columns: number, width: number, height: number, gap = GRID_GAP): Rect[] {
  if (count === 1) {
    const size = Math.max(10, Math.min(width - LABEL_MARGIN.left - LABEL_MARGIN.right, height - LABEL_MARGIN.top - LABEL_MARGIN.bottom));
    return [{ x: LABEL_MARGIN.left, y: LABEL_MARGIN.top, width: size, height: size }];
  }
  const rows = Math.ceil(count / columns);
  const edge = GRID_GAP + GRID_EDGE;
  const size = Math.max(4, Math.min((width - edge - COLORBAR_BAND) / columns - gap, (height - edge) / rows - GRID_GAP - GRID_TITLE));
  return Array.from({ length: count }, (_, i) => {
    const [column, row] = [i % columns, Math.floor(i / columns)];
    return { x: edge + column * (size + gap), y: edge + GRID_TITLE + row * (size + GRID_GAP + GRID_TITLE), width: size, height: size };
  });
}

/** The colour bar's place: right of the maps, level with their top, as tall as they are (at most 480 pixels). */
export function colorbarBeside(maps: readonly Rect[]): Rect | undefined {
  if (maps.length === 0) return undefined;
  const right = Math.max(...maps.map((rect) => rect.x + rect.width));
  const top = Math.min(...maps.map((rect) => rect.y));
  const bottom = Math.max(...maps.map((rect) => rect.y + rect.height));
  return { x: right + 12, y: top, width: COLORBAR_BAND - 16, height: Math.max(60, Math.min(bottom - top, 480)) };
}
