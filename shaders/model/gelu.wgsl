// GELU in the exact erf form, gelu(x) = x * Phi(x) = 0.5 * x * erfc(-x / sqrt(2)), shared by the model kernels.
// WGSL has no erf. erfc uses the Chebyshev-fitted form of Numerical Recipes (erfcc, fractional error below 1.2e-7
// for every argument), so the GELU is as good as f32 arithmetic allows. Writing it through erfc rather than 1 + erf
// keeps the negative tail (where 1 + erf cancels) accurate to the same relative error.
// The tanh approximation that some models use differs from this by up to ~5e-4: models in STEVE (Whisper,
// wav2vec 2.0, HuBERT with hidden_act "gelu") use the erf form.

const ACTIVATION_NONE: u32 = 0u;
const ACTIVATION_GELU: u32 = 1u;
const ACTIVATION_GELU_TANH: u32 = 2u;

fn erfcApprox(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let tail = t * exp(-z * z + poly);
  return select(2.0 - tail, tail, x >= 0.0);
}

fn geluErf(x: f32) -> f32 {
  return 0.5 * x * erfcApprox(-x * 0.70710678118654752);
}

// torch's GELU(approximate='tanh'). No supported model uses it; tests run an encoder with it to show that the
// comparison with the reference would catch the wrong GELU.
fn geluTanh(x: f32) -> f32 {
  return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

// Applies `activation` (ACTIVATION_*) to a value.
fn activate(x: f32, activation: u32) -> f32 {
  if (activation == ACTIVATION_GELU) {
    return geluErf(x);
  }
  if (activation == ACTIVATION_GELU_TANH) {
    return geluTanh(x);
  }
  return x;
}
