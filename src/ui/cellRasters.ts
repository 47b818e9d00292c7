/**
 * Rasters of exported figures: the visible part of a cell's map rendered offscreen at size x size pixels (RGBA rows,
 * top first) with the viewer's look and zoom, without boundary lines (the figure draws them as vectors). Its own
 * rgba8unorm scene, since the canvas' format may be bgra8unorm.
 */
import type { mat3 } from 'gl-matrix';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { MapScene, type SceneLook } from '../render/mapScene.ts';
import { renderToPixels } from '../render/offscreen.ts';
import { sceneCell, type Cell } from './viewRun.ts';

export class CellRasters {
  readonly #device: GPUDevice;
  readonly #shaders: ShaderSources;
  #scene?: Promise<MapScene>;

  constructor(device: GPUDevice, shaders: ShaderSources) {
    this.#device = device;
    this.#shaders = shaders;
  }

  async render(cell: Cell, size: number, look: SceneLook, zoom: mat3): Promise<Uint8Array> {
    if ((!cell.map && !cell.levels) || !cell.rangeBuffer) throw new Error(`${cell.title}: nothing computed to export`);
    this.#scene ??= MapScene.create(this.#device, this.#shaders, 'rgba8unorm');
    const scene = await this.#scene;
    scene.look = { ...look };
    scene.zoom = zoom;
    const exported = { ...sceneCell({ ...cell, rect: { x: 0, y: 0, width: size, height: size } }), lines: undefined };
    let waiting = 0;
    // The cell is set just before each encode: concurrent exports share this scene.
    const render = () =>
      renderToPixels(this.#device, size, size, (pass) => {
        scene.setCells([exported]);
        scene.encode(pass, size, size);
        waiting = scene.lastFrame.waiting;
      });
    try {
      const pixels = await render();
      // A pyramid cell drew the nearest level on hand: draw again once the level this size needs is built.
      if (waiting === 0 || !cell.levels) return pixels;
      await cell.levels.whenSettled();
      return await render();
    } finally {
      scene.setCells([]);
    }
  }

  destroy(): void {
    void this.#scene?.then((scene) => scene.destroy());
  }
}
