/**
 * parseTextGrid against Praat: tests/fixtures/textgrid/expected.json is what Praat 6.3.07 itself reads from each
 * fixture (report.praat), and the fixtures were written by Praat (make_fixtures.praat) or derived from its files
 * with iconv/sed (generate.sh). The bundled L2-ARCTIC TextGrid is in expected.json too.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TextGrid } from '../../src/data/textgrid.ts';
import { parseTextGrid, parseTextGridText } from '../../src/data/textgrid.ts';
import { inputErrorOf } from '../helpers/inputErrors.ts';

const FIXTURES = new URL('../fixtures/textgrid/', import.meta.url);
const SAMPLES = new URL('../../demo/public/samples/', import.meta.url);

type PraatTier =
  | { kind: 'interval'; name: string; xmin: number; xmax: number; intervals: [number, number, string][] }
  | { kind: 'point'; name: string; xmin: number; xmax: number; points: [number, string][] };
const praat = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as {
  files: Record<string, { xmin: number; xmax: number; tiers: PraatTier[] }>;
};

function bytesOf(name: string): Uint8Array {
  const url = name === 'arctic_a0001.TextGrid' ? new URL('arctic/arctic_a0001.TextGrid', SAMPLES) : new URL(name, FIXTURES);
  return new Uint8Array(readFileSync(url));
}

/** Praat's report in our TextGrid shape. */
function fromPraat(report: { xmin: number; xmax: number; tiers: PraatTier[] }): TextGrid {
  return {
    xmin: report.xmin,
    xmax: report.xmax,
    tiers: report.tiers.map((tier) =>
      tier.kind === 'interval'
        ? { kind: 'interval', name: tier.name, xmin: tier.xmin, xmax: tier.xmax, intervals: tier.intervals.map(([xmin, xmax, text]) => ({ xmin, xmax, text })) }
        : { kind: 'point', name: tier.name, xmin: tier.xmin, xmax: tier.xmax, points: tier.points.map(([time, mark]) => ({ time, mark })) },
    ),
  };
}

const header = 'File type = "ooTextFile"\nObject class = "TextGrid"\n\n';
/** A one-tier short-format grid around the given interval lines. */
const shortGrid = (intervals: string, count = 1) => `${header}0\n1\n<exists>\n1\n"IntervalTier"\n"w"\n0\n1\n${count}\n${intervals}`;

