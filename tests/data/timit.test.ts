/** TIMIT .phn/.wrd/.txt readers on the bundled LDC93S1 sample and on broken variants. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTimitSegments, parseTimitText } from '../../src/data/timit.ts';
import { inputErrorOf } from '../helpers/inputErrors.ts';

const SAMPLES = new URL('../../demo/public/samples/timit/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, SAMPLES), 'utf8');

describe(parseTimitSegments.name, () => {
  it('reads the 37 phones of LDC93S1.phn', () => {
    const phones = parseTimitSegments(read('LDC93S1.phn'), 'LDC93S1.phn');
    expect(phones).toHaveLength(37);
    expect(phones[0]).toEqual({ label: 'h#', startSample: 0, endSample: 3050 });
    expect(phones[1]).toEqual({ label: 'sh', startSample: 3050, endSample: 4559 });
    expect(phones[36]).toEqual({ label: 'h#', startSample: 44586, endSample: 46720 });
  });

  it('keeps overlapping words as given', () => {
    const words = parseTimitSegments(read('LDC93S1.wrd'), 'LDC93S1.wrd');
    expect(words.map((w) => w.label)).toEqual(['she', 'had', 'your', 'dark', 'suit', 'in', 'greasy', 'wash', 'water', 'all', 'year']);
    expect(words[1]).toEqual({ label: 'had', startSample: 5723, endSample: 10337 });
    expect(words[2]).toEqual({ label: 'your', startSample: 9190, endSample: 11517 });
  });

  it('accepts CRLF, tabs, a BOM and blank lines', () => {
    expect(parseTimitSegments('\ufeff0\t10 h#\r\n\r\n  10   20\tsh  \r\n', 'x.phn')).toEqual([
      { label: 'h#', startSample: 0, endSample: 10 },
      { label: 'sh', startSample: 10, endSample: 20 },
    ]);
    expect(parseTimitSegments('', 'empty.phn')).toEqual([]);
  });

  it('names the line of a malformed segment', () => {
    expect(inputErrorOf(() => parseTimitSegments('0 10 h#\n10 20\n', 'x.phn'))).toMatchObject({
      kind: 'parse',
      line: 2,
      message: 'x.phn:2: expected "start end label", found 2 field(s): "10 20"',
    });
    expect(inputErrorOf(() => parseTimitSegments('0 10 h#\n\n10.5 20 sh\n', 'x.phn'))).toMatchObject({
      line: 3,
      reason: 'the start "10.5" is not a sample index (a whole number >= 0)',
    });
    expect(inputErrorOf(() => parseTimitSegments('0 -3 h#\n', 'x.phn')).reason).toMatch(/the end "-3"/);
    expect(inputErrorOf(() => parseTimitSegments('0 10 a b\n', 'x.wrd')).reason).toMatch(/found 4 field/);
    expect(inputErrorOf(() => parseTimitSegments('20 10 sh\n', 'x.phn')).reason).toBe('segment "sh" ends (10) before it starts (20)');
  });
});

describe(parseTimitText.name, () => {
  it('reads LDC93S1.txt', () => {
    expect(parseTimitText(read('LDC93S1.txt'), 'LDC93S1.txt')).toEqual({
      startSample: 0,
      endSample: 46797,
      text: 'She had your dark suit in greasy wash water all year.',
    });
  });

  it('collapses whitespace and reads only the first non-blank line, as STEVE does', () => {
    expect(parseTimitText('\n0 100   Hello,\t world.  \nsecond line\n', 'x.txt')).toEqual({ startSample: 0, endSample: 100, text: 'Hello, world.' });
    expect(parseTimitText('0 100\n', 'x.txt').text).toBe('');
  });

  it('names the line of a malformed text file', () => {
    expect(inputErrorOf(() => parseTimitText('  \n', 'x.txt'))).toMatchObject({ kind: 'parse', line: 1 });
    expect(inputErrorOf(() => parseTimitText('\nShe had your dark suit\n', 'x.txt'))).toMatchObject({
      line: 2,
      reason: 'the start "She" is not a sample index (a whole number >= 0)',
    });
    expect(inputErrorOf(() => parseTimitText('12\n', 'x.txt')).reason).toMatch(/expected "start end sentence"/);
  });
});
