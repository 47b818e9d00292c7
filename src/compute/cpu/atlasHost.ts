/**
 * The head atlas's sums on the host (the CPU path of AtlasRunner, src/compute/atlasUtterance.ts): atlasSumsCpu's
 * arithmetic (src/compute/atlas.cpu.ts) over the query rows of one map, tightened: the rows are read alone (the
 * atlas needs only the query frames Q, a tenth of a Whisper map for a 3-second utterance), the labels holding each
 * query frame are found once per utterance, and a softmaxed row's entropy comes from its normaliser
 * (H = log Z - sum p (x - max)) instead of a logarithm per value. tests/atlas/atlasHost.test.ts holds it to the
 * reference and to the GPU pass.
 */
import type { AtlasFrameTable } from '../atlas.cpu.ts';
import { ATLAS_ROW_VALUES, NO_SEGMENT, labelQueryRanges } from '../atlas.cpu.ts';

/** What the host needs of an utterance's frame table, worked out once for all its maps. */
export interface HostAtlasTable {
  readonly table: AtlasFrameTable;
  /** Per query frame (q - queryStart): the phone labels whose query frames hold it. */
  readonly phonesOfQuery: readonly Int32Array[];
  /** The same for the class labels (indices from 0). */
  readonly classesOfQuery: readonly Int32Array[];
}

export function makeHostAtlasTable(table: AtlasFrameTable): HostAtlasTable {
  const ranges = labelQueryRanges(table);
  const labelsOf = (first: number, count: number) =>
    Array.from({ length: table.queryEnd - table.queryStart }, (_, offset) => {
      const q = table.queryStart + offset;
      const holding: number[] = [];
      for (let label = 0; label < count; label++) if (ranges[first + label].some(([start, end]) => start <= q && q < end)) holding.push(label);
      return Int32Array.from(holding);
    });
  return { table, phonesOfQuery: labelsOf(0, table.phones), classesOfQuery: labelsOf(table.phones, table.classes) };
}

/**
 * Adds the sums of one map to `output` at `offset` (atlasOutputWidth(table) values, as atlasSumsCpu orders them),
 * from `rows`: its query rows (queryEnd - queryStart rows of `frames` values), raw scores softmaxed per row when
 * `softmax`, else stored values with non-finite and negative ones counting as 0. `scratch` holds one row (float64).
 */
export function addAtlasMapSums(rows: Float32Array, host: HostAtlasTable, softmax: boolean, output: Float64Array, offset: number, scratch: Float64Array): void {
  const { table } = host;
  const { frames, queryStart, queryEnd, frameSegment, phones, classes } = table;
  const labelCount = phones + classes;
  const labelMass = new Float64Array(labelCount);
  const [phonePairs, classPairs] = [offset + ATLAS_ROW_VALUES, offset + ATLAS_ROW_VALUES + phones * phones];
  let [entropy, distance, local, samePhone, outside] = [0, 0, 0, 0, 0];
  for (let q = queryStart; q < queryEnd; q++) {
    const base = (q - queryStart) * frames;
    // P of the row into scratch, and its entropy.
    let rowEntropy = 0;
    if (softmax) {
      let largest = -Infinity;
      for (let k = 0; k < frames; k++) {
        const x = rows[base + k];
        if (x > largest && x !== Infinity) largest = x; // NaN fails the compare
      }
      let total = 0;
      let weighted = 0;
      if (largest !== -Infinity) {
        for (let k = 0; k < frames; k++) {
          const x = rows[base + k];
          const shifted = x - largest;
          // NaN and +inf fail the compare (P 0); -inf gives exp(-inf) = 0.
          const e = shifted <= 0 ? Math.exp(shifted) : 0;
          scratch[k] = e;
          total += e;
          weighted += e > 0 ? e * shifted : 0; // 0 x -inf would be NaN
        }
      } else scratch.fill(0, 0, frames);
      if (total > 0) {
        const inverse = 1 / total;
        for (let k = 0; k < frames; k++) scratch[k] *= inverse;
        rowEntropy = Math.log(total) - weighted * inverse;
      }
    } else {
      for (let k = 0; k < frames; k++) {
        const x = rows[base + k];
        const p = x > 0 && x !== Infinity ? x : 0;
        scratch[k] = p;
        if (p > 0) rowEntropy -= p * Math.log(p);
      }
    }
    entropy += rowEntropy;
    // Distance, locality, outside speech: sums over k of p by where k lies.
    let rowDistance = 0;
    let rowTotal = 0;
    for (let k = 0; k < frames; k++) {
      const p = scratch[k];
      rowDistance += p * (k > q ? k - q : q - k);
      rowTotal += p;
    }
    distance += rowDistance;
    for (let k = Math.max(0, q - 1); k <= Math.min(frames - 1, q + 1); k++) local += scratch[k];
    let inside = 0;
    for (let k = queryStart; k < queryEnd; k++) inside += scratch[k];
    outside += rowTotal - inside;
    const segment = frameSegment[q];
    if (segment !== NO_SEGMENT) {
      for (let k = 0; k < frames; k++) if (frameSegment[k] === segment) samePhone += scratch[k];
    }
    // Each label's mass in the row, added to the pairs of the labels holding q.
    for (let label = 0; label < labelCount; label++) {
      let mass = 0;
      for (const [start, end] of table.labelKeyRanges[label]) for (let k = start; k < end; k++) mass += scratch[k];
      labelMass[label] = mass;
    }
    const offsetOfQuery = q - queryStart;
    for (const a of host.phonesOfQuery[offsetOfQuery]) {
      const at = phonePairs + a * phones;
      for (let b = 0; b < phones; b++) output[at + b] += labelMass[b];
    }
    for (const a of host.classesOfQuery[offsetOfQuery]) {
      const at = classPairs + a * classes;
      for (let b = 0; b < classes; b++) output[at + b] += labelMass[phones + b];
    }
  }
  output[offset] += entropy;
  output[offset + 1] += distance;
  output[offset + 2] += local;
  output[offset + 3] += samePhone;
  output[offset + 4] += outside;
}
