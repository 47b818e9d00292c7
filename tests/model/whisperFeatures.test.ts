import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { readNpyArrayInfo } from '../../src/data/npy.ts';
import { parseModelConfig, type WhisperFeatureParams } from '../../src/model/config.ts';
import { periodicHann, powerSpectrogram, slaneyMelFilters, whisperLogMel, whisperTrimNotice } from '../../src/model/whisperFeatures.ts';
import { MODEL_FIXTURES, fixtureAudio, maxAbsDifference, readExpected } from './modelFixtures.ts';

const WHISPER_30S: WhisperFeatureParams = { samplingRate: 16000, nFft: 400, hopLength: 160, chunkLength: 30, nSamples: 480000, melFrames: 3000, melBins: 80, maxFrequencyHz: 8000 };

function fixtureParams(folder: 'whisper_f32' | 'whisper_f16'): WhisperFeatureParams {
  const read = (file: string) => ({ name: file, text: readFileSync(resolve(MODEL_FIXTURES, folder, file)) });
  const config = parseModelConfig(read('config.json'), read('preprocessor_config.json'));
  if (config.family !== 'whisper') throw new Error('expected a Whisper config');
  return config.features;
}

/** whisper_logmel_head.npy: numpy's log-mel of whisper_input.wav on the 30-s path, frames 0..199, [80, 200]. */
async function numpyHead(): Promise<{ shape: readonly number[]; data: Float32Array }> {
  const path = resolve(MODEL_FIXTURES, 'whisper_logmel_head.npy');
  const bytes = readFileSync(path);
  const info = await readNpyArrayInfo(makeMemorySource(path, bytes));
  expect(info.header.descr).toBe('<f4');
  const start = bytes.byteOffset + info.header.dataOffset;
  return { shape: info.header.shape, data: new Float32Array(bytes.buffer.slice(start, start + bytes.byteLength - info.header.dataOffset)) };
}

describe('whisperLogMel', () => {
  it('gives exactly -1.5 for silence', () => {
    const mel = whisperLogMel(new Float32Array(16000), WHISPER_30S);
    expect([mel.melBins, mel.frames, mel.data.length]).toEqual([80, 3000, 240000]);
    expect(mel.data.every((v) => v === -1.5)).toBe(true);
    expect(mel.trimmed).toBe(false);
  });

  it("matches the numpy Slaney reference on Whisper's 30-s path", async () => {
    const expected = JSON.parse(readFileSync(resolve(MODEL_FIXTURES, 'audio_expected.json'), 'utf8')).whisperLogMel as { floor: number; headFrames: number };
    const audio = fixtureAudio('whisper');
    const mel = whisperLogMel(audio.samples, WHISPER_30S);
    expect(mel.audioSamples).toBe(24000);
    const head = await numpyHead();
    expect(head.shape).toEqual([80, expected.headFrames]);
    let worst = 0;
    let worstPastAudio = 0;
    for (let bin = 0; bin < 80; bin++) {
      const ours = mel.data.subarray(bin * 3000, bin * 3000 + expected.headFrames);
      worst = Math.max(worst, maxAbsDifference(ours, head.data.subarray(bin * expected.headFrames, (bin + 1) * expected.headFrames)));
      // Past the audio every frame sits at the clamp floor, (max - 8 + 4) / 4.
      for (let frame = expected.headFrames; frame < 3000; frame++) worstPastAudio = Math.max(worstPastAudio, Math.abs(mel.data[bin * 3000 + frame] - expected.floor));
    }
    expect(worst).toBeLessThan(2e-6);
    expect(worstPastAudio).toBeLessThan(1e-6);
  });

  it("matches the torch.stft reference with the fixtures' short chunk, for 80 and 128 mel bins", async () => {
    const audio = fixtureAudio('whisper');
    for (const folder of ['whisper_f32', 'whisper_f16'] as const) {
      const params = fixtureParams(folder);
      const mel = whisperLogMel(audio.samples, params);
      const reference = (await readExpected(folder)).get('log_mel')!;
      expect(reference.shape, folder).toEqual([mel.melBins, mel.frames]);
      expect(maxAbsDifference(mel.data, reference.data), folder).toBeLessThan(2e-6);
    }
  });

  it('trims audio longer than the chunk, says so, and then equals the log-mel of the first chunk', () => {
    const params = fixtureParams('whisper_f32'); // 2-s chunks keep this fast
    const audio = fixtureAudio('whisper').samples;
    const long = new Float32Array(params.nSamples + 8000);
    for (let i = 0; i < long.length; i++) long[i] = audio[i % audio.length];
    const trimmed = whisperLogMel(long, params);
    expect(trimmed.trimmed).toBe(true);
    expect(trimmed.audioSamples).toBe(params.nSamples);
    expect(trimmed.inputSamples).toBe(40000);
    expect(whisperTrimNotice('long.wav', trimmed, params)).toBe('long.wav: 2.5 s of audio; Whisper reads 2.0 s at most, so the rest is trimmed, as Whisper itself does');
    const first = whisperLogMel(long.subarray(0, params.nSamples), params);
    expect(first.trimmed).toBe(false);
    expect(whisperTrimNotice('first.wav', first, params)).toBeUndefined();
    expect(maxAbsDifference(trimmed.data, first.data)).toBe(0);
  });
});

describe('the pieces of the log-mel', () => {
  it('uses a periodic Hann window', () => {
    const window = periodicHann(4);
    expect(Array.from(window)).toEqual([0, 0.5, 1, 0.5].map((v, i) => (i === 1 || i === 3 ? 0.5 - 0.5 * Math.cos((Math.PI * i) / 2) : v)));
    expect(periodicHann(400)[200]).toBe(1);
  });

  it("computes a 400-point DFT (Bluestein) as a direct sum does, reflect padding included", () => {
    const signal = Float64Array.from({ length: 1000 }, (_, n) => Math.sin(n * 0.37) + 0.3 * Math.cos(n * 1.91) + (n % 7) / 10);
    const power = powerSpectrogram(signal, 400, 160);
    expect(power.length).toBe((1 + Math.floor(1000 / 160)) * 201);
    const window = periodicHann(400);
    // Frame 0 starts 200 samples before the signal: padded[i] = signal[200 - i] for i < 200 (reflection without the edge).
    const frame = Float64Array.from({ length: 400 }, (_, i) => (i < 200 ? signal[200 - i] : signal[i - 200]) * window[i]);
    for (const k of [0, 1, 37, 100, 200]) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < 400; n++) {
        re += frame[n] * Math.cos((2 * Math.PI * k * n) / 400);
        im -= frame[n] * Math.sin((2 * Math.PI * k * n) / 400);
      }
      expect(power[k] / (re * re + im * im), `bin ${k}`).toBeCloseTo(1, 9);
    }
  });

  it('builds Slaney-normalised triangles of unit area in Hz', () => {
    const filters = slaneyMelFilters(400, 80, 16000, 0, 8000);
    // Slaney's norm scales each triangle to area 1 (in Hz); the wide top filters, sampled every 40 Hz, show it.
    for (const mel of [70, 75, 79]) {
      let area = 0;
      for (let bin = 0; bin < 201; bin++) area += filters[mel * 201 + bin] * 40;
      expect(area, `filter ${mel}`).toBeCloseTo(1, 2);
    }
    expect(filters.every((v) => v >= 0)).toBe(true);
    // The first filter starts at 0 Hz: zero at bin 0, positive at 40 Hz.
    expect(filters[0]).toBe(0);
    expect(filters[1]).toBeGreaterThan(0);
  });
});
