/**
 * Plays stretches of the loaded audio with WebAudio: one span (a word, a phone, the visible range) or a sequence
 * (the query span, then the key span, with a short gap), and reports the playing position for a moving cursor.
 *
 * The AudioContext is created on the first play, because browsers only let audio start after a user gesture and
 * warn about contexts created before one. The samples go into one AudioBuffer at the file's own sample rate; the
 * browser resamples it to the output device. Every span of a sequence is scheduled up front on the context's clock,
 * so the gaps are sample-accurate rather than timer-driven.
 *
 * The scheduling and position arithmetic are pure functions (scheduleRanges, positionAt), tested without a browser.
 */
import type { WavAudio } from '../data/wav.ts';
import type { TimeRange } from './strips.ts';

/** Silence between the spans of playSequence (query, then key). */
export const SEQUENCE_GAP_SEC = 0.15;
/** Lead time before the first span, so that the first samples are not cut by the time the graph takes to start. */
const START_DELAY_SEC = 0.02;
/** How often the position is reported where requestAnimationFrame is missing (a worker or a test). */
const FALLBACK_TICK_MS = 16;

/** One span placed on the AudioContext's clock: start at `whenSec`, playing `durationSec` from `offsetSec` of the file. */
export interface ScheduledRange {
  readonly whenSec: number;
  readonly offsetSec: number;
  readonly durationSec: number;
}

/** `range` limited to the audio [0, durationSec], start before end; undefined when nothing of it is left. */
export function clampRange(range: TimeRange, durationSec: number): TimeRange | undefined {
  const startSec = Math.max(0, Math.min(range.startSec, range.endSec));
  const endSec = Math.min(durationSec, Math.max(range.startSec, range.endSec));
  return endSec > startSec ? { startSec, endSec } : undefined;
}

/**
 * Places `ranges` one after the other from context time `startAtSec`, `gapSec` apart, each clamped to the audio;
 * ranges with nothing left after clamping are dropped (and take no gap).
 */
export function scheduleRanges(ranges: readonly TimeRange[], audioDurationSec: number, startAtSec: number, gapSec = SEQUENCE_GAP_SEC): ScheduledRange[] {
  const schedule: ScheduledRange[] = [];
  let whenSec = startAtSec;
  for (const range of ranges) {
    const clamped = clampRange(range, audioDurationSec);
    if (!clamped) continue;
    const durationSec = clamped.endSec - clamped.startSec;
    schedule.push({ whenSec, offsetSec: clamped.startSec, durationSec });
    whenSec += durationSec + gapSec;
  }
  return schedule;
}

/** The file time (seconds) heard at context time `contextSec`, or undefined before, between and after the spans. */
export function positionAt(schedule: readonly ScheduledRange[], contextSec: number): number | undefined {
  for (const item of schedule) {
    const elapsed = contextSec - item.whenSec;
    if (elapsed >= 0 && elapsed <= item.durationSec) return item.offsetSec + elapsed;
  }
  return undefined;
}

/** Options of AudioPlayer; createContext lets tests hand in a fake. */
export interface AudioPlayerOptions {
  /** Makes the AudioContext on the first play; default `new AudioContext()`. */
  readonly createContext?: () => AudioContext;
}

/** What one play or playSequence call has running. */
interface Playback {
  readonly sources: AudioBufferSourceNode[];
  readonly schedule: ScheduledRange[];
  readonly resolve: () => void;
  timer?: number;
}

/** Plays spans of one audio file; one thing at a time (a new play stops the current one). */
export class AudioPlayer {
  /** Called about once per animation frame while audio is heard, with the file time in seconds. */
  onPosition?: (sec: number) => void;

  readonly #audio: WavAudio;
  readonly #createContext: () => AudioContext;
  #context?: AudioContext;
  #buffer?: AudioBuffer;
  #current?: Playback;
  /** Bumped by every play and stop, so that a play still waiting for the context to resume knows it was superseded. */
  #generation = 0;

  /** A player for `audio`; nothing is created until the first play. */
  constructor(audio: WavAudio, options: AudioPlayerOptions = {}) {
    this.#audio = audio;
    this.#createContext = options.createContext ?? (() => new AudioContext());
  }

