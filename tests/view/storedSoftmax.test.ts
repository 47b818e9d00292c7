/**
 * The softmax default once the tensor is known: a softmaxed tensor is shown as stored unless a softmax is asked
 * for, and the colour bar names stored probabilities "attention (as stored)", raw scores "raw score".
 */
import { describe, expect, it } from 'vitest';
import { parseViewSpec } from '../../src/view/spec.ts';
import { resolveSoftmax } from '../../src/view/storedSoftmax.ts';
import { attentionQuantity } from '../../src/view/titles.ts';

describe('resolveSoftmax', () => {
  const plain = parseViewSpec({});

  it('shows a softmaxed tensor as stored when no softmax was asked for', () => {
    expect(plain.softmax).toBe('row');
    expect(resolveSoftmax(plain, { softmaxGiven: false, softmaxed: true })).toEqual({ ...plain, softmax: 'none' });
  });

  it('keeps the row softmax for raw scores, and any softmax the user named', () => {
    expect(resolveSoftmax(plain, { softmaxGiven: false, softmaxed: false })).toBe(plain);
    const row = parseViewSpec({ softmax: 'row' });
    expect(resolveSoftmax(row, { softmaxGiven: true, softmaxed: true }).softmax).toBe('row');
    const crop = parseViewSpec({ softmax: 'crop' });
    expect(resolveSoftmax(crop, { softmaxGiven: true, softmaxed: true }).softmax).toBe('crop');
  });
});

describe('attentionQuantity', () => {
  it('says what the values are: softmax output, stored probabilities or raw scores', () => {
    expect(attentionQuantity('row')).toBe('attention (softmax)');
    expect(attentionQuantity('crop', true)).toBe('attention (softmax)');
    expect(attentionQuantity('none', true)).toBe('attention (as stored)');
    expect(attentionQuantity('none', false)).toBe('raw score');
  });
});
