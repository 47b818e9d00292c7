/**
 * A parser for the small subset of Python literals that .npy headers use:
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 3, 7, 5), }
 * Dicts (string keys), tuples, lists, strings, integers, True, False and None. numpy reads the header with
 * ast.literal_eval; we accept the same literals it writes and refuse anything else with an InputError.
 */
import { InputError } from './inputError.ts';

/** A parsed literal. Dicts become Maps so that a key like '__proto__' is just a key. */
export type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

// A corrupt header like '((((((...' must fail with an InputError, not overflow the stack.
const MAX_DEPTH = 32;

/** Parses `text` as one Python literal, or throws InputError('bad-header') saying where and what was expected. */
export function parsePythonLiteral(text: string, fileName: string): PyValue {
  const parser = new LiteralParser(text, fileName);
  const value = parser.value(0);
  parser.end();
  return value;
}

class LiteralParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly fileName: string,
  ) {}

  value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.refuse(`the header nests more than ${MAX_DEPTH} levels of brackets at character ${this.pos}; numpy writes one dict of flat values`);
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.dict(depth);
    if (c === '(') return this.sequence(')', depth);
    if (c === '[') return this.sequence(']', depth);
    if (c === "'" || c === '"') return this.string();
    if (c !== undefined && /[-+0-9]/.test(c)) return this.integer();
    return this.keyword();
  }

  end(): void {
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('the end of the header');
  }

  private dict(depth: number): Map<string, PyValue> {
    const entries = new Map<string, PyValue>();
    this.pos++; // '{'
    while (!this.closes('}')) {
      const key = this.value(depth + 1);
      if (typeof key !== 'string') this.fail('a string key');
      this.expect(':');
      entries.set(key, this.value(depth + 1));
      if (!this.separator('}')) break;
    }
    this.expect('}');
    return entries;
  }

  private sequence(close: ')' | ']', depth: number): PyValue[] {
    const items: PyValue[] = [];
    this.pos++; // '(' or '['
    while (!this.closes(close)) {
      items.push(this.value(depth + 1));
      if (!this.separator(close)) break;
    }
    this.expect(close);
    return items;
  }

  /** True (without consuming) when the next non-space character is `close`. */
  private closes(close: string): boolean {
    this.skipSpace();
    return this.text[this.pos] === close;
  }

  /** Consumes a ',' and returns true, or returns false when `close` follows instead. */
  private separator(close: string): boolean {
    this.skipSpace();
    if (this.text[this.pos] === ',') {
      this.pos++;
      return true;
    }
    if (this.text[this.pos] !== close) this.fail(`',' or '${close}'`);
    return false;
  }

  private string(): string {
    const quote = this.text[this.pos++];
    let out = '';
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined) this.fail(`a closing ${quote}`);
      if (c === quote) return out;
      out += c === '\\' ? this.escape() : c;
    }
  }

  private escape(): string {
    const c = this.text[this.pos++];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };
    if (c !== undefined && c in simple) return simple[c];
    const digits = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
    const hex = this.text.slice(this.pos, this.pos + digits);
    if (digits === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) this.fail('a valid escape sequence');
    this.pos += digits;
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) this.fail('a valid escape sequence');
    return String.fromCodePoint(code);
  }

  private integer(): number {
    const match = /^[-+]?\d+L?/.exec(this.text.slice(this.pos, this.pos + 40));
    if (!match) this.fail('an integer');
    this.pos += match[0].length;
    // Python 2 wrote long integers with an L suffix; old .npy files can carry it.
    return Number(match[0].replace('L', ''));
  }

  private keyword(): boolean | null {
    for (const [word, value] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail('a dict, tuple, string, integer, True, False or None');
  }

  private expect(c: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== c) this.fail(`'${c}'`);
    this.pos++;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private refuse(reason: string): never {
    throw new InputError(this.fileName, 'bad-header', `.npy header is not a valid Python literal: ${reason}`);
  }

  private fail(expected: string): never {
    const found = this.pos < this.text.length ? JSON.stringify(this.text.slice(this.pos, this.pos + 12)) : 'the end of the header';
    throw new InputError(this.fileName, 'bad-header', `.npy header is not a valid Python literal: expected ${expected} at character ${this.pos}, found ${found}`);
  }
}
