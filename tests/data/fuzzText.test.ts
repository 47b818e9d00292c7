/**
 * Random and corrupted input for the readers: each must either return or throw InputError (never another
 * exception, never hang). Inputs are random bytes, fixtures cut short and overwritten at random places, and soups
 * of format tokens that get deep into the parsers.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignmentFromTextGrid } from '../../src/data/alignment.ts';
import { InputError } from '../../src/data/inputError.ts';
import { parseTextGrid, parseTextGridText } from '../../src/data/textgrid.ts';
import { parseTimitSegments, parseTimitText } from '../../src/data/timit.ts';
import { parseWav } from '../../src/data/wav.ts';

const NUM_RUNS = 300;
const fixture = (path: string) => new Uint8Array(readFileSync(new URL(`../${path}`, import.meta.url)));

/** Runs `parse`; an InputError is an accepted outcome, anything else thrown fails the property. */
function onlyInputError(parse: () => unknown): true {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
  }
  return true;
}

/** A fixture cut at a random length with up to 8 random bytes overwritten. */
function corrupted(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc
    .record({
      cut: fc.nat({ max: bytes.length }),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    })
    .map(({ cut, edits }) => {
      const copy = bytes.slice(0, cut);
      for (const [position, value] of edits) if (copy.length > 0) copy[position % copy.length] = value;
      return copy;
    });
}

const TEXTGRID_TOKENS = [
  'File type = "ooTextFile"\n',
  'Object class = "TextGrid"\n',
  'xmin = ', '0', '1.5', '-3', '1/3', '1/0', '1e999', '.5', '+', '<exists>', '<absent>', '<ex', '"IntervalTier"', '"TextTier"',
  '"a""b"', '"', '""', '!', '! comment\n', '\n', ' ', '\t', '\r\n', '\r', 'intervals [1]:', 'size = 2', '999999999999', 'é', '\u0000',
];
const textGridSoup = fc
  .tuple(fc.boolean(), fc.array(fc.constantFrom(...TEXTGRID_TOKENS), { maxLength: 80 }))
  .map(([withHeader, tokens]) => (withHeader ? 'File type = "ooTextFile"\nObject class = "TextGrid"\n' : '') + tokens.join(' '));

const TIMIT_TOKENS = ['0', '3050', '-1', '1.5', 'h#', 'sh', ' ', '\t', '\n', '\r\n', '99999999999999999999', 'NaN', '\ufeff'];
const timitSoup = fc.array(fc.constantFrom(...TIMIT_TOKENS), { maxLength: 60 }).map((tokens) => tokens.join(''));

describe('fuzz: parseTextGrid', () => {
  const fixtures = [
    fixture('fixtures/textgrid/praat_long.TextGrid'),
    fixture('fixtures/textgrid/praat_short.TextGrid'),
    fixture('fixtures/textgrid/praat_ipa_default.TextGrid'),
    fixture('fixtures/textgrid/praat_quotes.TextGrid'),
  ];

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => onlyInputError(() => parseTextGrid(bytes, 'r.TextGrid'))), { numRuns: NUM_RUNS });
  });

  it('corrupted Praat files, and alignments built from what still parses', () => {
    for (const bytes of fixtures) {
      fc.assert(
        fc.property(corrupted(bytes), (broken) =>
          onlyInputError(() => {
            const grid = parseTextGrid(broken, 'c.TextGrid');
            const names = grid.tiers.map((tier) => tier.name);
            return alignmentFromTextGrid(grid, { phoneTier: names[1], wordTier: names[0] }, 'c.TextGrid', 40000);
          }),
        ),
        { numRuns: NUM_RUNS },
      );
    }
  });

  it('token soups', () => {
    fc.assert(fc.property(textGridSoup, (text) => onlyInputError(() => parseTextGridText(text, 's.TextGrid'))), { numRuns: NUM_RUNS * 3 });
  });

  it('reports a line number inside the text for every parse error', () => {
    fc.assert(
      fc.property(textGridSoup, (text) => {
        try {
          parseTextGridText(text, 's.TextGrid');
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          expect(error.line).toBeGreaterThanOrEqual(1);
          expect(error.line).toBeLessThanOrEqual(text.split(/\r\n|\r|\n/).length);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('fuzz: TIMIT readers', () => {
  const phn = new TextDecoder().decode(fixture('../demo/public/samples/timit/LDC93S1.phn'));

  it('random text and token soups', () => {
    const text = fc.oneof(fc.string({ maxLength: 200 }), timitSoup);
    fc.assert(
      fc.property(text, (t) => onlyInputError(() => parseTimitSegments(t, 'r.phn')) && onlyInputError(() => parseTimitText(t, 'r.txt'))),
      { numRuns: NUM_RUNS },
    );
  });

  it('corrupted LDC93S1.phn', () => {
    const bytes = new TextEncoder().encode(phn);
    fc.assert(fc.property(corrupted(bytes), (b) => onlyInputError(() => parseTimitSegments(new TextDecoder().decode(b), 'c.phn'))), {
      numRuns: NUM_RUNS,
    });
  });

});

describe('fuzz: parseWav', () => {
  it('random bytes, with and without a RIFF/WAVE header', () => {
    const riff = new TextEncoder().encode('RIFF\0\0\0\0WAVE');
    const bytes = fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 300 })).map(([header, body]) => (header ? new Uint8Array([...riff, ...body]) : body));
    fc.assert(fc.property(bytes, (b) => onlyInputError(() => parseWav(b, 'r.wav'))), { numRuns: NUM_RUNS });
  });

  it('corrupted fixtures of every sample format', () => {
    for (const name of ['pcm_u8_8k_odd.wav', 'pcm_s24_22k_odd_ext.wav', 'float32_16k_ext.wav', 'float64_16k.wav', 'pcm_s16_16k_rifx.wav']) {
      const bytes = fixture(`fixtures/audio/${name}`);
      // Most edits land in the samples; keep a few runs with all edits in the 80-byte header area.
      const headerEdits = fc
        .array(fc.tuple(fc.nat({ max: 79 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })
        .map((edits) => {
          const copy = bytes.slice();
          for (const [position, value] of edits) copy[position] = value;
          return copy;
        });
      fc.assert(fc.property(fc.oneof(corrupted(bytes), headerEdits), (b) => onlyInputError(() => parseWav(b, name))), { numRuns: NUM_RUNS });
    }
  });
});
