/**
 * The pure parts of the audio strips (src/ui/strips.ts) and of the player (src/ui/audioPlayer.ts): time <-> pixel
 * mapping, min/max per column, spectrogram pixels and tiles, label thinning, hit testing, and the player's schedule.
 * No DOM: the drawing itself is checked by the browser tests. The player runs against a small fake AudioContext
 * that records the calls, since only their sequence and arguments matter here.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Segment } from '../../src/data/alignment.ts';
import { MAX_LABEL_OVER_SEGMENT } from '../../src/view/axisLabels.ts';
import type { Spectrogram } from '../../src/data/spectrogram.ts';
import type { WavAudio } from '../../src/data/wav.ts';
import { AudioPlayer, SEQUENCE_GAP_SEC, clampRange, positionAt, scheduleRanges } from '../../src/ui/audioPlayer.ts';
import {
  hitTestTier,
  layoutTierLabels,
  makeSpectrogramPixels,
  peakAmplitude,
  pixelToTime,
  spectrogramTileDraws,
  thinLabels,
  tierBoundaryTimes,
  tierTimeAxis,
  timeToPixel,
  waveformColumns,
  type TierView,
} from '../../src/ui/strips.ts';

/** A segment from seconds (alignments hold samples at 16 kHz). */
const seg = (label: string, startSec: number, endSec: number): Segment => ({ label, startSample: startSec * 16000, endSample: endSec * 16000 });

describe('time <-> pixel mapping', () => {
  const range = { startSec: 1, endSec: 3 };
  const axis = { start: 10, length: 400 };

  it('maps the range onto the axis linearly', () => {
    expect(timeToPixel(1, range, axis)).toBe(10);
    expect(timeToPixel(3, range, axis)).toBe(410);
    expect(timeToPixel(2, range, axis)).toBe(210);
    expect(timeToPixel(0, range, axis)).toBe(-190);
  });

  it('inverts', () => {
    for (const time of [0.5, 1, 1.234, 2.999, 4]) expect(pixelToTime(timeToPixel(time, range, axis), range, axis)).toBeCloseTo(time, 12);
  });

  it('takes x/width for a horizontal tier and y/height for a vertical one', () => {
    const view = { startSec: 0, endSec: 1, x: 5, y: 7, width: 100, height: 300 };
    expect(tierTimeAxis(view)).toEqual({ start: 5, length: 100 });
    expect(tierTimeAxis({ ...view, orientation: 'horizontal' })).toEqual({ start: 5, length: 100 });
    expect(tierTimeAxis({ ...view, orientation: 'vertical' })).toEqual({ start: 7, length: 300 });
  });
});

describe(waveformColumns.name, () => {
  it('gives each column the extremes of its samples, sharing the boundary sample with the next column', () => {
    // 8 samples at 8 Hz over 1 s in 4 columns: column c takes samples 2c ..= 2c + 2.
    const samples = Float32Array.from([0, 1, -1, 0.5, 0.25, -0.5, 0, 0.75]);
    const { min, max } = waveformColumns(samples, 8, { startSec: 0, endSec: 1 }, 4);
    expect([...min]).toEqual([-1, -1, -0.5, 0]);
    expect([...max]).toEqual([1, 0.5, 0.25, 0.75]);
  });

  it('matches a brute-force min/max when zoomed out', () => {
    const samples = Float32Array.from({ length: 10000 }, (_, i) => Math.sin(i * 0.37) * Math.cos(i * 0.011));
    const { min, max } = waveformColumns(samples, 1000, { startSec: 0, endSec: 10 }, 7);
    for (let column = 0; column < 7; column++) {
      const first = Math.floor(((column * 10) / 7) * 1000);
      const last = Math.min(Math.floor((((column + 1) * 10) / 7) * 1000), 9999);
      const part = samples.subarray(first, last + 1);
      expect(min[column]).toBe(Math.min(...part));
      expect(max[column]).toBe(Math.max(...part));
    }
  });

  it('leaves columns before and after the audio as NaN', () => {
    const samples = Float32Array.from([0.5, -0.5, 0.25, -0.25]);
    // 4 samples at 4 Hz span [0, 1); the view shows [-1, 2) in 3 columns.
    const { min, max } = waveformColumns(samples, 4, { startSec: -1, endSec: 2 }, 3);
    expect(Number.isNaN(min[0]) && Number.isNaN(max[0])).toBe(false); // its last sample is sample 0
    expect([min[1], max[1]]).toEqual([-0.5, 0.5]);
    expect(Number.isNaN(min[2]) && Number.isNaN(max[2])).toBe(true);
    const before = waveformColumns(samples, 4, { startSec: -3, endSec: -1 }, 2);
    expect([...before.min].every(Number.isNaN)).toBe(true);
  });

  it('gives every column a sample when zoomed in below one sample per column', () => {
    const samples = Float32Array.from([0, 1, 0, -1]);
    const { min, max } = waveformColumns(samples, 4, { startSec: 0, endSec: 1 }, 16);
    for (let column = 0; column < 16; column++) {
      expect(Number.isNaN(min[column])).toBe(false);
      expect(min[column]).toBeLessThanOrEqual(max[column]);
    }
  });
});

