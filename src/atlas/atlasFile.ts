/**
 * The atlas on disk: atlas.json (settings, provenance, every metric as layers x heads sums and counts, the phone and
 * class matrices as sums with their row counts), heads.csv (one row per layer and head, every metric's corpus value),
 * and the phone and class matrices as layers x heads x A x A float32 arrays of averages for numpy. atlas.json alone
 * holds everything a merge needs; JSON numbers carry float64 sums exactly.
 */
import type { ClassScheme, PhoneSet } from '../data/phoneClasses.ts';
import { CLASS_SCHEMES } from '../data/phoneClasses.ts';
import type { AtlasMetric, AtlasSettings, AtlasSoftmax, SkippedUtterance, TensorProvenance } from './atlas.ts';
import { Atlas, ATLAS_METRICS, METRIC_UNITS } from './atlas.ts';

export const ATLAS_FORMAT = 'steve-atlas';
export const ATLAS_VERSION = 1;

/** Which slice of the sorted utterance list a partial atlas covers. */
export interface ShardInfo {
  readonly index: number;
  readonly count: number;
}

export interface AtlasMetricJson {
  readonly unit: string;
  /** layers x heads. */
  readonly sum: number[][];
  readonly count: number[][];
  /** sum / count: the corpus value (null where no frame was counted). */
  readonly mean: (number | null)[][];
}

export interface AtlasMatrixJson {
  readonly labels: string[];
  /** Per label, query frames in it: count[a] of the definition. */
  readonly counts: number[];
  /** layers x heads x A x A sums, flattened in C order. */
  readonly sums: number[];
}

export interface AtlasJson {
  readonly format: typeof ATLAS_FORMAT;
  readonly version: number;
  readonly settings: AtlasSettings;
  /** The distinct samples-per-frame of the utterances used (16 kHz samples per model frame). */
  readonly spf: number[];
  /** Query frames over all utterances used: every metric's count. */
  readonly queryFrames: number;
  readonly shards: ShardInfo[];
  readonly utterances: { readonly used: TensorProvenance[]; readonly skipped: SkippedUtterance[] };
  readonly metrics: Record<AtlasMetric, AtlasMetricJson>;
  readonly phones: AtlasMatrixJson & { readonly classes: string[] };
  readonly classes: AtlasMatrixJson & { readonly scheme: ClassScheme };
}

/** The JSON of an atlas that covers `shards` (empty: the whole list). */
export function atlasToJson(atlas: Atlas, shards: readonly ShardInfo[] = []): AtlasJson {
  const { layers, heads } = atlas.settings;
  const grid = (value: (map: number) => number | null) =>
    Array.from({ length: layers }, (_, layer) => Array.from({ length: heads }, (_, head) => value(layer * heads + head)));
  const metrics = Object.fromEntries(
    ATLAS_METRICS.map((metric) => [
      metric,
      {
        unit: METRIC_UNITS[metric],
        sum: grid((map) => atlas.metricSums[metric][map]) as number[][],
        count: grid(() => atlas.queryFrames) as number[][],
        mean: grid((map) => (atlas.queryFrames > 0 ? atlas.metricSums[metric][map] / atlas.queryFrames : null)),
      },
    ]),
  ) as Record<AtlasMetric, AtlasMetricJson>;
  const phoneLabels = atlas.phoneLabels();
  const classLabels = atlas.classLabels();
  return {
    format: ATLAS_FORMAT,
    version: ATLAS_VERSION,
    settings: { ...atlas.settings },
    spf: [...new Set(atlas.used.map((used) => used.spf))].sort((a, b) => a - b),
    queryFrames: atlas.queryFrames,
    shards: [...shards],
    utterances: { used: [...atlas.used], skipped: [...atlas.skipped] },
    metrics,
    phones: {
      labels: phoneLabels,
      classes: phoneLabels.map((label) => atlas.classOf(label)),
      counts: phoneLabels.map((label) => atlas.phoneCounts.get(label)!),
      sums: Array.from(atlas.pairSumMatrix('phones', phoneLabels)),
    },
    classes: {
      scheme: atlas.settings.classScheme,
      labels: classLabels,
      counts: classLabels.map((label) => atlas.classCounts.get(label)!),
      sums: Array.from(atlas.pairSumMatrix('classes', classLabels)),
    },
  };
}

/**
 * Reads atlas.json back into an Atlas (for merging) and the shards it covers. Throws an Error with a one-line reason
 * when the file is not an atlas or its arrays do not fit its settings; the caller names the file.
 */
