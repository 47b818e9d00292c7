/**
 * How the axes of a stored tensor map onto layers x heads x rows x cols, and how per-layer arrays are stacked.
 *
 * Accepted layouts (STEVE saves the first):
 *   N x 1 x M x Q x K   layers x batch x heads x queries x keys (batch must be 1: one utterance per file)
 *   N x M x Q x K       layers x heads x queries x keys
 *   M x Q x K           one layer
 *   Q x K               one head of one layer
 * Queries (second-to-last axis) become the map's rows, keys (last axis, the softmax axis) its columns.
 */
import { InputError, check } from './inputError.ts';
import type { AttentionShape } from './tensor.ts';
import { listUntrusted } from './untrustedText.ts';

const LAYOUTS =
  'layers x 1 x heads x rows x cols (STEVE), layers x heads x rows x cols, heads x rows x cols (one layer) or rows x cols (one head)';

/** A shape as numpy prints it: (2, 1, 3, 7, 5), (5,), (). */
export function formatShape(dims: readonly number[]): string {
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

/**
 * Number of elements of an array of shape `dims`. Throws InputError('bad-header') for a dimension that is not a
 * non-negative integer and InputError('unsupported-layout') when the count exceeds Number.MAX_SAFE_INTEGER
 * (such a count cannot describe a real file, and byte offsets beyond it cannot be computed exactly).
 */
export function elementCount(dims: readonly number[], fileName: string): number {
  let count = 1;
  for (const dim of dims) {
    check(Number.isSafeInteger(dim) && dim >= 0, fileName, 'bad-header', () => `shape ${formatShape(dims)} has a dimension that is not a non-negative integer`);
    count *= dim;
    check(Number.isSafeInteger(count), fileName, 'unsupported-layout', () => `shape ${formatShape(dims)} has more than ${Number.MAX_SAFE_INTEGER} elements`);
  }
  return count;
}

/** Normalises a stored shape to layers x heads x rows x cols, or throws InputError('unsupported-layout'). */
export function normaliseShape(dims: readonly number[], fileName: string): AttentionShape {
  elementCount(dims, fileName);
  check(!dims.includes(0), fileName, 'unsupported-layout', () => `shape ${formatShape(dims)} has an axis of length 0, so there is no map to show`);
  switch (dims.length) {
    case 5:
      check(dims[1] === 1, fileName, 'unsupported-layout', () => batchReason(dims));
      return { layers: dims[0], heads: dims[2], rows: dims[3], cols: dims[4] };
    case 4:
      return { layers: dims[0], heads: dims[1], rows: dims[2], cols: dims[3] };
    case 3:
      return { layers: 1, heads: dims[0], rows: dims[1], cols: dims[2] };
    case 2:
      return { layers: 1, heads: 1, rows: dims[0], cols: dims[1] };
    default:
      throw new InputError(fileName, 'unsupported-layout', `expected an attention tensor shaped ${LAYOUTS}; found shape ${formatShape(dims)} of rank ${dims.length}`);
  }
}

function batchReason(dims: readonly number[]): string {
  return `shape ${formatShape(dims)} has batch size ${dims[1]} on axis 1; a file must hold one utterance (layers x 1 x heads x rows x cols): save one file per utterance`;
}

/**
 * Normalises the shape of one per-layer array (heads x rows x cols, 1 x heads x rows x cols with a batch axis of 1,
 * or rows x cols), and throws InputError('unsupported-layout') if it holds more than one layer.
 */
export function normaliseLayerShape(dims: readonly number[], fileName: string, arrayName: string): AttentionShape {
  const shape = normaliseShape(dims, fileName);
  check(
    shape.layers === 1,
    fileName,
    'unsupported-layout',
    () => `per-layer array '${arrayName}' has shape ${formatShape(dims)}, which holds ${shape.layers} layers; each per-layer array must be heads x rows x cols (or 1 x heads x rows x cols)`,
  );
  return shape;
}

/**
 * The naming rule for files with several attention arrays (.npz, .safetensors): they are per-layer arrays when
 * every name ends in an integer (layer_0, layer1, layers.2, arr_0 as np.savez(path, *layers) writes), and they
 * are stacked in the numeric order of those integers (layer_2 before layer_10). Returns the names in that order,
 * or throws InputError('unsupported-layout') naming the offending arrays.
 */
export function orderLayerNames(names: readonly string[], fileName: string): string[] {
  const numbered = names.map((name) => ({ name, index: trailingInteger(name) }));
  const unnumbered = numbered.filter((entry) => entry.index === undefined).map((entry) => entry.name);
  check(
    unnumbered.length === 0,
    fileName,
    'unsupported-layout',
    () => `found ${names.length} attention arrays, so they are read as one per layer, but ${listUntrusted(unnumbered)} does not end in a layer number; name them layer_0, layer_1, ... or store one stacked array`,
  );
  numbered.sort((a, b) => (a.index as number) - (b.index as number));
  for (let i = 1; i < numbered.length; i++) {
    const [previous, current] = [numbered[i - 1], numbered[i]];
    check(previous.index !== current.index, fileName, 'unsupported-layout', () => `arrays '${previous.name}' and '${current.name}' both claim layer ${current.index}`);
  }
  return numbered.map((entry) => entry.name);
}

/** The integer a name ends with (layer_12 -> 12), or undefined. */
function trailingInteger(name: string): number | undefined {
  const match = /(\d+)$/.exec(name);
  if (!match) return undefined;
  const value = Number(match[1]);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Combines per-layer shapes (already in layer order) into one shape, or throws InputError('unsupported-layout')
 * naming the first array whose shape differs from the first one's.
 */
export function stackLayerShapes(layers: readonly { name: string; dims: readonly number[] }[], fileName: string): AttentionShape {
  const first = normaliseLayerShape(layers[0].dims, fileName, layers[0].name);
  for (const layer of layers.slice(1)) {
    const shape = normaliseLayerShape(layer.dims, fileName, layer.name);
    check(
      shape.heads === first.heads && shape.rows === first.rows && shape.cols === first.cols,
      fileName,
      'unsupported-layout',
      () => `per-layer arrays must all have the same shape: '${layers[0].name}' is ${formatShape(layers[0].dims)} but '${layer.name}' is ${formatShape(layer.dims)}`,
    );
  }
  return { ...first, layers: layers.length };
}
