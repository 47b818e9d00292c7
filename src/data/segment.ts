/**
 * Segments and alignments: labelled spans of an utterance in 16 kHz samples, the one alignment type the engine
 * uses. Types only (and two unit conversions), so that the readers making alignments (timit.ts, textgrid via
 * alignment.ts, dummyAlignment.ts) and the frame model (frames.ts) import them without importing each other.
 */

/** STEVE works at 16 kHz: TIMIT sample indices are at 16 kHz and TextGrid seconds are multiplied by 16000. */
export const STEVE_SAMPLE_RATE = 16000;

/**
 * A labelled span in samples at 16 kHz, end exclusive. TIMIT gives whole sample indices; TextGrid seconds are
 * multiplied by 16000 as STEVE does, and the product is kept as it is (it may be fractional).
 */
export interface Segment {
  readonly label: string;
  readonly startSample: number;
  readonly endSample: number;
}

/** Where an alignment came from: 'dummy' is STEVE's generated grid (its times refer to the padded audio). */
export type AlignmentSource = 'timit' | 'textgrid' | 'dummy';

/** Phones and words of one utterance, in file order (they may overlap, as TIMIT words do), and its text. */
export interface Alignment {
  readonly source: AlignmentSource;
  /** The sentence, or "" when no text file or tier was given. */
  readonly text: string;
  readonly phones: readonly Segment[];
  readonly words: readonly Segment[];
}

/** Start of a segment in seconds. */
export function segmentStartSec(segment: Segment): number {
  return segment.startSample / STEVE_SAMPLE_RATE;
}

/** End of a segment in seconds. */
export function segmentEndSec(segment: Segment): number {
  return segment.endSample / STEVE_SAMPLE_RATE;
}

/**
 * Where the label of segment `index` ends: at the next segment's start where the two overlap (TIMIT's words may:
 * LDC93S1's "had" 5723-10337 and "your" 9190-11517), else at its own end. A label centred on its start .. this stays
 * in its block between the lines at the two starts (the map's word lines, the tier's boundaries) instead of sitting
 * on the line inside the overlap. `span` gives a segment's [start, end) in any unit (samples, frames).
 */
export function labelEnd<T>(segments: readonly T[], index: number, span: (segment: T) => readonly [number, number]): number {
  const [start, end] = span(segments[index]);
  const next = segments[index + 1];
  if (next === undefined) return end;
  const [nextStart] = span(next);
  return nextStart > start && nextStart < end ? nextStart : end;
}
