/**
 * WAV reader: integer PCM (8-bit unsigned, 16, 24, 32-bit signed) and IEEE float (32, 64-bit), plain or
 * WAVE_FORMAT_EXTENSIBLE, RIFF (little-endian) or RIFX (big-endian), mixed down to mono in [-1, 1] as librosa.load
 * gives it to STEVE (integers divided by 2^(bits-1), channels averaged).
 *
 * The chunks are found here and the sample words decoded by the `wavefile` package. wavefile is not handed the
 * file itself because, as checked with wavefile 11.0.0 on this folder's fixtures:
 * - it takes the format from the fmt tag alone, so EXTENSIBLE float32 (tag 0xFFFE, float subformat) is read as int32;
 * - it reads the RIFF pad byte after an odd-sized data chunk as one more sample (an 8-bit mono file of 801 samples
 *   gives 802, the last one -1.0);
 * - it silently returns fewer samples when the data chunk is cut short.
 * So it gets a plain 44-byte header that states the format resolved here, followed by whole frames only.
 */
import * as wavefileModule from 'wavefile';
import { InputError } from './inputError.ts';

/** Decoded audio, mixed down to one channel. */
export interface WavAudio {
  readonly sampleRate: number;
  /** Channels in the file (before the mix-down). */
  readonly channels: number;
  /** Bits per sample in the file: 8, 16, 24, 32 (pcm) or 32, 64 (float). */
  readonly bitDepth: number;
  readonly format: 'pcm' | 'float';
  readonly durationSec: number;
  /** One value per frame: the channels' mean, scaled to [-1, 1] (float files may exceed it, as they are stored). */
  readonly samples: Float32Array;
}

type WaveFileClass = typeof wavefileModule.WaveFile;
// Node's ES module loader sees wavefile's CommonJS build, whose exports all sit under `default`; bundlers (Vite,
// vitest) use its ES module entry, which exports WaveFile by name and has no default (Reflect.get keeps the bundler
// from warning about that missing export).
const WaveFile: WaveFileClass =
  wavefileModule.WaveFile ?? (Reflect.get(wavefileModule, 'default') as { WaveFile: WaveFileClass }).WaveFile;

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 4..15 of every KSDATAFORMAT_SUBTYPE GUID; bytes 0..3 hold the plain format tag. */
const SUBFORMAT_GUID_TAIL = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
/** A few codecs by tag, so that the error says what the file is. */
const CODEC_NAMES: Record<number, string> = {
  2: 'Microsoft ADPCM',
  6: 'A-law',
  7: 'mu-law',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  80: 'MPEG',
  85: 'MP3',
};
const PCM_BITS = [8, 16, 24, 32];
const FLOAT_BITS = [32, 64];

interface ChunkSpan {
  readonly start: number;
  readonly size: number;
}

interface SampleLayout {
  readonly format: 'pcm' | 'float';
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitDepth: number;
}

/**
 * Parses a WAV file's bytes. Throws InputError naming the file: 'bad-header' (not RIFF/WAVE, no fmt or data chunk,
 * zero channels or sample rate), 'truncated' (the bytes end inside a chunk, e.g. a cut data chunk),
 * 'unsupported-dtype' (a codec or bit depth other than those above), 'non-finite' (NaN or infinity in float data).
 * A trailing partial frame is dropped, as libsndfile (librosa's reader) does.
 */
export function parseWav(bytes: Uint8Array, fileName: string): WavAudio {
  const bigEndian = readContainer(bytes, fileName);
  const { fmt, data } = findChunks(bytes, bigEndian, fileName);
  const layout = readFormat(new DataView(bytes.buffer, bytes.byteOffset + fmt.start, fmt.size), bigEndian, fileName);
  // A frame is channels x bytes per sample; the header's blockAlign is not trusted (wavefile ignores it too).
  const frameBytes = (layout.channels * layout.bitDepth) / 8;
  const frames = Math.floor(data.size / frameBytes);
  const interleaved = decodeSamples(bytes.subarray(data.start, data.start + frames * frameBytes), layout, bigEndian, fileName);
  return {
    ...layout,
    durationSec: frames / layout.sampleRate,
    samples: mixDown(interleaved, layout, fileName),
  };
}

