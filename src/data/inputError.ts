/**
 * The one error type for bad input files. Every reader throws it (never a bare Error, never a crash)
 * so the UI and the CLI can print one clear line that names the file, what was expected and what was found.
 */
import { boundText } from './untrustedText.ts';

/** What went wrong, as a closed set so callers (and tests) can branch on it. */
export type InputErrorKind =
  | 'truncated' // the bytes end before the header or the data it announces
  | 'bad-header' // a header that does not parse, or claims impossible sizes
  | 'unsupported-dtype' // a dtype we do not read
  | 'unsupported-layout' // a shape that is not one of the known attention layouts, or Fortran order, ...
  | 'non-finite' // NaN or Inf where a finite number is required
  | 'parse' // a text format that does not parse (message carries the line number)
  | 'missing-tier' // a TextGrid without the requested tier
  | 'out-of-range' // times or indices outside what the audio or tensor allows
  | 'mismatch' // two inputs that do not fit each other (frames vs audio, ...)
  | 'not-found'; // a file that does not exist

// A message is one line for a person to read: file names and reasons are cut well before they would flood a terminal.
const MAX_FILE_CHARS = 400;
const MAX_REASON_CHARS = 1000;

export class InputError extends Error {
  override readonly name = 'InputError';
  /** What was expected and what was found, without the file name; control characters escaped, length bounded. */
  readonly reason: string;

  constructor(
    /** The file's name as the user gave it (path or File.name). */
    readonly file: string,
    readonly kind: InputErrorKind,
    reason: string,
    /** 1-based line number for text formats, when known. */
    readonly line?: number,
  ) {
    // Readers quote what they found in the file; whatever slipped through unbounded or unescaped stops here.
    const safeReason = boundText(reason, MAX_REASON_CHARS);
    super(`${boundText(file, MAX_FILE_CHARS)}${line !== undefined ? `:${line}` : ''}: ${safeReason}`);
    this.reason = safeReason;
  }
}

/** Throws an InputError unless `condition` holds. The reason is built lazily: it is only needed on failure. */
export function check(
  condition: unknown,
  file: string,
  kind: InputErrorKind,
  reason: () => string,
  line?: number,
): asserts condition {
  if (!condition) throw new InputError(file, kind, reason(), line);
}
