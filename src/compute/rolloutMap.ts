/**
 * Handler of 'rollout' requests: attention rollout (Abnar & Zuidema 2020) over a range of layers of one tensor.
 * Each layer's head mean is an inner 'attention' request (softmax per head first, as STEVE does), RolloutPass
 * multiplies them one step at a time, and the crop, if any, is cut out of the product.
 *
 * The running product is kept per layer. R_L (layers layerStart..L) stays in the engine's residency cache after a
 * request, under its memory budget, so the request through L + 1 costs one product (Â_(L+1) · R_L) and the request
 * through a layer already passed costs none: a layer control stepping through the model no longer multiplies every
 * layer again at each move. The kept products belong to the tensor as added (see MapContext.acquireDerived).
 *
 * Cropping. The paper's rollout mixes every frame with every other, so the rollout of a word range is the crop of
 * the rollout over all frames: that is the default (cropMode 'after'), and what a crop means here. It costs n^3
 * multiply-adds per layer for n frames (3.4e9 at Whisper's 1500, about 7 ms per layer at a sustained 1 TFLOP/s of f32:
 * an estimate, not measured), whatever the crop, and keeps one n x n f32 product per layer (9 MB each at 1500).
 * cropMode 'within' instead multiplies the cropped maps, m^3 per layer for an m-frame crop: "rollout within the crop", attention flow that may only pass
 * through the crop's frames (each cropped row is renormalised, so the mass that went outside is dropped). It is
 * cheaper and a different quantity; it needs a crop whose rows and columns are the same frames.
 */
import { createBufferWithRetry } from '../gpu/allocate.ts';
import type { AcquiredBuffer, ComputedMap, MapContext, MapKindHandler } from './mapKind.ts';
import { resolveAttentionSelection, type AttentionMapRequest, type HeadSelector, type MapShape } from './mapRequest.ts';
import { checkCrop, cropCols, cropRows, fullCrop, isFullCrop, type Crop, type SoftmaxScope } from './region.ts';
import { RolloutPass } from './rollout.ts';
import { awaitPass, checkSoftmaxScope } from './segmentPoolMap.ts';
import { SoftmaxPass } from './softmax.ts';
import { MapRequestError } from './requestError.ts';

/**
 * Attention rollout of layers [layerStart, layerEnd) of a tensor: R = Â_(end-1) · ... · Â_start with
 * Â_l = 0.5 A_l + 0.5 I rows renormalised, A_l the mean over `heads` of layer l's softmaxed maps. Row i of R is
 * the share of each input frame j in frame i's representation after the last layer (rows sum to 1 before a crop).
 * Output: n x n for n frames, or the crop's rows x columns. The tensor's maps must be square.
 */
export interface RolloutMapRequest {
  readonly kind: 'rollout';
  readonly tensorId: string;
  /** First layer, inclusive; 0 by default. */
  readonly layerStart?: number;
  /** End of the layer range, exclusive; the tensor's layer count by default. */
  readonly layerEnd?: number;
  /** Heads averaged in each layer: 'mean' (all, the default), one head, or a subset. */
  readonly heads?: HeadSelector;
  /**
   * Softmax of each head's map before the mean: 'row' (default, for raw scores), 'none' (the tensor already holds
   * probabilities; rollout expects values >= 0), or 'crop' (only with cropMode 'within': over the crop's columns).
   */
  readonly softmax?: SoftmaxScope;
  /** Rows and columns of the rollout to return (ends exclusive); all of it when absent. */
  readonly crop?: Crop;
  /** 'after' (default): rollout over all frames, then the crop. 'within': rollout of the cropped maps (see above). */
  readonly cropMode?: 'after' | 'within';
}

declare module './mapRequest.ts' {
  interface MapRequestKinds {
    rollout: RolloutMapRequest;
  }
}

/** A rollout request with its defaults filled in and checked. */
export interface ResolvedRollout {
  readonly layers: readonly number[];
  readonly heads: readonly number[] | number | 'mean';
  readonly softmax: SoftmaxScope;
  /** The crop asked for, or undefined for the whole map. */
  readonly crop: Crop | undefined;
  readonly within: boolean;
  /** Frames of the maps rolled out: n, or the crop's for 'within'. */
  readonly size: number;
  readonly frames: number;
}

