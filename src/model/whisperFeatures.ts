/**
 * Whisper's log-mel input features, as WhisperFeatureExtractor and openai-whisper's log_mel_spectrogram compute
 * them (they work in float32 / complex64; here every step is float64, which differs from them by ~1e-6):
 * 1. zero-pad or trim the 16 kHz audio to nSamples (480000 = 30 s; trimming is reported, as Whisper trims too);
 * 2. STFT with n_fft 400 and hop 160: a periodic Hann window, centre padding by reflecting n_fft / 2 samples at
 *    each end (numpy's pad mode "reflect", which does not repeat the edge sample);
 * 3. |X|^2, and the last frame dropped, leaving nSamples / hop frames (3000);
 * 4. Slaney-scale mel filters with Slaney (area) normalisation from 0 to 8000 Hz (librosa.filters.mel with
 *    htk=False, norm='slaney', which Whisper's mel_filters.npz holds);
 * 5. log10 of max(mel, 1e-10);
 * 6. max(x, global max - 8), then (x + 4) / 4.
 * Silence therefore gives exactly (-10 + 4) / 4 = -1.5 everywhere.
 *
 * The window, the DFT's twiddles and every sum are float64 on the CPU (WGSL's sin and cos may be off by 2^-11).
 * The DFT of a length that is not a power of two (400) goes through Bluestein's chirp-z algorithm on fft.js.
 */
import FFT from 'fft.js';
import type { WhisperFeatureParams } from './config.ts';

/** Whisper's input: melBins x frames, row-major (Hugging Face's input_features[0], [n_mels, frames]). */
export interface WhisperLogMel {
  readonly melBins: number;
  readonly frames: number;
  readonly data: Float32Array;
  /** true when the audio was longer than nSamples and its end was cut off, as Whisper does. */
  readonly trimmed: boolean;
  /** Samples of audio actually used: min(input length, nSamples); the rest of the input window is zero padding. */
  readonly audioSamples: number;
  /** Samples given (before trimming). */
  readonly inputSamples: number;
}

/** The log-mel features of `samples` (mono, at params.samplingRate). */
export function whisperLogMel(samples: Float32Array, params: WhisperFeatureParams): WhisperLogMel {
  const { nSamples, nFft, hopLength, melBins } = params;
  const audioSamples = Math.min(samples.length, nSamples);
  const padded = new Float64Array(nSamples);
  for (let i = 0; i < audioSamples; i++) padded[i] = samples[i];
  const power = powerSpectrogram(padded, nFft, hopLength);
  const bins = nFft / 2 + 1;
  const frames = power.length / bins - 1; // the last STFT frame is dropped
  const filters = slaneyMelFilters(nFft, melBins, params.samplingRate, 0, params.maxFrequencyHz);

  const logMel = new Float64Array(melBins * frames);
  let max = -Infinity;
  for (let mel = 0; mel < melBins; mel++) {
    const filter = filters.subarray(mel * bins, (mel + 1) * bins);
    // Each triangle covers a few bins only: skip the zeros.
    let first = 0;
    while (first < bins && filter[first] === 0) first++;
    let last = bins - 1;
    while (last >= first && filter[last] === 0) last--;
    for (let frame = 0; frame < frames; frame++) {
      let sum = 0;
      const row = frame * bins;
      for (let bin = first; bin <= last; bin++) sum += filter[bin] * power[row + bin];
      const value = Math.log10(Math.max(sum, 1e-10));
      logMel[mel * frames + frame] = value;
      if (value > max) max = value;
    }
  }
  const data = new Float32Array(logMel.length);
  const floor = max - 8;
  for (let i = 0; i < data.length; i++) data[i] = (Math.max(logMel[i], floor) + 4) / 4;
  return { melBins, frames, data, trimmed: samples.length > nSamples, audioSamples, inputSamples: samples.length };
}

/**
 * What the viewer and the CLI tell the user when Whisper's input was trimmed (one line naming the audio file), or
 * undefined when nothing was cut.
 */
export function whisperTrimNotice(audioName: string, logMel: WhisperLogMel, params: WhisperFeatureParams): string | undefined {
  if (!logMel.trimmed) return undefined;
  const seconds = (samples: number) => `${(samples / params.samplingRate).toFixed(1)} s`;
  return `${audioName}: ${seconds(logMel.inputSamples)} of audio; Whisper reads ${seconds(params.nSamples)} at most, so the rest is trimmed, as Whisper itself does`;
}

