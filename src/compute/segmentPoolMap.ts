/**
 * Handler of 'segmentPool' requests: any map (the source request, computed as an inner request) pooled over
 * (row segment, column segment) blocks by SegmentPoolPass, giving one value per pair of phones or words.
 *
 * Also holds two helpers the analysis kinds (segmentPool, blockPool, rollout, headStats) share: awaitPass() for the
 * passes whose pipelines are compiled by an asynchronous create(), and createScratch() for intermediates.
 */
import { createBufferWithRetry } from '../gpu/allocate.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import type { MapContext, MapKindHandler } from './mapKind.ts';
import type { MapRequest, MapShape } from './mapRequest.ts';
import type { SoftmaxScope } from './region.ts';
import { SegmentPoolPass, type FrameRange } from './segmentPool.ts';
import { createRangeBuffer } from './separablePool.ts';
import { MapRequestError } from './requestError.ts';

export type { FrameRange } from './segmentPool.ts';

/** Which value of a pooled block a pooling request returns. */
export type PoolStatistic = 'mean' | 'max';

/**
 * The mean or max of a map over every (row segment, column segment) block: S_r x S_c values, row r and column c
 * pooling rows rowSegments[r] and columns colSegments[c] of the source map.
 *
 * Segments are half-open frame ranges [start, end) in the source map's own rows and columns (for a cropped source,
 * relative to the crop: frame f of the utterance is f - crop.rowStart), with 0 <= start <= end <= the source's rows
 * (columns). They may overlap (TIMIT's words do) and may be empty; an empty segment gives NaN cells, as does a block
 * with no finite value. Non-finite source values are skipped (see SegmentPoolPass).
 */
export interface SegmentPoolMapRequest {
  readonly kind: 'segmentPool';
  /** The map to pool: any request (typically an attention request cropped to a word range). */
  readonly source: MapRequest;
  /** Segments over the source's rows (queries): the output's rows. At least one. */
  readonly rowSegments: readonly FrameRange[];
  /** Segments over the source's columns (keys): the output's columns. At least one. */
  readonly colSegments: readonly FrameRange[];
  readonly stat: PoolStatistic;
}

declare module './mapRequest.ts' {
  interface MapRequestKinds {
    segmentPool: SegmentPoolMapRequest;
  }
}

/** Throws a MapRequestError naming `owner` unless `stat` is 'mean' or 'max'. */
export function checkPoolStatistic(owner: string, stat: unknown): asserts stat is PoolStatistic {
  if (stat !== 'mean' && stat !== 'max') throw new MapRequestError(`${owner}: stat must be 'mean' or 'max', got ${JSON.stringify(stat)}`);
}

/**
 * Throws a MapRequestError naming `owner` and `axis` unless `segments` is a non-empty list of integer ranges
 * 0 <= start <= end <= size (`size` being the source map's extent along that axis).
 */
function checkSegments(owner: string, axis: 'row' | 'column', segments: readonly FrameRange[], size: number): void {
  if (!Array.isArray(segments) || segments.length === 0) {
    throw new MapRequestError(`${owner}: ${axis}Segments is empty; give at least one ${axis} segment`);
  }
  segments.forEach((segment, index) => {
    const { start, end } = segment ?? ({} as FrameRange);
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > size) {
      throw new MapRequestError(
        `${owner}: ${axis} segment ${index} [${start}, ${end}) is not a range of integers with ` +
          `0 <= start <= end <= ${size} (the source map has ${size} ${axis}s; segments are relative to it)`,
      );
    }
  });
}

