/**
 * Multiresolution pyramids of maps, for views of more maps than fit at full resolution (Whisper large-v3's model
 * view: 640 maps of 1500^2, 5.4 GiB at f32). Level f of a map is the map block-pooled over f x f frames
 * (ceil(rows / f) x ceil(cols / f) cells; src/view/pyramidLevel.ts says which f a zoom draws); level 1 is the map.
 *
 * A level is a 'blockPool' request on the map's own request (blockPoolMap.ts: the full map is computed on the GPU
 * and pooled by BlockPoolPass, the kernels of separablePool.ts), so every level is pooled from the full map and is
 * exactly blockPoolCpu of it (reference: pyramid.cpu.ts). Pooling a coarser level from a finer one would be the same
 * kernel and cheaper, but a mean of block means is not the block mean where the last block of a row is partial or
 * where values are non-finite, so it is not done. Levels are kept by AttentionEngine.keepMap under the engine's
 * memory budget, with the uploads, least recently used out first: only the levels a view draws are built, and only
 * for the maps it has on screen. A level may also be built over a window of the map only (windowRequest): what a
 * cell zoomed into part of its map draws.
 */
import type { MapRequest } from './mapRequest.ts';
import type { Crop } from './region.ts';
import type { PoolStatistic } from './segmentPoolMap.ts';
import { MapRequestError } from './requestError.ts';

export { pyramidLevelShape } from './pyramid.cpu.ts';

/** The request for level `factor` of `source`'s map: the map itself at 1, else its f x f block `stat`. */
export function pyramidLevelRequest(source: MapRequest, factor: number, stat: PoolStatistic): MapRequest {
  if (!Number.isInteger(factor) || factor < 1) throw new MapRequestError(`pyramid: a level's factor must be an integer >= 1, got ${factor}`);
  return factor === 1 ? source : { kind: 'blockPool', source, block: factor, stat };
}

/**
 * The request for `frames` of `source`'s map (a rectangle of its rows and columns), computed as only those frames,
 * with the same values as the whole map has there; undefined when a request cannot be cut so. A windowed pyramid
 * level (src/view/pyramidWindow.ts) pools it. An attention request's crop moves by the crop it already has: the
 * softmax over the whole row ('row', STEVE's) and no softmax are per value or per row of the stored map, so they
 * do not change with the crop; a softmax over the crop's columns ('crop') would renormalise over the window, so such a
 * request is cut only when it has no crop (its crop is then the whole row: 'row'). A difference is cut on both sides.
 * Other kinds (pooled maps, rollout) are not cut.
 */
export function windowRequest(source: MapRequest, frames: Crop): MapRequest | undefined {
  if (source.kind === 'difference') {
    const minuend = windowRequest(source.minuend, frames);
    const subtrahend = windowRequest(source.subtrahend, frames);
    return minuend && subtrahend ? { kind: 'difference', minuend, subtrahend } : undefined;
  }
  if (source.kind !== undefined && source.kind !== 'attention') return undefined;
  if (source.softmax === 'crop' && source.crop) return undefined;
  const at = source.crop ?? { rowStart: 0, colStart: 0 };
  const crop: Crop = { rowStart: at.rowStart + frames.rowStart, rowEnd: at.rowStart + frames.rowEnd, colStart: at.colStart + frames.colStart, colEnd: at.colStart + frames.colEnd };
  return { ...source, softmax: source.softmax === 'crop' ? 'row' : source.softmax, crop };
}

/** Every tensor id a request reads (its own, and those of the requests nested in it), in order of first mention. */
export function tensorIdsOf(request: MapRequest): string[] {
  const ids: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, field] of Object.entries(value)) {
        if (key === 'tensorId' && typeof field === 'string') {
          if (!ids.includes(field)) ids.push(field);
        } else {
          visit(field);
        }
      }
    }
  };
  visit(request);
  return ids;
}
