/**
 * STEVE's frame and tick model against STEVE itself.
 *
 * tests/fixtures/steve/steve_expected.json was written by make_steve_expected.py, which runs STEVE's own
 * to_model_frames and major_minor_calculator (Python, numpy) on the bundled samples; see that script for how.
 * A few values are also derived by hand from LDC93S1.phn/.wrd below, so the test does not rest on one source.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Alignment } from '../../src/data/alignment.ts';
import { alignmentFromTextGrid } from '../../src/data/alignment.ts';
import {
  chooseSamplesPerFrame,
  roundHalfEven,
  samplesAt16k,
  selectWords,
  toFrameSegments,
  toModelFrame,
} from '../../src/data/frames.ts';
import { parseTextGrid } from '../../src/data/textgrid.ts';
import { parseTimitSegments } from '../../src/data/timit.ts';

const SAMPLES = new URL('../../demo/public/samples/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, SAMPLES));

interface SteveCase {
  name: 'timit' | 'arctic';
  spf: number;
  firstWord: number;
  lastWord: number;
  roundUp: boolean;
  crop: [number, number];
  phones: [string, number, number][];
  majorTicks: [number, string][];
  minorTicksShown: [number, string][];
  allMinorTicks: number[];
  wordFrames: [string, number, number][];
}
const expected = JSON.parse(readFileSync(new URL('../fixtures/steve/steve_expected.json', import.meta.url), 'utf8')) as {
  cases: SteveCase[];
};

function timitAlignment(): Alignment {
  return {
    source: 'timit',
    text: '',
    phones: parseTimitSegments(read('timit/LDC93S1.phn').toString('utf8'), 'LDC93S1.phn'),
    words: parseTimitSegments(read('timit/LDC93S1.wrd').toString('utf8'), 'LDC93S1.wrd'),
  };
}

function arcticAlignment(): Alignment {
  const grid = parseTextGrid(read('arctic/arctic_a0001.TextGrid'), 'arctic_a0001.TextGrid');
  return alignmentFromTextGrid(grid, { phoneTier: 'phones', wordTier: 'words' }, 'arctic_a0001.TextGrid', 62623);
}

describe(roundHalfEven.name, () => {
  it('rounds halves to even as numpy.round does', () => {
    // np.round([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 2.4999, 39.5]) -> [0, 2, 2, 4, -0, -2, 2, 40]
    expect([0.5, 1.5, 2.5, 3.5, -1.5, 2.4999, 39.5].map(roundHalfEven)).toEqual([0, 2, 2, 4, -2, 2, 40]);
    expect(roundHalfEven(-0.5) === 0).toBe(true);
  });
});

describe(toModelFrame.name, () => {
  it('matches frames derived by hand from LDC93S1.wrd at spf 320', () => {
    // "she" 3050-5723: 3050/320 = 9.53 -> 10, 5723/320 = 17.88 -> 18
    expect(toModelFrame(3050, 320)).toBe(10);
    expect(toModelFrame(5723, 320)).toBe(18);
    // "your" starts at 9190: 28.72 -> 29, inside "had" (5723-10337 -> 18..32): TIMIT words overlap
    expect(toModelFrame(9190, 320)).toBe(29);
    expect(toModelFrame(10337, 320)).toBe(32);
    // "d" ends at 12640 = 39.5 frames: half to even -> 40; 12320 = 38.5 -> 38 (Math.round would give 39)
    expect(toModelFrame(12640, 320)).toBe(40);
    expect(toModelFrame(12320, 320)).toBe(38);
  });

  it('rounds up in STEVE ceil mode', () => {
    expect(toModelFrame(3050, 320, true)).toBe(10);
    expect(toModelFrame(5723, 320, true)).toBe(18);
    expect(toModelFrame(3200, 320, true)).toBe(10);
    expect(toModelFrame(3201, 320, true)).toBe(11);
  });
});

describe(chooseSamplesPerFrame.name, () => {
  it('prefers the user, then metadata, then Whisper, then audio length / frames', () => {
    expect(chooseSamplesPerFrame({ userSpf: 400, metadataSpf: 320, frames: 1500 })).toEqual({ samplesPerFrame: 400, source: 'user' });
    expect(chooseSamplesPerFrame({ metadataSpf: 321, frames: 1500 })).toEqual({ samplesPerFrame: 321, source: 'metadata' });
    expect(chooseSamplesPerFrame({ frames: 1500, audioSamples16k: 46797 })).toEqual({ samplesPerFrame: 320, source: 'whisper' });
    expect(chooseSamplesPerFrame({ frames: 146, audioSamples16k: 46797 })).toEqual({
      samplesPerFrame: 46797 / 146,
      source: 'audio',
    });
    expect(chooseSamplesPerFrame({ frames: 146 })).toBeUndefined();
  });

  it('counts 16 kHz samples as librosa.load(sr=16000) returns them', () => {
    expect(samplesAt16k(46797, 16000)).toBe(46797);
    // 172601 samples at 44.1 kHz -> ceil(172601 * 16000 / 44100) = ceil(62621.68) = 62622
    expect(samplesAt16k(172601, 44100)).toBe(62622);
  });
});

describe(selectWords.name, () => {
  it('selects "she" as STEVE does: crop 10..18, phones sh and ix (by hand from the .phn file)', () => {
    const view = selectWords(timitAlignment(), 320, 0, 0);
    expect(view.crop).toEqual({ startFrame: 10, stopFrame: 18, frameCount: 9 });
    expect(view.phones.map((p) => [p.label, p.startFrame, p.stopFrame])).toEqual([
      ['sh', 10, 14], // 3050/320 -> 10, 4559/320 = 14.25 -> 14
      ['ix', 14, 18], // 5723/320 = 17.88 -> 18
    ]);
    // Midway between the edges: sh covers cells 10..13 (edges 10 and 14), ix cells 14..17 (edges 14 and 18).
    expect(view.majorTicks).toEqual([
      { position: 12, label: 'sh', from: 10, to: 14 },
      { position: 16, label: 'ix', from: 14, to: 18 },
    ]);
    expect(view.minorTicks.map((t) => t.label)).toEqual(['h#,sh', 'sh,ix', 'ix,hv']);
  });

  it('rejects a word range outside the alignment', () => {
    expect(() => selectWords(timitAlignment(), 320, 3, 11)).toThrow(RangeError);
    expect(() => selectWords(timitAlignment(), 320, 4, 3)).toThrow(RangeError);
  });

  it.each(expected.cases.map((c, i) => [i, c.name, c.firstWord, c.lastWord, c.spf.toFixed(2), c.roundUp, c] as const))(
    'case %i: %s words %i..%i spf %s roundUp %s matches STEVE',
    (_i, name, _f, _l, _s, _r, steve) => {
      const alignment = name === 'timit' ? timitAlignment() : arcticAlignment();
      const view = selectWords(alignment, steve.spf, steve.firstWord, steve.lastWord, steve.roundUp);
      expect([view.crop.startFrame, view.crop.stopFrame]).toEqual(steve.crop);
      expect(view.phones.map((p) => [p.label, p.startFrame, p.stopFrame])).toEqual(steve.phones);
      expect(view.majorTicks.map((t) => t.label)).toEqual(steve.majorTicks.map(([, label]) => label));
      // STEVE puts a phone label at (a + b) / 2 + 0.5 on our axis (floor((a + b) / 2) + 0.5 for the utterance's
      // last phone); ours sits midway between the phone's edges, half a frame (or up to a frame) earlier.
      // Ticks follow the phones inside the crop, then (STEVE's extra tick) the utterance's last phone.
      const allPhones = toFrameSegments(alignment.phones, steve.spf, steve.roundUp);
      view.majorTicks.forEach((tick, i) => {
        const [stevePosition] = steve.majorTicks[i];
        const phone = i < view.phones.length ? view.phones[i] : allPhones[allPhones.length - 1];
        expect(tick.label.split(' ')[0]).toBe(phone.label);
        expect(tick.position).toBe((phone.startFrame + phone.stopFrame) / 2);
        expect(stevePosition - tick.position === 0.5 || stevePosition - tick.position === 0).toBe(true);
      });
      // STEVE draws boundaries through the middle of the boundary frame (f + 0.5); we draw them on its edge (f).
      expect(view.minorTicks.map((t) => [t.position + 0.5, t.label])).toEqual(steve.minorTicksShown);
      expect(view.phoneBoundaries.map((p) => p + 0.5)).toEqual(steve.allMinorTicks);
      const allWords = selectWords(alignment, steve.spf, 0, alignment.words.length - 1, steve.roundUp).words;
      expect(allWords.map((w) => [w.label, w.startFrame, w.stopFrame])).toEqual(steve.wordFrames);
    },
  );

  it('merges a zero-length phone\'s boundaries into its label, as in "d (dcl,d,ah)"', () => {
    const view = selectWords(timitAlignment(), 320, 1, 3, true);
    expect(view.majorTicks.map((t) => t.label)).toContain('d (dcl,d,ah)');
    expect(view.minorTicks.map((t) => t.label)).not.toContain('dcl,d');
  });
});
