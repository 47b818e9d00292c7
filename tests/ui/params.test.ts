/**
 * ViewerParams <-> ViewSpec <-> URL: the viewer's state is spelt as `steve render` options, read back the same,
 * and what the viewer cannot show is refused by name; plus the pure pieces of the panel (word slider, names).
 */
import { describe, expect, it } from 'vitest';
import type { LoadedUtterance } from '../../src/ui/loadFiles.ts';
import { withDistinctNames } from '../../src/ui/loadFiles.ts';
import { clipShown, poolOptions, selectedWordsText, snapWordRange } from '../../src/ui/pane.ts';
import type { LoadedNames, ViewerParams } from '../../src/ui/params.ts';
import { clampedAway, clampParams, DEFAULT_PARAMS, ignoredOptionNotes, paramsFromHash, paramsFromSpec, paramsToHash, specFromParams, viewArgsOf } from '../../src/ui/params.ts';
import { parseViewArgs, ViewError } from '../../src/view/spec.ts';

const LOADED: LoadedNames = {
  files: [
    { attention: 'a.npy', name: 'a' },
    { attention: 'b.npy', name: 'b' },
  ],
  layers: 6,
  words: [11, 12],
};

describe(viewArgsOf.name, () => {
  it('spells the view as steve render options, defaults left out', () => {
    expect(viewArgsOf({ ...DEFAULT_PARAMS }, LOADED)).toEqual(['--words', '0:2']);
    expect(viewArgsOf({ ...DEFAULT_PARAMS, view: 'heads', layer: 3, full: true, colorRange: 'per-map' }, LOADED)).toEqual([
      '--view', 'heads', '--layer', '3', '--full', '--color-range', 'per-map',
    ]);
    expect(viewArgsOf({ ...DEFAULT_PARAMS, view: 'difference', layer: 1, head: 2, compareLayer: 1, compareHead: 4, compareUtterance: 1 }, LOADED)).toEqual([
      '--view', 'difference', '--layer', '1', '--head', '2', '--words', '0:2', '--compare-head', '4', '--compare-attention', 'b.npy',
    ]);
    // A rollout's default layer is the last: through layer 3 is written, through the last is not.
    expect(viewArgsOf({ ...DEFAULT_PARAMS, view: 'rollout', layer: 3, head: 'mean' }, LOADED)).toEqual(['--view', 'rollout', '--layer', '3', '--words', '0:2']);
    expect(viewArgsOf({ ...DEFAULT_PARAMS, view: 'rollout', layer: 5, head: 'mean' }, LOADED)).toEqual(['--view', 'rollout', '--words', '0:2']);
  });

  it('never spells a log scale or another colormap for a difference', () => {
    const spec = specFromParams({ ...DEFAULT_PARAMS, view: 'difference', scale: 'log', colormap: 'magma' }, LOADED);
    expect([spec.scale, spec.colormap]).toEqual(['linear', 'diverging']);
  });
});

