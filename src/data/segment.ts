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
