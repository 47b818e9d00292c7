/**
 * Handler of 'headStats' requests: one statistic of every head of some layers, as a layers x heads map for a
 * heat-table. Layers are visited one at a time (each uploaded, if need be, under the engine's budget and pinned
 * only until its commands are submitted); HeadStatsPass measures every head of the layer into a scratch buffer of
 * 4 values per (layer, head), and the chosen statistic is copied out of it at the end.
 */
import { DEFAULT_NEAR_FRAMES, HEAD_STATS_FIELDS, HeadStatsPass } from './headStats.ts';
import type { ChunkMaps, MapContext, MapKindHandler } from './mapKind.ts';
import { resolveAttentionSelection, type MapShape } from './mapRequest.ts';
import { checkCrop, cropCols, cropRows, fullCrop, isFullCrop, type Crop, type SoftmaxScope } from './region.ts';
import { awaitPass, checkSoftmaxScope, createScratch } from './segmentPoolMap.ts';
import { SoftmaxPass } from './softmax.ts';
import { MapRequestError } from './requestError.ts';

/** The statistics a headStats request can select (HEAD_STATS_FIELDS). */
export type HeadStatistic = (typeof HEAD_STATS_FIELDS)[number];

/**
 * One statistic per (layer, head): rows = the selected layers (in the order given), columns = the tensor's heads.
 * Each head's map is softmaxed over `softmax`'s columns and cropped first; then, averaged over its rows (queries),
 *   entropy            -Σ_j p_ij ln p_ij of the row's distribution, in nats,
 *   distanceFrames     Σ_j p_ij |i - j|, the mean attention distance in frames,
 *   distanceMs         the same in milliseconds (distanceFrames x msPerFrame),
 *   nearDiagonalShare  the mass within nearFrames frames of the diagonal,
 * where p_ij is row i renormalised to sum 1 (so softmax 'row' and 'crop' give the same statistics). Negative and
 * non-finite values count as 0, rows without mass are left out, and a head without any such row is NaN. Raw scores
 * need a softmax ('row'); 'none' is for tensors that already hold probabilities.
 */
export interface HeadStatsMapRequest {
  readonly kind: 'headStats';
  readonly tensorId: string;
  /** Layers, one output row each (distinct indices); all layers in order by default. */
  readonly layers?: readonly number[];
  readonly softmax: SoftmaxScope;
  /**
   * Frames to measure (ends exclusive): a square around the diagonal, rows and columns the same frames, so that
   * |i - j| is a distance between frames. The whole map when absent.
   */
  readonly crop?: Crop;
  /** Milliseconds per frame (> 0), for distanceMs: msPerFrameFromSpf(spf), 20 for Whisper. */
  readonly msPerFrame: number;
  /** Half-width w of the diagonal band in frames (|i - j| <= w is near): an integer >= 0, 2 by default. */
  readonly nearFrames?: number;
  readonly statistic: HeadStatistic;
}

declare module './mapRequest.ts' {
  interface MapRequestKinds {
    headStats: HeadStatsMapRequest;
  }
}

interface ResolvedHeadStats {
  readonly layers: readonly number[];
  readonly heads: number;
  readonly rows: number;
  readonly cols: number;
  readonly crop: Crop;
  /** Whether the stored maps can be measured as they are (no softmax, no crop). */
  readonly direct: boolean;
  readonly nearFrames: number;
  readonly statisticIndex: number;
}

function resolveHeadStats(request: HeadStatsMapRequest, context: MapContext): ResolvedHeadStats {
  const owner = `headStats of ${request.tensorId}`;
  const shape = context.tensorShape(request.tensorId);
  const { layers } = resolveAttentionSelection(
    { tensorId: request.tensorId, layer: request.layers ?? 'mean', head: 'mean', softmax: 'none' },
    shape,
  );
  checkSoftmaxScope(owner, request.softmax);
  const statisticIndex = HEAD_STATS_FIELDS.indexOf(request.statistic);
  if (statisticIndex < 0) {
    throw new MapRequestError(`${owner}: statistic must be one of ${HEAD_STATS_FIELDS.map((name) => `'${name}'`).join(', ')}, got ${JSON.stringify(request.statistic)}`);
  }
  if (!(typeof request.msPerFrame === 'number' && Number.isFinite(request.msPerFrame) && request.msPerFrame > 0)) {
    throw new MapRequestError(`${owner}: msPerFrame must be a finite number of milliseconds > 0, got ${request.msPerFrame}`);
  }
  const nearFrames = request.nearFrames ?? DEFAULT_NEAR_FRAMES;
  if (!Number.isInteger(nearFrames) || nearFrames < 0) {
    throw new MapRequestError(`${owner}: nearFrames must be an integer >= 0, got ${nearFrames}`);
  }
  const crop = request.crop ?? fullCrop(shape.rows, shape.cols);
  if (request.crop) {
    checkCrop(owner, crop, shape.rows, shape.cols);
    if (crop.rowStart !== crop.colStart || crop.rowEnd !== crop.colEnd) {
      throw new MapRequestError(
        `${owner}: the crop's rows and columns must be the same frames (distances are measured from the diagonal), ` +
          `got rows ${crop.rowStart}..${crop.rowEnd} and columns ${crop.colStart}..${crop.colEnd}`,
      );
    }
  }
  const whole = isFullCrop(crop, shape.rows, shape.cols);
  return {
    layers,
    heads: shape.heads,
    rows: shape.rows,
    cols: shape.cols,
    crop,
    direct: whole && request.softmax === 'none',
    nearFrames,
    statisticIndex,
  };
}

