/**
 * The spectrogram the viewer draws under the waveform: a short-time Fourier transform in dB, meant to look like
 * Praat's spectrogram in its Sound/TextGrid editor (pre-emphasis 6 dB/octave, 70 dB dynamic range below the maximum).
 *
 * Differences from Praat, chosen so that numpy can reproduce every number (tests/fixtures/spectrogram/make_expected.py):
 * - the window is a periodic Hann window (scipy's get_window('hann')), not Praat's Gaussian. Praat's "broadband"
 *   setting (a 5 ms Gaussian, about 260 Hz bandwidth) corresponds to a Hann window of about
 *   PRAAT_BROADBAND_HANN_SEC; the default here is the 25 ms asked for by the viewer, which resolves harmonics;
 * - levels are dB relative to a full-scale DC signal (20 log10(|X| / sum(window))), not dB/Hz re (2e-5 Pa)^2. Only
 *   differences matter for the picture, since the dynamic range is counted from the loudest cell;
 * - the maximum is that of the whole file (Praat's editor takes the visible part's), so zooming keeps the greys fixed.
 *
 * Frames: frame i stands for the time span [i * hopSec, (i + 1) * hopSec) and its window is centred on that span
 * (to within one sample), with zeros outside the signal. So frame i lies exactly where a renderer draws column i,
 * and ceil(samples / hop) frames cover the whole file.
 */
import FFT from 'fft.js';

/** Settings of computeSpectrogram; every field is optional and defaults to DEFAULT_SPECTROGRAM_OPTIONS. */
export interface SpectrogramOptions {
  /** Length of the Hann window in seconds (rounded to whole samples). */
  readonly windowSec?: number;
  /** Time step between frames in seconds (rounded to whole samples, at least one). */
  readonly hopSec?: number;
  /** Highest frequency kept; bins above it (or above Nyquist) are dropped. */
  readonly maxFrequencyHz?: number;
  /** Levels more than this many dB below the file's maximum are raised to that floor (Praat's "dynamic range"). */
  readonly dynamicRangeDb?: number;
  /** Gain added per octave above 1 kHz (below 1 kHz it attenuates), as Praat's "pre-emphasis"; 0 turns it off. */
  readonly preEmphasisDbPerOctave?: number;
}

/** The defaults: 25 ms Hann window, 5 ms hop, 0-8 kHz, Praat's 70 dB dynamic range and 6 dB/octave pre-emphasis. */
export const DEFAULT_SPECTROGRAM_OPTIONS: Required<SpectrogramOptions> = {
  windowSec: 0.025,
  hopSec: 0.005,
  maxFrequencyHz: 8000,
  dynamicRangeDb: 70,
  preEmphasisDbPerOctave: 6,
};

/**
 * A Hann window length with about the bandwidth of Praat's default broadband analysis (Gaussian, window length 5 ms,
 * bandwidth 1.2982804 / 0.005 s = 260 Hz): a Hann window's 3 dB bandwidth is 1.44 / length, so 1.44 / 260 Hz.
 */
export const PRAAT_BROADBAND_HANN_SEC = 0.0055;

/** A spectrogram in dB; cells are row-major by time: magnitudeDb[frame * frequencies + bin]. */
export interface Spectrogram {
  /** Number of frames (time steps); frame i stands for [i * hopSec, (i + 1) * hopSec). */
  readonly times: number;
  /** Number of frequency bins; bin b is the level at b * binHz, from 0 Hz up to maxFrequencyHz. */
  readonly frequencies: number;
  /** times x frequencies levels in dB, each within [floorDb, maxDb]. */
  readonly magnitudeDb: Float32Array;
  /** Time step actually used (the hop rounded to whole samples). */
  readonly hopSec: number;
  /** Frequency step between bins: sampleRate / fftSize. */
  readonly binHz: number;
  /** Window length actually used (rounded to whole samples). */
  readonly windowSec: number;
  /** FFT length: the window length rounded up to a power of two, the rest zero-padded. */
  readonly fftSize: number;
  /** The loudest cell, and the level below which cells are clipped (maxDb - dynamicRangeDb). */
  readonly maxDb: number;
  readonly floorDb: number;
}

/** Amplitudes below this (-200 dB) count as this, so that silence gives a finite level. */
const MIN_AMPLITUDE = 1e-10;
/** Pre-emphasis is 0 dB at this frequency, as in Praat. */
const PRE_EMPHASIS_REFERENCE_HZ = 1000;

/** The frame, window and FFT sizes in samples that computeSpectrogram derives from its options. */
export interface SpectrogramGeometry {
  readonly windowSamples: number;
  readonly hopSamples: number;
  readonly fftSize: number;
  readonly frames: number;
  readonly bins: number;
  /** Sample index of frame 0's first window sample (negative: the window starts in the zero padding). */
  readonly firstWindowStart: number;
}

/**
 * Sizes for `sampleCount` samples at `sampleRate`. Throws RangeError for a non-positive rate, window or hop.
 * Rounding is Math.round (half up), which make_expected.py copies.
 */