export function atlasFromJson(value: unknown): { atlas: Atlas; shards: ShardInfo[] } {
  const json = value as AtlasJson;
  if (typeof json !== 'object' || json === null || json.format !== ATLAS_FORMAT) throw new Error(`not a STEVE atlas (no "format": "${ATLAS_FORMAT}")`);
  if (json.version !== ATLAS_VERSION) throw new Error(`atlas version ${String(json.version)}; this steve reads version ${ATLAS_VERSION}`);
  const settings = readSettings(json.settings);
  const maps = settings.layers * settings.heads;
  const atlas = new Atlas(settings);
  const number = (x: unknown, what: string) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${what} is not a finite number`);
    return x;
  };
  atlas.queryFrames = number(json.queryFrames, 'queryFrames');
  for (const metric of ATLAS_METRICS) {
    const sum = json.metrics?.[metric]?.sum;
    if (!Array.isArray(sum) || sum.length !== settings.layers || sum.some((row) => !Array.isArray(row) || row.length !== settings.heads)) {
      throw new Error(`metrics.${metric}.sum is not ${settings.layers} x ${settings.heads}`);
    }
    sum.flat().forEach((x, map) => (atlas.metricSums[metric][map] = number(x, `metrics.${metric}.sum`)));
  }
  for (const [kind, matrix, counts, sums] of [
    ['phones', json.phones, atlas.phoneCounts, atlas.phoneSums],
    ['classes', json.classes, atlas.classCounts, atlas.classSums],
  ] as const) {
    const labels = matrix?.labels;
    if (!Array.isArray(labels) || !labels.every((label) => typeof label === 'string') || new Set(labels).size !== labels.length) {
      throw new Error(`${kind}.labels is not a list of distinct strings`);
    }
    const a = labels.length;
    if (!Array.isArray(matrix.counts) || matrix.counts.length !== a) throw new Error(`${kind}.counts does not have one count per label`);
    if (!Array.isArray(matrix.sums) || matrix.sums.length !== maps * a * a) throw new Error(`${kind}.sums does not hold ${maps} x ${a} x ${a} values`);
    labels.forEach((label, i) => counts.set(label, number(matrix.counts[i], `${kind}.counts`)));
    labels.forEach((rowLabel, i) => {
      const row = new Map<string, Float64Array>();
      labels.forEach((columnLabel, j) => {
        const values = new Float64Array(maps);
        for (let map = 0; map < maps; map++) values[map] = number(matrix.sums[(map * a + i) * a + j], `${kind}.sums`);
        row.set(columnLabel, values);
      });
      sums.set(rowLabel, row);
    });
  }
  if (!Array.isArray(json.utterances?.used) || !Array.isArray(json.utterances?.skipped)) throw new Error('utterances.used or utterances.skipped is missing');
  atlas.used.push(...json.utterances.used);
  atlas.skipped.push(...json.utterances.skipped);
  return { atlas, shards: Array.isArray(json.shards) ? json.shards : [] };
}

function readSettings(settings: AtlasSettings | undefined): AtlasSettings {
  if (typeof settings !== 'object' || settings === null) throw new Error('settings is missing');
  const positive = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x > 0 && x <= 4096;
  if (!positive(settings.layers) || !positive(settings.heads)) throw new Error('settings.layers and settings.heads must be positive whole numbers');
  if (![61, 49, 40].includes(settings.fold)) throw new Error(`settings.fold ${String(settings.fold)} is not 61, 49 or 40`);
  if (!CLASS_SCHEMES.includes(settings.classScheme)) throw new Error(`settings.classScheme "${String(settings.classScheme)}" is unknown`);
  if (!['auto', 'row', 'none'].includes(settings.softmax)) throw new Error(`settings.softmax "${String(settings.softmax)}" is unknown`);
  return {
    layers: settings.layers,
    heads: settings.heads,
    fold: settings.fold as PhoneSet,
    classScheme: settings.classScheme,
    softmax: settings.softmax as AtlasSoftmax,
    roundUp: settings.roundUp === true,
  };
}

/** heads.csv: a header, then one row per layer and head with every metric's corpus value and the frames counted. */
export function atlasHeadsCsv(json: AtlasJson): string {
  const lines = [['layer', 'head', ...ATLAS_METRICS, 'queryFrames'].join(',')];
  for (let layer = 0; layer < json.settings.layers; layer++) {
    for (let head = 0; head < json.settings.heads; head++) {
      const values = ATLAS_METRICS.map((metric) => json.metrics[metric].mean[layer][head]);
      lines.push([layer, head, ...values.map((value) => (value === null ? '' : String(value))), json.queryFrames].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The averages sum[a, b] / count[a] of a matrix (NaN for a row label without query frames), layers x heads x A x A. */
export function matrixAverages(json: AtlasJson, kind: 'phones' | 'classes'): Float32Array {
  const { labels, counts, sums } = json[kind];
  const a = labels.length;
  return Float32Array.from(sums, (sum, index) => {
    const count = counts[Math.floor(index / a) % a];
    return count > 0 ? sum / count : NaN;
  });
}

/** The .json sidecar of phones.npy or classes.npy. */
export function matrixSidecar(json: AtlasJson, kind: 'phones' | 'classes'): object {
  const { labels, counts } = json[kind];
  return {
    file: `${kind}.npy`,
    dtype: 'float32',
    shape: [json.settings.layers, json.settings.heads, labels.length, labels.length],
    dims: ['layer', 'head', kind === 'phones' ? 'queryPhone' : 'queryClass', kind === 'phones' ? 'keyPhone' : 'keyClass'],
    meaning:
      'value[l, h, a, b] = (sum over query frames q in label a of the attention mass P[q, k] on key frames k in label b) / ' +
      '(query frames in label a): the average mass a frame of a gives to frames of b; NaN where a has no query frame',
    labels,
    counts,
    ...(kind === 'phones' ? { classes: json.phones.classes, classScheme: json.settings.classScheme, fold: json.settings.fold } : { scheme: json.settings.classScheme }),
  };
}
