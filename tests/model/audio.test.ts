import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/model/config.ts';
import { besselI0, normalizeZeroMeanUnitVariance, prepareModelAudio, resample, resampledLength } from '../../src/model/audio.ts';
import { MODEL_FIXTURES, fixtureAudio, maxAbsDifference, readExpected } from './modelFixtures.ts';

const expected = JSON.parse(readFileSync(resolve(MODEL_FIXTURES, 'audio_expected.json'), 'utf8')) as { resample: Record<string, number[]> };

/** The signal make_audio_expected.py resamples: 1, 5 and 9 kHz tones (0.5, 0.3, 0.1), 0.1 s, float64 then float32. */
function testSignal(rate: number): Float32Array {
  return Float32Array.from({ length: Math.round(rate * 0.1) }, (_, n) => {
    const t = n / rate;
    return 0.5 * Math.sin(2 * Math.PI * 1000 * t) + 0.3 * Math.sin(2 * Math.PI * 5000 * t) + 0.1 * Math.sin(2 * Math.PI * 9000 * t);
  });
}

/** Amplitude of the component at `hz` over samples [from, to) (a tone that fits the span a whole number of times). */
function amplitudeAt(samples: Float32Array, rate: number, hz: number, from: number, to: number): number {
  let re = 0;
  let im = 0;
  for (let n = from; n < to; n++) {
    re += samples[n] * Math.cos((2 * Math.PI * hz * n) / rate);
    im += samples[n] * Math.sin((2 * Math.PI * hz * n) / rate);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

describe('resample', () => {
  it('matches scipy.signal.resample_poly with the same Kaiser-windowed sinc, from 44.1, 22.05 and 8 kHz', () => {
    for (const rate of [44100, 22050, 8000]) {
      const ours = resample(testSignal(rate), rate, 16000);
      const scipy = expected.resample[String(rate)];
      expect(ours.length, String(rate)).toBe(scipy.length);
      expect(maxAbsDifference(ours, scipy), String(rate)).toBeLessThan(1e-6);
    }
  });

  it('keeps the passband and removes what would alias (44.1 kHz -> 16 kHz)', () => {
    const out = resample(testSignal(44100), 44100, 16000);
    // Away from the edges (the signal is taken as zero outside), over 1200 samples = 75 ms (whole periods of each tone).
    const [from, to] = [200, 1400];
    expect(amplitudeAt(out, 16000, 1000, from, to)).toBeCloseTo(0.5, 4);
    expect(amplitudeAt(out, 16000, 5000, from, to)).toBeCloseTo(0.3, 4);
    // 9 kHz is above the new Nyquist: it would fold to 7 kHz. What is left of it is over 80 dB below its 0.1.
    expect(amplitudeAt(out, 16000, 7000, from, to)).toBeLessThan(0.1 * 1e-4);
  });

  it('returns the input at equal rates, and ceil(n up / down) samples otherwise', () => {
    const x = testSignal(16000);
    expect(resample(x, 16000, 16000)).toBe(x);
    expect(resampledLength(4410, 44100, 16000)).toBe(1600);
    expect(resampledLength(4411, 44100, 16000)).toBe(1601);
    expect(resample(new Float32Array(3), 48000, 16000).length).toBe(1);
    expect(() => resample(x, 0, 16000)).toThrow(RangeError);
  });

  it('computes the Bessel function I0 of the Kaiser window', () => {
    // Values from scipy.special.i0.
    expect(besselI0(0)).toBe(1);
    expect(besselI0(1)).toBeCloseTo(1.2660658777520082, 14);
    expect(besselI0(8.6) / 750.4611595631659).toBeCloseTo(1, 12);
  });
});

describe('normalizeZeroMeanUnitVariance / prepareModelAudio', () => {
  it('gives zero mean and unit (population) variance with eps 1e-7', () => {
    const out = normalizeZeroMeanUnitVariance(Float32Array.of(1, 2, 3, 4));
    // mean 2.5, variance 1.25: (x - 2.5) / sqrt(1.25 + 1e-7)
    expect(Array.from(out)).toEqual(Array.from(Float32Array.from([1, 2, 3, 4], (x) => (x - 2.5) / Math.sqrt(1.25 + 1e-7))));
    // Silence stays silence (eps keeps it finite).
    expect(Array.from(normalizeZeroMeanUnitVariance(new Float32Array(4)))).toEqual([0, 0, 0, 0]);
  });

  it("matches the torch reference's normalised input for wav2vec 2.0 and leaves HuBERT's do_normalize false input alone", async () => {
    const audio = fixtureAudio('wav2vec2');
    const read = (folder: string, file: string) => ({ name: file, text: readFileSync(resolve(MODEL_FIXTURES, folder, file)) });
    const w2v = parseModelConfig(read('wav2vec2_base', 'config.json'), read('wav2vec2_base', 'preprocessor_config.json'));
    const prepared = prepareModelAudio(audio.samples, audio.sampleRate, w2v);
    expect(prepared.normalized).toBe(true);
    expect(maxAbsDifference(prepared.samples, (await readExpected('wav2vec2_base')).get('audio')!.data)).toBeLessThan(1e-5);
    const hubert = parseModelConfig(read('hubert', 'config.json'), read('hubert', 'preprocessor_config.json'));
    const raw = prepareModelAudio(audio.samples, audio.sampleRate, hubert);
    expect(raw.normalized).toBe(false);
    expect(maxAbsDifference(raw.samples, (await readExpected('hubert')).get('audio')!.data)).toBe(0);
  });

  it('resamples to the model rate first', () => {
    const config = parseModelConfig({ name: 'config.json', text: '{"model_type": "wav2vec2"}' });
    const prepared = prepareModelAudio(testSignal(44100), 44100, config);
    expect(prepared).toMatchObject({ sampleRate: 16000, sourceRate: 44100, normalized: true });
    expect(prepared.samples.length).toBe(1600);
  });
});
