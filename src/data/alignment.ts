/**
 * The one alignment type the engine uses, and the builders that make it from TIMIT files, a TextGrid or nothing,
 * following STEVE's readers (vis_functions.timitdata_reader and textgrid_reader) including their fallbacks:
 * phones made from words when there are no phones, words "ts0", "ts1", ... made from phones when there are no words,
 * and STEVE's dummy grid (dummyAlignment.ts) when there are neither.
 */
import { DUMMY_PAD_SAMPLES, makeDummyAlignment } from './dummyAlignment.ts';
import type { Alignment, Segment } from './segment.ts';
import { STEVE_SAMPLE_RATE, segmentEndSec } from './segment.ts';
import { InputError } from './inputError.ts';
import type { TextGrid, TextGridIntervalTier, TextGridTier } from './textgrid.ts';
import { parseTimitSegments, parseTimitText } from './timit.ts';

// The types live in segment.ts, so that the readers this file uses (timit.ts, dummyAlignment.ts) and frames.ts
// need not import this file back.
export type { Alignment, AlignmentSource, Segment } from './segment.ts';
export { segmentEndSec, segmentStartSec } from './segment.ts';

/** The contents of a TIMIT utterance's alignment files; any of them may be missing. */
export interface TimitTexts {
  readonly phn?: string;
  readonly wrd?: string;
  readonly txt?: string;
}

/** The names of those files, for error messages. */
export interface TimitFileNames {
  readonly phn?: string;
  readonly wrd?: string;
  readonly txt?: string;
}

/**
 * Builds the alignment of a TIMIT utterance as timitdata_reader does. `audioSamples16k` is the audio's length at
 * 16 kHz (it ends the last h# of phones made from words). With neither .phn nor .wrd the result is the dummy grid.
 * Throws InputError 'parse' for a file that does not parse or holds no segment.
 */
export function alignmentFromTimit(texts: TimitTexts, fileNames: TimitFileNames, audioSamples16k: number): Alignment {
  const text = texts.txt === undefined ? '' : parseTimitText(texts.txt, fileNames.txt ?? 'text.txt').text;
  const phones = texts.phn === undefined ? undefined : parseNonEmptyTimit(texts.phn, fileNames.phn ?? 'phones.phn');
  const words = texts.wrd === undefined ? undefined : parseNonEmptyTimit(texts.wrd, fileNames.wrd ?? 'words.wrd');
  return completeAlignment('timit', text, phones, words, audioSamples16k, fileNames.phn ?? fileNames.wrd ?? 'audio');
}

function parseNonEmptyTimit(text: string, fileName: string): Segment[] {
  const segments = parseTimitSegments(text, fileName);
  if (segments.length === 0) throw new InputError(fileName, 'parse', 'the file holds no segment ("start end label" lines)', 1);
  return segments;
}

/** Which TextGrid tiers hold the phones, the words and the text; an absent name means "not in this TextGrid". */
export interface TextGridTiers {
  readonly phoneTier?: string;
  readonly wordTier?: string;
  readonly textTier?: string;
}

/**
 * Builds the alignment from a TextGrid as textgrid_reader does: phones from every interval of the phone tier,
 * words from the word tier less an empty first and last interval (silences; empty intervals inside stay), text from
 * the text tier's non-empty labels joined by spaces. Times are seconds * 16000. A requested tier that is missing
 * (or is a point tier where intervals are needed) throws InputError 'missing-tier' naming the tiers present; STEVE
 * would silently fall back to dummy segments there. With neither a phone nor a word tier the result is the dummy grid.
 */
