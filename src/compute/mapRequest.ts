/**
 * What a caller asks the engine for: a map (rows x cols of f32) derived from one or more attention tensors.
 *
 * A request is a plain object with a `kind`. The built-in kinds are 'attention' (one head, a head mean or subset
 * mean, one layer or the layer mean, softmaxed or not, cropped or not) and 'difference' (one request minus another
 * of the same size). Requests nest: a difference holds two requests, and a future pooling request would hold the
 * request it pools.
 *
 * Adding a kind (segment pooling, k x k block pooling, rollout, per-head statistics):
 *  1. declare its request type and merge it into MapRequestKinds, so MapRequest (the union) includes it:
 *       declare module './mapRequest.ts' { interface MapRequestKinds { blockPool: BlockPoolRequest } }
 *     with `interface BlockPoolRequest { kind: 'blockPool'; source: MapRequest; block: number }`;
 *  2. write a MapKindHandler for it (src/compute/mapKind.ts): outputShape() validates the request and gives the
 *     output's rows x cols; compute() records its pass(es) into the output buffer, getting its input through
 *     context.computeInner(request.source) (any nested request) or context.acquireMaps() (stored attention);
 *  3. register it: engine.registerKind(handler), or list it in BUILT_IN_KINDS in src/engine.ts.
 * The engine then allocates the output (under the OOM policy), re-runs the request after a device loss, and
 * computes min/max and histograms on the result like on any other map.
 */
import type { Crop, SoftmaxScope } from './region.ts';
import { MapRequestError } from './requestError.ts';

/** Which heads: one head, the mean over all heads ('mean'), or the mean over a subset (distinct head indices). */
export type HeadSelector = number | 'mean' | readonly number[];

/** Which layers: one layer, the mean over all layers ('mean'), or the mean over a subset (distinct layer indices). */
export type LayerSelector = number | 'mean' | readonly number[];

/**
 * A map read from one attention tensor. Each selected (layer, head) map is cropped and softmaxed on its own, then
 * the maps are averaged: the layer mean of a head mean is the mean of all layers x heads maps.
 */
export interface AttentionMapRequest {
  /** May be left out: a request without a kind is an attention request. */
  readonly kind?: 'attention';
  /** Id given to engine.addTensor(). */
  readonly tensorId: string;
  readonly layer: LayerSelector;
  readonly head: HeadSelector;
  /** 'none', 'row' (whole last axis, then crop: STEVE's softmax(dim=-1) then slicing) or 'crop' (crop's columns). */
  readonly softmax: SoftmaxScope;
  /** Rows and columns to keep (ends exclusive); the whole map when absent. */
  readonly crop?: Crop;
}

/** minuend - subtrahend, value by value; both must give maps of the same rows x cols. */
export interface DifferenceMapRequest {
  readonly kind: 'difference';
  readonly minuend: MapRequest;
  readonly subtrahend: MapRequest;
}

/**
 * Every request kind by name. Passes written later add theirs by declaration merging (see the file comment), and
 * MapRequest grows with them.
 */
export interface MapRequestKinds {
  attention: AttentionMapRequest;
  difference: DifferenceMapRequest;
}

/** Any request the engine understands. */
export type MapRequest = MapRequestKinds[keyof MapRequestKinds];

/** Name of a request kind. */
export type MapKindName = keyof MapRequestKinds;

/** The kind of a request ('attention' when left out). */
export function kindOf(request: MapRequest): MapKindName {
  return request.kind ?? 'attention';
}

/** Size of a computed map. */
export interface MapShape {
  readonly rows: number;
  readonly cols: number;
}

/** The explicit layers and heads an AttentionMapRequest selects, after 'mean' is expanded and indices checked. */
export interface AttentionSelection {
  readonly layers: readonly number[];
  readonly heads: readonly number[];
}

/**
 * Expands 'mean' to every index and checks the indices (integers in range, distinct, at least one). Throws a
 * MapRequestError naming the tensor and the axis otherwise.
 */
export function resolveAttentionSelection(
  request: AttentionMapRequest,
  shape: { readonly layers: number; readonly heads: number },
): AttentionSelection {
  return {
    layers: resolveAxis(request.tensorId, 'layer', request.layer, shape.layers),
    heads: resolveAxis(request.tensorId, 'head', request.head, shape.heads),
  };
}

function resolveAxis(tensorId: string, axis: string, selector: number | 'mean' | readonly number[], count: number): number[] {
  const indices = selector === 'mean' ? Array.from({ length: count }, (_, index) => index) : typeof selector === 'number' ? [selector] : [...selector];
  if (indices.length === 0) throw new MapRequestError(`${tensorId}: an empty ${axis} subset selects no maps`);
  for (const index of indices) {
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new MapRequestError(`${tensorId}: ${axis} ${index} does not exist (the tensor has ${count} ${axis}s, 0..${count - 1})`);
    }
  }
  if (new Set(indices).size !== indices.length) throw new MapRequestError(`${tensorId}: the ${axis} subset [${indices}] repeats an index`);
  return indices;
}