export function spectrogramGeometry(sampleCount: number, sampleRate: number, options: Required<SpectrogramOptions>): SpectrogramGeometry {
  const { windowSec, hopSec, maxFrequencyHz } = options;
  if (!(sampleRate > 0 && windowSec > 0 && hopSec > 0 && maxFrequencyHz >= 0)) {
    throw new RangeError(`spectrogram needs positive sampleRate, windowSec and hopSec (got ${sampleRate}, ${windowSec}, ${hopSec})`);
  }
  // fft.js needs a power of two of at least 2, hence a window of at least 2 samples.
  const windowSamples = Math.max(2, Math.round(windowSec * sampleRate));
  const hopSamples = Math.max(1, Math.round(hopSec * sampleRate));
  const fftSize = nextPowerOfTwo(windowSamples);
  const binHz = sampleRate / fftSize;
  const bins = Math.min(Math.floor(maxFrequencyHz / binHz), fftSize / 2) + 1;
  return {
    windowSamples,
    hopSamples,
    fftSize,
    frames: Math.ceil(sampleCount / hopSamples),
    bins,
    // Centres the window on frame 0's hop span [0, hop).
    firstWindowStart: -Math.floor((windowSamples - hopSamples) / 2),
  };
}

function nextPowerOfTwo(n: number): number {
  let power = 2;
  while (power < n) power *= 2;
  return power;
}

/** The periodic Hann window of `length` samples: 0.5 - 0.5 cos(2 pi n / length), n = 0 .. length - 1. */
export function makeHannWindow(length: number): Float64Array {
  const window = new Float64Array(length);
  for (let n = 0; n < length; n++) window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length);
  return window;
}

/** dB added to each bin by pre-emphasis; bin 0 (DC) is taken at half a bin so that the logarithm stays finite. */
function makePreEmphasis(bins: number, binHz: number, dbPerOctave: number): Float64Array {
  const gains = new Float64Array(bins);
  if (dbPerOctave === 0) return gains;
  for (let bin = 0; bin < bins; bin++) {
    const frequency = Math.max(bin * binHz, binHz / 2);
    gains[bin] = dbPerOctave * Math.log2(frequency / PRE_EMPHASIS_REFERENCE_HZ);
  }
  return gains;
}

/**
 * The spectrogram of mono `samples` at `sampleRate` Hz (see the file comment for the frame layout and dB scale).
 * An empty signal gives 0 frames. Throws RangeError for non-positive sizes.
 */
export function computeSpectrogram(samples: Float32Array, sampleRate: number, options: SpectrogramOptions = {}): Spectrogram {
  const settings: Required<SpectrogramOptions> = { ...DEFAULT_SPECTROGRAM_OPTIONS, ...options };
  const geometry = spectrogramGeometry(samples.length, sampleRate, settings);
  const { windowSamples, hopSamples, fftSize, frames, bins } = geometry;
  const binHz = sampleRate / fftSize;
  const levels = new Float32Array(frames * bins);
  const maxDb = fillLevels(levels, samples, geometry, binHz, settings.preEmphasisDbPerOctave);
  const floorDb = maxDb - settings.dynamicRangeDb;
  for (let i = 0; i < levels.length; i++) if (levels[i] < floorDb) levels[i] = floorDb;
  return {
    times: frames,
    frequencies: bins,
    magnitudeDb: levels,
    hopSec: hopSamples / sampleRate,
    binHz,
    windowSec: windowSamples / sampleRate,
    fftSize,
    maxDb: frames > 0 ? maxDb : 0,
    floorDb: frames > 0 ? floorDb : -settings.dynamicRangeDb,
  };
}

/** Writes every frame's levels (before the dynamic-range floor) into `levels` and returns the largest. */
function fillLevels(
  levels: Float32Array,
  samples: Float32Array,
  geometry: SpectrogramGeometry,
  binHz: number,
  preEmphasisDbPerOctave: number,
): number {
  const { windowSamples, hopSamples, fftSize, frames, bins, firstWindowStart } = geometry;
  const window = makeHannWindow(windowSamples);
  const windowSum = window.reduce((sum, value) => sum + value, 0);
  const preEmphasis = makePreEmphasis(bins, binHz, preEmphasisDbPerOctave);
  const fft = new FFT(fftSize);
  // The tail beyond the window stays zero: that is the zero padding up to fftSize.
  const frame = new Float64Array(fftSize);
  // fft.js's realTransform writes interleaved (re, im) pairs for bins 0 .. fftSize / 2 into a 2 * fftSize array.
  const spectrum = new Float64Array(2 * fftSize);
  let maxDb = -Infinity;
  for (let f = 0; f < frames; f++) {
    const start = firstWindowStart + f * hopSamples;
    for (let n = 0; n < windowSamples; n++) {
      const at = start + n;
      frame[n] = at >= 0 && at < samples.length ? samples[at] * window[n] : 0;
    }
    fft.realTransform(spectrum, frame);
    const row = f * bins;
    for (let bin = 0; bin < bins; bin++) {
      const re = spectrum[2 * bin];
      const im = spectrum[2 * bin + 1];
      const amplitude = Math.max(Math.sqrt(re * re + im * im) / windowSum, MIN_AMPLITUDE);
      const db = 20 * Math.log10(amplitude) + preEmphasis[bin];
      levels[row + bin] = db;
      if (db > maxDb) maxDb = db;
    }
  }
  return maxDb;
}