/** Fills in `request`'s defaults and checks it (MapRequestError with a sentence when invalid). */
export function resolveRollout(request: RolloutMapRequest, context: MapContext): ResolvedRollout {
  const owner = `rollout of ${request.tensorId}`;
  const shape = context.tensorShape(request.tensorId);
  if (shape.rows !== shape.cols) {
    throw new MapRequestError(`${owner}: rollout needs square maps (frames x frames), but the tensor's maps are ${shape.rows} x ${shape.cols}`);
  }
  const frames = shape.rows;
  const layerStart = request.layerStart ?? 0;
  const layerEnd = request.layerEnd ?? shape.layers;
  if (!Number.isInteger(layerStart) || !Number.isInteger(layerEnd) || layerStart < 0 || layerEnd > shape.layers || layerStart >= layerEnd) {
    throw new MapRequestError(
      `${owner}: layers ${layerStart}..${layerEnd} (end exclusive) is not a non-empty range inside the tensor's ` +
        `${shape.layers} layers (0..${shape.layers})`,
    );
  }
  const heads = request.heads ?? 'mean';
  resolveAttentionSelection({ tensorId: request.tensorId, layer: layerStart, head: heads, softmax: 'none' }, shape);
  const softmax = request.softmax ?? 'row';
  checkSoftmaxScope(owner, softmax);
  const cropMode = request.cropMode ?? 'after';
  if (cropMode !== 'after' && cropMode !== 'within') {
    throw new MapRequestError(`${owner}: cropMode must be 'after' or 'within', got ${JSON.stringify(cropMode)}`);
  }
  let crop = request.crop;
  if (crop) checkCrop(owner, crop, frames, frames);
  const within = cropMode === 'within' && crop !== undefined;
  if (within && crop && (crop.rowStart !== crop.colStart || crop.rowEnd !== crop.colEnd)) {
    throw new MapRequestError(
      `${owner}: rollout within the crop needs the crop's rows and columns to be the same frames, got rows ` +
        `${crop.rowStart}..${crop.rowEnd} and columns ${crop.colStart}..${crop.colEnd}`,
    );
  }
  if (softmax === 'crop' && !within) {
    throw new MapRequestError(
      `${owner}: softmax 'crop' normalises over the crop's columns, which only applies to rollout within the crop ` +
        `(cropMode 'within' with a crop); use 'row'`,
    );
  }
  if (crop && !within && isFullCrop(crop, frames, frames)) crop = undefined;
  const layers = Array.from({ length: layerEnd - layerStart }, (_, index) => layerStart + index);
  return { layers, heads, softmax, crop, within, size: within && crop ? cropRows(crop) : frames, frames };
}

/**
 * Computes RolloutMapRequests. Records through its context: in AttentionEngine.computeMaps the step to the layer asked
 * for, the copy, the stats and the frame share one command buffer, so a layer move by one layer is one submit.
 * Earlier steps of a longer chain are each submitted when done (MapContext.stepDone), for progress and cancelling.
 */
export const ROLLOUT_MAP_KIND: MapKindHandler<'rollout'> = {
  kind: 'rollout',
  recordsThroughContext: true,

  outputShape(request: RolloutMapRequest, context: MapContext): MapShape {
    const resolved = resolveRollout(request, context);
    return resolved.crop ? { rows: cropRows(resolved.crop), cols: cropCols(resolved.crop) } : { rows: resolved.frames, cols: resolved.frames };
  },

  async compute(request: RolloutMapRequest, output: GPUBuffer, context: MapContext): Promise<void> {
    const resolved = resolveRollout(request, context);
    const { size, crop, within, layers } = resolved;
    const rollout = await awaitPass(context, 'RolloutPass', RolloutPass.create);
    const copyPass = context.pass('SoftmaxPass', (device, shaders) => new SoftmaxPass(device, shaders));
    await copyPass.ready('float32');
    const through = layers[layers.length - 1];
    const made = await acquireRunningProduct(request, resolved, through, rollout, context);
    // Acquired again so that it counts as used now: when it was just made, its entry is older than those of the
    // products and uploads made for it, and the product asked for would be the first evicted.
    const product = await acquireRunningProduct(request, resolved, through, rollout, context);
    made.release();
    try {
      // SoftmaxPass with scope 'none' copies the product, or the crop of it, into the output (which need not be a
      // copy destination). The product is in the step layout (rows of RolloutPass.stepStride, zero-padded on a
      // software adapter): the crop leaves the padding out.
      const encoder = context.createEncoder('RolloutMap.encoder');
      const stride = rollout.stepStride(size);
      copyPass.encode(encoder, {
        input: { buffer: product.buffer, format: 'float32', elementOffset: 0 },
        rows: stride,
        cols: stride,
        crop: crop && !within ? crop : fullCrop(size, size),
        scope: 'none',
        output,
      });
      context.submit(encoder);
    } finally {
      context.afterSubmit(() => product.release());
    }
  },
};

