import { boundText } from '../data/untrustedText.ts';

/**
 * An error on the command line (a bad option value, an out-of-range layer): printed as one line. Option values and
 * file names are echoed in it, so it is bounded and its control characters escaped like an InputError.
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  /**
   * `exitCode` 2: the option's value is wrong whatever the files hold (as for the usage errors Commander finds);
   * 1: the options do not fit the input (a layer out of range, an output path that cannot be written).
   */
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(boundText(message, 1400));
  }
}

/** A warning on stderr: one line, "steve: " first, bounded and with control characters escaped (it quotes file names). */
export function warnLine(line: string): void {
  process.stderr.write(`steve: ${boundText(line, 1400)}\n`);
}
