/**
 * Handler of 'attention' requests: one map through SoftmaxPass, several (head mean, head subset, layer mean)
 * through LayerMeanPass. Layers are visited one chunk at a time, each chunk pinned only until its commands are
 * submitted, so a layer mean needs GPU memory for one chunk, not for the whole tensor.
 */
import { LayerMeanPass } from './layerMean.ts';
import type { MapContext, MapKindHandler } from './mapKind.ts';
import { resolveAttentionSelection, type AttentionMapRequest, type MapShape } from './mapRequest.ts';
import { checkCrop, cropCols, cropRows, fullCrop, type Crop } from './region.ts';
import { SoftmaxPass } from './softmax.ts';

/** The crop of a request, checked against the tensor's maps. */
function requestCrop(request: AttentionMapRequest, rows: number, cols: number): Crop {
  const crop = request.crop ?? fullCrop(rows, cols);
  checkCrop(request.tensorId, crop, rows, cols);
  return crop;
}

/** Computes AttentionMapRequests. */
export const ATTENTION_MAP_KIND: MapKindHandler<'attention'> = {
  kind: 'attention',
  recordsThroughContext: true,

  outputShape(request: AttentionMapRequest, context: MapContext): MapShape {
    const shape = context.tensorShape(request.tensorId);
    resolveAttentionSelection(request, shape);
    const crop = requestCrop(request, shape.rows, shape.cols);
    return { rows: cropRows(crop), cols: cropCols(crop) };
  },

  async compute(request: AttentionMapRequest, output: GPUBuffer, context: MapContext): Promise<void> {
    const shape = context.tensorShape(request.tensorId);
    const { layers, heads } = resolveAttentionSelection(request, shape);
    const crop = requestCrop(request, shape.rows, shape.cols);
    const { rows, cols } = shape;
    if (layers.length === 1 && heads.length === 1) {
      const pass = context.pass('SoftmaxPass', (device, shaders) => new SoftmaxPass(device, shaders));
      await pass.ready(context.format);
      const maps = await context.acquireMaps(request.tensorId, layers[0], heads);
      try {
        const part = maps.parts[0];
        const encoder = context.createEncoder('AttentionMap.encoder');
        pass.encode(encoder, {
          input: { ...part.input, elementOffset: part.mapOffsets[0] },
          rows,
          cols,
          crop,
          scope: request.softmax,
          output,
        });
        context.submit(encoder);
      } finally {
        context.afterSubmit(() => maps.release());
      }
      return;
    }
    const pass = context.pass('LayerMeanPass', (device, shaders) => new LayerMeanPass(device, shaders));
    await pass.ready(context.format);
    let first = true;
    for (const layer of layers) {
      const maps = await context.acquireMaps(request.tensorId, layer, heads);
      try {
        const encoder = context.createEncoder('AttentionMap.encoder');
        pass.encode(encoder, {
          parts: maps.parts,
          totalMaps: layers.length * heads.length,
          accumulate: !first,
          rows,
          cols,
          crop,
          scope: request.softmax,
          output,
        });
        context.submit(encoder);
        first = false;
      } finally {
        context.afterSubmit(() => maps.release());
      }
    }
  },
};
