/** Option value parsers for Commander: a bad value is a usage error that names the value. */
import { InvalidArgumentError } from 'commander';

/** Parses a positive number option ("--spf 320"), or says what was wrong with it. */
export function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return number;
}

/**
 * A parser of whole numbers from `min` to `max` ("--size 640"): a value outside is refused with the range, as a
 * usage error (exit 2), rather than drawing a figure too small to read or too large to render.
 */
export function integerInRange(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || number < min || number > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got "${value}"`);
    }
    return number;
  };
}

/** Appends each use of a repeatable option ("--wav a.wav --wav b.wav"). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Appends each use of a repeatable positive number option ("--spf 320 --spf 318.5"). */
export function collectPositiveNumbers(value: string, previous: number[]): number[] {
  return [...previous, parsePositiveNumber(value)];
}
