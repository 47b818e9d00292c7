/**
 * The head atlas of a corpus: for every layer and head, each metric as a sum over query frames with its count, and
 * the phone x phone and class x class attention masses with the query frames of each row label. Sums are float64 and
 * only ever added, so shards merge exactly (up to float64 rounding) and in any grouping.
 */
import type { ClassScheme, PhoneSet } from '../data/phoneClasses.ts';
import { classLabels as schemeClassOrder, sortPhonesByClass, phoneClassLabel } from '../data/phoneClasses.ts';
import { ATLAS_ROW_VALUES, atlasOutputWidth } from '../compute/atlas.cpu.ts';
import type { ModelSummary } from '../model/modelSource.ts';
import type { UtteranceFrames } from './frameTable.ts';

/** The metrics, in the order of atlas.json, heads.csv and the heat-tables. */
export const ATLAS_METRICS = ['entropy', 'distanceMs', 'localShare', 'samePhoneShare', 'outsideSpeechShare'] as const;
export type AtlasMetric = (typeof ATLAS_METRICS)[number];

export const METRIC_UNITS: Readonly<Record<AtlasMetric, string>> = {
  entropy: 'nats',
  distanceMs: 'ms',
  localShare: 'share',
  samePhoneShare: 'share',
  outsideSpeechShare: 'share',
};

/** How the attention was turned into P: 'row' softmax of raw scores, 'none' stored values, 'auto' per utterance. */
export type AtlasSoftmax = 'auto' | 'row' | 'none';

/** What must be equal for two atlases to be merged. */
export interface AtlasSettings {
  readonly layers: number;
  readonly heads: number;
  readonly fold: PhoneSet;
  readonly classScheme: ClassScheme;
  readonly softmax: AtlasSoftmax;
  readonly roundUp: boolean;
}

/** Where one utterance's attention came from. */
export interface TensorProvenance {
  readonly utterance: string;
  /** The tensor file (or, once --model exists, the model that produced it). */
  readonly source: string;
  readonly dtype: string;
  readonly model?: string;
  /** With --model: the model that computed the scores (its name, type, dims and the dtype of its stored weights). */
  readonly modelSummary?: AtlasModelSummary;
  readonly softmaxed: boolean;
  readonly spf: number;
}

/** What atlas.json says of a model (ModelSummary less what varies by utterance: frames, bytes read). */
export type AtlasModelSummary = Pick<ModelSummary, 'name' | 'modelType' | 'hiddenSize' | 'layers' | 'heads' | 'headDim' | 'ffnDim' | 'weightDtype'>;

export interface SkippedUtterance {
  readonly utterance: string;
  readonly reason: string;
}

/** Sums of a pair matrix: per label pair, layers x heads values. */
type PairSums = Map<string, Map<string, Float64Array>>;

/** A mutable atlas: add utterances, merge other atlases, then write it out (toJson). */
export class Atlas {
  readonly settings: AtlasSettings;
  /** Per metric: layers x heads sums. Every metric's count is queryFrames (the same for every head). */
  readonly metricSums: Record<AtlasMetric, Float64Array>;
  queryFrames = 0;
  readonly phoneCounts = new Map<string, number>();
  readonly classCounts = new Map<string, number>();
  readonly phoneSums: PairSums = new Map();
  readonly classSums: PairSums = new Map();
  readonly used: TensorProvenance[] = [];
  readonly skipped: SkippedUtterance[] = [];

  constructor(settings: AtlasSettings) {
    this.settings = settings;
    const maps = settings.layers * settings.heads;
    this.metricSums = Object.fromEntries(ATLAS_METRICS.map((metric) => [metric, new Float64Array(maps)])) as Record<AtlasMetric, Float64Array>;
  }

