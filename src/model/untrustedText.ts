/**
 * Text from a model's files (tensor names, JSON parser messages that quote the file) goes into one-line error
 * messages; it must not bring control characters or unbounded length to a terminal.
 */

/** `text` with control and non-ASCII characters as '?', cut to `maxLength` characters with '...'. */
export function printable(text: string, maxLength = 120): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > maxLength ? `${clean.slice(0, maxLength - 3)}...` : clean;
}
