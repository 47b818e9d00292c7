/**
 * Colormaps as 256-entry lookup tables (HiGlass's choice: a table, not a colour function, for speed), uploaded as a
 * 256 x 1 texture the heatmap shader samples.
 */
import type { ColormapName } from '../view/spec.ts';
import { COLORMAP_NAMES } from '../view/spec.ts';
import { COLORMAP_TABLES } from './colormapTables.ts';

// The names belong to the view vocabulary (src/view/spec.ts); the tables to drawing.
export { COLORMAP_NAMES, type ColormapName };

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

/** A 256 x 1 rgba8unorm texture holding the colormap. */
export function createColormapTexture(device: GPUDevice, name: ColormapName): GPUTexture {
  const texture = device.createTexture({
    label: `Colormap.${name}`,
    size: [COLORMAP_SIZE, 1],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture }, makeColormapLut(name), { bytesPerRow: COLORMAP_SIZE * 4 }, [COLORMAP_SIZE, 1]);
  return texture;
}
