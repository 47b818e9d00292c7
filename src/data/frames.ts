/**
 * STEVE's frame and tick model: alignment times -> model frames -> the crop and axis ticks of a word-range view.
 *
 * Everything here reproduces the numbers of STEVE's Python (frame_processor.to_model_frames,
 * vis_functions.word_selector and major_minor_calculator) so that a figure made here matches one made there.
 * Where STEVE's code has an accident that matplotlib then hides or garbles (noted at each place), we return what
 * STEVE's figure shows, not the accident. The result is one plain structure shared by the renderers and the CLI.
 *
 * Frame coordinates: frame f covers [f, f + 1) on an axis, as STEVE's imshow extent does, so the centre of
 * frame f is f + 0.5.
 *
 * Boundaries lie on cell edges: a phone or word running from frame a to frame b (STEVE's start and stop frames,
 * where the next one starts) covers cells a .. b-1, and its boundary with the next one is the edge at position b,
 * between cells b-1 and b. STEVE draws that line through the middle of cell b (b + 0.5), so that one boundary
 * appeared up to a frame away from the tiers and the pooled blocks; here lines, boundary labels, tiers and pooled
 * blocks all use the edge. A phone's label sits midway between its edges, (a + b) / 2: STEVE puts it half a frame
 * later ((a + b) / 2 + 0.5 on this axis, or floor((a + b) / 2) + 0.5 for the utterance's last phone), centred
 * between its lines through frame middles but half a cell late between the edges drawn here.
 */
import type { Alignment, Segment } from './segment.ts';
import { STEVE_SAMPLE_RATE } from './segment.ts';

export { STEVE_SAMPLE_RATE };

/** Whisper's encoder sees 30 s as 1500 frames: 480000 samples / 1500 = 320 samples per frame. */
export const WHISPER_FRAMES = 1500;
export const WHISPER_SPF = 320;

/**
 * numpy's round() for float64: round half to even (np.round(2.5) == 2, np.round(3.5) == 4).
 * x - floor(x) is exact for |x| < 2^52, so the comparison with 0.5 is exact too.
 */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The model frame of a time given in samples at 16 kHz: STEVE's to_model_frames, i.e.
 * `(samples / spf).round().astype(int)`, or `np.ceil(samples / spf)` in STEVE's round-up mode.
 */
export function toModelFrame(samples16k: number, samplesPerFrame: number, roundUp = false): number {
  const frames = samples16k / samplesPerFrame;
  return roundUp ? Math.ceil(frames) : roundHalfEven(frames);
}

/**
 * Number of samples librosa.load(path, sr=16000) returns for `samples` at `sampleRate`: resampling yields
 * ceil(samples * 16000 / sampleRate) samples (librosa.resample). STEVE derives wav2vec 2.0's spf from it.
 */
export function samplesAt16k(samples: number, sampleRate: number): number {
  if (sampleRate === STEVE_SAMPLE_RATE) return samples;
  return Math.ceil((samples * STEVE_SAMPLE_RATE) / sampleRate);
}

/** Where the samples-per-frame value came from, so the UI and CLI can say it. */
export type SpfSource = 'user' | 'metadata' | 'whisper' | 'audio';

export interface SpfChoice {
  readonly samplesPerFrame: number;
  readonly source: SpfSource;
}

/**
 * Chooses spf (audio samples at 16 kHz per model frame), in order: given by the user, from file metadata,
 * 320 for Whisper-shaped tensors (1500 frames = 30 s), or the audio's 16 kHz sample count divided by the number of
 * frames (how STEVE's wav2vec 2.0 example computes it: len(speech) / len(frames)). Returns undefined when none applies.
 */
export function chooseSamplesPerFrame(options: {
  userSpf?: number;
  metadataSpf?: number;
  frames: number;
  audioSamples16k?: number;
}): SpfChoice | undefined {
  const { userSpf, metadataSpf, frames, audioSamples16k } = options;
  if (userSpf !== undefined) return { samplesPerFrame: userSpf, source: 'user' };
  if (metadataSpf !== undefined) return { samplesPerFrame: metadataSpf, source: 'metadata' };
  if (frames === WHISPER_FRAMES) return { samplesPerFrame: WHISPER_SPF, source: 'whisper' };
  if (audioSamples16k !== undefined && frames > 0) return { samplesPerFrame: audioSamples16k / frames, source: 'audio' };
  return undefined;
}

/** A phone or word with its model frames. Frames are STEVE's: [startFrame, stopFrame], both from to_model_frames. */
export interface FrameSegment {
  readonly label: string;
  /** Index of the segment in the alignment's phones or words. */
  readonly index: number;
  readonly startSec: number;
  readonly endSec: number;
  readonly startFrame: number;
  readonly stopFrame: number;
}