/** A periodic Hann window of length n (scipy's get_window('hann', n), torch.hann_window(n)): 0.5 - 0.5 cos(2 pi i / n). */
export function periodicHann(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
}

/**
 * |STFT|^2 of `signal` with centre padding by reflection: frame t covers padded[t hop, t hop + nFft) of the
 * signal padded by nFft / 2 reflected samples at each end; 1 + floor(length / hop) frames. Returns frames x
 * (nFft / 2 + 1) powers, row-major.
 */
export function powerSpectrogram(signal: Float64Array, nFft: number, hop: number): Float64Array {
  const half = nFft / 2;
  if (signal.length <= half) throw new RangeError(`powerSpectrogram: ${signal.length} samples cannot be reflect-padded by ${half}`);
  const padded = new Float64Array(signal.length + 2 * half);
  padded.set(signal, half);
  for (let i = 1; i <= half; i++) {
    padded[half - i] = signal[i];
    padded[half + signal.length - 1 + i] = signal[signal.length - 1 - i];
  }
  const frames = 1 + Math.floor((padded.length - nFft) / hop);
  const bins = half + 1;
  const window = periodicHann(nFft);
  const dft = new PowerDft(nFft);
  const [first, second] = [new Float64Array(nFft), new Float64Array(nFft)];
  const out = new Float64Array(frames * bins);
  // Two real frames per complex transform: one as the real part, the next as the imaginary part.
  for (let t = 0; t < frames; t += 2) {
    for (let i = 0; i < nFft; i++) first[i] = padded[t * hop + i] * window[i];
    if (t + 1 < frames) for (let i = 0; i < nFft; i++) second[i] = padded[(t + 1) * hop + i] * window[i];
    else second.fill(0);
    dft.powerPair(first, second, out.subarray(t * bins, (t + 1) * bins), t + 1 < frames ? out.subarray((t + 1) * bins, (t + 2) * bins) : undefined);
  }
  return out;
}

/**
 * |DFT|^2 of two real frames of any even length n at once, bins 0..n/2, in float64. The frames are packed as one
 * complex signal z = a + i b, whose DFT Z gives A[k] = (Z[k] + conj Z[n-k]) / 2 and B[k] = (Z[k] - conj Z[n-k]) / 2i.
 * Z comes from fft.js directly when n is a power of two, otherwise from Bluestein's algorithm: Z[k] = w[k] (x * b)[k]
 * with the chirp w[j] = exp(-i pi j^2 / n) and x[j] = z[j] w[j], the convolution done by fft.js at the next power of
 * two >= 2n - 1.
 */
class PowerDft {
  private readonly n: number;
  private readonly fft: FFT;
  private readonly direct: boolean;
  /** w[j] as (re, im) pairs, j < n. */
  private readonly chirp: Float64Array = new Float64Array(0);
  private readonly chirpSpectrum: number[] = [];
  private readonly input: number[];
  private readonly spectrum: number[];
  private readonly product: number[];
  /** Z[k] as (re, im) pairs, k < n. */
  private readonly transformed: Float64Array;

  constructor(n: number) {
    this.n = n;
    this.direct = (n & (n - 1)) === 0;
    let size = n;
    if (!this.direct) {
      size = 1;
      while (size < 2 * n - 1) size *= 2;
    }
    this.fft = new FFT(size);
    this.input = this.fft.createComplexArray();
    this.spectrum = this.fft.createComplexArray();
    this.product = this.fft.createComplexArray();
    this.transformed = new Float64Array(2 * n);
    if (this.direct) return;
    // j^2 is reduced mod 2n first so that the angle stays exact for large j.
    this.chirp = new Float64Array(2 * n);
    for (let j = 0; j < n; j++) {
      const angle = (Math.PI * ((j * j) % (2 * n))) / n;
      this.chirp[2 * j] = Math.cos(angle);
      this.chirp[2 * j + 1] = -Math.sin(angle);
    }
    // b[j] = conj(w[j]) for |j| < n, wrapped around the circular buffer.
    const b = this.fft.createComplexArray();
    for (let j = 0; j < n; j++) {
      for (const index of j === 0 ? [0] : [j, size - j]) {
        b[2 * index] = this.chirp[2 * j];
        b[2 * index + 1] = -this.chirp[2 * j + 1];
      }
    }
    this.chirpSpectrum = this.fft.createComplexArray();
    this.fft.transform(this.chirpSpectrum, b);
  }

