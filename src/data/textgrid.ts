/**
 * Praat TextGrid reader: the long ("ooTextFile" with labelled fields) and the short text format.
 *
 * Both formats are read the way Praat reads them (sys/abcio.cpp): the reader asks for the next real number, integer,
 * string or <flag>, and skips every whitespace-separated word that cannot start the token it wants. So the labels of
 * the long format ("xmin =", "intervals [3]:") are skipped, and the short format is simply the same tokens without
 * labels. A `!` outside a string starts a comment that runs to the end of the line. Strings are in double quotes,
 * a doubled quote "" inside stands for one quote, and they may run over several lines.
 */
import { InputError } from './inputError.ts';

/** One interval of an interval tier; times in seconds. */
export interface TextGridInterval {
  readonly xmin: number;
  readonly xmax: number;
  readonly text: string;
}

/** One point of a point tier ("TextTier" in Praat); time in seconds. */
export interface TextGridPoint {
  readonly time: number;
  readonly mark: string;
}

/** An interval tier ("IntervalTier"). */
export interface TextGridIntervalTier {
  readonly kind: 'interval';
  readonly name: string;
  readonly xmin: number;
  readonly xmax: number;
  readonly intervals: readonly TextGridInterval[];
}

/** A point tier ("TextTier"). */
export interface TextGridPointTier {
  readonly kind: 'point';
  readonly name: string;
  readonly xmin: number;
  readonly xmax: number;
  readonly points: readonly TextGridPoint[];
}

/** A tier of either kind. */
export type TextGridTier = TextGridIntervalTier | TextGridPointTier;

/** A whole TextGrid; times in seconds. */
export interface TextGrid {
  readonly xmin: number;
  readonly xmax: number;
  readonly tiers: readonly TextGridTier[];
}

/**
 * Parses a TextGrid file's bytes: UTF-8 (with or without BOM), UTF-16 LE or BE (with BOM, as Praat writes it
 * when a label is not ASCII), or Latin-1 when the bytes are not valid UTF-8. Throws InputError 'parse' with the
 * 1-based line number when the text does not parse.
 */
export function parseTextGrid(bytes: Uint8Array, fileName: string): TextGrid {
  return parseTextGridText(decodeTextGridBytes(bytes, fileName), fileName);
}

/** Parses a TextGrid that is already text (line ends CRLF, CR or LF). Throws InputError 'parse' with the line. */
export function parseTextGridText(text: string, fileName: string): TextGrid {
  // Praat reads a CRLF inside a multi-line label as LF (checked with Praat 6.3.07), so normalise all line ends first.
  const reader = new PraatTextReader(text.replace(/\r\n?/g, '\n'), fileName);
  readHeader(reader);
  const xmin = reader.real('the TextGrid xmin');
  const xmax = reader.real('the TextGrid xmax');
  reader.checkOrder(xmin, xmax, 'the TextGrid');
  const tiers: TextGridTier[] = [];
  if (reader.flag('<exists> or <absent> (tiers?)') === 'exists') {
    const tierCount = reader.count('the number of tiers');
    for (let t = 1; t <= tierCount; t++) tiers.push(readTier(reader, t));
  }
  return { xmin, xmax, tiers };
}

/** The text of a TextGrid file: by its BOM, else UTF-8, else Latin-1 (Praat 6.3 reads a non-UTF-8 file as Latin-1 too). */
function decodeTextGridBytes(bytes: Uint8Array, fileName: string): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return decodeStrict('utf-8', bytes.subarray(3), fileName);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decodeStrict('utf-16le', bytes.subarray(2), fileName);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeStrict('utf-16le', swapBytePairs(bytes.subarray(2)), fileName);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

/** Decodes, and names the line of the first byte sequence that is not valid in the encoding its BOM announced. */
function decodeStrict(encoding: 'utf-8' | 'utf-16le', bytes: Uint8Array, fileName: string): string {
  const text = new TextDecoder(encoding).decode(bytes);
  const bad = text.indexOf('\ufffd');
  if (bad >= 0 && !hasReplacementCharacter(encoding, bytes)) {
    throw new InputError(fileName, 'parse', `the bytes are not valid ${encoding.toUpperCase()} text as its byte-order mark announces`, lineAt(text, bad));
  }
  return text;
}

