import { describe, expect, it } from 'vitest';
import { elementCount, formatShape, normaliseLayerShape, normaliseShape, orderLayerNames, stackLayerShapes } from '../../src/data/attentionLayout.ts';
import { inputErrorOf } from '../helpers/inputErrors.ts';

describe('normaliseShape', () => {
  it.each([
    [[32, 1, 20, 1500, 1500], { layers: 32, heads: 20, rows: 1500, cols: 1500 }],
    [[2, 1, 3, 7, 5], { layers: 2, heads: 3, rows: 7, cols: 5 }],
    [[2, 3, 7, 5], { layers: 2, heads: 3, rows: 7, cols: 5 }],
    [[3, 7, 5], { layers: 1, heads: 3, rows: 7, cols: 5 }],
    [[7, 5], { layers: 1, heads: 1, rows: 7, cols: 5 }],
  ])('maps %j to layers x heads x rows x cols', (dims, shape) => {
    expect(normaliseShape(dims, 'a.npy')).toEqual(shape);
  });

  it('refuses a batch of more than one utterance', () => {
    const error = inputErrorOf(() => normaliseShape([12, 4, 6, 50, 50], 'batch.npy'));
    expect(error.kind).toBe('unsupported-layout');
    expect(error.message).toMatch(/^batch\.npy: shape \(12, 4, 6, 50, 50\) has batch size 4 on axis 1; a file must hold one utterance/);
  });

  it.each([
    [[5], /r\.npy: expected an attention tensor shaped layers x 1 x heads x rows x cols \(STEVE\).*; found shape \(5,\) of rank 1/],
    [[], /found shape \(\) of rank 0/],
    [[1, 1, 1, 1, 1, 1], /found shape \(1, 1, 1, 1, 1, 1\) of rank 6/],
    [[2, 0, 5], /r\.npy: shape \(2, 0, 5\) has an axis of length 0/],
    [[2 ** 20, 2 ** 20, 2 ** 20], /r\.npy: shape \(1048576, 1048576, 1048576\) has more than 9007199254740991 elements/],
  ])('refuses %j', (dims, message) => {
    const error = inputErrorOf(() => normaliseShape(dims, 'r.npy'));
    expect(error.kind).toBe('unsupported-layout');
    expect(error.message).toMatch(message);
  });

  it('refuses dimensions that are not non-negative integers', () => {
    expect(inputErrorOf(() => normaliseShape([2, -1], 'n.npy')).kind).toBe('bad-header');
    expect(inputErrorOf(() => normaliseShape([2, 1.5], 'n.npy')).kind).toBe('bad-header');
  });
});

describe('elementCount and formatShape', () => {
  it('counts and prints like numpy', () => {
    expect(elementCount([2, 1, 3, 7, 5], 'x')).toBe(210);
    expect(elementCount([], 'x')).toBe(1);
    expect(formatShape([5])).toBe('(5,)');
    expect(formatShape([])).toBe('()');
    expect(formatShape([2, 3])).toBe('(2, 3)');
  });
});

describe('per-layer arrays', () => {
  it('orders names by their trailing integer, not as strings', () => {
    const names = Array.from({ length: 12 }, (_, i) => `layer_${i}`).reverse();
    expect(orderLayerNames(names, 'f.npz')).toEqual(Array.from({ length: 12 }, (_, i) => `layer_${i}`));
    expect(orderLayerNames(['arr_1', 'arr_0'], 'f.npz')).toEqual(['arr_0', 'arr_1']);
    expect(orderLayerNames(['layers.2', 'layers.10', 'layer1'], 'f.npz')).toEqual(['layer1', 'layers.2', 'layers.10']);
  });

  it('refuses names without a layer number, and two names for one layer', () => {
    const unnumbered = inputErrorOf(() => orderLayerNames(['layer_0', 'query', 'key'], 'f.npz'));
    expect(unnumbered.kind).toBe('unsupported-layout');
    expect(unnumbered.message).toMatch(/^f\.npz: found 3 attention arrays, so they are read as one per layer, but 'query', 'key' does not end in a layer number/);
    expect(inputErrorOf(() => orderLayerNames(['a1', 'b01'], 'f.npz')).message).toMatch(/f\.npz: arrays 'a1' and 'b01' both claim layer 1/);
  });

  it('accepts heads x rows x cols, 1 x heads x rows x cols and rows x cols per layer', () => {
    expect(normaliseLayerShape([3, 7, 5], 'f', 'a')).toEqual({ layers: 1, heads: 3, rows: 7, cols: 5 });
    expect(normaliseLayerShape([1, 3, 7, 5], 'f', 'a')).toEqual({ layers: 1, heads: 3, rows: 7, cols: 5 });
    expect(normaliseLayerShape([7, 5], 'f', 'a')).toEqual({ layers: 1, heads: 1, rows: 7, cols: 5 });
    expect(inputErrorOf(() => normaliseLayerShape([2, 3, 7, 5], 'f.npz', 'layer_0')).message).toMatch(
      /f\.npz: per-layer array 'layer_0' has shape \(2, 3, 7, 5\), which holds 2 layers/,
    );
  });

  it('stacks equal shapes and refuses different ones', () => {
    const layers = [0, 1, 2].map((i) => ({ name: `l${i}`, dims: [1, 3, 7, 5] }));
    expect(stackLayerShapes(layers, 'f')).toEqual({ layers: 3, heads: 3, rows: 7, cols: 5 });
    const error = inputErrorOf(() => stackLayerShapes([...layers, { name: 'l3', dims: [3, 7, 4] }], 'f.npz'));
    expect(error.kind).toBe('unsupported-layout');
    expect(error.message).toMatch(/f\.npz: per-layer arrays must all have the same shape: 'l0' is \(1, 3, 7, 5\) but 'l3' is \(3, 7, 4\)/);
  });
});