export function alignmentFromTextGrid(grid: TextGrid, tiers: TextGridTiers, fileName: string, audioSamples16k: number): Alignment {
  const phoneTier = tiers.phoneTier === undefined ? undefined : findIntervalTier(grid, tiers.phoneTier, fileName);
  const wordTier = tiers.wordTier === undefined ? undefined : findIntervalTier(grid, tiers.wordTier, fileName);
  const text = tiers.textTier === undefined ? '' : tierText(findTier(grid, tiers.textTier, fileName));
  const phones = phoneTier && nonEmpty(phoneTier.intervals.map(intervalToSegment), phoneTier, fileName);
  const words = wordTier && nonEmpty(dropEmptyEnds(wordTier.intervals.map(intervalToSegment)), wordTier, fileName);
  return completeAlignment('textgrid', text, phones, words, audioSamples16k, fileName);
}

/** Names the tiers of a TextGrid, with their kinds, for 'missing-tier' messages. */
function describeTiers(grid: TextGrid): string {
  if (grid.tiers.length === 0) return 'it has no tiers';
  return `its tiers are ${grid.tiers.map((tier) => `"${tier.name}" (${tier.kind})`).join(', ')}`;
}

function findTier(grid: TextGrid, name: string, fileName: string): TextGridTier {
  const tier = grid.tiers.find((candidate) => candidate.name === name);
  if (!tier) throw new InputError(fileName, 'missing-tier', `no tier named "${name}"; ${describeTiers(grid)}`);
  return tier;
}

function findIntervalTier(grid: TextGrid, name: string, fileName: string): TextGridIntervalTier {
  const tier = findTier(grid, name, fileName);
  if (tier.kind !== 'interval') {
    throw new InputError(fileName, 'missing-tier', `tier "${name}" is a point tier, phones and words need an interval tier; ${describeTiers(grid)}`);
  }
  return tier;
}

function nonEmpty(segments: Segment[], tier: TextGridIntervalTier, fileName: string): Segment[] {
  if (segments.length === 0) throw new InputError(fileName, 'missing-tier', `tier "${tier.name}" holds no labelled interval`);
  return segments;
}

function intervalToSegment(interval: { xmin: number; xmax: number; text: string }): Segment {
  return { label: interval.text, startSample: interval.xmin * STEVE_SAMPLE_RATE, endSample: interval.xmax * STEVE_SAMPLE_RATE };
}

/** STEVE's "remove silences from start and end of words": an empty first, then an empty last interval. */
function dropEmptyEnds(words: Segment[]): Segment[] {
  let first = 0;
  let end = words.length;
  if (end > first && words[first].label === '') first++;
  if (end > first && words[end - 1].label === '') end--;
  return words.slice(first, end);
}

/** The sentence of a text tier: its non-empty labels (or marks), trimmed and joined by single spaces. */
function tierText(tier: TextGridTier): string {
  const labels = tier.kind === 'interval' ? tier.intervals.map((i) => i.text) : tier.points.map((p) => p.mark);
  return labels
    .map((label) => label.trim())
    .filter((label) => label !== '')
    .join(' ');
}

/** Fills in missing phones or words the way STEVE does; the dummy grid when both are missing. */
function completeAlignment(
  source: 'timit' | 'textgrid',
  text: string,
  phones: Segment[] | undefined,
  words: Segment[] | undefined,
  audioSamples16k: number,
  fileName: string,
): Alignment {
  if (phones && words) return { source, text, phones, words };
  if (words) return { source, text, phones: phonesFromWords(words, audioSamples16k), words };
  if (phones) return { source, text, phones, words: wordsFromPhones(phones) };
  return { ...makeDummyAlignment(audioSamples16k, fileName), text };
}

/**
 * STEVE's phones for words without phones: one phone per word named "0", "1", ..., between an h# from 0 to the first
 * word and an h# from the last word's end to the audio's end. Then, pair by pair from the left, each phone's end is
 * cut back to the next one's start where they overlap, and the next one's start is moved back to this one's end where
 * there is a gap, so the phones tile the audio (overlapping TIMIT words give shortened phones).
 */