/**
 * The running product R_through = Â_through · ... · Â_layerStart of `request`, pinned. It is kept by the engine per
 * layer (MapContext.acquireDerived): when it is absent, R_(through-1) is acquired the same way (recursively, down to
 * the last product kept, or to layerStart) and one step multiplies it by Â_through. So moving the layer from L to
 * L + 1 costs one product, moving back costs none, and after an eviction the chain is rebuilt from what is kept.
 * Each step is recorded through the context; every step but the last (the layer asked for) is then reported done
 * (stepDone, which submits it), so that a long chain shows progress and a cancel keeps the steps finished.
 */
function acquireRunningProduct(
  request: RolloutMapRequest,
  resolved: ResolvedRollout,
  through: number,
  rollout: RolloutPass,
  context: MapContext,
): Promise<AcquiredBuffer> {
  const { size, layers } = resolved;
  const layerStart = layers[0];
  const byteLength = rollout.stepSizeBytes(size);
  return context.acquireDerived(request.tensorId, { name: runningProductName(resolved, through), layer: through, byteLength }, async (freeSomething) => {
    const previous = through > layerStart ? await acquireRunningProduct(request, resolved, through - 1, rollout, context) : undefined;
    let layerMap: ComputedMap | undefined;
    let product: GPUBuffer | undefined;
    let recorded = false;
    try {
      // A cancel stops here, between steps: the products already made stay kept for the next request.
      context.throwIfCancelled?.();
      layerMap = await context.computeInner(rolloutLayerRequest(request, resolved, through));
      product = await createBufferWithRetry(
        context.device,
        { label: `RolloutMap.product.L${layerStart}-L${through}`, size: byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC },
        freeSomething,
      );
      const encoder = context.createEncoder('RolloutMap.stepEncoder');
      rollout.encodeStep(encoder, {
        layer: { buffer: layerMap.buffer, format: 'float32', elementOffset: 0 },
        previous: previous?.buffer,
        size,
        output: product,
      });
      context.submit(encoder);
      recorded = true;
    } catch (error) {
      product?.destroy();
      throw error;
    } finally {
      // What the step reads is freed once its commands are submitted (at once when they were not recorded).
      const map = layerMap;
      const free = () => {
        map?.destroy();
        previous?.release();
      };
      if (recorded) context.afterSubmit(free);
      else free();
    }
    if (through !== layers[layers.length - 1]) await context.stepDone?.(through - layerStart + 1, layers.length);
    return product;
  });
}

/** The attention map of `layer` that a rollout step multiplies in (its heads, softmax, and crop when 'within'). */
export function rolloutLayerRequest(request: RolloutMapRequest, resolved: ResolvedRollout, layer: number): AttentionMapRequest {
  return {
    kind: 'attention',
    tensorId: request.tensorId,
    layer,
    head: resolved.heads,
    softmax: resolved.softmax,
    ...(resolved.within ? { crop: resolved.crop } : {}),
  };
}

/**
 * What a running product depends on besides the tensor (which the engine's key adds): heads, softmax scope, the crop
 * when the maps are cropped before the product ('within'; a crop 'after' is cut from the full product, which is then
 * shared by every crop), the first layer and the last.
 */
export function runningProductName(resolved: ResolvedRollout, through: number): string {
  const crop = resolved.within && resolved.crop ? resolved.crop : undefined;
  const heads = typeof resolved.heads === 'object' ? resolved.heads.join(',') : String(resolved.heads);
  const region = crop ? ` within rows ${crop.rowStart}..${crop.rowEnd} columns ${crop.colStart}..${crop.colEnd}` : '';
  return `rollout L${resolved.layers[0]}-L${through} heads ${heads} softmax ${resolved.softmax}${region}`;
}

