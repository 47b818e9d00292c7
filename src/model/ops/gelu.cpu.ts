/**
 * GELU references in float64: the exact erf form that Whisper and wav2vec 2.0 use, and the tanh approximation
 * they do not (kept so tests can show the kernels would notice the difference).
 */

/** erf(x) to about 1e-15: Maclaurin series below |x| = 2.5, Laplace's continued fraction for erfc above. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = Math.abs(x);
  if (z < 2.5) {
    // erf(z) = 2/sqrt(pi) * sum (-1)^n z^(2n+1) / (n! (2n+1))
    let term = z;
    let sum = z;
    for (let n = 1; n < 80; n++) {
      term *= (-z * z) / n;
      const next = term / (2 * n + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (z > 6) return Math.sign(x);
  // erfc(z) = exp(-z^2)/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...))))), evaluated from the tail.
  let fraction = z;
  for (let n = 120; n >= 1; n--) fraction = z + n / 2 / fraction;
  const erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / fraction;
  return Math.sign(x) * (1 - erfc);
}

/** gelu(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), torch's nn.GELU() (approximate='none'). */
export function geluCpu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** torch's GELU(approximate='tanh'): not what these models use. */
export function geluTanhCpu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

export type ActivationCpu = 'none' | 'gelu' | 'gelu-tanh';

export function activateCpu(x: number, activation: ActivationCpu): number {
  return activation === 'gelu' ? geluCpu(x) : activation === 'gelu-tanh' ? geluTanhCpu(x) : x;
}