describe(peakAmplitude.name, () => {
  it('is the largest |sample|, or 1 for silence', () => {
    expect(peakAmplitude(Float32Array.from([0.25, -0.75, 0.5]))).toBe(0.75);
    expect(peakAmplitude(new Float32Array(5))).toBe(1);
  });
});

describe(makeSpectrogramPixels.name, () => {
  // 3 frames x 2 bins, levels from the floor (-70) to the maximum (0).
  const spectrogram: Spectrogram = {
    times: 3,
    frequencies: 2,
    magnitudeDb: Float32Array.from([-70, 0, -35, -70, 0, -70]),
    hopSec: 0.005,
    binHz: 31.25,
    windowSec: 0.025,
    fftSize: 512,
    maxDb: 0,
    floorDb: -70,
  };
  // A LUT whose entry i is (i, 255 - i, 7, 255).
  const lut = new Uint8Array(256 * 4).map((_, at) => [at >> 2, 255 - (at >> 2), 7, 255][at % 4]);

  it('puts the highest bin in row 0 and maps floor -> entry 0, maximum -> entry 255', () => {
    const pixels = makeSpectrogramPixels(spectrogram, lut, 0, 3);
    const red = (row: number, column: number) => pixels[(row * 3 + column) * 4];
    // Row 0 is bin 1, row 1 is bin 0.
    expect([red(0, 0), red(0, 1), red(0, 2)]).toEqual([255, 0, 0]);
    expect([red(1, 0), red(1, 1), red(1, 2)]).toEqual([0, 128, 255]);
    expect([...pixels.subarray(0, 4)]).toEqual([255, 0, 7, 255]);
  });

  it('cuts out a run of frames for a tile', () => {
    const pixels = makeSpectrogramPixels(spectrogram, lut, 1, 2);
    expect(pixels.length).toBe(2 * 2 * 4);
    expect([pixels[0], pixels[4], pixels[8], pixels[12]]).toEqual([0, 0, 128, 255]);
  });
});

describe(spectrogramTileDraws.name, () => {
  const view = { startSec: 0, endSec: 1, x: 100, y: 0, width: 200, height: 50 };

  it('draws the whole spectrogram from one tile when it fits', () => {
    // 100 frames of 10 ms cover exactly [0, 1).
    expect(spectrogramTileDraws(100, 0.01, view, 4096)).toEqual([{ tile: 0, sourceX: 0, sourceWidth: 100, destX: 100, destWidth: 200 }]);
  });

  it('draws only the visible, fractional part of the frames and nothing outside them', () => {
    const draws = spectrogramTileDraws(100, 0.01, { ...view, startSec: 0.255, endSec: 2 }, 4096);
    expect(draws).toHaveLength(1);
    expect(draws[0].sourceX).toBeCloseTo(25.5, 9);
    expect(draws[0].sourceWidth).toBeCloseTo(74.5, 9);
    expect(draws[0].destX).toBeCloseTo(100, 9);
    // 0.745 s of a 1.745 s range over 200 px.
    expect(draws[0].destWidth).toBeCloseTo((0.745 / 1.745) * 200, 9);
    expect(spectrogramTileDraws(100, 0.01, { ...view, startSec: 1.5, endSec: 2 }, 4096)).toEqual([]);
  });

  it('splits a range across tiles with adjoining destinations', () => {
    const draws = spectrogramTileDraws(100, 0.01, view, 40);
    expect(draws.map((draw) => [draw.tile, draw.sourceX, draw.sourceWidth])).toEqual([
      [0, 0, 40],
      [1, 0, 40],
      [2, 0, 20],
    ]);
    expect(draws[1].destX).toBeCloseTo(draws[0].destX + draws[0].destWidth, 9);
    expect(draws[2].destX + draws[2].destWidth).toBeCloseTo(300, 9);
  });
});

