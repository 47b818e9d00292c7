/**
 * The view vocabulary: options parse to a ViewSpec, the spec formats back to options that parse to the same spec,
 * and combinations that mean nothing are refused with a sentence naming the option.
 */
import { describe, expect, it } from 'vitest';
import type { ViewSpec } from '../../src/view/spec.ts';
import {
  DEFAULT_VIEW_SPEC,
  VIEW_OPTIONS,
  ViewError,
  formatViewArgs,
  formatViewCommand,
  ignoredViewOptions,
  parseViewArgs,
  parseViewSpec,
  viewOptionValues,
} from '../../src/view/spec.ts';

/** Views worth a round trip: every kind, and most options away from their defaults. */
const ARG_LISTS: readonly string[][] = [
  [],
  ['--layer', '3', '--head', '5', '--words', '0:2'],
  ['--view', 'heads', '--layer', 'mean', '--color-range', 'per-map'],
  ['--view', 'model', '--full', '--scale', 'log', '--colormap', 'magma'],
  ['--view', 'pooled', '--head', 'mean', '--pool-stat', 'max'],
  ['--view', 'pooled', '--pool', 'words', '--full'],
  ['--view', 'pooled', '--pool', '4', '--softmax', 'none'],
  ['--view', 'difference', '--layer', '1', '--head', '2', '--compare-head', '4'],
  ['--view', 'difference', '--compare-attention', 'other dir/b.npy', '--scale', 'percentile', '--clip', '5:95'],
  ['--view', 'pair', '--compare-attention', 'b.npy', '--layer', '2'],
  ['--view', 'rollout', '--layer', '4', '--rollout-crop', 'within', '--round-up', '--smooth'],
  ['--view', 'rollout', '--softmax', 'crop'],
];

