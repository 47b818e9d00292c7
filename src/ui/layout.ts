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