describe(thinLabels.name, () => {
  it('keeps labels left to right and skips those that would come within the gap of the last one kept', () => {
    const labels = [
      { index: 0, start: 0, end: 10 },
      { index: 1, start: 8, end: 18 },
      { index: 2, start: 12, end: 20 },
      { index: 3, start: 13, end: 15 },
      { index: 4, start: 30, end: 40 },
    ];
    expect(thinLabels(labels, 2).map((label) => label.index)).toEqual([0, 2, 4]);
    expect(thinLabels(labels, 0).map((label) => label.index)).toEqual([0, 2, 4]);
    expect(thinLabels(labels, 3).map((label) => label.index)).toEqual([0, 3, 4]);
  });
});

describe(layoutTierLabels.name, () => {
  const segments = [seg('h#', 0, 0.1), seg('sh', 0.1, 0.2), seg('', 0.2, 0.3), seg('iy', 0.3, 0.32), seg('hv', 0.32, 0.34), seg('ae', 0.34, 0.6)];
  const view: TierView = { startSec: 0, endSec: 1, x: 0, y: 0, width: 1000, height: 20 };

  it('centres labels on their intervals and thins crowded ones', () => {
    const labels = layoutTierLabels(segments, view, (label) => label.length * 8, 4);
    // iy (centre 310) and hv (centre 330) are 16 px wide: hv would start 4 px after iy ends, within the gap... just.
    expect(labels.map((label) => [label.index, (label.start + label.end) / 2])).toEqual([
      [0, 50],
      [1, 150],
      [3, 310],
      [4, 330],
      [5, 470],
    ]);
    const crowded = layoutTierLabels(segments, view, (label) => label.length * 8, 5);
    expect(crowded.map((label) => label.index)).toEqual([0, 1, 3, 5]);
  });

  it('centres a partly visible interval on its visible part and drops intervals outside the range', () => {
    const labels = layoutTierLabels(segments, { ...view, startSec: 0.5, endSec: 1.5 }, () => 10, 0);
    expect(labels).toHaveLength(1);
    expect(labels[0].index).toBe(5);
    // ae's visible part is [0.5, 0.6) -> [0, 100) px, centre 50.
    expect((labels[0].start + labels[0].end) / 2).toBeCloseTo(50, 9);
  });

  it('lays out a vertical tier along y, using the line height as extent', () => {
    const vertical: TierView = { startSec: 0, endSec: 1, x: 0, y: 100, width: 40, height: 500, orientation: 'vertical' };
    const labels = layoutTierLabels(segments, vertical, () => 14, 2);
    // Centres at 125, 175, 255, 265, 335: 265 is within 14 px of 255.
    expect(labels.map((label) => [label.index, (label.start + label.end) / 2])).toEqual([
      [0, 125],
      [1, 175],
      [3, 255],
      [5, 335],
    ]);
  });

  it('orders overlapping (TIMIT-style) words by centre before thinning', () => {
    const words = [seg('greasy', 0.5, 0.8), seg('she', 0.1, 0.3), seg('had', 0.29, 0.5)];
    const labels = layoutTierLabels(words, view, () => 20, 0);
    expect(labels.map((label) => label.index)).toEqual([1, 2, 0]);
  });
});

