/**
 * Audio as the encoders take it: mono (src/data/wav.ts mixes the channels down), at the model's rate (16 kHz),
 * and for wav2vec 2.0 / HuBERT with do_normalize, at zero mean and unit variance.
 *
 * The resampler is a polyphase windowed-sinc filter, the same computation as scipy.signal.resample_poly given our
 * filter (tests/model/audio.test.ts checks it against scipy to 1e-6): for rates in the ratio up/down (reduced),
 * the low-pass is an ideal sinc with its cutoff at the lower of the two Nyquist frequencies, 32 zero crossings
 * either side, under a Kaiser window with beta 8.6. So the stopband is at least ~86 dB down and the transition
 * band spans about +-8.5 % of the cutoff (for 44.1 kHz -> 16 kHz: flat to ~7.3 kHz, -86 dB from ~8.7 kHz).
 * librosa's default (soxr "hq") is sharper; for attention maps the difference is far below anything visible.
 */
import type { ModelConfig } from './config.ts';

/** The rate every supported encoder was trained at. */
export const MODEL_SAMPLE_RATE = 16000;

/** Zero crossings of the sinc kept on each side of the centre tap. */
export const RESAMPLER_ZERO_CROSSINGS = 32;
/** Kaiser window shape: ~86 dB stopband (Kaiser's formula A = beta / 0.1102 + 8.7). */
export const RESAMPLER_KAISER_BETA = 8.6;

/** Audio ready for an encoder, and what was done to it. */
export interface ModelAudio {
  /** Mono samples at sampleRate (for wav2vec 2.0 with do_normalize: zero mean, unit variance). */
  readonly samples: Float32Array;
  readonly sampleRate: number;
  /** The file's rate before resampling. */
  readonly sourceRate: number;
  readonly normalized: boolean;
}

/**
 * Mono samples at `sourceRate` -> what `config`'s encoder reads: resampled to the feature extractor's rate, then
 * (wav2vec 2.0 / HuBERT with do_normalize) normalised. Whisper's padding and log-mel happen in whisperFeatures.ts.
 */
export function prepareModelAudio(samples: Float32Array, sourceRate: number, config: ModelConfig): ModelAudio {
  const sampleRate = config.features.samplingRate;
  let resampled = resample(samples, sourceRate, sampleRate);
  const normalized = config.family === 'wav2vec2' && config.features.doNormalize;
  if (normalized) resampled = normalizeZeroMeanUnitVariance(resampled, config.features.normalizeEps);
  return { samples: resampled, sampleRate, sourceRate, normalized };
}

/**
 * (x - mean) / sqrt(variance + eps) over the whole utterance, with the population variance: Wav2Vec2FeatureExtractor's
 * zero_mean_unit_var_norm (eps 1e-7). Sums in float64.
 */
export function normalizeZeroMeanUnitVariance(samples: Float32Array, eps = 1e-7): Float32Array {
  const n = samples.length;
  if (n === 0) return new Float32Array(0);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += samples[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (samples[i] - mean) ** 2;
  const scale = 1 / Math.sqrt(squares / n + eps);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (samples[i] - mean) * scale;
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Output length of resample: ceil(n x up / down), as resample_poly gives. */
export function resampledLength(inputLength: number, fromRate: number, toRate: number): number {
  const divisor = gcd(fromRate, toRate);
  const [up, down] = [toRate / divisor, fromRate / divisor];
  return Math.ceil((inputLength * up) / down);
}

/**
 * Resamples from `fromRate` to `toRate` (positive integers in Hz) with the polyphase Kaiser-windowed sinc described
 * above; returns the input unchanged when the rates are equal. Output sample m stands at input time m x down / up
 * exactly (no delay), and the signal is taken as zero outside the input.
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!Number.isSafeInteger(fromRate) || !Number.isSafeInteger(toRate) || fromRate <= 0 || toRate <= 0) {
    throw new RangeError(`resample: rates must be positive integers, got ${fromRate} and ${toRate}`);
  }
  if (fromRate === toRate) return samples;
  const divisor = gcd(fromRate, toRate);
  const [up, down] = [toRate / divisor, fromRate / divisor];
  const filter = resamplingFilter(up, down);
  const halfLength = (filter.length - 1) / 2;
  const inputLength = samples.length;
  const out = new Float32Array(resampledLength(inputLength, fromRate, toRate));
  for (let m = 0; m < out.length; m++) {
    // y[m] = sum over n of x[n] h[halfLength + m down - n up], for the n where that index lies in the filter.
    const centre = m * down;
    const first = Math.max(0, Math.ceil((centre - halfLength) / up));
    const last = Math.min(inputLength - 1, Math.floor((centre + halfLength) / up));
    let sum = 0;
    for (let n = first, tap = halfLength + centre - first * up; n <= last; n++, tap -= up) sum += samples[n] * filter[tap];
    out[m] = sum;
  }
  return out;
}

/**
 * The prototype low-pass at the up-sampled rate, as scipy.signal.firwin(2 L + 1, 1 / q, window=('kaiser', beta))
 * times up, with q = max(up, down) and L = zero crossings x q: a sinc with cutoff 1/q of Nyquist under a symmetric
 * Kaiser window, scaled to unit DC gain, then by `up` (the gain the zero-stuffing loses).
 */
export function resamplingFilter(up: number, down: number, zeroCrossings = RESAMPLER_ZERO_CROSSINGS, beta = RESAMPLER_KAISER_BETA): Float64Array {
  const q = Math.max(up, down);
  const halfLength = zeroCrossings * q;
  const filter = new Float64Array(2 * halfLength + 1);
  const besselBeta = besselI0(beta);
  let sum = 0;
  for (let i = 0; i < filter.length; i++) {
    const offset = i - halfLength;
    const x = offset / q;
    const sinc = offset === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const ratio = offset / halfLength;
    const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - ratio * ratio))) / besselBeta;
    filter[i] = (sinc / q) * window;
    sum += filter[i];
  }
  for (let i = 0; i < filter.length; i++) filter[i] *= up / sum;
  return filter;
}

/** The modified Bessel function of the first kind, order 0, by its power series (converges fast for x < 50). */
export function besselI0(x: number): number {
  const quarterSquare = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 500 && term > sum * 1e-17; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
  }
  return sum;
}
