/**
 * The colormap on the GPU: the view's 256-entry table (src/view/colormaps.ts) as a 256 x 1 texture the heatmap
 * shader samples. The names and tables are re-exported for the code that imported them from here.
 */
import type { ColormapName } from '../view/spec.ts';
import { COLORMAP_SIZE, makeColormapLut } from '../view/colormaps.ts';

export { COLORMAP_NAMES, type ColormapName } from '../view/spec.ts';
export { COLORMAP_SIZE, isColormapName, makeColormapLut } from '../view/colormaps.ts';

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