describe('tier labels over narrow intervals', () => {
  // The word tier beside a map of all 30 s (the reviewer's case): LDC93S1's words are a few pixels each, and "water"
  // (~4 px) was written over "greasy wash ... year"; "she", at the strip's start, was cut to "he".
  const view: TierView = { startSec: 0, endSec: 30, x: 0, y: 0, width: 540, height: 20 };
  const byChars = (label: string) => label.length * 7 + 2;

  it('shortens or leaves out a label over 3x wider than its interval', () => {
    const words = [seg('she', 0.1, 0.6), seg('greasy', 2.3, 2.75), seg('water', 3.0, 3.25)];
    const labels = layoutTierLabels(words, view, byChars, 2);
    for (const label of labels) {
      const word = words[label.index];
      const [from, to] = [(word.startSample / 16000) * 18, (word.endSample / 16000) * 18];
      expect(label.end - label.start, word.label).toBeLessThanOrEqual(MAX_LABEL_OVER_SEGMENT * (to - from));
    }
    // greasy (8.1 px) keeps "gr…" (23 px); water (4.5 px) keeps nothing: "wa…" is 23 px too.
    expect(labels.map((label) => label.text ?? words[label.index].label)).toEqual(['she', 'gr…']);
  });

  it('moves a label in from the strip\'s end instead of letting the end cut it', () => {
    const labels = layoutTierLabels([seg('she', 0, 0.45)], view, byChars, 2);
    // "she" (23 px) over 0-8.1 px: its centre moves from 4.05 to 11.5, the label still over its interval's middle.
    expect(labels).toHaveLength(1);
    expect(labels[0].start).toBeCloseTo(0, 9);
    expect(labels[0].end).toBeCloseTo(23, 9);
  });
});

describe(tierBoundaryTimes.name, () => {
  it('lists each boundary inside the range once, in order', () => {
    const segments = [seg('a', 0, 0.5), seg('b', 0.5, 1), seg('c', 1, 1.5), seg('w', 0.25, 1)];
    expect(tierBoundaryTimes(segments, { startSec: 0.2, endSec: 1 })).toEqual([0.25, 0.5, 1]);
  });
});

describe(hitTestTier.name, () => {
  const segments = [seg('a', 0, 0.5), seg('b', 0.5, 1), seg('w', 0.4, 0.9)];
  const view: TierView = { startSec: 0, endSec: 2, x: 100, y: 50, width: 200, height: 20 };

  it('finds the interval under x in a horizontal tier', () => {
    expect(hitTestTier(segments, view, 100)).toBe(0);
    expect(hitTestTier(segments, view, 130)).toBe(0);
    expect(hitTestTier(segments, view, 199)).toBe(1);
    expect(hitTestTier(segments, view, 250)).toBe(-1);
  });

  it('returns -1 outside the strip', () => {
    expect(hitTestTier(segments, view, 99)).toBe(-1);
    expect(hitTestTier(segments, view, 300)).toBe(-1);
  });

  it('prefers the overlapping interval whose centre is nearest', () => {
    // t = 0.48 s: inside a (centre 0.25) and w (centre 0.65): w is nearer.
    expect(hitTestTier(segments, view, 148)).toBe(2);
    // t = 0.8 s: inside b (centre 0.75) and w: b is nearer.
    expect(hitTestTier(segments, view, 180)).toBe(1);
  });

  it('uses y in a vertical tier', () => {
    const vertical: TierView = { ...view, orientation: 'vertical', height: 400 };
    expect(hitTestTier(segments, vertical, 60)).toBe(0);
    expect(hitTestTier(segments, vertical, 50 + 0.75 * 200)).toBe(1);
    expect(hitTestTier(segments, vertical, 120)).toBe(0);
    expect(hitTestTier(segments, vertical, 49)).toBe(-1);
  });
});

