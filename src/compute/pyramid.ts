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
 * for the maps it has on screen.
 */
import type { MapRequest } from './mapRequest.ts';
import type { PoolStatistic } from './segmentPoolMap.ts';
import { MapRequestError } from './requestError.ts';

export { pyramidLevelShape } from './pyramid.cpu.ts';

/** The request for level `factor` of `source`'s map: the map itself at 1, else its f x f block `stat`. */
export function pyramidLevelRequest(source: MapRequest, factor: number, stat: PoolStatistic): MapRequest {
  if (!Number.isInteger(factor) || factor < 1) throw new MapRequestError(`pyramid: a level's factor must be an integer >= 1, got ${factor}`);
  return factor === 1 ? source : { kind: 'blockPool', source, block: factor, stat };
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
