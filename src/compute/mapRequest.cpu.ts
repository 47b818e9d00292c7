/**
 * Reference for the engine's built-in request kinds, written for clarity: the CPU references of the passes,
 * composed the way the engine composes the passes.
 */
import type { AttentionShape } from '../data/tensor.ts';
import { differenceCpu } from './difference.cpu.ts';
import { layerMeanCpu } from './layerMean.cpu.ts';
import { kindOf, resolveAttentionSelection, type AttentionMapRequest, type MapRequest, type MapShape } from './mapRequest.ts';
import { fullCrop } from './region.ts';

/** A tensor's values for the reference: its shape and each layer as heads x rows x cols float32. */
export interface TensorValues {
  readonly shape: AttentionShape;
  layer(layer: number): Float32Array;
}

/** The map a request describes, in float64, with its size. `tensors` looks tensors up by id. */
export function computeMapCpu(
  request: MapRequest,
  tensors: (tensorId: string) => TensorValues,
): { values: Float64Array } & MapShape {
  switch (kindOf(request)) {
    case 'attention': {
      const attention = request as AttentionMapRequest;
      const tensor = tensors(attention.tensorId);
      const { rows, cols } = tensor.shape;
      const { layers, heads } = resolveAttentionSelection(attention, tensor.shape);
      const crop = attention.crop ?? fullCrop(rows, cols);
      const values = layerMeanCpu(
        layers.map((layer) => tensor.layer(layer)),
        heads,
        rows,
        cols,
        crop,
        attention.softmax,
      );
      return { values, rows: crop.rowEnd - crop.rowStart, cols: crop.colEnd - crop.colStart };
    }
    case 'difference': {
      const difference = request as Extract<MapRequest, { kind: 'difference' }>;
      const minuend = computeMapCpu(difference.minuend, tensors);
      const subtrahend = computeMapCpu(difference.subtrahend, tensors);
      return { values: differenceCpu(minuend.values, subtrahend.values), rows: minuend.rows, cols: minuend.cols };
    }
    default:
      throw new RangeError(`computeMapCpu: no reference for requests of kind '${kindOf(request)}'`);
  }
}