describe('audio player schedule', () => {
  it('clamps a range to the audio and orders it', () => {
    expect(clampRange({ startSec: -1, endSec: 0.5 }, 2)).toEqual({ startSec: 0, endSec: 0.5 });
    expect(clampRange({ startSec: 1.5, endSec: 0.5 }, 2)).toEqual({ startSec: 0.5, endSec: 1.5 });
    expect(clampRange({ startSec: 1.5, endSec: 3 }, 2)).toEqual({ startSec: 1.5, endSec: 2 });
    expect(clampRange({ startSec: 2.5, endSec: 3 }, 2)).toBeUndefined();
    expect(clampRange({ startSec: 1, endSec: 1 }, 2)).toBeUndefined();
  });

  it('plays ranges one after the other with the gap, dropping empty ones', () => {
    const schedule = scheduleRanges(
      [
        { startSec: 1, endSec: 1.5 },
        { startSec: 5, endSec: 6 },
        { startSec: 0.2, endSec: 0.4 },
      ],
      3,
      10,
    );
    expect(schedule).toHaveLength(2);
    expect(schedule[0]).toEqual({ whenSec: 10, offsetSec: 1, durationSec: 0.5 });
    expect(schedule[1].whenSec).toBeCloseTo(10.5 + SEQUENCE_GAP_SEC, 12);
    expect(schedule[1].offsetSec).toBe(0.2);
    expect(schedule[1].durationSec).toBeCloseTo(0.2, 12);
    expect(SEQUENCE_GAP_SEC).toBe(0.15);
  });

  it('reports the file time heard, and nothing before, between or after the spans', () => {
    const schedule = scheduleRanges(
      [
        { startSec: 1, endSec: 1.5 },
        { startSec: 0.2, endSec: 0.4 },
      ],
      3,
      10,
    );
    expect(positionAt(schedule, 9.9)).toBeUndefined();
    expect(positionAt(schedule, 10.25)).toBeCloseTo(1.25, 12);
    expect(positionAt(schedule, 10.6)).toBeUndefined();
    expect(positionAt(schedule, 10.75)).toBeCloseTo(0.3, 12);
    expect(positionAt(schedule, 11)).toBeUndefined();
  });
});

/** Records what the player asks of WebAudio. */
class FakeSource {
  buffer: unknown = null;
  onended: (() => void) | null = null;
  started?: [number, number, number];
  stopped = false;
  connected = false;
  connect(): void {
    this.connected = true;
  }
  disconnect(): void {
    this.connected = false;
  }
  start(when: number, offset: number, duration: number): void {
    this.started = [when, offset, duration];
  }
  stop(): void {
    this.stopped = true;
  }
}

class FakeContext {
  state: 'running' | 'suspended' | 'closed' = 'running';
  currentTime = 2;
  outputLatency = 0;
  destination = {};
  sources: FakeSource[] = [];
  buffers: { channels: number; length: number; sampleRate: number; data: Float32Array }[] = [];
  resumed = 0;
  createBuffer(channels: number, length: number, sampleRate: number) {
    const buffer = { channels, length, sampleRate, data: new Float32Array(length), getChannelData: () => buffer.data };
    this.buffers.push(buffer);
    return buffer;
  }
  createBufferSource(): FakeSource {
    const source = new FakeSource();
    this.sources.push(source);
    return source;
  }
  async resume(): Promise<void> {
    this.resumed++;
    this.state = 'running';
  }
  async close(): Promise<void> {
    this.state = 'closed';
  }
}