/** Checks the 12-byte RIFF header; returns true for RIFX (big-endian) files. */
function readContainer(bytes: Uint8Array, fileName: string): boolean {
  if (bytes.length < 12) throw new InputError(fileName, 'truncated', `${bytes.length} bytes is too short for a WAV header (12 bytes)`);
  const id = ascii(bytes, 0, 4);
  if ((id !== 'RIFF' && id !== 'RIFX') || ascii(bytes, 8, 4) !== 'WAVE') {
    throw new InputError(fileName, 'bad-header', `not a WAV file: expected "RIFF....WAVE", found "${printable(ascii(bytes, 0, 12))}"`);
  }
  return id === 'RIFX';
}

/** Walks the chunk list to the first "fmt " and "data" chunks (chunks are padded to an even size). */
function findChunks(bytes: Uint8Array, bigEndian: boolean, fileName: string): { fmt: ChunkSpan; data: ChunkSpan } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: ChunkSpan | undefined;
  let data: ChunkSpan | undefined;
  let position = 12;
  while (position + 8 <= bytes.length && !(fmt && data)) {
    const id = ascii(bytes, position, 4);
    const span = { start: position + 8, size: view.getUint32(position + 4, !bigEndian) };
    if (id === 'fmt ' && !fmt) fmt = span;
    if (id === 'data' && !data) data = span;
    position = span.start + span.size + (span.size % 2);
  }
  for (const [name, span] of [['fmt ', fmt], ['data', data]] as const) {
    if (!span) {
      const cut = position > bytes.length;
      throw new InputError(fileName, cut ? 'truncated' : 'bad-header', `no "${name}" chunk${cut ? ' before the bytes end' : ''}`);
    }
    if (span.start + span.size > bytes.length) {
      throw new InputError(
        fileName,
        'truncated',
        `the "${name}" chunk announces ${span.size} bytes but only ${bytes.length - span.start} follow`,
      );
    }
  }
  return { fmt: fmt!, data: data! };
}

/** Reads the fmt chunk and resolves EXTENSIBLE to its subformat; refuses what parseWav does not decode. */
function readFormat(view: DataView, bigEndian: boolean, fileName: string): SampleLayout {
  const le = !bigEndian;
  if (view.byteLength < 16) throw new InputError(fileName, 'bad-header', `the fmt chunk has ${view.byteLength} bytes, at least 16 are needed`);
  let tag = view.getUint16(0, le);
  const channels = view.getUint16(2, le);
  const sampleRate = view.getUint32(4, le);
  const bitDepth = view.getUint16(14, le);
  if (tag === WAVE_FORMAT_EXTENSIBLE) tag = extensibleSubformat(view, le, fileName);
  if (channels === 0) throw new InputError(fileName, 'bad-header', 'the fmt chunk says the file has zero channels');
  if (sampleRate === 0) throw new InputError(fileName, 'bad-header', 'the fmt chunk says the sample rate is 0 Hz');
  if (tag !== WAVE_FORMAT_PCM && tag !== WAVE_FORMAT_IEEE_FLOAT) {
    const codec = CODEC_NAMES[tag] ?? `format tag ${tag}`;
    throw new InputError(fileName, 'unsupported-dtype', `${codec} audio is not supported: convert it to PCM or float WAV`);
  }
  const format = tag === WAVE_FORMAT_PCM ? 'pcm' : 'float';
  if (!(format === 'pcm' ? PCM_BITS : FLOAT_BITS).includes(bitDepth)) {
    throw new InputError(fileName, 'unsupported-dtype', `${bitDepth}-bit ${format} audio is not supported (expected ${(format === 'pcm' ? PCM_BITS : FLOAT_BITS).join(', ')} bits)`);
  }
  return { format, channels, sampleRate, bitDepth };
}

