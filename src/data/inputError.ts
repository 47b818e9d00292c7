/**
 * The one error type for bad input files. Every reader throws it (never a bare Error, never a crash)
 * so the UI and the CLI can print one clear line that names the file, what was expected and what was found.
 */

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

export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    /** The file's name as the user gave it (path or File.name). */
    readonly file: string,
    readonly kind: InputErrorKind,
    /** What was expected and what was found, without the file name. */
    readonly reason: string,
    /** 1-based line number for text formats, when known. */
    readonly line?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${reason}`);
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