describe(AudioPlayer.name, () => {
  const audio: WavAudio = {
    sampleRate: 16000,
    channels: 1,
    bitDepth: 16,
    format: 'pcm',
    durationSec: 2,
    samples: Float32Array.from({ length: 32000 }, (_, i) => Math.sin(i / 10)),
  };
  let contexts: FakeContext[];
  const makePlayer = () =>
    new AudioPlayer(audio, {
      createContext: () => {
        const context = new FakeContext();
        contexts.push(context);
        return context as unknown as AudioContext;
      },
    });

  beforeEach(() => {
    contexts = [];
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates the AudioContext on the first play only, and one buffer at the file’s rate', async () => {
    const player = makePlayer();
    expect(contexts).toHaveLength(0);
    const first = player.play(0.5, 1);
    expect(contexts).toHaveLength(1);
    const [buffer] = contexts[0].buffers;
    expect([buffer.channels, buffer.length, buffer.sampleRate]).toEqual([1, 32000, 16000]);
    expect(buffer.data[123]).toBe(audio.samples[123]);
    contexts[0].sources[0].onended?.();
    await first;
    const second = player.play(0, 0.1);
    expect(contexts).toHaveLength(1);
    expect(contexts[0].buffers).toHaveLength(1);
    player.stop();
    await second;
  });

  it('plays a span from its offset, is playing until the source ends, then resolves', async () => {
    const player = makePlayer();
    const done = player.play(0.5, 1.25);
    const [source] = contexts[0].sources;
    expect(source.connected).toBe(true);
    expect(source.started?.[1]).toBe(0.5);
    expect(source.started?.[2]).toBe(0.75);
    expect(source.started?.[0]).toBeGreaterThanOrEqual(2);
    expect(player.playing).toBe(true);
    source.onended?.();
    await done;
    expect(player.playing).toBe(false);
    expect(source.connected).toBe(false);
  });

  it('plays a sequence with a 150 ms gap and resolves only after the last span', async () => {
    const player = makePlayer();
    let resolved = false;
    const done = player.playSequence([
      { startSec: 0.1, endSec: 0.3 },
      { startSec: 1, endSec: 1.5 },
    ]);
    void done.then(() => (resolved = true));
    const [query, key] = contexts[0].sources;
    expect(key.started![0] - query.started![0]).toBeCloseTo(0.2 + 0.15, 12);
    expect(key.started!.slice(1)).toEqual([1, 0.5]);
    query.onended?.();
    await Promise.resolve();
    expect(resolved).toBe(false);
    key.onended?.();
    await done;
    expect(resolved).toBe(true);
  });

  it('stops what is playing when asked to play again, resolving the earlier promise', async () => {
    const player = makePlayer();
    const first = player.play(0, 1);
    const second = player.play(1, 2);
    await first;
    const [old, current] = contexts[0].sources;
    expect(old.stopped).toBe(true);
    expect(old.connected).toBe(false);
    expect(current.stopped).toBe(false);
    expect(player.playing).toBe(true);
    player.stop();
    await second;
    expect(current.stopped).toBe(true);
    expect(player.playing).toBe(false);
  });

  it('resumes a suspended context before scheduling, and a stop during the resume cancels the play', async () => {
    const player = makePlayer();
    const first = player.play(0, 1);
    contexts[0].state = 'suspended';
    player.stop();
    await first;
    const pending = player.play(0, 1);
    player.stop();
    await pending;
    expect(contexts[0].resumed).toBe(1);
    expect(contexts[0].sources).toHaveLength(1);
    expect(player.playing).toBe(false);
  });

  it('reports the position heard while playing', async () => {
    const player = makePlayer();
    const positions: number[] = [];
    player.onPosition = (sec) => positions.push(sec);
    const done = player.play(0.5, 1.5);
    const context = contexts[0];
    const [source] = context.sources;
    context.currentTime = source.started![0] + 0.25;
    vi.advanceTimersByTime(20);
    context.outputLatency = 0.05;
    vi.advanceTimersByTime(20);
    expect(positions).toHaveLength(2);
    expect(positions[0]).toBeCloseTo(0.75, 12);
    expect(positions[1]).toBeCloseTo(0.7, 12);
    source.onended?.();
    await done;
    vi.advanceTimersByTime(100);
    expect(positions).toHaveLength(2);
  });

  it('does nothing for a range outside the audio', async () => {
    const player = makePlayer();
    await player.play(5, 6);
    expect(contexts[0].sources).toHaveLength(0);
    expect(player.playing).toBe(false);
  });

  it('closes its context and makes a new one on the next play', async () => {
    const player = makePlayer();
    const first = player.play(0, 1);
    await player.close();
    await first;
    expect(contexts[0].state).toBe('closed');
    const second = player.play(0, 1);
    expect(contexts).toHaveLength(2);
    player.stop();
    await second;
  });
});
