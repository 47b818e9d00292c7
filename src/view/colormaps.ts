/**
 * Colormaps as 256-entry lookup tables (HiGlass's choice: a table, not a colour function, for speed): the same
 * table colours the GPU heatmap (src/render/colormaps.ts uploads it), the figures' colour bars and the viewer's
 * strips. Pure.
 */
import { COLORMAP_TABLES } from './colormapTables.ts';
import type { ColormapName } from './spec.ts';
import { COLORMAP_NAMES } from './spec.ts';

export const COLORMAP_SIZE = 256;

export function isColormapName(name: string): name is ColormapName {
  return (COLORMAP_NAMES as readonly string[]).includes(name);
}

/** The colormap as 256 RGBA bytes (alpha 255), entry 0 for the lowest value. */
export function makeColormapLut(name: ColormapName): Uint8Array<ArrayBuffer> {
  const hex = COLORMAP_TABLES[name];
  const lut = new Uint8Array(COLORMAP_SIZE * 4);
  for (let i = 0; i < COLORMAP_SIZE; i++) {
    for (let channel = 0; channel < 3; channel++) {
      const at = (i * 3 + channel) * 2;
      lut[i * 4 + channel] = parseInt(hex.slice(at, at + 2), 16);
    }
    lut[i * 4 + 3] = 255;
  }
  return lut;
}
