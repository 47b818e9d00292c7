/**
 * The head atlas's per-map sums (src/compute/atlas.ts, shaders/compute/atlasRows.wgsl + atlasReduce.wgsl), as a
 * plain TypeScript reference in float64, and the frame table both read.
 */

/** The five per-query-frame statistics, in output order (before the phone and class pair sums). */
export const ATLAS_ROW_STATISTICS = ['entropy', 'distanceFrames', 'localShare', 'samePhoneShare', 'outsideSpeechShare'] as const;
/** Number of row statistics. */
export const ATLAS_ROW_VALUES = ATLAS_ROW_STATISTICS.length;
/** frameSegment's value for a frame in no phone (a pause, an empty interval, or past the last phone). */
export const NO_SEGMENT = 0xffffffff;

/** A half-open range of frames [start, end). */
export type FrameRange = readonly [start: number, end: number];

/**
 * What the atlas kernels need to know about one utterance's frames: the query frames, the phone segment of each
 * frame, and the frames of each of its local labels (phone labels 0 .. phones-1, then class labels).
 */
export interface AtlasFrameTable {
  /** Frames per map side (the tensor's maps are frames x frames). */
  readonly frames: number;
  /** Query frames Q = [queryStart, queryEnd): from the first word's start to the last word's end. */
  readonly queryStart: number;
  readonly queryEnd: number;
  /** Per frame: the index of the phone segment holding it, or NO_SEGMENT. */
  readonly frameSegment: Uint32Array;
  /** Number of phone labels, then of class labels, in labelKeyRanges. */
  readonly phones: number;
  readonly classes: number;
  /** Per label (phones, then classes): its key frames, ranges within [0, frames). */
  readonly labelKeyRanges: readonly (readonly FrameRange[])[];
}

/** f32 values per map in the output: five statistics, phones², classes². */
export function atlasOutputWidth(table: Pick<AtlasFrameTable, 'phones' | 'classes'>): number {
  return ATLAS_ROW_VALUES + table.phones * table.phones + table.classes * table.classes;
}

/** Per label, its query frames: its key ranges clipped to Q. */
export function labelQueryRanges(table: AtlasFrameTable): FrameRange[][] {
  return table.labelKeyRanges.map((ranges) =>
    ranges
      .map(([start, end]): FrameRange => [Math.max(start, table.queryStart), Math.min(end, table.queryEnd)])
      .filter(([start, end]) => start < end),
  );
}

/**
 * Per map (maps x frames x frames in `values`), atlasOutputWidth(table) sums over the query frames q of Q:
 * the five statistics of ATLAS_ROW_STATISTICS (distance in frames), then sum[a, b] = Σ_{q in phone label a}
 * Σ_{k in phone label b} P[q, k] for phone labels, then the same for class labels. P is the softmax of each row
 * (`softmax`) or the stored value, non-finite (and, stored, negative) values counting as 0.
 */
export function atlasSumsCpu(values: Float32Array, maps: number, table: AtlasFrameTable, softmax: boolean): Float64Array {
  const { frames, queryStart, queryEnd, frameSegment } = table;
  const labels = table.phones + table.classes;
  const width = atlasOutputWidth(table);
  const output = new Float64Array(maps * width);
  const queryRanges = labelQueryRanges(table);
  const row = new Float64Array(frames);
  const labelMass = new Float64Array(labels);
  for (let map = 0; map < maps; map++) {
    const out = map * width;
    for (let q = queryStart; q < queryEnd; q++) {
      const start = (map * frames + q) * frames;
      probabilities(values.subarray(start, start + frames), softmax, row);
      for (let k = 0; k < frames; k++) {
        const p = row[k];
        if (p === 0) continue;
        const distance = Math.abs(k - q);
        output[out] -= p * Math.log(p);
        output[out + 1] += p * distance;
        if (distance <= 1) output[out + 2] += p;
        if (frameSegment[q] !== NO_SEGMENT && frameSegment[k] === frameSegment[q]) output[out + 3] += p;
        if (k < queryStart || k >= queryEnd) output[out + 4] += p;
      }
      table.labelKeyRanges.forEach((ranges, label) => {
        let mass = 0;
        for (const [a, b] of ranges) for (let k = a; k < b; k++) mass += row[k];
        labelMass[label] = mass;
      });
      addPairs(output, out + ATLAS_ROW_VALUES, q, queryRanges.slice(0, table.phones), labelMass.subarray(0, table.phones));
      addPairs(output, out + ATLAS_ROW_VALUES + table.phones ** 2, q, queryRanges.slice(table.phones), labelMass.subarray(table.phones));
    }
  }
  return output;
}

/** Adds row q's label masses to the pair sums of the labels whose query ranges hold q. */
function addPairs(output: Float64Array, offset: number, q: number, queryRanges: readonly (readonly FrameRange[])[], mass: Float64Array): void {
  const count = mass.length;
  queryRanges.forEach((ranges, a) => {
    if (!ranges.some(([start, end]) => start <= q && q < end)) return;
    for (let b = 0; b < count; b++) output[offset + a * count + b] += mass[b];
  });
}

/** One row's P: softmax over the finite values (all 0 when none is finite), or the finite non-negative stored values. */
function probabilities(values: Float32Array, softmax: boolean, into: Float64Array): void {
  if (!softmax) {
    values.forEach((x, k) => (into[k] = Number.isFinite(x) && x > 0 ? x : 0));
    return;
  }
  let largest = -Infinity;
  for (const x of values) if (Number.isFinite(x) && x > largest) largest = x;
  let total = 0;
  values.forEach((x, k) => {
    into[k] = Number.isFinite(x) ? Math.exp(x - largest) : 0;
    total += into[k];
  });
  for (let k = 0; k < into.length; k++) into[k] = total > 0 ? into[k] / total : 0;
}
