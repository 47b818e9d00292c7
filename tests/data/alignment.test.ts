/**
 * Alignment builders and loadAlignmentForWav against STEVE's own readers: tests/fixtures/textgrid/steve_alignments.json
 * was written by make_steve_alignments.py, which runs STEVE's timitdata_reader and textgrid_reader (with stand-ins for
 * librosa, pandas and textgrids) on the bundled samples, with files left out or cut short.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alignment, Segment } from '../../src/data/alignment.ts';
import {
  alignmentFromTextGrid,
  alignmentFromTimit,
  checkAlignmentFitsAudio,
  segmentEndSec,
  segmentStartSec,
} from '../../src/data/alignment.ts';
import { makeDummyAlignment } from '../../src/data/dummyAlignment.ts';
import { parseTextGrid } from '../../src/data/textgrid.ts';
import { loadAlignmentForWav } from '../../src/node/findAlignments.ts';
import { inputErrorOf } from '../helpers/inputErrors.ts';

const SAMPLES = new URL('../../demo/public/samples/', import.meta.url);
const samplePath = (path: string) => new URL(path, SAMPLES).pathname;
const readSample = (path: string) => readFileSync(new URL(path, SAMPLES), 'utf8');

interface SteveDetail {
  utterance: string[];
  start: number[];
  stop: number[];
}
interface SteveUtterance {
  text: string;
  phones: SteveDetail;
  words: SteveDetail;
}
const steve = JSON.parse(readFileSync(new URL('../fixtures/textgrid/steve_alignments.json', import.meta.url), 'utf8')) as {
  timit: Record<string, SteveUtterance>;
  textgrid: Record<string, SteveUtterance>;
};

/** LDC93S1 is 16 kHz; the 44.1 kHz arctic sample is ceil(172602 * 16000 / 44100) samples at 16 kHz (librosa). */
const TIMIT_SAMPLES_16K = 46797;
const ARCTIC_SAMPLES_16K = 62623;

const asSteve = (segments: readonly Segment[]): SteveDetail => ({
  utterance: segments.map((s) => s.label),
  start: segments.map((s) => s.startSample),
  stop: segments.map((s) => s.endSample),
});

/**
 * Compares with STEVE. Where STEVE's words-from-phones fallback returns one stop too few (it then fails when that
 * word is selected), the stops it does give must match, and ours ends the last word at phone n-2.
 */
function expectSteve(alignment: Alignment, want: SteveUtterance): void {
  expect(alignment.text).toBe(want.text);
  expect(asSteve(alignment.phones)).toEqual(want.phones);
  const words = asSteve(alignment.words);
  expect(words.utterance).toEqual(want.words.utterance);
  expect(words.start).toEqual(want.words.start);
  expect(words.stop.slice(0, want.words.stop.length)).toEqual(want.words.stop);
  if (want.words.stop.length < words.stop.length) {
    expect(words.stop.length - want.words.stop.length).toBe(1);
    expect(words.stop.at(-1)).toBe(alignment.phones.at(-2)!.endSample);
  }
}

const timitTexts = { phn: readSample('timit/LDC93S1.phn'), wrd: readSample('timit/LDC93S1.wrd'), txt: readSample('timit/LDC93S1.txt') };
const timitNames = { phn: 'LDC93S1.phn', wrd: 'LDC93S1.wrd', txt: 'LDC93S1.txt' };
const arcticGrid = () => parseTextGrid(new Uint8Array(readFileSync(new URL('arctic/arctic_a0001.TextGrid', SAMPLES))), 'arctic_a0001.TextGrid');

describe(alignmentFromTimit.name, () => {
  it('reads phones, words and text as timitdata_reader does', () => {
    const alignment = alignmentFromTimit(timitTexts, timitNames, TIMIT_SAMPLES_16K);
    expect(alignment.source).toBe('timit');
    expectSteve(alignment, steve.timit.all);
  });

  it('makes words ts0, ts1, ... from phones when there is no .wrd (37 phones: n % 3 == 1)', () => {
    const alignment = alignmentFromTimit({ phn: timitTexts.phn, txt: timitTexts.txt }, timitNames, TIMIT_SAMPLES_16K);
    expectSteve(alignment, steve.timit.no_wrd);
    expect(alignment.words.at(-1)).toEqual({ label: 'ts11', startSample: 43479, endSample: 44586 });
  });

  it('makes words from 36 and 35 phones, where STEVE leaves the last word without an end', () => {
    const lines = timitTexts.phn.trim().split('\n');
    for (const [name, count] of [['phn36_no_wrd', 36], ['phn35_no_wrd', 35]] as const) {
      const alignment = alignmentFromTimit({ phn: lines.slice(0, count).join('\n') }, timitNames, TIMIT_SAMPLES_16K);
      expect(steve.timit[name].words.stop.length).toBe(steve.timit[name].words.utterance.length - 1);
      expectSteve(alignment, steve.timit[name]);
    }
  });

  it('makes phones 0, 1, ... from words when there is no .phn, overlaps cut back', () => {
    const alignment = alignmentFromTimit({ wrd: timitTexts.wrd, txt: timitTexts.txt }, timitNames, TIMIT_SAMPLES_16K);
    expectSteve(alignment, steve.timit.no_phn);
    // "had" (5723-10337) overlaps "your" (9190-11517): its phone ends where "your" starts.
    expect(alignment.phones[2]).toEqual({ label: '1', startSample: 5723, endSample: 9190 });
    expect(alignment.phones.at(-1)).toEqual({ label: 'h#', startSample: 44586, endSample: TIMIT_SAMPLES_16K });
  });

  it('falls back to the dummy grid without .phn and .wrd', () => {
    const alignment = alignmentFromTimit({}, {}, TIMIT_SAMPLES_16K);
    expect(alignment.source).toBe('dummy');
    expectSteve(alignment, steve.timit.none);
    expect(alignmentFromTimit({ txt: timitTexts.txt }, timitNames, TIMIT_SAMPLES_16K).text).toBe(steve.timit.all.text);
  });

  it('refuses an empty or malformed file, naming it', () => {
    expect(inputErrorOf(() => alignmentFromTimit({ phn: '\n' }, { phn: 'a.phn' }, 100))).toMatchObject({ file: 'a.phn', kind: 'parse' });
    expect(inputErrorOf(() => alignmentFromTimit({ wrd: '0 10\n' }, { wrd: 'a.wrd' }, 100))).toMatchObject({ file: 'a.wrd', line: 1 });
  });
});