  /**
   * Adds one utterance: `sums` as AtlasRunner.measure returns them (layers x heads x atlasOutputWidth(frames)),
   * distances converted from frames to ms at `samplesPerFrame` (ms per frame = spf / 16 at 16 kHz).
   */
  addUtterance(frames: UtteranceFrames, sums: ArrayLike<number>, samplesPerFrame: number, provenance: TensorProvenance): void {
    const { layers, heads } = this.settings;
    const width = atlasOutputWidth(frames);
    if (sums.length !== layers * heads * width) throw new RangeError(`expected ${layers * heads * width} sums, got ${sums.length}`);
    const msPerFrame = samplesPerFrame / 16;
    for (let map = 0; map < layers * heads; map++) {
      const base = map * width;
      this.metricSums.entropy[map] += sums[base];
      this.metricSums.distanceMs[map] += sums[base + 1] * msPerFrame;
      this.metricSums.localShare[map] += sums[base + 2];
      this.metricSums.samePhoneShare[map] += sums[base + 3];
      this.metricSums.outsideSpeechShare[map] += sums[base + 4];
    }
    this.queryFrames += frames.queryEnd - frames.queryStart;
    addCounts(this.phoneCounts, frames.phoneLabels, frames.phoneCounts);
    addCounts(this.classCounts, frames.classLabels, frames.classCounts);
    const addPairs = (target: PairSums, labels: readonly string[], offset: number) => {
      const count = labels.length;
      labels.forEach((a, i) =>
        labels.forEach((b, j) => {
          const values = pairValues(target, a, b, layers * heads);
          for (let map = 0; map < layers * heads; map++) values[map] += sums[map * width + offset + i * count + j];
        }),
      );
    };
    addPairs(this.phoneSums, frames.phoneLabels, ATLAS_ROW_VALUES);
    addPairs(this.classSums, frames.classLabels, ATLAS_ROW_VALUES + frames.phones * frames.phones);
    this.used.push(provenance);
  }

  /** Adds every sum and count of `other` (same settings) to this atlas. */
  merge(other: Atlas): void {
    const mismatch = (Object.keys(this.settings) as (keyof AtlasSettings)[]).find((key) => this.settings[key] !== other.settings[key]);
    if (mismatch) {
      throw new RangeError(`cannot merge: ${mismatch} is ${String(this.settings[mismatch])} in one atlas and ${String(other.settings[mismatch])} in the other`);
    }
    for (const metric of ATLAS_METRICS) addInto(this.metricSums[metric], other.metricSums[metric]);
    this.queryFrames += other.queryFrames;
    addCounts(this.phoneCounts, [...other.phoneCounts.keys()], [...other.phoneCounts.values()]);
    addCounts(this.classCounts, [...other.classCounts.keys()], [...other.classCounts.values()]);
    const maps = this.settings.layers * this.settings.heads;
    for (const [target, source] of [[this.phoneSums, other.phoneSums], [this.classSums, other.classSums]] as const) {
      for (const [a, row] of source) for (const [b, values] of row) addInto(pairValues(target, a, b, maps), values);
    }
    this.used.push(...other.used);
    this.skipped.push(...other.skipped);
  }

  /** Phone labels in display order: grouped by class (the atlas's class scheme), then table order. */
  phoneLabels(): string[] {
    return sortPhonesByClass(this.phoneCounts.keys(), this.settings.classScheme);
  }

  /** Class labels in the scheme's order. */
  classLabels(): string[] {
    const order = schemeClassOrder(this.settings.classScheme);
    return [...this.classCounts.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  }

  /** Layers x heads x A x A sums of the phone (or class) matrix, rows and columns in `labels` order. */
  pairSumMatrix(kind: 'phones' | 'classes', labels: readonly string[]): Float64Array {
    const maps = this.settings.layers * this.settings.heads;
    const count = labels.length;
    const source = kind === 'phones' ? this.phoneSums : this.classSums;
    const matrix = new Float64Array(maps * count * count);
    labels.forEach((a, i) =>
      labels.forEach((b, j) => {
        const values = source.get(a)?.get(b);
        if (values) for (let map = 0; map < maps; map++) matrix[(map * count + i) * count + j] = values[map];
      }),
    );
    return matrix;
  }

  /** The class of a phone label under the atlas's scheme. */
  classOf(phone: string): string {
    return phoneClassLabel(phone, this.settings.classScheme);
  }
}

function addCounts(target: Map<string, number>, labels: readonly string[], counts: readonly number[]): void {
  labels.forEach((label, i) => target.set(label, (target.get(label) ?? 0) + counts[i]));
}

function pairValues(target: PairSums, a: string, b: string, maps: number): Float64Array {
  let row = target.get(a);
  if (!row) target.set(a, (row = new Map()));
  let values = row.get(b);
  if (!values) row.set(b, (values = new Float64Array(maps)));
  return values;
}

function addInto(target: Float64Array, source: ArrayLike<number>): void {
  for (let i = 0; i < target.length; i++) target[i] += source[i];
}
