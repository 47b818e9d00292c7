/**
 * STEVE's dummy alignment for audio without alignment files (vis_functions.generate_audio_details): fixed-length
 * "words" t0, t1, ... and "phones" "0", "1", ... so that the attention map still gets a grid to select on.
 *
 * STEVE pads the audio with DUMMY_PAD_SAMPLES zeros at each end before it lays out the grid, so every time here
 * refers to the padded audio: sample i of the original is at i + 800. The h# phones cover the two pads, and the
 * last one ends 1600 samples after the original audio's end.
 */
import type { Alignment, Segment } from './segment.ts';
import { InputError } from './inputError.ts';

/** Zeros STEVE adds before and after the audio (50 ms at 16 kHz), "because we don't know the exact silence period". */
export const DUMMY_PAD_SAMPLES = 800;
/** Length of a dummy word: 16000 * (0.040 * 5) = 3200.0 samples (200 ms); the float64 product is exact. */
export const DUMMY_WORD_SAMPLES = 16000 * (0.04 * 5);
/** Length of a dummy phone: 16000 * 0.040 = 640.0 samples (40 ms); exact in float64 too. */
export const DUMMY_PHONE_SAMPLES = 16000 * 0.04;

/**
 * What every front end says when the dummy grid stands in for alignment files (render, export and inspect on stderr,
 * serve on stderr and the viewer in its banner): one decision, one sentence.
 */
export function dummyAlignmentNote(wavName: string): string {
  return `${wavName}: no TextGrid or TIMIT .phn/.wrd beside it; using STEVE's dummy 40 ms phones`;
}

/**
 * The dummy alignment of audio that is `audioSamples16k` samples long at 16 kHz (librosa.load(sr=16000)'s length).
 * Word boundaries: np.arange(800, len + 1600, 3200).astype(int), the last one moved to len + 800.
 * Phone boundaries in each word: np.arange(start, stop, 640).astype(int), then the word's stop appended (or put in
 * place of the last value if that already reaches it). Throws InputError 'out-of-range' when the audio is too short
 * for a single dummy word (at most 2400 samples, 0.15 s): STEVE then makes no word at all and cannot show anything.
 */
export function makeDummyAlignment(audioSamples16k: number, fileName = 'audio'): Alignment {
  if (!(Number.isSafeInteger(audioSamples16k) && audioSamples16k >= 0)) {
    throw new RangeError(`audioSamples16k must be a whole number >= 0, got ${audioSamples16k}`);
  }
  const wordBoundaries = numpyArangeToInt(DUMMY_PAD_SAMPLES, audioSamples16k + 2 * DUMMY_PAD_SAMPLES, DUMMY_WORD_SAMPLES);
  wordBoundaries[wordBoundaries.length - 1] = audioSamples16k + DUMMY_PAD_SAMPLES;
  if (wordBoundaries.length < 2) {
    throw new InputError(
      fileName,
      'out-of-range',
      `the audio is ${audioSamples16k} samples at 16 kHz; dummy words need more than ${DUMMY_WORD_SAMPLES - 2 * DUMMY_PAD_SAMPLES} (STEVE would make none)`,
    );
  }
  const words: Segment[] = [];
  for (let w = 0; w + 1 < wordBoundaries.length; w++) {
    words.push({ label: `t${w}`, startSample: wordBoundaries[w], endSample: wordBoundaries[w + 1] });
  }
  const phones: Segment[] = [{ label: 'h#', startSample: 0, endSample: DUMMY_PAD_SAMPLES }];
  for (const word of words) {
    for (const [startSample, endSample] of dummyPhoneSpans(word)) {
      phones.push({ label: String(phones.length - 1), startSample, endSample });
    }
  }
  phones.push({ label: 'h#', startSample: audioSamples16k + DUMMY_PAD_SAMPLES, endSample: audioSamples16k + 2 * DUMMY_PAD_SAMPLES });
  return { source: 'dummy', text: '', phones, words };
}

/** The [start, end) sample spans of the dummy phones inside one dummy word. */
function dummyPhoneSpans(word: Segment): [number, number][] {
  const boundaries = numpyArangeToInt(word.startSample, word.endSample, DUMMY_PHONE_SAMPLES);
  if (boundaries[boundaries.length - 1] < word.endSample) boundaries.push(word.endSample);
  else boundaries[boundaries.length - 1] = word.endSample;
  return boundaries.slice(0, -1).map((start, i) => [start, boundaries[i + 1]]);
}

/**
 * `np.arange(start, stop, step).astype(int)` for a float step, computed as numpy does: length
 * ceil((stop - start) / step); elements start, start + step, then start + i * delta with delta = (start + step) - start
 * (numpy fills a float range from its first two elements); then truncation toward zero. Empty when stop <= start.
 */
export function numpyArangeToInt(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const second = start + step;
  const delta = second - start;
  // `+ 0` turns the -0 that Math.trunc gives for (-1, 0) into the integer 0 numpy gives.
  return Array.from({ length }, (_, i) => Math.trunc(i === 0 ? start : i === 1 ? second : start + i * delta) + 0);
}