describe(paramsFromSpec.name, () => {
  const views: ViewerParams[] = [
    { ...DEFAULT_PARAMS, layer: 3, head: 'mean', wordStart: 1, wordEnd: 4 },
    { ...DEFAULT_PARAMS, view: 'pooled', poolUnit: 'words', poolStat: 'max', full: true },
    { ...DEFAULT_PARAMS, view: 'pooled', poolUnit: '5', wordStart: 1, wordEnd: 3 },
    { ...DEFAULT_PARAMS, view: 'difference', layer: 2, head: 1, compareLayer: 4, compareHead: 'mean', colormap: 'diverging', compareUtterance: 1 },
    { ...DEFAULT_PARAMS, view: 'model', scale: 'percentile', clipLow: 5, clipHigh: 95, colorRange: 'per-map', smooth: true },
    { ...DEFAULT_PARAMS, view: 'rollout', layer: 2, head: 'mean', rolloutCrop: 'within', softmax: 'crop' },
  ];
  it('reads back the view that viewArgsOf wrote (round trip through the options)', () => {
    for (const params of views) {
      const back = paramsFromSpec(parseViewArgs(viewArgsOf(params, LOADED)), { ...DEFAULT_PARAMS }, LOADED);
      expect(back, viewArgsOf(params, LOADED).join(' ')).toEqual(params);
    }
  });

  it('shows every word when the options name none, and refuses what the viewer cannot show, naming the option', () => {
    expect(paramsFromSpec(parseViewArgs([]), { ...DEFAULT_PARAMS }, LOADED)).toMatchObject({ wordStart: 0, wordEnd: 10 });
    const refused = (args: string[]) => {
      try {
        paramsFromSpec(parseViewArgs(args), { ...DEFAULT_PARAMS }, LOADED);
      } catch (error) {
        expect(error).toBeInstanceOf(ViewError);
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refused(['--layer', 'mean'])).toMatch(/^--layer mean/);
    expect(refused(['--view', 'pooled', '--pool', '1'])).toMatch(/^--pool must be/);
    expect(refused(['--round-up'])).toMatch(/^--round-up/);
    expect(refused(['--view', 'difference', '--compare-attention', 'zzz.npy'])).toMatch(/zzz\.npy.*no loaded utterance/);
  });
});

describe('URL hash', () => {
  it('holds the view options, the utterance and the debug panel, and reads them back', () => {
    const params: ViewerParams = { ...DEFAULT_PARAMS, utterance: 1, view: 'heads', layer: 4, debug: true, scale: 'log' };
    const hash = paramsToHash(params, LOADED);
    expect(hash).toBe('#u=1&view=heads&layer=4&words=0%3A2&scale=log&debug=1');
    expect(paramsFromHash(hash, { ...DEFAULT_PARAMS }, LOADED)).toEqual({ params, ignored: [] });
    expect(paramsToHash({ ...DEFAULT_PARAMS, full: true }, LOADED)).toBe('#full=');
  });

  it('keeps the view and says why when a link does not parse', () => {
    const { params, problem } = paramsFromHash('#view=nope&layer=2', { ...DEFAULT_PARAMS }, LOADED);
    expect(params).toEqual(DEFAULT_PARAMS);
    expect(problem).toMatch(/--view must be/);
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
    expect(clampParams({ ...DEFAULT_PARAMS, head: 'mean' }, { utterances: 1, words: [3], layers: 1, heads: 2 }).head).toBe('mean');
  });

  it('gives a difference the diverging colormap and no log scale', () => {
    const params = clampParams({ ...DEFAULT_PARAMS, view: 'difference', scale: 'log' }, { utterances: 1, words: [3], layers: 2, heads: 2 });
    expect([params.colormap, params.scale]).toEqual(['diverging', 'linear']);
  });
});

describe(clampedAway.name, () => {
  it('names the option whose value the data does not have, and is quiet when nothing was clamped', () => {
    const limits = { utterances: 1, words: [3], layers: 2, heads: 2 };
    const asked = { ...DEFAULT_PARAMS, head: 2 };
    expect(clampedAway(asked, clampParams(asked, limits))).toBe('--head 2 is outside the loaded data: showing 1');
    expect(clampedAway(DEFAULT_PARAMS, clampParams({ ...DEFAULT_PARAMS }, limits))).toBeUndefined();
  });
});

describe('word slider', () => {
  const labels = ['she', '', 'had', 'your', '', 'dark'];
  const snap = (previous: [number, number], asked: [number, number]) => {
    const { first, last } = snapWordRange(labels, { first: previous[0], last: previous[1] }, { first: asked[0], last: asked[1] });
    return [first, last];
  };
  it('keeps the --words indices (pauses counted) and steps over pauses in the direction its end moved', () => {
    expect(snap([0, 0], [0, 1])).toEqual([0, 2]);
    expect(snap([0, 2], [0, 1])).toEqual([0, 0]);
    expect(snap([2, 3], [1, 3])).toEqual([0, 3]);
    expect(snap([0, 3], [1, 3])).toEqual([2, 3]);
    expect(snap([2, 3], [2, 4])).toEqual([2, 5]);
    // A trailing pause has no word after it: the end goes back to the last word.
    expect(snapWordRange(['a', 'b', ''], { first: 0, last: 1 }, { first: 0, last: 2 })).toEqual({ first: 0, last: 1 });
    // Both ends on one pause: the end that moved meets the other.
    expect(snap([2, 2], [1, 2])).toEqual([0, 2]);
    expect(snap([0, 0], [1, 1])).toEqual([2, 2]);
    // A pause from a link stays while its end is not moved; spoken words are never moved.
    expect(snap([1, 3], [1, 2])).toEqual([1, 2]);
  });
  it('shows the same numbers as the URL and Copy command: words=3:5 is slider 3 – 5, "your dark"', () => {
    const params = paramsFromHash('#words=3:5', DEFAULT_PARAMS, LOADED).params;
    expect([params.wordStart, params.wordEnd]).toEqual([3, 5]);
    expect(snap([params.wordStart, params.wordEnd], [params.wordStart, params.wordEnd])).toEqual([3, 5]);
    expect(paramsToHash(params, LOADED)).toContain('words=3%3A5');
    expect(selectedWordsText(labels, 3, 5, false)).toBe('your dark');
    expect(selectedWordsText(labels, 0, 3, true)).toBe('all frames');
  });
});

describe(ignoredOptionNotes.name, () => {
  it("gives a link's options that do nothing for its view the sentences steve render writes, and none otherwise", () => {
    expect(ignoredOptionNotes(['--clip', '5:95'])).toEqual(['--clip is ignored: it sets the percentiles that --scale percentile spans, and the scale is linear']);
    expect(ignoredOptionNotes(['--color-range', 'per-map'])[0]).toMatch(/^--color-range is ignored: per-map ranges are for views of several maps/);
    expect(ignoredOptionNotes(['--clip', '5:95', '--scale', 'percentile'])).toEqual([]);
    expect(ignoredOptionNotes(['--layer', 'abc'])).toEqual([]);
    expect(paramsFromHash('#clip=5%3A95', DEFAULT_PARAMS, LOADED).ignored).toHaveLength(1);
    expect(paramsFromHash('#scale=percentile&clip=5%3A95', DEFAULT_PARAMS, LOADED).ignored).toEqual([]);
  });
});

describe(withDistinctNames.name, () => {
  it('tells apart utterances with the same stem', () => {
    const named = (name: string) => ({ name }) as LoadedUtterance;
    expect(withDistinctNames([named('a'), named('b'), named('a'), named('a')]).map((u) => u.name)).toEqual(['a', 'b', 'a (2)', 'a (3)']);
  });
});

describe('pool and clip controls', () => {
  it('offers phones, words and blocks of frames, with a link\'s other block size among them', () => {
    expect(Object.values(poolOptions())).toEqual(['phones', 'words', '2', '4', '5', '8', '10', '20']);
    expect(poolOptions('7')['blocks of 7 frames']).toBe('7');
    expect(Object.values(poolOptions('5'))).toHaveLength(8);
  });

  it('shows the low %/high % sliders with the percentile scale only', () => {
    expect(['linear', 'log', 'percentile'].map((scale) => clipShown({ scale: scale as ViewerParams['scale'] }))).toEqual([false, false, true]);
  });
});