describe('ViewSpec options', () => {
  it('round-trip: formatViewArgs(parseViewArgs(args)) parses back to the same spec, and is stable', () => {
    for (const args of ARG_LISTS) {
      const spec = parseViewArgs(args);
      const formatted = formatViewArgs(spec);
      expect(parseViewArgs(formatted), args.join(' ')).toEqual(spec);
      expect(formatViewArgs(parseViewArgs(formatted))).toEqual(formatted);
    }
  });

  it('leaves defaults out, so a default view has no options', () => {
    expect(formatViewArgs(DEFAULT_VIEW_SPEC)).toEqual([]);
    expect(formatViewArgs(parseViewArgs(['--softmax', 'row', '--colormap', 'viridis', '--pool-stat', 'mean']))).toEqual([]);
    expect(formatViewArgs(parseViewArgs(['--view', 'difference', '--colormap', 'diverging']))).toEqual(['--view', 'difference']);
  });

  it('reads --flag=value as well as --flag value, and quotes values for a shell', () => {
    expect(parseViewArgs(['--layer=3', '--head=mean'])).toEqual(parseViewArgs(['--layer', '3', '--head', 'mean']));
    expect(formatViewCommand(parseViewArgs(['--view', 'pair', '--compare-attention', "it's here.npy"]))).toBe(
      `--view pair --compare-attention 'it'\\''s here.npy'`,
    );
  });

  it('spells the head mean "mean", never -1', () => {
    const spec = parseViewArgs(['--head', 'mean']);
    expect(spec.head).toBe('mean');
    expect(() => parseViewArgs(['--head', '-1'])).toThrow(/--head must be an index .* or "mean"/);
  });

  it('gives differences the diverging colormap and refuses log or another colormap for them', () => {
    expect(parseViewSpec({ view: 'difference' }).colormap).toBe('diverging');
    expect(() => parseViewSpec({ view: 'difference', scale: 'log' })).toThrow(/--scale log does not go with --view difference/);
    expect(() => parseViewSpec({ view: 'difference', colormap: 'viridis' })).toThrow(/diverging colormap/);
  });

  it('rolls out within the crop when the softmax is within the crop, and refuses the contradiction', () => {
    expect(parseViewSpec({ view: 'rollout' }).rolloutCrop).toBe('after');
    expect(parseViewSpec({ view: 'rollout', softmax: 'crop' }).rolloutCrop).toBe('within');
    expect(() => parseViewSpec({ view: 'rollout', softmax: 'crop', rolloutCrop: 'after' })).toThrow(/--rollout-crop after/);
    expect(() => parseViewSpec({ rolloutCrop: 'within' })).toThrow(/--rollout-crop is for --view rollout/);
  });

  it('refuses unknown or repeated options, and bad values, with one bounded line', () => {
    expect(() => parseViewArgs(['--attention', 'a.npy'])).toThrow(ViewError);
    expect(() => parseViewArgs(['--layer', '1', '--layer', '2'])).toThrow(/--layer is given twice/);
    expect(() => parseViewArgs(['--layer'])).toThrow(/--layer needs a value/);
    expect(() => parseViewArgs(['--full=1'])).toThrow(/--full is a switch/);
    expect(() => parseViewArgs(['--clip', '99:1'])).toThrow(/--clip must be LOW:HIGH/);
    expect(() => parseViewArgs(['--color-range', 'each'])).toThrow(/--color-range must be shared or per-map/);
    expect(() => parseViewArgs(['--view', 'pair', '--compare-layer', '1'])).toThrow(/--view pair shows one layer and head/);
    const hostile = `--view=${'\u001b[31m'.repeat(100)}`;
    let message = '';
    try {
      parseViewArgs([hostile]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^--view must be/);
    expect(message).not.toMatch(/[\u0000-\u001f]/);
    expect(message.length).toBeLessThan(200);
  });

  it('lists every ViewSpec field that options set among VIEW_OPTIONS, each flag once', () => {
    const flags = VIEW_OPTIONS.map((option) => option.flag);
    expect(new Set(flags).size).toBe(flags.length);
    const spec: ViewSpec = DEFAULT_VIEW_SPEC;
    for (const field of ['colormap', 'scale', 'clip', 'colorRange', 'smooth', 'softmax', 'roundUp', 'full']) expect(spec).toHaveProperty(field);
  });
});

describe(ignoredViewOptions.name, () => {
  const ignored = (args: string[]) => ignoredViewOptions(viewOptionValues(args), parseViewArgs(args)).map((option) => option.message);

  it('names each option given that has no effect on the view, with why', () => {
    expect(ignored(['--clip', '5:95'])).toEqual(['--clip is ignored: it sets the percentiles that --scale percentile spans, and the scale is linear']);
    expect(ignored(['--pool-stat', 'max'])).toEqual(['--pool-stat is ignored: it says how --view pooled pools, and the view is map']);
    expect(ignored(['--view', 'heads', '--head', '3'])).toEqual(['--head is ignored: --view heads shows every head']);
    expect(ignored(['--view', 'model', '--head', 'mean'])).toEqual(['--head is ignored: --view model shows every head']);
    expect(ignored(['--color-range', 'per-map', '--view', 'rollout'])).toEqual([
      '--color-range is ignored: per-map ranges are for views of several maps (heads, model, pair), and --view rollout draws one',
    ]);
    expect(ignored(['--view', 'rollout', '--full', '--rollout-crop', 'within'])).toEqual(['--rollout-crop is ignored: with --full every frame is shown, so there is no crop']);
    expect(ignored(['--clip', '1:99', '--pool-stat', 'mean'])).toHaveLength(2);
  });

  it('says nothing when every option given applies', () => {
    for (const args of ARG_LISTS) expect(ignored(args), args.join(' ')).toEqual([]);
    expect(ignored(['--head', 'all'])).toEqual([]);
    expect(ignored(['--view', 'pair', '--compare-attention', 'b.npy', '--color-range', 'per-map'])).toEqual([]);
  });
});