/** The format tag inside a WAVE_FORMAT_EXTENSIBLE subformat GUID. */
function extensibleSubformat(view: DataView, le: boolean, fileName: string): number {
  if (view.byteLength < 40) {
    throw new InputError(fileName, 'bad-header', `a WAVE_FORMAT_EXTENSIBLE fmt chunk needs 40 bytes, this one has ${view.byteLength}`);
  }
  const guidTailMatches = SUBFORMAT_GUID_TAIL.every((byte, i) => view.getUint8(28 + i) === byte);
  const tag = view.getUint32(24, le);
  if (!guidTailMatches || tag > 0xffff) {
    throw new InputError(fileName, 'unsupported-dtype', 'WAVE_FORMAT_EXTENSIBLE with a non-standard subformat GUID is not supported');
  }
  return tag;
}

/** Interleaved raw sample values (integers as stored, 8-bit unsigned) decoded by wavefile. */
function decodeSamples(frameBytes: Uint8Array, layout: SampleLayout, bigEndian: boolean, fileName: string): Float64Array {
  const file = new Uint8Array(44 + frameBytes.length);
  file.set(plainHeader(layout, frameBytes.length, bigEndian));
  file.set(frameBytes, 44);
  try {
    const wav = new WaveFile();
    wav.fromBuffer(file);
    return wav.getSamples(true, Float64Array);
  } catch (error) {
    throw new InputError(fileName, 'bad-header', `the samples could not be decoded (wavefile: ${(error as Error).message})`);
  }
}

/** A canonical 44-byte RIFF/RIFX header with a plain (non-extensible) fmt chunk of 16 bytes. */
function plainHeader(layout: SampleLayout, dataBytes: number, bigEndian: boolean): Uint8Array {
  const header = new Uint8Array(44);
  const view = new DataView(header.buffer);
  const le = !bigEndian;
  const blockAlign = (layout.channels * layout.bitDepth) / 8;
  header.set(asciiBytes(bigEndian ? 'RIFX' : 'RIFF'), 0);
  view.setUint32(4, 36 + dataBytes, le); // RIFF size: everything after this field
  header.set(asciiBytes('WAVEfmt '), 8);
  view.setUint32(16, 16, le); // fmt chunk size
  view.setUint16(20, layout.format === 'pcm' ? WAVE_FORMAT_PCM : WAVE_FORMAT_IEEE_FLOAT, le);
  view.setUint16(22, layout.channels, le);
  view.setUint32(24, layout.sampleRate, le);
  view.setUint32(28, layout.sampleRate * blockAlign, le); // byte rate
  view.setUint16(32, blockAlign, le);
  view.setUint16(34, layout.bitDepth, le);
  header.set(asciiBytes('data'), 36);
  view.setUint32(40, dataBytes, le);
  return header;
}

/** Scales to [-1, 1] (8-bit is unsigned, centred on 128) and averages the channels of each frame. */
function mixDown(interleaved: Float64Array, layout: SampleLayout, fileName: string): Float32Array {
  const { channels } = layout;
  const offset = layout.format === 'pcm' && layout.bitDepth === 8 ? 128 : 0;
  const scale = layout.format === 'float' ? 1 : 2 ** (layout.bitDepth - 1);
  const mono = new Float32Array(interleaved.length / channels);
  for (let frame = 0; frame < mono.length; frame++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += (interleaved[frame * channels + c] - offset) / scale;
    if (!Number.isFinite(sum)) throw new InputError(fileName, 'non-finite', `frame ${frame} holds a NaN or infinite sample`);
    mono[frame] = sum / channels;
  }
  return mono;
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Control and non-ASCII bytes as "?", so that a binary header prints on one line. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}
