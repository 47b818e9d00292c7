/**
 * parseWav against independent decodes: tests/fixtures/audio/expected.json was written by expected.py, which reads
 * the raw frames with numpy (and checks them against scipy.io.wavfile) from WAV files made by SoX and espeak-ng
 * (tests/fixtures/audio/generate.sh; README.md there says which versions).
 */
import { readFileSync } from 'node:fs';
import * as wavefileModule from 'wavefile';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/data/inputError.ts';
import { parseWav } from '../../src/data/wav.ts';
import { inputErrorOf } from '../helpers/inputErrors.ts';

const AUDIO = new URL('../fixtures/audio/', import.meta.url);
const read = (name: string) => new Uint8Array(readFileSync(new URL(name, AUDIO)));

interface Expected {
  sampleRate: number;
  channels: number;
  bitDepth: number;
  format: 'pcm' | 'float';
  frames: number;
  durationSec: number;
  first: number[];
  last: number;
  mean: number;
  min: number;
  max: number;
  scipyAgrees: boolean;
}
const expected = JSON.parse(readFileSync(new URL('expected.json', AUDIO), 'utf8')) as { files: Record<string, Expected> };

/** Runs `action` and returns the InputError it throws (failing the test if it throws nothing or something else). */

/** A copy of a fixture with one little-endian field overwritten. */
function patched(name: string, offset: number, value: number, bytes: 2 | 4): Uint8Array {
  const copy = read(name).slice();
  const view = new DataView(copy.buffer);
  if (bytes === 2) view.setUint16(offset, value, true);
  else view.setUint32(offset, value, true);
  return copy;
}

