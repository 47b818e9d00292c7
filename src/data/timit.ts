/**
 * TIMIT alignment files: .phn and .wrd hold one segment per line, `start end label`, start and end being sample
 * indices at 16 kHz; .txt holds the first and last sample of the utterance, then the sentence.
 * STEVE reads them with pandas (read_csv(sep='\s+') and read_fwf); these readers accept what that accepts for
 * well-formed files and name the line of anything else.
 */
import type { Segment } from './segment.ts';
import { InputError } from './inputError.ts';

const SAMPLE_INDEX = /^\d+$/;

/**
 * Parses a .phn or .wrd file into segments, in file order. Overlapping segments are kept as given (TIMIT's
 * LDC93S1.wrd has "had" 5723-10337 and "your" 9190-11517). Blank lines are skipped, as pandas does.
 * Throws InputError 'parse' with the line for a line that is not two whole numbers and a label, or ends before it starts.
 */
export function parseTimitSegments(text: string, fileName: string): Segment[] {
  const segments: Segment[] = [];
  splitLines(text).forEach((line, index) => {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === '') return;
    const lineNumber = index + 1;
    if (fields.length !== 3) {
      throw new InputError(fileName, 'parse', `expected "start end label", found ${fields.length} field(s): "${line.trim()}"`, lineNumber);
    }
    const [start, end, label] = fields;
    const startSample = parseSampleIndex(start, 'start', fileName, lineNumber);
    const endSample = parseSampleIndex(end, 'end', fileName, lineNumber);
    if (endSample < startSample) {
      throw new InputError(fileName, 'parse', `segment "${label}" ends (${endSample}) before it starts (${startSample})`, lineNumber);
    }
    segments.push({ label, startSample, endSample });
  });
  return segments;
}

/** A TIMIT .txt file: the utterance's first and last sample index and its sentence. */
export interface TimitText {
  readonly startSample: number;
  readonly endSample: number;
  readonly text: string;
}

/**
 * Parses a .txt file. Only the first non-blank line counts (STEVE reads row 0); runs of whitespace in the sentence
 * become single spaces, as STEVE's `' '.join(read_fwf(...).loc[0][2:])` gives. Throws InputError 'parse' with the line.
 */
export function parseTimitText(text: string, fileName: string): TimitText {
  const lines = splitLines(text);
  const index = lines.findIndex((line) => line.trim() !== '');
  if (index < 0) throw new InputError(fileName, 'parse', 'the file is empty; expected "start end sentence"', 1);
  const fields = lines[index].trim().split(/\s+/);
  if (fields.length < 2) {
    throw new InputError(fileName, 'parse', `expected "start end sentence", found "${lines[index].trim()}"`, index + 1);
  }
  return {
    startSample: parseSampleIndex(fields[0], 'start', fileName, index + 1),
    endSample: parseSampleIndex(fields[1], 'end', fileName, index + 1),
    text: fields.slice(2).join(' '),
  };
}

function splitLines(text: string): string[] {
  return text.replace(/^\ufeff/, '').split(/\r\n|\r|\n/);
}

function parseSampleIndex(field: string, what: string, fileName: string, line: number): number {
  const value = SAMPLE_INDEX.test(field) ? Number(field) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new InputError(fileName, 'parse', `the ${what} "${field}" is not a sample index (a whole number >= 0)`, line);
  }
  return value;
}
