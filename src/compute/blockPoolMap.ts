/**
 * Handler of 'blockPool' requests: any map (the source request, computed as an inner request) pooled over fixed
 * k x k blocks by BlockPoolPass, for overviews and zoomed-out rendering.
 */
import { BlockPoolPass, blockPoolShape } from './blockPool.ts';
import type { MapContext, MapKindHandler } from './mapKind.ts';
import type { MapRequest, MapShape } from './mapRequest.ts';
import { awaitPass, checkPoolStatistic, createScratch, type PoolStatistic } from './segmentPoolMap.ts';
import { MapRequestError } from './requestError.ts';

/**
 * The mean or max of a map over k x k blocks: ceil(rows / k) x ceil(cols / k) values, the last block of a row or
 * column covering what remains. Non-finite source values are skipped; a block with none finite is NaN.
 */
export interface BlockPoolMapRequest {
  readonly kind: 'blockPool';
  /** The map to pool: any request. */
  readonly source: MapRequest;
  /** Block side k in frames: an integer >= 1 (1 gives the source map itself). */
  readonly block: number;
  readonly stat: PoolStatistic;
}

declare module './mapRequest.ts' {
  interface MapRequestKinds {
    blockPool: BlockPoolMapRequest;
  }
}

/** Computes BlockPoolMapRequests. */
export const BLOCK_POOL_MAP_KIND: MapKindHandler<'blockPool'> = {
  kind: 'blockPool',

  async outputShape(request: BlockPoolMapRequest, context: MapContext): Promise<MapShape> {
    checkPoolStatistic('blockPool', request.stat);
    if (!Number.isInteger(request.block) || request.block < 1) {
      throw new MapRequestError(`blockPool: block must be an integer number of frames >= 1, got ${request.block}`);
    }
    const source = await context.shapeOf(request.source);
    return blockPoolShape(source.rows, source.cols, request.block);
  },

  async compute(request: BlockPoolMapRequest, output: GPUBuffer, context: MapContext): Promise<void> {
    const pass = await awaitPass(context, 'BlockPoolPass', BlockPoolPass.create);
    const source = await context.computeInner(request.source);
    let other: GPUBuffer | undefined;
    try {
      // The pass writes both statistics; the one not asked for goes to a scratch buffer.
      other = await createScratch(context.device, 'BlockPoolMap.otherStatistic', BlockPoolPass.outputSizeBytes(source.rows, source.cols, request.block));
      const encoder = context.createEncoder('BlockPoolMap.encoder');
      pass.encode(encoder, {
        input: { buffer: source.buffer, format: 'float32', elementOffset: 0 },
        rows: source.rows,
        cols: source.cols,
        blockSize: request.block,
        meanOutput: request.stat === 'mean' ? output : other,
        maxOutput: request.stat === 'max' ? output : other,
      });
      context.submit(encoder);
    } finally {
      source.destroy();
      other?.destroy();
    }
  },
};
