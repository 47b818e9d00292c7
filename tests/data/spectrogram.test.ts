/**
 * computeSpectrogram against numpy: tests/fixtures/spectrogram/expected.json was written by make_expected.py there,
 * which computes the same STFT (periodic Hann, same hop, zero padding and dB reference) with numpy.fft.rfft on a
 * linear chirp and on the TIMIT sample LDC93S1.wav read with scipy.io.wavfile.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SPECTROGRAM_OPTIONS,
  computeSpectrogram,
  makeHannWindow,
  spectrogramGeometry,
  type Spectrogram,
  type SpectrogramOptions,
} from '../../src/data/spectrogram.ts';
import { parseWav } from '../../src/data/wav.ts';

interface ExpectedCase {
  name: string;
  signal: 'chirp' | 'timit';
  sampleRate: number;
  options: SpectrogramOptions;
  frames: number;
  bins: number;
  binHz: number;
  hopSec: number;
  windowSec: number;
  fftSize: number;
  maxDb: number;
  floorDb: number;
  rows: Record<string, number[]>;
  peakBins: number[];
  peakMargins: number[];
}

interface Expected {
  chirp: { sampleRate: number; durationSec: number; f0: number; f1: number; amplitude: number };
  wav: string;
  wavSamples: number;
  cases: ExpectedCase[];
}

const expected = JSON.parse(
  readFileSync(new URL('../fixtures/spectrogram/expected.json', import.meta.url), 'utf8'),
) as Expected;

/** The tolerance the brief sets: 0.05 dB, or 1e-4 relative for large levels. */
const TOLERANCE_DB = 0.05;
const RELATIVE_TOLERANCE = 1e-4;

/** The chirp make_expected.py makes: computed in float64, stored as float32 as the WAV reader gives samples. */
function makeChirp(): Float32Array {
  const { sampleRate, durationSec, f0, f1, amplitude } = expected.chirp;
  const samples = new Float32Array(Math.round(sampleRate * durationSec));
  for (let n = 0; n < samples.length; n++) {
    const t = n / sampleRate;
    samples[n] = amplitude * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * durationSec)));
  }
  return samples;
}

function readTimit(): Float32Array {
  const bytes = new Uint8Array(readFileSync(new URL(`../../${expected.wav}`, import.meta.url)));
  return parseWav(bytes, 'LDC93S1.wav').samples;
}

const signals = { chirp: makeChirp(), timit: readTimit() };

function level(spectrogram: Spectrogram, frame: number, bin: number): number {
  return spectrogram.magnitudeDb[frame * spectrogram.frequencies + bin];
}

function expectCloseDb(actual: number, wanted: number, where: string): void {
  const tolerance = Math.max(TOLERANCE_DB, RELATIVE_TOLERANCE * Math.abs(wanted));
  if (Math.abs(actual - wanted) > tolerance) {
    expect.fail(`${where}: ${actual} dB, numpy says ${wanted} dB (tolerance ${tolerance})`);
  }
}

