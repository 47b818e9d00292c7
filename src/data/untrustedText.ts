/**
 * Text that came from a file, made safe to show: every message that quotes a file's bytes (names, strings, header
 * values) goes through here, so that an ESC cannot retitle or repaint the user's terminal, a 200 KB dtype string
 * is not echoed back whole, and a structure nested 10 000 deep is described, not recursed into.
 */

/**
 * Characters a terminal or a page would act on rather than show: C0 and C1 controls, DEL, the Unicode line and
 * paragraph separators, and the bidirectional overrides and isolates (which can make a name read backwards).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character written as an escape (\n, \t, \x1b, \u202e): one printable line. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** `text` cut to `max` characters (whole code points), saying how much was left out; control characters escaped. */
export function boundText(text: string, max = 80): string {
  const points = text.length > max ? Array.from(text.slice(0, max + 1)) : undefined;
  const cut = points && points.length > max ? `${points.slice(0, max).join('')}… (${text.length} characters in all)` : text;
  return escapeControl(cut);
}

/** `text` from a file, in single quotes, bounded and escaped: for names in messages ('layer_0', 'h#'). */
export function quoteUntrusted(text: string, max = 80): string {
  return `'${boundText(text, max)}'`;
}

/** The first `max` items, each quoted, then how many more: "'a', 'b', 'c' and 9997 more". */
export function listUntrusted(items: readonly string[], max = 8): string {
  const shown = items.slice(0, max).map((item) => quoteUntrusted(item, 40)).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/**
 * A short rendering of a value parsed from untrusted JSON (or a Python literal), like JSON.stringify but never
 * deeper than `depth` levels (deeper arrays and objects are "[...]" and "{...}"), never more than `max` characters,
 * and never recursing into what it does not print: a 10 000-deep array costs `depth` steps.
 */
export function describeUntrusted(value: unknown, max = 80, depth = 3): string {
  return boundText(render(value, depth, max + 1), max);
}

function render(value: unknown, depth: number, budget: number): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > budget ? value.slice(0, budget) : value);
  if (value instanceof Map) value = Object.fromEntries([...value.entries()].slice(0, 16));
  if (Array.isArray(value)) {
    if (depth <= 0) return '[...]';
    const parts: string[] = [];
    for (let i = 0, length = 2; i < value.length && length < budget; i++) {
      parts.push(render(value[i], depth - 1, budget - length));
      length += parts[parts.length - 1].length + 1;
    }
    return `[${parts.join(',')}${parts.length < value.length ? ',...' : ''}]`;
  }
  if (typeof value === 'object') {
    if (depth <= 0) return '{...}';
    const entries = Object.entries(value as Record<string, unknown>);
    const parts: string[] = [];
    for (let i = 0, length = 2; i < entries.length && length < budget; i++) {
      parts.push(`${JSON.stringify(entries[i][0].slice(0, budget))}:${render(entries[i][1], depth - 1, budget - length)}`);
      length += parts[parts.length - 1].length + 1;
    }
    return `{${parts.join(',')}${parts.length < entries.length ? ',...' : ''}}`;
  }
  return typeof value;
}

/** JSON text with the control characters JSON.stringify leaves raw (DEL, C1, separators, bidi) as \u escapes. */
export function escapeControlInJson(json: string): string {
  return json.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