/** Whether a chunk's heads are consecutive maps, so one HeadStatsPass encode can measure them all. */
function isConsecutive(part: ChunkMaps, mapSize: number): boolean {
  return part.heads.every(
    (head, index) => head === part.heads[0] + index && part.mapOffsets[index] === part.mapOffsets[0] + index * mapSize,
  );
}

/** Computes HeadStatsMapRequests. */
export const HEAD_STATS_MAP_KIND: MapKindHandler<'headStats'> = {
  kind: 'headStats',
  recordsThroughContext: true,

  outputShape(request: HeadStatsMapRequest, context: MapContext): MapShape {
    const { layers, heads } = resolveHeadStats(request, context);
    return { rows: layers.length, cols: heads };
  },

  async compute(request: HeadStatsMapRequest, output: GPUBuffer, context: MapContext): Promise<void> {
    const resolved = resolveHeadStats(request, context);
    const { layers, heads, rows, cols, crop, direct, nearFrames } = resolved;
    const statsPass = await awaitPass(context, 'HeadStatsPass', HeadStatsPass.create);
    const softmaxPass = context.pass('SoftmaxPass', (device, shaders) => new SoftmaxPass(device, shaders));
    await Promise.all([softmaxPass.ready('float32'), direct ? undefined : softmaxPass.ready(context.format)]);
    const records = layers.length * heads;
    const allHeads = Array.from({ length: heads }, (_, head) => head);
    const mapSize = rows * cols;
    const outRows = cropRows(crop);
    const outCols = cropCols(crop);
    const scratch: GPUBuffer[] = [];
    try {
      // 4 f32 per (layer, head), HEAD_STATS_FIELDS order: a (layers x heads) x 4 map.
      const stats = await createScratch(context.device, 'HeadStatsMap.stats', HeadStatsPass.outputSizeBytes(records));
      scratch.push(stats);
      const measure = { msPerFrame: request.msPerFrame, nearFrames, output: stats };
      // One head's softmaxed, cropped map at a time (reused: the passes run in order).
      const headMap = direct ? undefined : await createScratch(context.device, 'HeadStatsMap.headMap', outRows * outCols * 4);
      if (headMap) scratch.push(headMap);
      for (const [layerIndex, layer] of layers.entries()) {
        const maps = await context.acquireMaps(request.tensorId, layer, allHeads);
        try {
          const encoder = context.createEncoder('HeadStatsMap.encoder');
          for (const part of maps.parts) {
            if (!headMap && isConsecutive(part, mapSize)) {
              statsPass.encode(encoder, {
                ...measure,
                input: { ...part.input, elementOffset: part.mapOffsets[0] },
                maps: part.heads.length,
                rows,
                cols,
                firstOutputMap: layerIndex * heads + part.heads[0],
              });
              continue;
            }
            part.heads.forEach((head, index) => {
              if (!headMap) {
                statsPass.encode(encoder, {
                  ...measure,
                  input: { ...part.input, elementOffset: part.mapOffsets[index] },
                  maps: 1,
                  rows,
                  cols,
                  firstOutputMap: layerIndex * heads + head,
                });
                return;
              }
              softmaxPass.encode(encoder, {
                input: { ...part.input, elementOffset: part.mapOffsets[index] },
                rows,
                cols,
                crop,
                scope: request.softmax,
                output: headMap,
              });
              statsPass.encode(encoder, {
                ...measure,
                input: { buffer: headMap, format: 'float32', elementOffset: 0 },
                maps: 1,
                rows: outRows,
                cols: outCols,
                firstOutputMap: layerIndex * heads + head,
              });
            });
          }
          context.submit(encoder);
        } finally {
          context.afterSubmit(() => maps.release());
        }
      }
      // The chosen statistic: column `statisticIndex` of the (layers x heads) x 4 records, i.e. layers x heads.
      const encoder = context.createEncoder('HeadStatsMap.selectEncoder');
      softmaxPass.encode(encoder, {
        input: { buffer: stats, format: 'float32', elementOffset: 0 },
        rows: records,
        cols: HEAD_STATS_FIELDS.length,
        crop: { rowStart: 0, rowEnd: records, colStart: resolved.statisticIndex, colEnd: resolved.statisticIndex + 1 },
        scope: 'none',
        output,
      });
      context.submit(encoder);
    } finally {
      context.afterSubmit(() => scratch.forEach((buffer) => buffer.destroy()));
    }
  },
};