describe(parseWav.name, () => {
  it('covers every fixture, each checked against scipy too', () => {
    expect(Object.keys(expected.files)).toHaveLength(10);
    for (const entry of Object.values(expected.files)) expect(entry.scipyAgrees).toBe(true);
  });

  for (const [name, want] of Object.entries(expected.files)) {
    it(`decodes ${name} as numpy does`, () => {
      const audio = parseWav(read(name), name);
      expect({ sampleRate: audio.sampleRate, channels: audio.channels, bitDepth: audio.bitDepth, format: audio.format }).toEqual({
        sampleRate: want.sampleRate,
        channels: want.channels,
        bitDepth: want.bitDepth,
        format: want.format,
      });
      expect(audio.samples).toBeInstanceOf(Float32Array);
      expect(audio.samples.length).toBe(want.frames);
      expect(audio.durationSec).toBeCloseTo(want.durationSec, 12);
      // Same float64 arithmetic, then one rounding to float32 on both sides: the values agree exactly.
      expect(Array.from(audio.samples.subarray(0, 8))).toEqual(want.first);
      expect(audio.samples[audio.samples.length - 1]).toBe(want.last);
      let sum = 0;
      for (const v of audio.samples) sum += v;
      expect(sum / audio.samples.length).toBeCloseTo(want.mean, 7);
      expect(Math.min(...audio.samples)).toBe(want.min);
      expect(Math.max(...audio.samples)).toBe(want.max);
    });
  }

  it('reads the bundled TIMIT and L2-ARCTIC samples', () => {
    const samples = new URL('../../demo/public/samples/', import.meta.url);
    const timit = parseWav(new Uint8Array(readFileSync(new URL('timit/LDC93S1.wav', samples))), 'LDC93S1.wav');
    expect([timit.sampleRate, timit.channels, timit.bitDepth, timit.samples.length]).toEqual([16000, 1, 16, 46797]);
    const arctic = parseWav(new Uint8Array(readFileSync(new URL('arctic/arctic_a0001.wav', samples))), 'arctic_a0001.wav');
    expect([arctic.sampleRate, arctic.channels, arctic.bitDepth, arctic.samples.length]).toEqual([44100, 1, 16, 172602]);
  });

  it('does not hand wavefile the file itself: these are what wavefile 11 makes of two fixtures on its own', () => {
    const WaveFile =
      wavefileModule.WaveFile ?? (wavefileModule as unknown as { default: typeof wavefileModule }).default.WaveFile;
    const extensibleFloat = new WaveFile(read('float32_16k_ext.wav')).getSamples(true, Float64Array);
    expect(Math.abs(extensibleFloat[0])).toBeGreaterThan(1e6); // float bits read as int32
    const oddU8 = new WaveFile(read('pcm_u8_8k_odd.wav')).getSamples(true, Float64Array);
    expect(oddU8.length).toBe(802); // the RIFF pad byte read as an 802nd sample
    expect(parseWav(read('pcm_u8_8k_odd.wav'), 'odd.wav').samples.length).toBe(801);
  });

  it('drops a trailing partial frame', () => {
    // pcm_s16_16k.wav: fmt chunk at 12..36, data chunk header at 36, size field at 40.
    const bytes = patched('pcm_s16_16k.wav', 40, 3199, 4);
    expect(parseWav(bytes, 'odd.wav').samples.length).toBe(1599);
  });

  it('rejects what is not a WAV file', () => {
    expect(inputErrorOf(() => parseWav(new TextEncoder().encode('ID3\x04 this is an mp3 file'), 'song.mp3'))).toMatchObject({
      file: 'song.mp3',
      kind: 'bad-header',
      message: 'song.mp3: not a WAV file: expected "RIFF....WAVE", found "ID3? this is"',
    });
    const avi = read('pcm_s16_16k.wav').slice();
    avi.set(new TextEncoder().encode('AVI '), 8);
    expect(inputErrorOf(() => parseWav(avi, 'x.avi')).kind).toBe('bad-header');
    expect(inputErrorOf(() => parseWav(new Uint8Array(5), 'tiny.wav'))).toMatchObject({ kind: 'truncated' });
  });

  it('rejects a data chunk cut short, saying how much is missing', () => {
    const bytes = read('pcm_s16_16k.wav');
    expect(inputErrorOf(() => parseWav(bytes.subarray(0, 1000), 'cut.wav'))).toMatchObject({
      kind: 'truncated',
      message: 'cut.wav: the "data" chunk announces 3200 bytes but only 956 follow',
    });
    expect(inputErrorOf(() => parseWav(bytes.subarray(0, 30), 'cut.wav')).kind).toBe('truncated');
  });

  it('rejects zero channels and a zero sample rate', () => {
    expect(inputErrorOf(() => parseWav(patched('pcm_s16_16k.wav', 22, 0, 2), 'z.wav'))).toMatchObject({
      kind: 'bad-header',
      message: 'z.wav: the fmt chunk says the file has zero channels',
    });
    expect(inputErrorOf(() => parseWav(patched('pcm_s16_16k.wav', 24, 0, 4), 'z.wav')).reason).toMatch(/sample rate is 0/);
  });

  it('names unsupported codecs and bit depths', () => {
    expect(inputErrorOf(() => parseWav(patched('pcm_s16_16k.wav', 20, 2, 2), 'adpcm.wav'))).toMatchObject({
      kind: 'unsupported-dtype',
      reason: 'Microsoft ADPCM audio is not supported: convert it to PCM or float WAV',
    });
    expect(inputErrorOf(() => parseWav(patched('pcm_s16_16k.wav', 20, 0x55, 2), 'a.wav')).reason).toMatch(/^MP3 audio/);
    expect(inputErrorOf(() => parseWav(patched('pcm_s16_16k.wav', 34, 12, 2), 'a.wav')).reason).toMatch(/12-bit pcm/);
    expect(inputErrorOf(() => parseWav(patched('float32_16k.wav', 34, 16, 2), 'a.wav')).reason).toMatch(/16-bit float/);
    // EXTENSIBLE with a subformat GUID that is not a KSDATAFORMAT one (byte 28 of the fmt body = file offset 48).
    const oddGuid = read('float32_16k_ext.wav').slice();
    oddGuid[48] = 0x42;
    expect(inputErrorOf(() => parseWav(oddGuid, 'a.wav')).reason).toMatch(/non-standard subformat GUID/);
  });

  it('rejects NaN in float data', () => {
    const bytes = read('float32_16k.wav').slice();
    const dataStart = bytes.length - 1600 * 4;
    new DataView(bytes.buffer).setFloat32(dataStart + 4 * 10, Number.NaN, true);
    expect(inputErrorOf(() => parseWav(bytes, 'nan.wav'))).toMatchObject({ kind: 'non-finite', reason: 'frame 10 holds a NaN or infinite sample' });
  });
});