describe(parseTextGrid.name, () => {
  it('has a Praat report for every fixture', () => {
    expect(Object.keys(praat.files).sort()).toEqual([
      'arctic_a0001.TextGrid',
      'derived_ipa_utf16le.TextGrid',
      'derived_long_utf8bom_crlf.TextGrid',
      'derived_quotes_short_crlf.TextGrid',
      'praat_ipa_default.TextGrid',
      'praat_ipa_utf8.TextGrid',
      'praat_long.TextGrid',
      'praat_quotes.TextGrid',
      'praat_quotes_short.TextGrid',
      'praat_short.TextGrid',
    ]);
  });

  for (const [name, report] of Object.entries(praat.files)) {
    it(`reads ${name} as Praat does`, () => {
      expect(parseTextGrid(bytesOf(name), name)).toEqual(fromPraat(report));
    });
  }

  it('has fixtures in the encodings they claim', () => {
    const start = (name: string) => Array.from(bytesOf(name).subarray(0, 4));
    expect(start('praat_ipa_default.TextGrid')).toEqual([0xfe, 0xff, 0x00, 0x46]); // Praat's own choice: UTF-16 BE + BOM
    expect(start('derived_ipa_utf16le.TextGrid')).toEqual([0xff, 0xfe, 0x46, 0x00]);
    expect(start('derived_long_utf8bom_crlf.TextGrid')).toEqual([0xef, 0xbb, 0xbf, 0x46]);
    expect(new TextDecoder().decode(bytesOf('derived_quotes_short_crlf.TextGrid'))).toContain('"line one\r\nline two"');
    expect(new TextDecoder().decode(bytesOf('praat_ipa_utf8.TextGrid'))).toContain('"ʃiː"');
  });

  it('reads Latin-1 when the bytes are not UTF-8', () => {
    const text = new TextEncoder().encode(shortGrid('0\n1\n"caf?"\n'));
    text[text.length - 3] = 0xe9; // é in ISO 8859-1
    const tier = parseTextGrid(text, 'latin1.TextGrid').tiers[0];
    expect(tier.kind === 'interval' && tier.intervals[0].text).toBe('café');
  });

  it('reads <absent> tiers, comments, fractions and old Mac line ends', () => {
    expect(parseTextGridText(`${header}0\n2.5\n<absent>\n`, 'a.TextGrid')).toEqual({ xmin: 0, xmax: 2.5, tiers: [] });
    const grid = parseTextGridText(shortGrid('0 ! the start\n1/3 "x"\n'.replace(/\n/g, '\r')).replace(/\n/g, '\r'), 'mac.TextGrid');
    expect(grid.tiers[0]).toMatchObject({ intervals: [{ xmin: 0, xmax: 1 / 3, text: 'x' }] });
  });

  it('names the line of a string without its closing quote', () => {
    expect(inputErrorOf(() => parseTextGridText(shortGrid('0\n1\n"open\n\n'), 'q.TextGrid'))).toMatchObject({
      kind: 'parse',
      line: 15,
      message: 'q.TextGrid:15: the text ends inside the text of interval 1 of tier "w" (a string without its closing quote)',
    });
  });

  it('refuses an undoubled quote inside a label', () => {
    const error = inputErrorOf(() => parseTextGridText(shortGrid('0\n1\n"say "hi""\n'), 'q.TextGrid'));
    expect(error).toMatchObject({ kind: 'parse', line: 15 });
    expect(error.reason).toMatch(/character "h" after the closing quote/);
  });

  it('names the line where the text ends early', () => {
    expect(inputErrorOf(() => parseTextGridText(shortGrid('0\n1\n"a"\n', 2), 'e.TextGrid'))).toMatchObject({
      line: 16,
      reason: 'the text ends where the xmin of interval 2 of tier "w" was expected',
    });
  });

  it('refuses a string where a number belongs, and a number where a string belongs', () => {
    expect(inputErrorOf(() => parseTextGridText(shortGrid('"0"\n1\n"a"\n'), 'e.TextGrid'))).toMatchObject({
      line: 13,
      reason: 'expected the xmin of interval 1 of tier "w", found a string',
    });
    expect(inputErrorOf(() => parseTextGridText(`${header}0\n1\n<exists>\n1\n5\n`, 'e.TextGrid')).reason).toBe(
      'expected the class of tier 1, found a number',
    );
  });

  it('refuses malformed numbers, non-finite times and reversed intervals', () => {
    expect(inputErrorOf(() => parseTextGridText(shortGrid('0\n1.2.3\n"a"\n'), 'n.TextGrid')).reason).toBe(
      'expected the xmax of interval 1 of tier "w" as a number, found "1.2.3"',
    );
    expect(inputErrorOf(() => parseTextGridText(shortGrid('0\n1e999\n"a"\n'), 'n.TextGrid'))).toMatchObject({ kind: 'non-finite', line: 14 });
    expect(inputErrorOf(() => parseTextGridText(shortGrid('0.5\n0.25\n"a"\n'), 'n.TextGrid')).reason).toBe(
      'interval 1 of tier "w" ends (0.25) before it starts (0.5)',
    );
    expect(inputErrorOf(() => parseTextGridText(`${header}0\n1\n<exists>\n-2\n`, 'n.TextGrid')).reason).toMatch(/whole number >= 0/);
  });

  it('says what other Praat files are', () => {
    expect(inputErrorOf(() => parseTextGridText('ooBinaryFile\x08TextGrid', 'b.TextGrid')).reason).toMatch(/binary Praat file/);
    expect(inputErrorOf(() => parseTextGridText('"Praat chronological TextGrid text file"\n0 1', 'c.TextGrid')).reason).toMatch(
      /chronological/,
    );
    expect(inputErrorOf(() => parseTextGridText('File type = "ooTextFile"\nObject class = "Sound 2"\n', 's.TextGrid'))).toMatchObject({
      line: 2,
      reason: 'expected Object class = "TextGrid", found "Sound 2"',
    });
    expect(inputErrorOf(() => parseTextGridText('', 'empty.TextGrid'))).toMatchObject({ kind: 'parse', line: 1 });
    expect(inputErrorOf(() => parseTextGridText(`${header}0\n1\n<exists>\n1\n"PitchTier"\n`, 'p.TextGrid')).reason).toMatch(
      /expected class "IntervalTier" or "TextTier"/,
    );
  });

  it('refuses bytes that are not what their byte-order mark announces', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(shortGrid('0\n1\n"a\n')), 0xff, 0xfe, 0x22, 0x0a]);
    expect(inputErrorOf(() => parseTextGrid(bytes, 'u.TextGrid'))).toMatchObject({ kind: 'parse', line: 16 });
  });
});
