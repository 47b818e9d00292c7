/**
 * makeDummyAlignment against STEVE's own generate_audio_details (numpy's arange and astype(int)), run by
 * tests/fixtures/textgrid/make_steve_alignments.py for several audio lengths.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Segment } from '../../src/data/alignment.ts';
import { DUMMY_PHONE_SAMPLES, DUMMY_WORD_SAMPLES, makeDummyAlignment, numpyArangeToInt } from '../../src/data/dummyAlignment.ts';
import { InputError } from '../../src/data/inputError.ts';

interface SteveDetail {
  utterance: string[];
  start: number[];
  stop: number[];
}
const steve = JSON.parse(readFileSync(new URL('../fixtures/textgrid/steve_alignments.json', import.meta.url), 'utf8')) as {
  dummy: Record<string, { phones: SteveDetail; words: SteveDetail }>;
};

const asSteve = (segments: readonly Segment[]): SteveDetail => ({
  utterance: segments.map((s) => s.label),
  start: segments.map((s) => s.startSample),
  stop: segments.map((s) => s.endSample),
});

describe(makeDummyAlignment.name, () => {
  it('uses exact steps: 16000 * (0.04 * 5) and 16000 * 0.04 are 3200 and 640 in float64', () => {
    expect([DUMMY_WORD_SAMPLES, DUMMY_PHONE_SAMPLES]).toEqual([3200, 640]);
  });

  for (const [length, want] of Object.entries(steve.dummy)) {
    if (want.words.utterance.length === 0) continue;
    it(`matches STEVE for ${length} samples`, () => {
      const alignment = makeDummyAlignment(Number(length));
      expect(alignment.source).toBe('dummy');
      expect(alignment.text).toBe('');
      expect(asSteve(alignment.words)).toEqual(want.words);
      expect(asSteve(alignment.phones)).toEqual(want.phones);
    });
  }

  it('lays out 46797 samples (LDC93S1) as 14 words of 5 phones, the last one shorter', () => {
    const { words, phones } = makeDummyAlignment(46797);
    expect(words.map((w) => w.label).slice(0, 3)).toEqual(['t0', 't1', 't2']);
    expect(words[13]).toEqual({ label: 't13', startSample: 42400, endSample: 47597 });
    expect(phones[0]).toEqual({ label: 'h#', startSample: 0, endSample: 800 });
    expect(phones.at(-1)).toEqual({ label: 'h#', startSample: 47597, endSample: 48397 });
    expect(phones.at(-2)).toEqual({ label: '73', startSample: 47520, endSample: 47597 });
  });

  it('refuses audio too short for one word, where STEVE makes none', () => {
    expect(steve.dummy['2400'].words.utterance).toEqual([]);
    expect(() => makeDummyAlignment(2400, 'short.wav')).toThrow(InputError);
    expect(() => makeDummyAlignment(2400, 'short.wav')).toThrow(/short.wav: the audio is 2400 samples at 16 kHz/);
    expect(makeDummyAlignment(2401).words).toHaveLength(1);
  });
});

describe(numpyArangeToInt.name, () => {
  it('follows np.arange(start, stop, step).astype(int)', () => {
    // np.arange(800, 4001, 3200.0).astype(int) -> [800, 4000]; np.arange(0, 1, 0.3).astype(int) -> [0, 0, 0, 0]
    expect(numpyArangeToInt(800, 4001, 3200)).toEqual([800, 4000]);
    expect(numpyArangeToInt(0, 1, 0.3)).toEqual([0, 0, 0, 0]);
    // np.arange(-1, 1, 0.5).astype(int) -> [-1, 0, 0, 0] (truncation toward zero)
    expect(numpyArangeToInt(-1, 1, 0.5)).toEqual([-1, 0, 0, 0]);
    expect(numpyArangeToInt(5, 5, 1)).toEqual([]);
  });
});