/** A labelled tick at `position` in frame coordinates (frame f covers [f, f + 1)). */
export interface AxisTick {
  readonly position: number;
  readonly label: string;
  /** The frames the label names, [from, to), when it names a segment (a phone, a word): zoomed so that its centre is
   * out of view, the label moves into the part still in view (src/view/axisLabels.ts). */
  readonly from?: number;
  readonly to?: number;
}

/** Everything a renderer or the CLI needs to draw one word-range view. The same for both axes (the map is square). */
export interface WordSelection {
  readonly samplesPerFrame: number;
  readonly roundUp: boolean;
  /** First and last selected word, both inclusive (STEVE's slider (a, b) selects words a .. b-1). */
  readonly firstWord: number;
  readonly lastWord: number;
  /** The crop: frames startFrame ..= stopFrame (inclusive, as STEVE slices [start : stop + 1]). */
  readonly crop: { readonly startFrame: number; readonly stopFrame: number; readonly frameCount: number };
  readonly words: readonly FrameSegment[];
  /** Phones wholly inside the crop (start frame >= crop start and stop frame <= crop stop). */
  readonly phones: readonly FrameSegment[];
  /** A tick at each phone's centre (start + stop) / 2, midway between its boundary edges, labelled with the phone (and with a boundary label merged in where one coincides). */
  readonly majorTicks: readonly AxisTick[];
  /** A tick at each phone boundary (on its cell edge), labelled "previous,next"; coincident ones merged into one label. */
  readonly minorTicks: readonly AxisTick[];
  /** Cell edges of the phone boundary lines STEVE draws (every boundary, including those labelled by a major tick). */
  readonly phoneBoundaries: readonly number[];
  /** Cell edges of the word boundary lines: each selected word's start frame, and the last word's stop frame. */
  readonly wordBoundaries: readonly number[];
}

/** Converts segments (samples at 16 kHz) to frame segments. */
export function toFrameSegments(segments: readonly Segment[], samplesPerFrame: number, roundUp = false): FrameSegment[] {
  return segments.map((segment, index) => ({
    label: segment.label,
    index,
    startSec: segment.startSample / STEVE_SAMPLE_RATE,
    endSec: segment.endSample / STEVE_SAMPLE_RATE,
    startFrame: toModelFrame(segment.startSample, samplesPerFrame, roundUp),
    stopFrame: toModelFrame(segment.endSample, samplesPerFrame, roundUp),
  }));
}

/**
 * The view of words firstWord ..= lastWord: STEVE's word_selector + major_minor_calculator.
 * Throws RangeError for a word range outside the alignment (a programming error: the UI and CLI validate first).
 */
export function selectWords(
  alignment: Alignment,
  samplesPerFrame: number,
  firstWord: number,
  lastWord: number,
  roundUp = false,
): WordSelection {
  const allWords = toFrameSegments(alignment.words, samplesPerFrame, roundUp);
  if (!(Number.isInteger(firstWord) && Number.isInteger(lastWord) && 0 <= firstWord && firstWord <= lastWord && lastWord < allWords.length)) {
    throw new RangeError(`word range ${firstWord}..${lastWord} is outside 0..${allWords.length - 1}`);
  }
  const allPhones = toFrameSegments(alignment.phones, samplesPerFrame, roundUp);
  const startFrame = allWords[firstWord].startFrame;
  const stopFrame = allWords[lastWord].stopFrame;
  const phones = allPhones.filter((phone) => phone.startFrame >= startFrame && phone.stopFrame <= stopFrame);
  const { majorTicks, minorTicks, phoneBoundaries } = makePhoneTicks(allPhones, startFrame, stopFrame);
  const words = allWords.slice(firstWord, lastWord + 1);
  const wordBoundaries = [...words.map((word) => word.startFrame), words[words.length - 1].stopFrame];
  return {
    samplesPerFrame,
    roundUp,
    firstWord,
    lastWord,
    crop: { startFrame, stopFrame, frameCount: stopFrame - startFrame + 1 },
    words,
    phones,
    majorTicks,
    minorTicks,
    phoneBoundaries: [...new Set(phoneBoundaries)],
    wordBoundaries,
  };
}

/**
 * The view of every frame (the viewer's "all frames", the CLI's --full): frames 0 ..= frameCount - 1 labelled with
 * the whole alignment, leading and trailing silences included (they are phones, though inside no word), rather
 * than with the words a word range last selected. The same structure as selectWords, so renderers need not care.
 */
