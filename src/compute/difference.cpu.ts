/**
 * Reference for DifferencePass, written for clarity: JavaScript subtraction is IEEE 754 subtraction.
 */

/** minuend[i] - subtrahend[i] for every i. Precondition: equal lengths. */
export function differenceCpu(minuend: ArrayLike<number>, subtrahend: ArrayLike<number>): Float64Array {
  if (minuend.length !== subtrahend.length) {
    throw new RangeError(`differenceCpu: ${minuend.length} values minus ${subtrahend.length} values`);
  }
  const output = new Float64Array(minuend.length);
  for (let index = 0; index < output.length; index++) output[index] = minuend[index] - subtrahend[index];
  return output;
}