  /** Writes |A[k]|^2 into outA and |B[k]|^2 into outB (when given) for k = 0..n/2. */
  powerPair(a: Float64Array, b: Float64Array, outA: Float64Array, outB?: Float64Array): void {
    const { n, input, spectrum, product, transformed: z } = this;
    input.fill(0);
    if (this.direct) {
      for (let j = 0; j < n; j++) {
        input[2 * j] = a[j];
        input[2 * j + 1] = b[j];
      }
      this.fft.transform(spectrum, input);
      for (let i = 0; i < 2 * n; i++) z[i] = spectrum[i];
    } else {
      const w = this.chirp;
      for (let j = 0; j < n; j++) {
        input[2 * j] = a[j] * w[2 * j] - b[j] * w[2 * j + 1];
        input[2 * j + 1] = a[j] * w[2 * j + 1] + b[j] * w[2 * j];
      }
      this.fft.transform(spectrum, input);
      const c = this.chirpSpectrum;
      for (let i = 0; i < spectrum.length; i += 2) {
        product[i] = spectrum[i] * c[i] - spectrum[i + 1] * c[i + 1];
        product[i + 1] = spectrum[i] * c[i + 1] + spectrum[i + 1] * c[i];
      }
      this.fft.inverseTransform(spectrum, product);
      for (let k = 0; k < n; k++) {
        z[2 * k] = spectrum[2 * k] * w[2 * k] - spectrum[2 * k + 1] * w[2 * k + 1];
        z[2 * k + 1] = spectrum[2 * k] * w[2 * k + 1] + spectrum[2 * k + 1] * w[2 * k];
      }
    }
    for (let k = 0; k <= n / 2; k++) {
      const mirror = (n - k) % n;
      const [re, im, mirrorRe, mirrorIm] = [z[2 * k], z[2 * k + 1], z[2 * mirror], z[2 * mirror + 1]];
      // A = (Z[k] + conj Z[n-k]) / 2, B = (Z[k] - conj Z[n-k]) / 2i.
      outA[k] = ((re + mirrorRe) ** 2 + (im - mirrorIm) ** 2) / 4;
      if (outB) outB[k] = ((im + mirrorIm) ** 2 + (re - mirrorRe) ** 2) / 4;
    }
  }
}

/** Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above (27 mels per factor 6.4). */
export function hertzToSlaneyMel(hz: number): number {
  return hz >= 1000 ? 15 + Math.log(hz / 1000) * (27 / Math.log(6.4)) : (3 * hz) / 200;
}

export function slaneyMelToHertz(mel: number): number {
  return mel >= 15 ? 1000 * Math.exp((Math.log(6.4) / 27) * (mel - 15)) : (200 * mel) / 3;
}

/**
 * Triangular mel filters on the Slaney scale with Slaney normalisation (each triangle scaled by 2 / its width in Hz,
 * so every filter has the same area), over the rfft bins 0, sr/nFft, ..., floor(sr / 2). Returns melBins x
 * (nFft / 2 + 1), row-major, in float64.
 */
export function slaneyMelFilters(nFft: number, melBins: number, sampleRate: number, minHz: number, maxHz: number): Float64Array {
  const bins = nFft / 2 + 1;
  const [minMel, maxMel] = [hertzToSlaneyMel(minHz), hertzToSlaneyMel(maxHz)];
  const edges = Float64Array.from({ length: melBins + 2 }, (_, i) => slaneyMelToHertz(minMel + ((maxMel - minMel) * i) / (melBins + 1)));
  const nyquist = Math.floor(sampleRate / 2);
  const filters = new Float64Array(melBins * bins);
  for (let mel = 0; mel < melBins; mel++) {
    const [lower, centre, upper] = [edges[mel], edges[mel + 1], edges[mel + 2]];
    const norm = 2 / (upper - lower);
    for (let bin = 0; bin < bins; bin++) {
      const hz = (nyquist * bin) / (bins - 1);
      const rising = (hz - lower) / (centre - lower);
      const falling = (upper - hz) / (upper - centre);
      filters[mel * bins + bin] = Math.max(0, Math.min(rising, falling)) * norm;
    }
  }
  return filters;
}
