/**
 * Handler of 'difference' requests: both sides computed as inner requests, then DifferencePass.
 */
import { DifferencePass } from './difference.ts';
import type { MapContext, MapKindHandler } from './mapKind.ts';
import type { DifferenceMapRequest, MapShape } from './mapRequest.ts';
import { MapRequestError } from './requestError.ts';

/** Computes DifferenceMapRequests. */
export const DIFFERENCE_MAP_KIND: MapKindHandler<'difference'> = {
  kind: 'difference',

  async outputShape(request: DifferenceMapRequest, context: MapContext): Promise<MapShape> {
    const [minuend, subtrahend] = await Promise.all([context.shapeOf(request.minuend), context.shapeOf(request.subtrahend)]);
    if (minuend.rows !== subtrahend.rows || minuend.cols !== subtrahend.cols) {
      throw new MapRequestError(
        `difference: the maps differ in size (${minuend.rows} x ${minuend.cols} minus ${subtrahend.rows} x ${subtrahend.cols})`,
      );
    }
    return minuend;
  },

  async compute(request: DifferenceMapRequest, output: GPUBuffer, context: MapContext): Promise<void> {
    const pass = context.pass('DifferencePass', (device, shaders) => new DifferencePass(device, shaders));
    await pass.ready('float32');
    const minuend = await context.computeInner(request.minuend);
    try {
      const subtrahend = await context.computeInner(request.subtrahend);
      try {
        const encoder = context.createEncoder('DifferenceMap.encoder');
        pass.encode(encoder, {
          minuend: { buffer: minuend.buffer, format: 'float32', elementOffset: 0 },
          subtrahend: subtrahend.buffer,
          count: minuend.rows * minuend.cols,
          output,
        });
        context.submit(encoder);
      } finally {
        subtrahend.destroy();
      }
    } finally {
      minuend.destroy();
    }
  },
};