describe(computeSpectrogram.name, () => {
  it('reads the same TIMIT sample numpy read', () => {
    expect(signals.timit.length).toBe(expected.wavSamples);
  });

  for (const wanted of expected.cases) {
    describe(wanted.name, () => {
      const spectrogram = computeSpectrogram(signals[wanted.signal], wanted.sampleRate, wanted.options);

      it('has numpy’s frame count, bins, steps and FFT size', () => {
        expect(spectrogram.times).toBe(wanted.frames);
        expect(spectrogram.frequencies).toBe(wanted.bins);
        expect(spectrogram.magnitudeDb.length).toBe(wanted.frames * wanted.bins);
        expect(spectrogram.binHz).toBeCloseTo(wanted.binHz, 12);
        expect(spectrogram.hopSec).toBeCloseTo(wanted.hopSec, 12);
        expect(spectrogram.windowSec).toBeCloseTo(wanted.windowSec, 12);
        expect(spectrogram.fftSize).toBe(wanted.fftSize);
      });

      it('has numpy’s maximum and floor', () => {
        expectCloseDb(spectrogram.maxDb, wanted.maxDb, 'maxDb');
        expectCloseDb(spectrogram.floorDb, wanted.floorDb, 'floorDb');
      });

      it('matches numpy in every bin of the sampled frames', () => {
        for (const [frameText, row] of Object.entries(wanted.rows)) {
          const frame = Number(frameText);
          row.forEach((db, bin) => expectCloseDb(level(spectrogram, frame, bin), db, `frame ${frame} bin ${bin}`));
        }
      });

      it('has numpy’s loudest bin in every frame (or a level within tolerance of it, where numpy has a near tie)', () => {
        wanted.peakBins.forEach((peakBin, frame) => {
          const row = spectrogram.magnitudeDb.subarray(frame * spectrogram.frequencies, (frame + 1) * spectrogram.frequencies);
          const ourPeak = row.indexOf(Math.max(...row));
          if (ourPeak === peakBin) return;
          expect(wanted.peakMargins[frame], `frame ${frame}: peak ${ourPeak}, numpy ${peakBin}`).toBeLessThan(TOLERANCE_DB);
          expectCloseDb(row[peakBin], row[ourPeak], `frame ${frame} near-tie peak`);
        });
      });
    });
  }

  it('follows the chirp: without pre-emphasis each inner frame peaks at the instantaneous frequency', () => {
    const { f0, f1, durationSec, sampleRate } = expected.chirp;
    const spectrogram = computeSpectrogram(signals.chirp, sampleRate, { preEmphasisDbPerOctave: 0 });
    // Frames whose 25 ms window lies wholly inside the signal; the chirp moves 172 Hz per window, so allow 3 bins.
    for (let frame = 5; frame < spectrogram.times - 5; frame++) {
      const centreSec = (frame + 0.5) * spectrogram.hopSec;
      const frequency = f0 + ((f1 - f0) * centreSec) / durationSec;
      const row = spectrogram.magnitudeDb.subarray(frame * spectrogram.frequencies, (frame + 1) * spectrogram.frequencies);
      const peakHz = row.indexOf(Math.max(...row)) * spectrogram.binHz;
      expect(Math.abs(peakHz - frequency), `frame ${frame}`).toBeLessThanOrEqual(3 * spectrogram.binHz);
    }
  });

  it('keeps every level within [floorDb, maxDb] and the floor dynamicRangeDb below the maximum', () => {
    const spectrogram = computeSpectrogram(signals.timit, 16000, { dynamicRangeDb: 40 });
    expect(spectrogram.maxDb - spectrogram.floorDb).toBeCloseTo(40, 9);
    let low = Infinity;
    let high = -Infinity;
    for (const value of spectrogram.magnitudeDb) {
      low = Math.min(low, value);
      high = Math.max(high, value);
    }
    expect(low).toBeCloseTo(spectrogram.floorDb, 4);
    expect(high).toBeCloseTo(spectrogram.maxDb, 4);
  });

  it('gives a full-scale-sine level of about -6 dB (dB re full-scale DC) at its bin', () => {
    const sampleRate = 16000;
    const samples = new Float32Array(sampleRate).map((_, n) => Math.sin((2 * Math.PI * 1000 * n) / sampleRate));
    // 1000 Hz is bin 32 of a 512-point FFT at 16 kHz, so there is no scalloping loss.
    const spectrogram = computeSpectrogram(samples, sampleRate, { preEmphasisDbPerOctave: 0 });
    expect(level(spectrogram, 100, 32)).toBeCloseTo(20 * Math.log10(0.5), 3);
  });

  it('gives silence a finite, flat level and an empty signal no frames', () => {
    const silent = computeSpectrogram(new Float32Array(800), 16000, { preEmphasisDbPerOctave: 0 });
    expect(silent.times).toBe(10);
    expect(silent.maxDb).toBeCloseTo(-200, 9);
    expect(silent.magnitudeDb.every((value) => Math.abs(value + 200) < 1e-4)).toBe(true);
    const empty = computeSpectrogram(new Float32Array(0), 16000);
    expect(empty.times).toBe(0);
    expect(empty.magnitudeDb.length).toBe(0);
    expect(Number.isFinite(empty.maxDb)).toBe(true);
  });

  it('caps the bins at Nyquist when maxFrequencyHz is above it', () => {
    const spectrogram = computeSpectrogram(signals.chirp, 16000, { maxFrequencyHz: 20000 });
    expect(spectrogram.frequencies).toBe(spectrogram.fftSize / 2 + 1);
  });

  it('rejects a non-positive sample rate, window or hop', () => {
    expect(() => computeSpectrogram(signals.chirp, 0)).toThrowError(RangeError);
    expect(() => computeSpectrogram(signals.chirp, 16000, { windowSec: 0 })).toThrowError(/windowSec/);
    expect(() => computeSpectrogram(signals.chirp, 16000, { hopSec: -1 })).toThrowError(/hopSec/);
  });
});

describe(spectrogramGeometry.name, () => {
  it('centres frame 0’s window on the first hop and pads to a power of two', () => {
    const geometry = spectrogramGeometry(46797, 16000, DEFAULT_SPECTROGRAM_OPTIONS);
    expect(geometry).toEqual({ windowSamples: 400, hopSamples: 80, fftSize: 512, frames: 585, bins: 257, firstWindowStart: -160 });
  });

  it('rounds window and hop to whole samples at 44.1 kHz', () => {
    const geometry = spectrogramGeometry(44100, 44100, DEFAULT_SPECTROGRAM_OPTIONS);
    expect(geometry.windowSamples).toBe(1103);
    expect(geometry.hopSamples).toBe(221);
    expect(geometry.fftSize).toBe(2048);
    expect(geometry.bins).toBe(Math.floor(8000 / (44100 / 2048)) + 1);
  });
});

describe(makeHannWindow.name, () => {
  it('is periodic: zero at n = 0, one at n = length / 2, symmetric about it', () => {
    const window = makeHannWindow(8);
    expect(window[0]).toBe(0);
    expect(window[4]).toBeCloseTo(1, 15);
    expect(window[1]).toBeCloseTo(window[7], 15);
  });
});