describe(alignmentFromTextGrid.name, () => {
  it('reads the phone and word tiers as textgrid_reader does, dropping the empty first and last word', () => {
    const alignment = alignmentFromTextGrid(arcticGrid(), { phoneTier: 'phones', wordTier: 'words' }, 'a.TextGrid', ARCTIC_SAMPLES_16K);
    expect(alignment.source).toBe('textgrid');
    expectSteve(alignment, steve.textgrid.phones_words);
    expect(alignment.words[0]).toEqual({ label: 'author', startSample: 0.03 * 16000, endSample: 0.52 * 16000 });
    expect(alignment.words.filter((w) => w.label === '')).toHaveLength(4); // pauses inside stay, as in STEVE
  });

  it('keeps the float product of seconds and 16000', () => {
    const alignment = alignmentFromTextGrid(arcticGrid(), { phoneTier: 'phones', wordTier: 'words' }, 'a.TextGrid', ARCTIC_SAMPLES_16K);
    expect(alignment.phones.at(-1)!.endSample).toBe(3.9138775510204082 * 16000);
    expect(Number.isInteger(alignment.phones.at(-1)!.endSample)).toBe(false);
  });

  it('falls back as STEVE does: phones from words, words from phones (39 phones), the dummy grid', () => {
    expectSteve(alignmentFromTextGrid(arcticGrid(), { wordTier: 'words' }, 'a.TextGrid', ARCTIC_SAMPLES_16K), steve.textgrid.words_only);
    expectSteve(alignmentFromTextGrid(arcticGrid(), { phoneTier: 'phones' }, 'a.TextGrid', ARCTIC_SAMPLES_16K), steve.textgrid.phones_only);
    expect(alignmentFromTextGrid(arcticGrid(), {}, 'a.TextGrid', ARCTIC_SAMPLES_16K)).toEqual(makeDummyAlignment(ARCTIC_SAMPLES_16K));
  });

  it('takes the text from a text tier: non-empty labels joined by spaces', () => {
    const alignment = alignmentFromTextGrid(arcticGrid(), { phoneTier: 'phones', textTier: 'words' }, 'a.TextGrid', ARCTIC_SAMPLES_16K);
    expect(alignment.text).toBe('author of the danger trail philip steels etc');
    const praatLong = parseTextGrid(new Uint8Array(readFileSync(new URL('../fixtures/textgrid/praat_long.TextGrid', import.meta.url))), 'l');
    expect(alignmentFromTextGrid(praatLong, { wordTier: 'words', textTier: 'bell' }, 'l', 40000).text).toBe('ding');
  });

  it('names the tiers present when a requested tier is missing', () => {
    expect(inputErrorOf(() => alignmentFromTextGrid(arcticGrid(), { phoneTier: 'phone' }, 'a.TextGrid', 1))).toMatchObject({
      kind: 'missing-tier',
      message: 'a.TextGrid: no tier named "phone"; its tiers are "words" (interval), "phones" (interval)',
    });
    expect(inputErrorOf(() => alignmentFromTextGrid(arcticGrid(), { textTier: 'text' }, 'a.TextGrid', 1)).kind).toBe('missing-tier');
    const praatLong = parseTextGrid(new Uint8Array(readFileSync(new URL('../fixtures/textgrid/praat_long.TextGrid', import.meta.url))), 'l');
    expect(inputErrorOf(() => alignmentFromTextGrid(praatLong, { wordTier: 'bell' }, 'l', 1)).reason).toMatch(/"bell" is a point tier/);
  });

  it('refuses a word tier with nothing but silence', () => {
    const grid = { xmin: 0, xmax: 1, tiers: [{ kind: 'interval' as const, name: 'w', xmin: 0, xmax: 1, intervals: [{ xmin: 0, xmax: 1, text: '' }] }] };
    expect(inputErrorOf(() => alignmentFromTextGrid(grid, { wordTier: 'w' }, 'g', 16000)).reason).toBe('tier "w" holds no labelled interval');
  });
});

