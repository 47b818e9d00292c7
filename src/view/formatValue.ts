/**
 * How the viewer, exported figures and the CLI print a map value: four significant digits, exponent notation for
 * very small or large magnitudes (attention probabilities of long utterances go below 1e-3).
 */

/** A value as colour bars and readouts print it: "0.0123", "1.23e-5", "NaN". */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e4)) return value.toExponential(2);
  return Number(value.toPrecision(4)).toString();
}
