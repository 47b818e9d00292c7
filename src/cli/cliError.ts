/** A usage error on the command line (a bad option value, an out-of-range layer): printed as one line, exit 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