describe(checkAlignmentFitsAudio.name, () => {
  const timit = alignmentFromTimit(timitTexts, timitNames, TIMIT_SAMPLES_16K);

  it('accepts an alignment inside the audio, or past it by at most 10 ms', () => {
    expect(() => checkAlignmentFitsAudio(timit, TIMIT_SAMPLES_16K / 16000, 'LDC93S1.phn')).not.toThrow();
    expect(() => checkAlignmentFitsAudio(timit, 46720 / 16000 - 0.0099, 'LDC93S1.phn')).not.toThrow();
    expect(() => checkAlignmentFitsAudio(makeDummyAlignment(16000), 1, 'x.wav')).not.toThrow();
  });

  it('says by how much an alignment runs past the audio', () => {
    expect(inputErrorOf(() => checkAlignmentFitsAudio(timit, 2.5, 'LDC93S1.phn'))).toMatchObject({
      kind: 'out-of-range',
      message: 'LDC93S1.phn: phone "h#" ends at 2.920 s, 0.420 s after the audio ends (2.500 s): alignment of another recording?',
    });
    expect(() => checkAlignmentFitsAudio(makeDummyAlignment(16000), 0.9, 'x.wav')).toThrow(/0\.100 s after/);
  });

  it('converts samples to seconds at 16 kHz', () => {
    expect([segmentStartSec(timit.words[1]), segmentEndSec(timit.words[1])]).toEqual([5723 / 16000, 10337 / 16000]);
  });
});

describe(loadAlignmentForWav.name, () => {
  /** A temporary folder with the given sample files copied under new names. */
  function folderWith(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'steve-align-'));
    for (const [name, sample] of Object.entries(files)) copyFileSync(samplePath(sample), join(dir, name));
    return dir;
  }

  it('finds the TIMIT files beside the WAV', async () => {
    const alignment = await loadAlignmentForWav(samplePath('timit/LDC93S1.wav'), { alignments: 'timit', audioSamples16k: TIMIT_SAMPLES_16K });
    expectSteve(alignment, steve.timit.all);
  });

  it('finds upper-case .PHN/.WRD/.TXT as on the TIMIT CD, and given extensions', async () => {
    const dir = folderWith({
      'SA1.WAV': 'timit/LDC93S1.wav',
      'SA1.PHN': 'timit/LDC93S1.phn',
      'SA1.WRD': 'timit/LDC93S1.wrd',
      'SA1.TXT': 'timit/LDC93S1.txt',
      'SA1.phones': 'timit/LDC93S1.phn',
    });
    expectSteve(await loadAlignmentForWav(join(dir, 'SA1.WAV'), { alignments: 'timit', audioSamples16k: TIMIT_SAMPLES_16K }), steve.timit.all);
    const custom = await loadAlignmentForWav(join(dir, 'SA1.WAV'), { alignments: 'timit', phoneTier: 'phones', wordTier: '.words', audioSamples16k: TIMIT_SAMPLES_16K });
    expectSteve(custom, steve.timit.no_wrd);
  });

  it('finds a TextGrid whatever the case of its extension, and a .txt for the text', async () => {
    const dir = folderWith({ 'a1.wav': 'arctic/arctic_a0001.wav', 'a1.textgrid': 'arctic/arctic_a0001.TextGrid' });
    const lookup = { alignments: 'textgrid', phoneTier: 'phones', wordTier: 'words', audioSamples16k: ARCTIC_SAMPLES_16K } as const;
    const alignment = await loadAlignmentForWav(join(dir, 'a1.wav'), lookup);
    expectSteve(alignment, steve.textgrid.phones_words);
    writeFileSync(join(dir, 'a1.txt'), 'Author of the  danger trail\n');
    expect((await loadAlignmentForWav(join(dir, 'a1.wav'), lookup)).text).toBe('Author of the danger trail');
    expect((await loadAlignmentForWav(join(dir, 'a1.wav'), { ...lookup, textTier: 'words' })).text).toBe('author of the danger trail philip steels etc');
  });

  it('refuses a missing TextGrid, and gives the dummy grid for none', async () => {
    const dir = folderWith({ 'b.wav': 'timit/LDC93S1.wav' });
    await expect(loadAlignmentForWav(join(dir, 'b.wav'), { alignments: 'textgrid', audioSamples16k: 100 })).rejects.toMatchObject({
      kind: 'not-found',
      file: join(dir, 'b.TextGrid'),
    });
    expect(await loadAlignmentForWav(join(dir, 'b.wav'), { alignments: 'none', audioSamples16k: TIMIT_SAMPLES_16K })).toEqual(
      makeDummyAlignment(TIMIT_SAMPLES_16K),
    );
  });
});
