/**
 * Issue 11, item 7: what the messages about bad input name and refuse. The right file is blamed (the WAV for a dummy
 * grid that cannot be made, the .phn or TextGrid for segments past the audio), an absurd spf is refused instead of
 * squeezing the audio into less than a frame, and a TextGrid tier whose intervals go back in time or overlap is
 * refused at its line.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { openAttention } from '../../src/data/openAttention.ts';
import { parseTextGridText } from '../../src/data/textgrid.ts';
import { assembleUtterance } from '../../src/data/utterance.ts';
import { parseWav } from '../../src/data/wav.ts';
import { loadAlignmentForWav } from '../../src/node/findAlignments.ts';
import { loadUtterance } from '../../src/node/loadUtterance.ts';
import { expectInputError, inputErrorOf } from '../helpers/inputErrors.ts';
import { makeSafetensors } from '../helpers/tensorFixtures.ts';

const TIMIT = new URL('../../demo/public/samples/timit/', import.meta.url);
const TIMIT_WAV = new URL('LDC93S1.wav', TIMIT).pathname;
const SOFTMAXED = new URL('../fixtures/cli/timit_softmaxed_f16.npy', import.meta.url).pathname;

/** A folder holding the TIMIT sample's WAV (and tensor) as x.wav, plus `files` (name -> text). */
function timitFolder(files: Record<string, string>): string {
  const folder = mkdtempSync(join(tmpdir(), 'steve-blame-'));
  copyFileSync(TIMIT_WAV, join(folder, 'x.wav'));
  copyFileSync(SOFTMAXED, join(folder, 'x.npy'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(folder, name), text);
  return folder;
}

describe('the right file is named', () => {
  it('a .phn running past the audio is blamed on the .phn, a .wrd on the .wrd', async () => {
    const phones = readFileSync(new URL('LDC93S1.phn', TIMIT), 'utf8');
    const words = readFileSync(new URL('LDC93S1.wrd', TIMIT), 'utf8');
    const long = timitFolder({ 'x.phn': `${phones}46797 99999 h#\n`, 'x.wrd': words });
    await expectInputError(loadUtterance({ attention: join(long, 'x.npy'), wav: join(long, 'x.wav'), alignments: 'timit' }), 'out-of-range', new RegExp(`^${join(long, 'x.phn')}: phone "h#" ends at 6\\.250 s`));
    const longWords = timitFolder({ 'x.phn': phones, 'x.wrd': `${words}40000 99999 late\n` });
    await expectInputError(loadUtterance({ attention: join(longWords, 'x.npy'), wav: join(longWords, 'x.wav'), alignments: 'timit' }), 'out-of-range', new RegExp(`^${join(longWords, 'x.wrd')}: word "late" ends`));
  });

  it('a dummy grid the audio is too short for is blamed on the WAV, with or without TIMIT files', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'steve-short-'));
    const wav = join(folder, 'short.wav');
    writeFileSync(wav, readFileSync(TIMIT_WAV).subarray(0, 44 + 2000));
    for (const alignments of ['none', 'timit'] as const) {
      await expectInputError(loadAlignmentForWav(wav, { alignments, audioSamples16k: 1000 }), 'out-of-range', new RegExp(`^${wav}: the audio is 1000 samples at 16 kHz; dummy words need more than`));
    }
  });
});

describe('spf that cannot fit', () => {
  const audio = { audio: parseWav(new Uint8Array(readFileSync(TIMIT_WAV)), 'LDC93S1.wav'), fileName: 'LDC93S1.wav' };
  const tensor = (metadata: Record<string, string>) =>
    openAttention(makeMemorySource('a.safetensors', makeSafetensors({ __metadata__: metadata, a: { dtype: 'F32', shape: [1, 1, 1, 4, 4], data_offsets: [0, 64] } }, new Uint8Array(64))));

  it('--spf 1e300 is refused, not turned into a 1 x 1 map', async () => {
    await expectInputError(assembleUtterance({ name: 'x', attention: await tensor({}), audio, userSpf: 1e300 }), 'mismatch', /^LDC93S1\.wav: spf 1e\+300 given with --spf makes the 46797 samples of LDC93S1\.wav less than one frame/);
  });

  it('an spf in the file\'s metadata that leaves less than a frame of audio blames the tensor', async () => {
    await expectInputError(assembleUtterance({ name: 'x', attention: await tensor({ spf: '1e12' }), audio }), 'mismatch', /^a\.safetensors: spf 1000000000000 from a\.safetensors makes/);
  });
});

describe('TextGrid tiers out of order', () => {
  const header = 'File type = "ooTextFile"\nObject class = "TextGrid"\n\n';
  const grid = (intervals: string, count: number) => `${header}0\n1\n<exists>\n1\n"IntervalTier"\n"w"\n0\n1\n${count}\n${intervals}`;

  it('an interval that starts before the previous one ends is refused at its line', () => {
    const overlapping = inputErrorOf(() => parseTextGridText(grid('0\n0.5\n"a"\n0.4\n1\n"b"\n', 2), 'o.TextGrid'));
    expect(overlapping.kind).toBe('parse');
    expect(overlapping.line).toBe(16);
    expect(overlapping.message).toBe('o.TextGrid:16: interval 2 of tier "w" starts at 0.4 s, before interval 1 ends (0.5 s): intervals of a tier must be in time order and must not overlap');
    const backwards = inputErrorOf(() => parseTextGridText(grid('0.5\n1\n"a"\n0\n0.5\n"b"\n', 2), 'b.TextGrid'));
    expect(backwards.line).toBe(16);
  });

  it('neighbours that meet, up to rounding, are fine', () => {
    const parsed = parseTextGridText(grid('0\n0.5\n"a"\n0.4999999999\n1\n"b"\n', 2), 'ok.TextGrid');
    expect(parsed.tiers[0].kind === 'interval' && parsed.tiers[0].intervals.map((i) => i.text)).toEqual(['a', 'b']);
  });
});