  /** Whether something is scheduled or sounding (including the gap of a sequence). */
  get playing(): boolean {
    return this.#current !== undefined;
  }

  /** Plays [startSec, endSec) of the file (clamped to it); resolves when it has finished or was stopped. */
  play(startSec: number, endSec: number): Promise<void> {
    return this.playSequence([{ startSec, endSec }]);
  }

  /**
   * Plays `ranges` one after the other with `gapSec` of silence between them (query span, then key span); stops
   * whatever was playing first. Resolves when the last one has finished or when stopped. Throws (rejects) where the
   * browser cannot make an AudioBuffer at the file's sample rate (WebAudio guarantees 8 to 96 kHz).
   */
  async playSequence(ranges: readonly TimeRange[], gapSec = SEQUENCE_GAP_SEC): Promise<void> {
    this.stop();
    const generation = this.#generation;
    const context = this.#ensureContext();
    // Autoplay policies leave a context "suspended" until a gesture; this call is made from one.
    if (context.state === 'suspended') await context.resume();
    if (generation !== this.#generation) return;
    const schedule = scheduleRanges(ranges, this.#audio.durationSec, context.currentTime + START_DELAY_SEC, gapSec);
    if (schedule.length === 0) return;
    const buffer = this.#ensureBuffer(context);
    await new Promise<void>((resolve) => {
      const sources = schedule.map((item) => this.#startSource(context, buffer, item));
      const playback: Playback = { sources, schedule, resolve };
      this.#current = playback;
      sources[sources.length - 1].onended = () => this.#finish(playback);
      this.#tick(playback);
    });
  }

  /** Stops playing now (the pending play promise resolves); does nothing when idle. */
  stop(): void {
    this.#generation++;
    const playback = this.#current;
    if (!playback) return;
    for (const source of playback.sources) {
      source.onended = null;
      // stop() before its start time or after its end is allowed; it only throws if start() was never called.
      source.stop();
    }
    this.#finish(playback);
  }

  /** Stops and closes the AudioContext; the player can still play afterwards (it makes a new context). */
  async close(): Promise<void> {
    this.stop();
    const context = this.#context;
    this.#context = undefined;
    this.#buffer = undefined;
    if (context && context.state !== 'closed') await context.close();
  }

  #ensureContext(): AudioContext {
    this.#context ??= this.#createContext();
    return this.#context;
  }

  #ensureBuffer(context: AudioContext): AudioBuffer {
    if (!this.#buffer) {
      const { samples, sampleRate } = this.#audio;
      const buffer = context.createBuffer(1, samples.length, sampleRate);
      buffer.getChannelData(0).set(samples);
      this.#buffer = buffer;
    }
    return this.#buffer;
  }

  #startSource(context: AudioContext, buffer: AudioBuffer, item: ScheduledRange): AudioBufferSourceNode {
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(context.destination);
    source.start(item.whenSec, item.offsetSec, item.durationSec);
    return source;
  }

  #finish(playback: Playback): void {
    if (this.#current !== playback) return;
    this.#current = undefined;
    for (const source of playback.sources) source.disconnect();
    if (playback.timer !== undefined) cancelTick(playback.timer);
    playback.resolve();
  }

  #tick(playback: Playback): void {
    if (this.#current !== playback || !this.#context) return;
    // What is heard now left the graph outputLatency ago (not reported by every browser, hence the fallback).
    const heardAt = this.#context.currentTime - (this.#context.outputLatency || 0);
    const sec = positionAt(playback.schedule, heardAt);
    if (sec !== undefined) this.onPosition?.(sec);
    playback.timer = requestTick(() => this.#tick(playback));
  }
}

function requestTick(callback: () => void): number {
  if (typeof requestAnimationFrame === 'function') return requestAnimationFrame(callback);
  return setTimeout(callback, FALLBACK_TICK_MS) as unknown as number;
}

function cancelTick(handle: number): void {
  if (typeof cancelAnimationFrame === 'function') cancelAnimationFrame(handle);
  else clearTimeout(handle);
}