export function selectAllFrames(alignment: Alignment, samplesPerFrame: number, frameCount: number, roundUp = false): WordSelection {
  const allWords = toFrameSegments(alignment.words, samplesPerFrame, roundUp);
  const allPhones = toFrameSegments(alignment.phones, samplesPerFrame, roundUp);
  const stopFrame = Math.max(0, frameCount - 1);
  const inside = (segment: FrameSegment) => segment.startFrame >= 0 && segment.stopFrame <= frameCount && segment.stopFrame > segment.startFrame;
  const { majorTicks, minorTicks, phoneBoundaries } = makePhoneTicks(allPhones, 0, frameCount);
  const words = allWords.filter(inside);
  const wordBoundaries = [...new Set(words.flatMap((word) => [word.startFrame, word.stopFrame]))].sort((a, b) => a - b);
  return {
    samplesPerFrame,
    roundUp,
    firstWord: 0,
    lastWord: allWords.length - 1,
    crop: { startFrame: 0, stopFrame, frameCount },
    words,
    phones: allPhones.filter(inside),
    majorTicks,
    minorTicks,
    phoneBoundaries: [...new Set(phoneBoundaries.concat(allPhones.filter(inside).flatMap((p) => [p.startFrame, p.stopFrame])))]
      .filter((p) => p > 0 && p < frameCount)
      .sort((a, b) => a - b),
    wordBoundaries,
  };
}

/**
 * STEVE's major_minor_calculator over all phones of the utterance for the crop [startFrame, stopFrame].
 *
 * Deviations from STEVE's Python, each where its figure would otherwise show an accident:
 * - For the first phone of the utterance STEVE labels a boundary "last,first" at the utterance's end (Python's
 *   index -1); there is no previous phone, so we make no boundary tick.
 * - STEVE appends the last phone's major tick again when the crop ends at it, drawing its label twice; we draw it once.
 * - Three or more coincident boundaries: STEVE's pairwise merge leaves stray labels (",y") on duplicate ticks that
 *   matplotlib then shifts onto later ticks; we merge all of them into one label "a,b,c,d". For two (the usual
 *   case) both give "a,b,c".
 * - A boundary label STEVE merges into a major tick ("d (dcl,d,y)") disappears from the minor ticks, as matplotlib
 *   drops minor ticks that coincide with major ones.
 */
function makePhoneTicks(
  allPhones: readonly FrameSegment[],
  startFrame: number,
  stopFrame: number,
): { majorTicks: AxisTick[]; minorTicks: AxisTick[]; phoneBoundaries: number[] } {
  const majors: { position: number; label: string; from?: number; to?: number }[] = [];
  const minors: { position: number; label: string }[] = [];
  let lastInside = 0;
  allPhones.forEach((phone, index) => {
    if (phone.startFrame < startFrame || phone.stopFrame > stopFrame) return;
    majors.push({ position: (phone.startFrame + phone.stopFrame) / 2, label: phone.label, from: phone.startFrame, to: phone.stopFrame });
    if (index > 0) {
      const previous = allPhones[index - 1];
      minors.push({ position: previous.stopFrame, label: `${previous.label},${phone.label}` });
    }
    lastInside = index;
  });
  // The boundary after the last phone inside the crop (STEVE's try/except: none after the utterance's last phone).
  if (lastInside + 1 < allPhones.length) {
    const last = allPhones[lastInside];
    minors.push({ position: last.stopFrame, label: `${last.label},${allPhones[lastInside + 1].label}` });
  }
  const lastPhone = allPhones[allPhones.length - 1];
  if (lastPhone && stopFrame === lastPhone.stopFrame && lastInside !== allPhones.length - 1) {
    // STEVE uses floor division here, unlike the loop above; we centre it between its edges like every other phone.
    majors.push({ position: (lastPhone.stopFrame + lastPhone.startFrame) / 2, label: lastPhone.label });
  }
  // On the edge at the boundary frame (see the file comment), not through its middle as STEVE draws it.
  const phoneBoundaries = minors.map((minor) => minor.position);

  // Merge runs of coincident boundaries: "a,b" + "b,c" -> "a,b,c" (the next phone of each further boundary).
  const merged: { position: number; label: string }[] = [];
  for (const minor of minors) {
    const previous = merged[merged.length - 1];
    if (previous && previous.position === minor.position) {
      previous.label = `${previous.label},${minor.label.split(',').slice(1).join(',')}`;
    } else {
      merged.push({ ...minor });
    }
  }
  // A boundary at a phone's centre (a zero-length phone) moves into that phone's label: "d (dcl,d,y)".
  const absorbed = new Set<number>();
  for (const major of majors) {
    const index = merged.findIndex((minor, i) => minor.position === major.position && !absorbed.has(i));
    if (index >= 0) {
      major.label = `${major.label} (${merged[index].label})`;
      absorbed.add(index);
    }
  }
  // A phone label midway between its boundary lines; a boundary label on its line, the cell edge.
  return {
    majorTicks: majors,
    minorTicks: merged.filter((_, i) => !absorbed.has(i)),
    phoneBoundaries,
  };
}