/** Computes SegmentPoolMapRequests. */
export const SEGMENT_POOL_MAP_KIND: MapKindHandler<'segmentPool'> = {
  kind: 'segmentPool',
  recordsThroughContext: true,

  async outputShape(request: SegmentPoolMapRequest, context: MapContext): Promise<MapShape> {
    checkPoolStatistic('segmentPool', request.stat);
    const source = await context.shapeOf(request.source);
    checkSegments('segmentPool', 'row', request.rowSegments, source.rows);
    checkSegments('segmentPool', 'column', request.colSegments, source.cols);
    return { rows: request.rowSegments.length, cols: request.colSegments.length };
  },

  async compute(request: SegmentPoolMapRequest, output: GPUBuffer, context: MapContext): Promise<void> {
    const pass = await awaitPass(context, 'SegmentPoolPass', SegmentPoolPass.create);
    const source = await context.computeInner(request.source);
    const owned: GPUBuffer[] = [];
    try {
      const device = context.device;
      const rowSegments = createRangeBuffer(device, 'SegmentPoolMap.rowSegments', request.rowSegments, source.rows);
      owned.push(rowSegments.buffer);
      const colSegments = createRangeBuffer(device, 'SegmentPoolMap.colSegments', request.colSegments, source.cols);
      owned.push(colSegments.buffer);
      // The pass writes both statistics; the one not asked for goes to a scratch buffer.
      const other = await createScratch(device, 'SegmentPoolMap.otherStatistic', request.rowSegments.length * request.colSegments.length * 4);
      owned.push(other);
      const encoder = context.createEncoder('SegmentPoolMap.encoder');
      pass.encode(encoder, {
        input: { buffer: source.buffer, format: 'float32', elementOffset: 0 },
        rows: source.rows,
        cols: source.cols,
        rowSegments,
        colSegments,
        meanOutput: request.stat === 'mean' ? output : other,
        maxOutput: request.stat === 'max' ? output : other,
      });
      context.submit(encoder);
    } finally {
      context.afterSubmit(() => {
        source.destroy();
        owned.forEach((buffer) => buffer.destroy());
      });
    }
  },
};

// ---- shared by the analysis kinds ------------------------------------------------------------------------------

/** A pass whose creation is under way, kept in the engine's per-device pass cache (which wants destroy()). */
class PendingPass<T extends { destroy(): void }> {
  readonly promise: Promise<T>;
  #pass: T | undefined;
  #destroyed = false;

  constructor(creation: Promise<T>) {
    this.promise = creation.then((pass) => {
      if (this.#destroyed) pass.destroy();
      else this.#pass = pass;
      return pass;
    });
    // A rejection is reported to every caller of awaitPass; this keeps it from also being "unhandled".
    this.promise.catch(() => {});
  }

  destroy(): void {
    this.#destroyed = true;
    this.#pass?.destroy();
  }
}

/**
 * The pass registered under `key` for the context's device, created once with an asynchronous `create` (the
 * analysis passes compile their pipelines in SegmentPoolPass.create() and the like); the engine destroys it with
 * the device's other passes.
 */
export function awaitPass<T extends { destroy(): void }>(
  context: MapContext,
  key: string,
  create: (device: GPUDevice, shaders: ShaderSources) => Promise<T>,
): Promise<T> {
  return context.pass(key, (device, shaders) => new PendingPass(create(device, shaders))).promise;
}

/**
 * An f32 storage buffer for an intermediate, which the caller destroys once its commands are submitted. Allocated
 * in an 'out-of-memory' error scope: failure throws GpuMemoryError (intermediates are small next to the uploads).
 */
export function createScratch(device: GPUDevice, label: string, byteLength: number): Promise<GPUBuffer> {
  return createBufferWithRetry(
    device,
    {
      label,
      size: Math.max(4, Math.ceil(byteLength / 4) * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    },
    () => false,
  );
}

/** Throws a MapRequestError naming `owner` unless `scope` is a SoftmaxScope. */
export function checkSoftmaxScope(owner: string, scope: unknown): asserts scope is SoftmaxScope {
  if (scope !== 'none' && scope !== 'row' && scope !== 'crop') {
    throw new MapRequestError(`${owner}: softmax must be 'none', 'row' or 'crop', got ${JSON.stringify(scope)}`);
  }
}
