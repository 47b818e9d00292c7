import { describe, expect, it } from 'vitest';
import { layoutAxisLabels } from '../../src/view/axisLabels.ts';
import { groupFiles } from '../../src/data/fileGroups.ts';

describe(layoutAxisLabels.name, () => {
  const layout = (pxPerFrame: number) => ({
    toPx: (position: number) => position * pxPerFrame,
    startPx: 0,
    endPx: 1000,
    labelSpan: (text: string) => text.length * 8,
    gapPx: 2,
  });
  const majors = [
    { position: 2.5, label: 'sh' },
    { position: 6.5, label: 'ix' },
    { position: 10.5, label: 'hv' },
  ];
  const minors = [
    { position: 4.5, label: 'sh,ix' },
    { position: 8.5, label: 'ix,hv' },
  ];

  it('shows every label when zoomed in far enough', () => {
    expect(layoutAxisLabels(majors, minors, layout(40)).map((l) => l.text)).toEqual(['sh', 'sh,ix', 'ix', 'ix,hv', 'hv']);
  });

  it('drops boundary labels before phone labels as the view zooms out, and never overlaps', () => {
    const placed = layoutAxisLabels(majors, minors, layout(8));
    expect(placed.map((l) => l.text)).toEqual(['sh', 'ix', 'hv']);
    for (let i = 1; i < placed.length; i++) {
      expect(placed[i].px - placed[i - 1].px).toBeGreaterThanOrEqual((placed[i].text.length + placed[i - 1].text.length) * 4);
    }
  });

  it('leaves out labels outside the visible range', () => {
    expect(layoutAxisLabels(majors, minors, { ...layout(40), startPx: 200 }).map((l) => l.text)).toEqual(['ix', 'ix,hv', 'hv']);
  });

  it('keeps naming a segment the zoom cut through: its label moves into the part still in view', () => {
    // "sh" spans frames 0..5 (0..200 px at 40 px per frame); its centre (100 px) is out of a view from 160 px.
    const spans = [{ position: 2.5, label: 'sh', from: 0, to: 5 }, { position: 6.5, label: 'ix', from: 5, to: 8 }];
    const placed = layoutAxisLabels(spans, [], { ...layout(40), startPx: 160, endPx: 300 });
    // "ix" (200..320 px) is cut by the view's end at 300 too: centred on its part in view, 200..300.
    expect(placed.map((l) => [l.text, l.px])).toEqual([['sh', 180], ['ix', 250]]);
    // A segment wholly out of view stays out; without its extent a label out of view stays out too.
    expect(layoutAxisLabels(spans, [], { ...layout(40), startPx: 220, endPx: 300 }).map((l) => l.text)).toEqual(['ix']);
    expect(layoutAxisLabels([{ position: 2.5, label: 'sh' }], [], { ...layout(40), startPx: 160, endPx: 300 })).toEqual([]);
  });
});

describe(groupFiles.name, () => {
  const files = (...names: string[]) => names.map((name) => ({ name }));

  it('pairs WAVs with their attention and alignment files by stem', () => {
    const { groups, unmatched } = groupFiles(
      files('LDC93S1.wav', 'LDC93S1.PHN', 'LDC93S1.wrd', 'LDC93S1_whisper.npy', 'arctic_a0001.wav', 'arctic_a0001.TextGrid', 'arctic_a0001.safetensors'),
    );
    expect(unmatched).toEqual([]);
    expect(groups.map((g) => [g.stem, g.wav?.name, g.attention?.name, Object.keys(g.alignments).sort()])).toEqual([
      ['LDC93S1', 'LDC93S1.wav', 'LDC93S1_whisper.npy', ['phn', 'wrd']],
      ['arctic_a0001', 'arctic_a0001.wav', 'arctic_a0001.safetensors', ['textgrid']],
    ]);
  });

  it('gives a tensor to the WAV with the longest matching stem', () => {
    const { groups } = groupFiles(files('a1.wav', 'a10.wav', 'a10_attn.npy', 'a1_attn.npy'));
    expect(groups.map((g) => [g.stem, g.attention?.name])).toEqual([
      ['a1', 'a1_attn.npy'],
      ['a10', 'a10_attn.npy'],
    ]);
  });

  it('pairs one WAV and one tensor whatever their names, and reports what fits nowhere', () => {
    const { groups, unmatched } = groupFiles(files('speech.wav', 'attn.npz', 'notes.pdf', 'other.TextGrid'));
    expect(groups.map((g) => [g.wav?.name, g.attention?.name])).toEqual([['speech.wav', 'attn.npz']]);
    expect(unmatched.map((u) => u.file.name)).toEqual(['notes.pdf', 'other.TextGrid']);
  });

  it('keeps a tensor without audio as its own utterance', () => {
    const { groups } = groupFiles(files('whisper_large.npy'));
    expect(groups.map((g) => [g.stem, g.wav, g.attention?.name])).toEqual([['whisper_large', undefined, 'whisper_large.npy']]);
  });
});
