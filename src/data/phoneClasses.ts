/**
 * STEVE's phone tables (resources/phonemapsat*.csv): the phonetic class of each TIMIT phone, and how the 61 TIMIT
 * phones fold into the 49- and 40-phone sets. Both files are comma-separated with a header row, start with a UTF-8
 * BOM, end lines with CRLF, and write "NAN" where a feature does not apply (place of articulation for a vowel, ...).
 */
import { InputError } from './inputError.ts';

/** Consonant, vowel or silence/closure, as in STEVE's "cat" column. */
export type PhoneCategory = 'con' | 'vow' | 'sil';

/**
 * The features of one phone as numeric codes from STEVE's table (null where the table says NAN). Columns are taken
 * by their header names. (STEVE's own DataFrame lists "height" before "back" and fills it by position, so its
 * "height" column holds the table's backness and its "back" the height; the values here follow the file's header.)
 */
export interface PhoneClass {
  readonly category: PhoneCategory;
  readonly placeOfArticulation: number | null;
  readonly mannerOfArticulation: number | null;
  readonly voicing: number | null;
  readonly backness: number | null;
  readonly height: number | null;
  readonly rounding: number | null;
}

/** A 61-set TIMIT phone's folded forms. */
export interface PhoneFolding {
  readonly phone49: string;
  readonly phone40: string;
  readonly category: PhoneCategory;
}

const CLASS_COLUMNS = ['phone', 'cat', 'poa', 'moa', 'voicing', 'back', 'height', 'rounding'] as const;
const FOLDING_COLUMNS = ['phone61', 'phone49', 'phone40', 'cat'] as const;
const CATEGORIES: readonly string[] = ['con', 'vow', 'sil'];

/**
 * Parses phonemapsat.csv into phone -> class. Throws InputError 'parse' with the line for a missing column,
 * an unknown category, a value that is neither a number nor NAN, or a phone listed twice.
 */
export function parsePhoneClasses(csvText: string, fileName: string): Map<string, PhoneClass> {
  const table = readCsv(csvText, fileName, CLASS_COLUMNS);
  const classes = new Map<string, PhoneClass>();
  for (const row of table) {
    const feature = (column: (typeof CLASS_COLUMNS)[number]) => parseFeature(row.get(column), column, fileName, row.line);
    addOnce(classes, row.get('phone'), fileName, row.line, {
      category: parseCategory(row.get('cat'), fileName, row.line),
      placeOfArticulation: feature('poa'),
      mannerOfArticulation: feature('moa'),
      voicing: feature('voicing'),
      backness: feature('back'),
      height: feature('height'),
      rounding: feature('rounding'),
    });
  }
  return classes;
}

/** Parses phonemapsat_60_49_40.csv into phone61 -> {phone49, phone40, category}. Throws InputError 'parse' with the line. */
export function parsePhoneFolding(csvText: string, fileName: string): Map<string, PhoneFolding> {
  const table = readCsv(csvText, fileName, FOLDING_COLUMNS);
  const folding = new Map<string, PhoneFolding>();
  for (const row of table) {
    addOnce(folding, row.get('phone61'), fileName, row.line, {
      phone49: row.get('phone49'),
      phone40: row.get('phone40'),
      category: parseCategory(row.get('cat'), fileName, row.line),
    });
  }
  return folding;
}

/**
 * The class of a phone label as an aligner may write it: as given, else lower-cased, else lower-cased without an
 * ARPAbet stress digit (L2-ARCTIC's "AH0", "EY1" -> "ah", "ey"). Undefined for labels the table lacks ("sp", "").
 */
export function lookupPhoneClass(classes: ReadonlyMap<string, PhoneClass>, label: string): PhoneClass | undefined {
  const lower = label.toLowerCase();
  return classes.get(label) ?? classes.get(lower) ?? classes.get(lower.replace(/^([a-z]+)[012]$/, '$1'));
}

interface CsvRow {
  readonly line: number;
  get(column: string): string;
}

/** Rows of a comma-separated table whose header holds at least `columns` (BOM, CRLF and blank lines allowed). */
function readCsv(csvText: string, fileName: string, columns: readonly string[]): CsvRow[] {
  const lines = csvText.replace(/^\ufeff/, '').split(/\r\n|\r|\n/);
  const headerIndex = lines.findIndex((line) => line.trim() !== '');
  if (headerIndex < 0) throw new InputError(fileName, 'parse', `the file is empty; expected a header with ${columns.join(',')}`, 1);
  const header = lines[headerIndex].split(',').map((name) => name.trim());
  const positions = new Map(header.map((name, i) => [name, i]));
  const missing = columns.filter((column) => !positions.has(column));
  if (missing.length > 0) {
    throw new InputError(fileName, 'parse', `the header lacks column(s) ${missing.join(', ')} (found ${header.join(',')})`, headerIndex + 1);
  }
  const rows: CsvRow[] = [];
  lines.forEach((text, index) => {
    if (index <= headerIndex || text.trim() === '') return;
    const cells = text.split(',').map((cell) => cell.trim());
    const line = index + 1;
    if (cells.length !== header.length) {
      throw new InputError(fileName, 'parse', `expected ${header.length} comma-separated values, found ${cells.length}`, line);
    }
    rows.push({ line, get: (column) => cells[positions.get(column)!] });
  });
  return rows;
}

function parseCategory(cell: string, fileName: string, line: number): PhoneCategory {
  if (!CATEGORIES.includes(cell)) throw new InputError(fileName, 'parse', `category "${cell}" is not one of ${CATEGORIES.join(', ')}`, line);
  return cell as PhoneCategory;
}

function parseFeature(cell: string, column: string, fileName: string, line: number): number | null {
  if (cell.toUpperCase() === 'NAN') return null;
  const value = /^[+-]?\d+(\.\d+)?$/.test(cell) ? Number(cell) : NaN;
  if (Number.isNaN(value)) throw new InputError(fileName, 'parse', `${column} "${cell}" is neither a number nor NAN`, line);
  return value;
}

function addOnce<T>(map: Map<string, T>, key: string, fileName: string, line: number, value: T): void {
  if (key === '') throw new InputError(fileName, 'parse', 'a row without a phone', line);
  if (map.has(key)) throw new InputError(fileName, 'parse', `phone "${key}" is listed twice`, line);
  map.set(key, value);
}
