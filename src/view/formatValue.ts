/**
 * How the viewer, exported figures and the CLI print a map value: four significant digits, exponent notation for
 * very small or large magnitudes (attention probabilities of long utterances go below 1e-3).
 */

/** Most significant digits a label shows, however close the values it must tell apart. */
const MAX_DIGITS = 9;

/**
 * A value as colour bars and readouts print it: "0.0123", "1.23e-5", "NaN". With `resolution` (the spacing of the
 * values printed beside it, e.g. a colour bar's tick step), as many more digits as that spacing needs: a nearly
 * uniform head spans 6.6700e-4 to 6.6712e-4, whose ticks all print "6.67e-4" with the default digits.
 */
export function formatValue(value: number, resolution?: number): string {
  if (!Number.isFinite(value)) return String(value);
  const exponent = value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e4);
  // Digits from the value's leading one down to the resolution's, and one more.
  const needed = resolution && resolution > 0 && value !== 0 ? Math.floor(Math.log10(Math.abs(value))) - Math.floor(Math.log10(resolution)) + 1 : 0;
  const digits = Math.min(MAX_DIGITS, Math.max(exponent ? 3 : 4, needed));
  if (exponent) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toString();
}