/** True when U+FFFD was really written in the file (then a decoded U+FFFD is no decoding error). */
function hasReplacementCharacter(encoding: 'utf-8' | 'utf-16le', bytes: Uint8Array): boolean {
  try {
    new TextDecoder(encoding, { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** UTF-16 BE to LE: TextDecoder('utf-16be') needs full ICU in Node, LE is always there. An odd last byte stays. */
function swapBytePairs(bytes: Uint8Array): Uint8Array {
  const swapped = new Uint8Array(bytes.length);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    swapped[i] = bytes[i + 1];
    swapped[i + 1] = bytes[i];
  }
  if (bytes.length % 2) swapped[bytes.length - 1] = bytes[bytes.length - 1];
  return swapped;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** File type = "ooTextFile", Object class = "TextGrid"; other Praat formats get a message saying what they are. */
function readHeader(reader: PraatTextReader): void {
  const head = reader.peekStart(40);
  if (head.startsWith('ooBinaryFile')) reader.fail('this is a binary Praat file; save the TextGrid as a text file');
  if (head.includes('chronological')) reader.fail('this is a chronological TextGrid; save it as a (short) text file');
  const fileType = reader.string('File type = "ooTextFile"');
  if (fileType !== 'ooTextFile' && fileType !== 'ooTextFile short') reader.fail(`expected File type = "ooTextFile", found "${fileType}"`);
  const objectClass = reader.string('Object class = "TextGrid"');
  if (objectClass !== 'TextGrid') reader.fail(`expected Object class = "TextGrid", found "${objectClass}"`);
}

function readTier(reader: PraatTextReader, tierNumber: number): TextGridTier {
  const tierClass = reader.string(`the class of tier ${tierNumber}`);
  if (tierClass !== 'IntervalTier' && tierClass !== 'TextTier') {
    reader.fail(`tier ${tierNumber}: expected class "IntervalTier" or "TextTier", found "${tierClass}"`);
  }
  const name = reader.string(`the name of tier ${tierNumber}`);
  const xmin = reader.real(`the xmin of tier "${name}"`);
  const xmax = reader.real(`the xmax of tier "${name}"`);
  reader.checkOrder(xmin, xmax, `tier "${name}"`);
  const size = reader.count(`the number of ${tierClass === 'IntervalTier' ? 'intervals' : 'points'} of tier "${name}"`);
  if (tierClass === 'TextTier') return { kind: 'point', name, xmin, xmax, points: readPoints(reader, name, size) };
  return { kind: 'interval', name, xmin, xmax, intervals: readIntervals(reader, name, size) };
}

/** How far an interval may start before the previous one ends and still count as its neighbour: rounding. */
const OVERLAP_TOLERANCE_SEC = 1e-6;

function readIntervals(reader: PraatTextReader, tierName: string, size: number): TextGridInterval[] {
  const intervals: TextGridInterval[] = [];
  for (let i = 1; i <= size; i++) {
    const what = `interval ${i} of tier "${tierName}"`;
    const xmin = reader.real(`the xmin of ${what}`);
    const previous = intervals[intervals.length - 1];
    // Praat's interval tiers tile time in order; one that starts inside (or before) the last would give phones that
    // overlap or run backwards. Aligners' rounding (a microsecond) is let through.
    if (previous && xmin < previous.xmax - OVERLAP_TOLERANCE_SEC) {
      reader.fail(`${what} starts at ${xmin} s, before interval ${i - 1} ends (${previous.xmax} s): intervals of a tier must be in time order and must not overlap`);
    }
    const xmax = reader.real(`the xmax of ${what}`);
    reader.checkOrder(xmin, xmax, what);
    intervals.push({ xmin, xmax, text: reader.string(`the text of ${what}`) });
  }
  return intervals;
}

function readPoints(reader: PraatTextReader, tierName: string, size: number): TextGridPoint[] {
  const points: TextGridPoint[] = [];
  for (let i = 1; i <= size; i++) {
    const what = `point ${i} of tier "${tierName}"`;
    const time = reader.real(`the time of ${what}`);
    points.push({ time, mark: reader.string(`the mark of ${what}`) });
  }
  return points;
}

type TokenKind = 'number' | 'string' | 'flag';

const isSpace = (c: string): boolean => c === ' ' || c === '\n' || c === '\t' || c === '\r';
const startsNumber = (c: string): boolean => c === '-' || c === '+' || (c >= '0' && c <= '9');
const REAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/**
 * Praat's text reader over one string: each read skips what cannot start the wanted token and fails on a token of
 * another kind, as Praat does ("Found a string while looking for a real number").
 */
class PraatTextReader {
  private position = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly fileName: string,
  ) {}

  /** The first characters after leading whitespace, to recognise other Praat formats before reading. */
  peekStart(length: number): string {
    return this.text.trimStart().slice(0, length);
  }

  fail(reason: string): never {
    throw new InputError(this.fileName, 'parse', reason, this.line);
  }

  /** Praat requires xmin <= xmax everywhere; a reversed pair would give negative durations downstream. */
  checkOrder(xmin: number, xmax: number, what: string): void {
    if (!(xmin <= xmax)) this.fail(`${what} ends (${xmax}) before it starts (${xmin})`);
  }

  real(what: string): number {
    const word = this.seek('number', what);
    const value = parseRealWord(word);
    if (value === undefined) this.fail(`expected ${what} as a number, found "${word}"`);
    if (!Number.isFinite(value)) throw new InputError(this.fileName, 'non-finite', `${what} is ${word}, not a finite number`, this.line);
    return value;
  }

  /** A non-negative integer such as a tier or interval count. */
  count(what: string): number {
    const word = this.seek('number', what);
    const value = INTEGER.test(word) ? Number(word) : NaN;
    if (!(Number.isSafeInteger(value) && value >= 0)) this.fail(`expected ${what} as a whole number >= 0, found "${word}"`);
    return value;
  }

  string(what: string): string {
    this.seek('string', what);
    return this.readQuoted(what);
  }

  flag(what: string): string {
    this.seek('flag', what);
    const close = this.text.indexOf('>', this.position);
    const value = close < 0 ? '' : this.text.slice(this.position, close);
    if (close < 0 || /\s/.test(value)) this.fail(`expected ${what}, found an unclosed "<"`);
    this.position = close + 1;
    if (value !== 'exists' && value !== 'absent') this.fail(`expected ${what}, found <${value}>`);
    return value;
  }

  /**
   * Moves to the start of the next token of `kind`, skipping comments and words that cannot start any token.
   * For a number, returns the whole word; for a string or flag, leaves the position after the opening character.
   */
  private seek(kind: TokenKind, what: string): string {
    for (;;) {
      this.skipSpace();
      if (this.position >= this.text.length) this.fail(`the text ends where ${what} was expected`);
      const c = this.text[this.position];
      if (c === '!') {
        this.skipComment();
        continue;
      }
      const found: TokenKind | undefined = c === '"' ? 'string' : c === '<' ? 'flag' : startsNumber(c) ? 'number' : undefined;
      if (found === undefined) {
        this.skipWord();
        continue;
      }
      if (found !== kind) this.fail(`expected ${what}, found a ${found === 'flag' ? '<flag>' : found}`);
      if (kind === 'number') return this.readWord();
      this.position++;
      return '';
    }
  }

  private readQuoted(what: string): string {
    let value = '';
    for (;;) {
      const close = this.text.indexOf('"', this.position);
      if (close < 0) this.fail(`the text ends inside ${what} (a string without its closing quote)`);
      value += this.advanceTo(close);
      this.position = close + 1;
      if (this.text[this.position] === '"') {
        // "" inside a string is one quote character.
        value += '"';
        this.position++;
        continue;
      }
      const next = this.text[this.position];
      if (next !== undefined && !isSpace(next)) this.fail(`character "${next}" after the closing quote of ${what} (an undoubled quote?)`);
      return value;
    }
  }

  /** Returns text[position, end) and counts the line ends it passes. */
  private advanceTo(end: number): string {
    const chunk = this.text.slice(this.position, end);
    for (let i = 0; i < chunk.length; i++) if (chunk.charCodeAt(i) === 10) this.line++;
    this.position = end;
    return chunk;
  }

  private skipSpace(): void {
    while (this.position < this.text.length && isSpace(this.text[this.position])) {
      if (this.text[this.position] === '\n') this.line++;
      this.position++;
    }
  }

  private skipComment(): void {
    const end = this.text.indexOf('\n', this.position);
    this.position = end < 0 ? this.text.length : end;
  }

  private skipWord(): void {
    while (this.position < this.text.length && !isSpace(this.text[this.position])) this.position++;
  }

  private readWord(): string {
    const start = this.position;
    this.skipWord();
    return this.text.slice(start, this.position);
  }
}

/** A decimal number, or a fraction a/b as Praat also accepts; undefined for anything else. */
function parseRealWord(word: string): number | undefined {
  if (REAL.test(word)) return Number(word);
  const slash = word.indexOf('/');
  if (slash < 0) return undefined;
  const numerator = word.slice(0, slash);
  const denominator = word.slice(slash + 1);
  if (!REAL.test(numerator) || !REAL.test(denominator) || Number(denominator) === 0) return undefined;
  return Number(numerator) / Number(denominator);
}
