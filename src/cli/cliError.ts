import { boundText } from '../data/untrustedText.ts';

/**
 * A usage error on the command line (a bad option value, an out-of-range layer): printed as one line, exit 1. Option
 * values and file names are echoed in it, so it is bounded and its control characters escaped like an InputError.
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(message: string) {
    super(boundText(message, 1400));
  }
}