export function phonesFromWords(words: readonly Segment[], audioSamples16k: number): Segment[] {
  const last = words[words.length - 1];
  const labels = ['h#', ...words.map((_, i) => String(i)), 'h#'];
  const starts = [0, ...words.map((w) => w.startSample), last.endSample];
  const ends = [words[0].startSample, ...words.map((w) => w.endSample), audioSamples16k];
  for (let i = 0; i + 1 < labels.length; i++) {
    if (ends[i] > starts[i + 1]) ends[i] = starts[i + 1];
    else if (ends[i] < starts[i + 1]) starts[i + 1] = ends[i];
  }
  return labels.map((label, i) => ({ label, startSample: starts[i], endSample: ends[i] }));
}

/**
 * STEVE's words for phones without words: floor(n / 3) words "ts0", "ts1", ..., word j from the start of phone 3j+1
 * to the end of phone 3j+3. The last word is phone n-2 alone (the phone before a closing h#) when n % 3 == 1.
 * When n % 3 == 0, STEVE ends the second-to-last word at phone n-2 and gives the last word no end at all (its lists
 * come out one short, and selecting that word fails); when n % 3 == 2 the last word has no end either. We end such a
 * last word at the end of phone n-2, keeping every value STEVE does define. With fewer than 3 phones STEVE makes no
 * word (and fails); we make one word "ts0" over all phones.
 */
export function wordsFromPhones(phones: readonly Segment[]): Segment[] {
  const n = phones.length;
  const count = Math.floor(n / 3);
  if (count === 0) return [{ label: 'ts0', startSample: phones[0].startSample, endSample: phones[n - 1].endSample }];
  const starts = everyThird(phones, 1).map((p) => p.startSample);
  const ends = everyThird(phones, 3).map((p) => p.endSample);
  const beforeLast = phones[n - 2];
  if (starts.length > count) {
    // n % 3 == 2: one start too many; STEVE drops the last start and the last end.
    starts.pop();
    ends.pop();
  } else {
    starts[count - 1] = beforeLast.startSample;
    if (ends.length > 0) ends[ends.length - 1] = beforeLast.endSample;
  }
  while (ends.length < count) ends.push(beforeLast.endSample);
  return starts.map((startSample, j) => ({ label: `ts${j}`, startSample, endSample: ends[j] }));
}

function everyThird<T>(items: readonly T[], from: number): T[] {
  const picked: T[] = [];
  for (let i = from; i < items.length; i += 3) picked.push(items[i]);
  return picked;
}

/** How far (in seconds) an alignment may run past the audio's end before it is refused: rounding in aligners. */
export const ALIGNMENT_TOLERANCE_SEC = 0.01;

/**
 * Throws InputError 'out-of-range' when a phone or word ends more than ALIGNMENT_TOLERANCE_SEC after the audio
 * (`durationSec`), saying which segment and by how much: the alignment belongs to another file, or to a longer
 * version of this one. A dummy alignment is measured against STEVE's padded audio (800 zeros at each end).
 */
export function checkAlignmentFitsAudio(alignment: Alignment, durationSec: number, fileName: string): void {
  const padSec = alignment.source === 'dummy' ? (2 * DUMMY_PAD_SAMPLES) / STEVE_SAMPLE_RATE : 0;
  const limitSec = durationSec + padSec;
  let worst: { segment: Segment; kind: string } | undefined;
  for (const [kind, list] of [['phone', alignment.phones], ['word', alignment.words]] as const) {
    for (const segment of list) {
      if (!worst || segment.endSample > worst.segment.endSample) worst = { segment, kind };
    }
  }
  if (!worst) return;
  const overSec = segmentEndSec(worst.segment) - limitSec;
  if (overSec > ALIGNMENT_TOLERANCE_SEC) {
    throw new InputError(
      fileName,
      'out-of-range',
      `${worst.kind} "${worst.segment.label}" ends at ${segmentEndSec(worst.segment).toFixed(3)} s, ` +
        `${overSec.toFixed(3)} s after the audio ends (${limitSec.toFixed(3)} s): alignment of another recording?`,
    );
  }
}
