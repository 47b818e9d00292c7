/**
 * An utterance's alignment as the atlas sees it: the query frames Q, the phone segment of every frame, and the
 * frames of each phone label and class label the utterance uses (AtlasFrameTable, read by the atlas kernels).
 */
import type { AtlasFrameTable, FrameRange } from '../compute/atlas.cpu.ts';
import { NO_SEGMENT } from '../compute/atlas.cpu.ts';
import type { Alignment } from '../data/alignment.ts';
import { toModelFrame } from '../data/frames.ts';
import type { ClassScheme, PhoneSet } from '../data/phoneClasses.ts';
import { foldPhone, phoneClassLabel } from '../data/phoneClasses.ts';

/** How phone labels become the atlas's phone and class labels. */
export interface AtlasLabelling {
  /** 61 keeps labels as written; 49 and 40 fold the TIMIT set as Lee & Hon. */
  readonly fold: PhoneSet;
  readonly classScheme: ClassScheme;
}

/** The frame table with the names of its labels and how many query frames each holds. */
export interface UtteranceFrames extends AtlasFrameTable {
  /** The utterance's phone labels (folded), in order of first appearance: the table's labels 0 .. phones-1. */
  readonly phoneLabels: readonly string[];
  /** Its class labels: the table's labels phones .. phones+classes-1. */
  readonly classLabels: readonly string[];
  /** Query frames in each phone label and each class label (count[a] of the phone x phone definition). */
  readonly phoneCounts: readonly number[];
  readonly classCounts: readonly number[];
}

/**
 * The atlas frame table of an utterance with `frames` frames per map at `samplesPerFrame`. Phones are the non-empty
 * intervals of the phone tier, each covering frames [frame(start), frame(end)) in STEVE's frames (round half to
 * even, or up with `roundUp`), clipped to the tensor; Q runs from the first word's start frame to the last word's end
 * frame. Throws a RangeError (reported as a bad utterance) when there is no word, or Q holds no frame of the tensor.
 */
export function makeAtlasFrameTable(
  alignment: Alignment,
  samplesPerFrame: number,
  frames: number,
  labelling: AtlasLabelling,
  roundUp = false,
): UtteranceFrames {
  const frameOf = (sample: number) => Math.min(Math.max(toModelFrame(sample, samplesPerFrame, roundUp), 0), frames);
  const words = alignment.words.filter((word) => word.label.trim() !== '');
  if (words.length === 0) throw new RangeError('the alignment has no word, so no query frames');
  const queryStart = frameOf(words[0].startSample);
  const queryEnd = frameOf(words[words.length - 1].endSample);
  if (queryEnd <= queryStart) {
    throw new RangeError(`the words span frames ${queryStart}..${queryEnd} (end exclusive) of ${frames}: no query frame`);
  }
  const phones = alignment.phones
    .filter((phone) => phone.label.trim() !== '')
    .map((phone) => ({ label: phone.label, range: [frameOf(phone.startSample), frameOf(phone.endSample)] as FrameRange }))
    .filter(({ range: [start, end] }) => start < end);

  const frameSegment = new Uint32Array(frames).fill(NO_SEGMENT);
  phones.forEach(({ range: [start, end] }, segment) => frameSegment.fill(segment, start, end));

  const phoneRanges = new Map<string, FrameRange[]>();
  const classRanges = new Map<string, FrameRange[]>();
  for (const { label, range } of phones) {
    const add = (map: Map<string, FrameRange[]>, key: string) => map.set(key, [...(map.get(key) ?? []), range]);
    add(phoneRanges, foldPhone(label, labelling.fold));
    add(classRanges, phoneClassLabel(label, labelling.classScheme));
  }
  const queryCount = (ranges: readonly FrameRange[]) =>
    ranges.reduce((count, [start, end]) => count + Math.max(0, Math.min(end, queryEnd) - Math.max(start, queryStart)), 0);
  // A frame in two intervals of one label (a repeated or overlapping phone) is one frame of it: counted once here, in
  // the GPU pass and on the host alike.
  for (const map of [phoneRanges, classRanges]) for (const [key, ranges] of map) map.set(key, unionOfRanges(ranges));
  return {
    frames,
    queryStart,
    queryEnd,
    frameSegment,
    phones: phoneRanges.size,
    classes: classRanges.size,
    labelKeyRanges: [...phoneRanges.values(), ...classRanges.values()],
    phoneLabels: [...phoneRanges.keys()],
    classLabels: [...classRanges.keys()],
    phoneCounts: [...phoneRanges.values()].map(queryCount),
    classCounts: [...classRanges.values()].map(queryCount),
  };
}

/** Ranges as sorted, disjoint ranges covering the same frames. */
function unionOfRanges(ranges: readonly FrameRange[]): FrameRange[] {
  const merged: [number, number][] = [];
  for (const [start, end] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}
