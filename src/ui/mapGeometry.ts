/**
 * Where the viewer's maps are under the shared zoom: which cell a point is in, map cells to CSS pixels of a cell, the
 * map cell under a point, and the zoom kept in bounds. Zoom is one transform in "unit" coordinates ([0,1]^2 over a
 * cell) shared by every cell, so a grid zooms and pans in step. Pure.
 */
import { mat3 } from 'gl-matrix';
import type { MapMarks } from '../view/plan.ts';
import { spanOf } from '../view/plan.ts';
import { panBy, zoomAbout } from '../render/view.ts';
import type { Rect } from './layout.ts';

/** What geometry needs of a cell on screen. */
export interface PlacedMap {
  readonly rect: Rect;
  readonly rows: number;
  readonly cols: number;
  readonly marks: MapMarks;
}

/** The cell containing (x, y) in CSS pixels of the canvas. */
export function cellAt<C extends PlacedMap>(cells: readonly C[], x: number, y: number): C | undefined {
  return cells.find((c) => x >= c.rect.x && x < c.rect.x + c.rect.width && y >= c.rect.y && y < c.rect.y + c.rect.height);
}

/** Map cells -> CSS pixels of a cell, under `zoom`: what overlays use to place labels and to hit-test. */
export function mapToCanvas(cell: PlacedMap, zoom: mat3): mat3 {
  const transform = mat3.create();
  mat3.translate(transform, transform, [cell.rect.x, cell.rect.y]);
  mat3.scale(transform, transform, [cell.rect.width, cell.rect.height]);
  mat3.multiply(transform, transform, zoom);
  mat3.scale(transform, transform, [1 / spanOf(cell.marks, cell.cols), 1 / spanOf(cell.marks, cell.rows)]);
  return transform;
}

/** The cell and the map row and column under (x, y); undefined off the maps. */
export function mapPointAt<C extends PlacedMap>(cells: readonly C[], zoom: mat3, x: number, y: number): { cell: C; row: number; col: number } | undefined {
  const cell = cellAt(cells, x, y);
  const inverse = cell && mat3.invert(mat3.create(), mapToCanvas(cell, zoom));
  if (!cell || !inverse) return undefined;
  const col = Math.floor(inverse[0] * x + inverse[3] * y + inverse[6]);
  const row = Math.floor(inverse[1] * x + inverse[4] * y + inverse[7]);
  return row < 0 || col < 0 || row >= cell.rows || col >= cell.cols ? undefined : { cell, row, col };
}

/** `zoom` zoomed by `factor` about (x, y) in CSS pixels (over the cell there, else the first), kept in bounds. */
export function zoomedAt(zoom: mat3, cells: readonly PlacedMap[], factor: number, x: number, y: number): mat3 {
  const cell = cellAt(cells, x, y) ?? cells[0];
  if (!cell) return zoom;
  const zoomed = zoomAbout(zoom, factor, [(x - cell.rect.x) / cell.rect.width, (y - cell.rect.y) / cell.rect.height]);
  clampZoom(zoomed, cells[0]);
  return zoomed;
}

/** `zoom` panned by (dx, dy) CSS pixels, kept in bounds. */
export function pannedBy(zoom: mat3, cells: readonly PlacedMap[], dx: number, dy: number): mat3 {
  const cell = cells[0];
  if (!cell) return zoom;
  const panned = panBy(zoom, dx / cell.rect.width, dy / cell.rect.height);
  clampZoom(panned, cell);
  return panned;
}

/** Keeps at least a quarter of the map in view and the zoom between 1x and one frame per 64 pixels (in place). */
export function clampZoom(zoom: mat3, cell: PlacedMap | undefined): void {
  const frames = cell ? Math.max(cell.rows, cell.cols) : 1;
  const scale = Math.min(Math.max(zoom[0], 1), Math.max(1, (frames * 64) / Math.max(cell?.rect.width ?? 1, 1)));
  zoom[0] = scale;
  zoom[4] = scale;
  // translation keeps the unit square covering the view: tx in [1 - scale, 0]
  zoom[6] = Math.min(Math.max(zoom[6], 1 - scale), 0);
  zoom[7] = Math.min(Math.max(zoom[7], 1 - scale), 0);
}
