/**
 * The host path: on a software adapter (SwiftShader, llvmpipe, WARP: a GPU emulated on the CPU) the map kinds the
 * CLI draws and exports are computed by plain TypeScript kernels (mapKernels.ts) and only the result is uploaded,
 * as the map's GPU buffer, so that render, figure and export work unchanged. Measured in bench/README.md ("The CLI
 * on CPU-only machines"): on SwiftShader the WGSL passes plus the upload of a whole layer cost several times what
 * the same arithmetic costs in a JS loop, and the emulated GPU runs on the same cores anyway.
 *
 * Routed: 'attention' (one head, head or layer means and subsets, softmax none/row/crop, crops), 'difference',
 * 'segmentPool' and 'blockPool' (of any routed source), and 'rollout' (hostRollout.ts); the engine computes the
 * min/max and histogram of a host map on the host too. Head statistics stay on the GPU. A request whose values cannot be had on the
 * host (a model's scores, made on the GPU; a routed kind around a kind that is not routed) runs on the GPU handler.
 * Checking and output shapes are always the GPU handler's, so both paths accept and refuse the same requests.
 */
import { blockPoolCpu } from '../blockPool.cpu.ts';
import type { MapContext, MapKindHandler } from '../mapKind.ts';
import { kindOf, resolveAttentionSelection, type AttentionMapRequest, type MapKindName, type MapRequest } from '../mapRequest.ts';
import { fullCrop, isFullCrop } from '../region.ts';
import { segmentPoolCpu } from '../segmentPool.cpu.ts';
import type { RolloutMapRequest } from '../rolloutMap.ts';
import { rolloutValuesOnHost } from './hostRollout.ts';
import { addSoftmaxedCrop, differenceOf, meanOfSoftmaxedCrops } from './mapKernels.ts';

/** Where an engine computes maps: 'gpu' (WGSL passes), 'cpu' (the host path) or 'auto' (cpu on a software adapter). */
export type ComputeChoice = 'gpu' | 'cpu' | 'auto';

/** The request kinds the host path computes. */
export const HOST_KIND_NAMES: readonly MapKindName[] = ['attention', 'difference', 'segmentPool', 'blockPool', 'rollout'];

/** The path `choice` means on an adapter that is (or is not) software. */
export function resolveCompute(choice: ComputeChoice, softwareAdapter: boolean): 'gpu' | 'cpu' {
  return choice === 'auto' ? (softwareAdapter ? 'cpu' : 'gpu') : choice;
}

/** A kind the host path computes: the GPU handler it stands in for, and its values computed on the host. */
export interface HostKindHandler extends MapKindHandler {
  /** The handler that computes the kind on the GPU: it runs when the values cannot be had on the host. */
  readonly gpu: MapKindHandler;
  /** hostValues() of the request: undefined when some part of it cannot be had on the host. */
  hostValues(request: MapRequest, context: MapContext): Promise<Float32Array | undefined>;
}

/**
 * `gpu`'s kind computed on the host: same checks and shapes, values from hostValues() uploaded into the output
 * (context.writeHostValues), or `gpu` itself when the request's values cannot be had on the host. An engine that
 * needs no GPU buffer for a host map asks hostValues() itself (isHostKindHandler) and runs `gpu` when it gives none.
 */
export function hostKind(gpu: MapKindHandler): HostKindHandler {
  return {
    kind: gpu.kind,
    gpu,
    recordsThroughContext: gpu.recordsThroughContext,
    outputShape: (request, context) => gpu.outputShape(request, context),
    hostValues,
    async compute(request, output, context) {
      const values = await hostValues(request, context);
      if (values) context.writeHostValues!(output, values);
      else await gpu.compute(request, output, context);
    },
  };
}

/** Whether `handler` is a host kind (made by hostKind). */
export function isHostKindHandler(handler: MapKindHandler): handler is HostKindHandler {
  return typeof (handler as Partial<HostKindHandler>).hostValues === 'function' && (handler as Partial<HostKindHandler>).gpu !== undefined;
}

/**
 * The values of `request`'s map computed on the host (rows x cols f32, row-major), or undefined when some part of
 * it cannot be (see the module comment). The request has been checked by its handler's outputShape().
 */
export async function hostValues(request: MapRequest, context: MapContext): Promise<Float32Array | undefined> {
  if (!context.readHeadValues || !context.writeHostValues) return undefined;
  switch (kindOf(request)) {
    case 'attention':
      return attentionValues(request as AttentionMapRequest, context);
    case 'difference': {
      const { minuend, subtrahend } = request as Extract<MapRequest, { kind: 'difference' }>;
      const first = await hostValues(minuend, context);
      const second = first && (await hostValues(subtrahend, context));
      return first && second ? differenceOf(first, second) : undefined;
    }
    case 'segmentPool': {
      const pool = request as Extract<MapRequest, { kind: 'segmentPool' }>;
      const source = await hostValues(pool.source, context);
      if (!source) return undefined;
      const shape = await context.shapeOf(pool.source);
      const pooled = segmentPoolCpu(source, shape.rows, shape.cols, pool.rowSegments, pool.colSegments);
      return pool.stat === 'mean' ? pooled.mean : pooled.max;
    }
    case 'blockPool': {
      const pool = request as Extract<MapRequest, { kind: 'blockPool' }>;
      const source = await hostValues(pool.source, context);
      if (!source) return undefined;
      const shape = await context.shapeOf(pool.source);
      const pooled = blockPoolCpu(source, shape.rows, shape.cols, pool.block);
      return pool.stat === 'mean' ? pooled.mean : pooled.max;
    }
    case 'rollout':
      return rolloutValuesOnHost(request as RolloutMapRequest, context, (attention) => attentionValues(attention, context));
    default:
      return undefined;
  }
}

/** An attention request's map: each selected (layer, head) map read, cropped and softmaxed, then averaged. */
async function attentionValues(request: AttentionMapRequest, context: MapContext): Promise<Float32Array | undefined> {
  const shape = context.tensorShape(request.tensorId);
  const { layers, heads } = resolveAttentionSelection(request, shape);
  const crop = request.crop ?? fullCrop(shape.rows, shape.cols);
  const readHead = context.readHeadValues!;
  const whole = isFullCrop(crop, shape.rows, shape.cols);
  if (whole && layers.length * heads.length === 1) {
    // One whole map: read into the map's own array and softmaxed there, row by row (each row's values are read
    // before any is written). A second map-sized array cost more than the arithmetic (first-touch page faults).
    const map = await readHead(request.tensorId, layers[0], heads[0], new Float32Array(shape.rows * shape.cols));
    if (map && request.softmax !== 'none') addSoftmaxedCrop(map, shape.cols, crop, request.softmax, 1, map, false);
    return map;
  }
  // Whether the source has values off the GPU at all, asked before any arithmetic.
  const first = await readHead(request.tensorId, layers[0], heads[0]);
  if (!first) return undefined;
  async function* maps(): AsyncGenerator<Float32Array> {
    yield first!;
    for (const layer of layers) {
      for (const head of heads) {
        if (layer === layers[0] && head === heads[0]) continue;
        yield (await readHead(request.tensorId, layer, head))!;
      }
    }
  }
  return meanOfSoftmaxedCrops(maps(), layers.length * heads.length, shape.cols, crop, request.softmax);
}
