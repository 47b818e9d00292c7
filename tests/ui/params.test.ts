import { describe, expect, it } from 'vitest';
import { clampParams, DEFAULT_PARAMS, paramsFromHash, paramsToHash } from '../../src/ui/params.ts';

describe(paramsToHash.name, () => {
  it('writes only what differs from the defaults', () => {
    expect(paramsToHash({ ...DEFAULT_PARAMS })).toBe('');
    expect(paramsToHash({ ...DEFAULT_PARAMS, layer: 3, head: -1, colormap: 'magma', smooth: true })).toBe(
      '#l=3&h=-1&cm=magma&smooth=1',
    );
  });

  it('round-trips every field', () => {
    const params = {
      ...DEFAULT_PARAMS,
      utterance: 1,
      wordStart: 2,
      wordEnd: 5,
      fullMap: true,
      layer: 4,
      head: 7,
      softmax: 'crop' as const,
      view: 'pooled' as const,
      colormap: 'turbo' as const,
      scale: 'percentile' as const,
      clipLow: 2.5,
      clipHigh: 97,
      smooth: true,
      poolUnit: 'words' as const,
      poolStat: 'max' as const,
      compareLayer: 5,
      compareHead: -1,
      compareUtterance: 0,
      debug: true,
    };
    expect(paramsFromHash(paramsToHash(params))).toEqual(params);
  });
});

describe(paramsFromHash.name, () => {
  it('ignores unknown keys and values that do not parse, keeping the defaults', () => {
    const params = paramsFromHash('#l=abc&cm=rainbow&v=nope&smooth=yes&zz=1&h=3');
    expect(params).toEqual({ ...DEFAULT_PARAMS, head: 3 });
  });
});

describe(clampParams.name, () => {
  it('brings a link made for other data inside what is loaded', () => {
    const params = clampParams({ ...DEFAULT_PARAMS, utterance: 5, wordStart: 9, wordEnd: 3, layer: 31, head: 19 }, {
      utterances: 2,
      words: [11, 12],
      layers: 6,
      heads: 8,
    });
    expect(params).toMatchObject({ utterance: 1, wordStart: 9, wordEnd: 9, layer: 5, head: 7 });
  });
});
