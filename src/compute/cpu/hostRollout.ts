/**
 * Rollout requests on the host path (src/compute/cpu/hostKinds.ts): the rollout of rolloutMap.ts, with each layer's
 * head mean made by the host path's attention kernels and the products by rolloutKernels.ts in float64. On a software
 * adapter this is several times faster than the WGSL product (bench/README.md "Rollout").
 *
 * The running product is kept per layer as on the GPU path (MapContext.acquireDerived, under the engine's memory
 * budget, dropped with the tensor): the request through L + 1 after the one through L costs one product, and a layer
 * already passed costs none. A kept product lives in host memory (a Float64Array, padded); the engine's entry for it
 * holds a 4-byte buffer standing for it, and counts the host array's bytes, which is the memory kept (on a software
 * adapter "GPU memory" is host memory too).
 */
import type { AcquiredBuffer, MapContext } from '../mapKind.ts';
import type { AttentionMapRequest } from '../mapRequest.ts';
import { fullCrop } from '../region.ts';
import { resolveRollout, rolloutLayerRequest, runningProductName, type ResolvedRollout, type RolloutMapRequest } from '../rolloutMap.ts';
import { multiplyPadded, paddedRegion, paddedStride, preparedPadded, preparedTransposed } from './rolloutKernels.ts';

/** The host products, by the token buffer the engine keeps for each. */
const keptProducts = new WeakMap<GPUBuffer, Float64Array>();

/** Thrown inside a product's creation when a layer's map cannot be had on the host: the request goes to the GPU. */
class NotOnHost extends Error {}

/**
 * The values of a rollout request (rows x cols f32 of its crop, or of the whole rollout), or undefined when the
 * tensor's maps cannot be read on the host (a model's scores): the caller then runs the GPU handler.
 * `attentionValues` computes an attention request on the host (hostKinds.ts).
 */
export async function rolloutValuesOnHost(
  request: RolloutMapRequest,
  context: MapContext,
  attentionValues: (request: AttentionMapRequest) => Promise<Float32Array | undefined>,
): Promise<Float32Array | undefined> {
  const resolved = resolveRollout(request, context);
  const { size, crop, within, layers } = resolved;
  let product: AcquiredBuffer;
  try {
    product = await acquireHostProduct(request, resolved, layers[layers.length - 1], context, attentionValues);
  } catch (error) {
    if (error instanceof NotOnHost) return undefined;
    throw error;
  }
  try {
    return paddedRegion(keptProducts.get(product.buffer)!, paddedStride(size), crop && !within ? crop : fullCrop(size, size));
  } finally {
    product.release();
  }
}

/**
 * R_through on the host, pinned: kept by the engine per layer like the GPU path's (rolloutMap.ts
 * acquireRunningProduct), under its own name, made from R_(through-1) (acquired the same way) and Â_through.
 */
function acquireHostProduct(
  request: RolloutMapRequest,
  resolved: ResolvedRollout,
  through: number,
  context: MapContext,
  attentionValues: (request: AttentionMapRequest) => Promise<Float32Array | undefined>,
): Promise<AcquiredBuffer> {
  const { size, layers } = resolved;
  const layerStart = layers[0];
  const stride = paddedStride(size);
  const name = `host ${runningProductName(resolved, through)}`;
  return context.acquireDerived(request.tensorId, { name, layer: through, byteLength: stride * stride * 8 }, async () => {
    const previous = through > layerStart ? await acquireHostProduct(request, resolved, through - 1, context, attentionValues) : undefined;
    try {
      context.throwIfCancelled?.();
      const layerMap = await attentionValues(rolloutLayerRequest(request, resolved, through));
      if (!layerMap) throw new NotOnHost();
      const values = previous
        ? multiplyPadded(preparedTransposed(layerMap, 0, size, stride), keptProducts.get(previous.buffer)!, stride)
        : preparedPadded(layerMap, 0, size, stride);
      const token = context.device.createBuffer({ label: `HostRollout.L${layerStart}-L${through}`, size: 4, usage: GPUBufferUsage.STORAGE });
      keptProducts.set(token, values);
      // As on the GPU path, the layer asked for is reported with the map, not as a step of its own.
      if (through !== layers[layers.length - 1]) await context.stepDone?.(through - layerStart + 1, layers.length);
      return token;
    } finally {
      previous?.release();
    }
  });
}
