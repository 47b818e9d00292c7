/**
 * Pan and zoom of a map inside a viewport, as gl-matrix 3x3 transforms.
 *
 * Map coordinates are frames: column c covers x in [c, c + 1), row r covers y in [r, r + 1) (STEVE's extent).
 * Viewport coordinates are pixels from the viewport's top-left corner. `mapToViewport` maps the first to the second;
 * the heatmap shader uses its inverse to find the map cell under each pixel, the overlays use it directly.
 */
import { mat3, vec2 } from 'gl-matrix';

export interface MapRegion {
  /** First column/row shown (frames, may be fractional) and how many columns/rows are shown. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The transform that shows `region` of the map exactly filling a viewport of widthPx x heightPx. */
export function makeMapToViewport(region: MapRegion, widthPx: number, heightPx: number): mat3 {
  const transform = mat3.create();
  mat3.scale(transform, transform, [widthPx / region.width, heightPx / region.height]);
  mat3.translate(transform, transform, [-region.x, -region.y]);
  return transform;
}

/** Zooms by `factor` (> 1 zooms in) keeping the map point under `anchorPx` fixed, as a wheel zoom about the cursor does. */
export function zoomAbout(mapToViewport: mat3, factor: number, anchorPx: vec2 | [number, number]): mat3 {
  const result = mat3.create();
  mat3.translate(result, result, anchorPx as vec2);
  mat3.scale(result, result, [factor, factor]);
  mat3.translate(result, result, [-anchorPx[0], -anchorPx[1]]);
  return mat3.multiply(result, result, mapToViewport);
}

/** Moves the map by (dx, dy) pixels, as a drag does. */
export function panBy(mapToViewport: mat3, dxPx: number, dyPx: number): mat3 {
  const result = mat3.create();
  mat3.translate(result, result, [dxPx, dyPx]);
  return mat3.multiply(result, result, mapToViewport);
}

/** The map region visible in a viewport of widthPx x heightPx under a transform. */
export function visibleRegion(mapToViewport: mat3, widthPx: number, heightPx: number): MapRegion {
  const inverse = mat3.invert(mat3.create(), mapToViewport);
  if (!inverse) throw new Error('the view transform is singular');
  const topLeft = vec2.transformMat3(vec2.create(), [0, 0], inverse);
  const bottomRight = vec2.transformMat3(vec2.create(), [widthPx, heightPx], inverse);
  return { x: topLeft[0], y: topLeft[1], width: bottomRight[0] - topLeft[0], height: bottomRight[1] - topLeft[1] };
}

/** Map point (frames) of a viewport pixel. */
export function viewportToMap(mapToViewport: mat3, px: number, py: number): [number, number] {
  const inverse = mat3.invert(mat3.create(), mapToViewport);
  if (!inverse) throw new Error('the view transform is singular');
  const point = vec2.transformMat3(vec2.create(), [px, py], inverse);
  return [point[0], point[1]];
}
