/** The pure atlas pieces: frame tables from alignments, float64 accumulation and merging, shards, atlas.json checks. */
import { describe, expect, it } from 'vitest';
import { Atlas } from '../../src/atlas/atlas.ts';
import { atlasFromJson, atlasToJson } from '../../src/atlas/atlasFile.ts';
import { makeAtlasFrameTable } from '../../src/atlas/frameTable.ts';
import { atlasOutputWidth, NO_SEGMENT } from '../../src/compute/atlas.cpu.ts';
import type { Alignment } from '../../src/data/alignment.ts';
import { parseShard, shardSlice } from '../../src/cli/atlas.ts';
import { makeRandom } from '../helpers/computeCheck.ts';

/** Frames of 320 samples: h# 0-3, b 3-5, "" 5-6, iy 6-10, AH0 10-12, h# 12-16; words "bee" 3-10 and "uh" 10-12. */
const alignment: Alignment = {
  source: 'textgrid',
  text: '',
  phones: [
    { label: 'h#', startSample: 0, endSample: 960 },
    { label: 'b', startSample: 960, endSample: 1600 },
    { label: '', startSample: 1600, endSample: 1920 },
    { label: 'iy', startSample: 1920, endSample: 3200 },
    { label: 'AH0', startSample: 3200, endSample: 3840 },
    { label: 'h#', startSample: 3840, endSample: 5120 },
  ],
  words: [
    { label: '', startSample: 0, endSample: 960 },
    { label: 'bee', startSample: 960, endSample: 3200 },
    { label: 'uh', startSample: 3200, endSample: 3840 },
  ],
};

describe(makeAtlasFrameTable.name, () => {
  it('takes Q from the first to the last word, phones from the non-empty intervals, labels as written', () => {
    const table = makeAtlasFrameTable(alignment, 320, 20, { fold: 61, classScheme: 'category' });
    expect([table.queryStart, table.queryEnd]).toEqual([3, 12]);
    expect(Array.from(table.frameSegment.slice(0, 17))).toEqual([0, 0, 0, 1, 1, NO_SEGMENT, 2, 2, 2, 2, 3, 3, 4, 4, 4, 4, NO_SEGMENT]);
    expect(table.phoneLabels).toEqual(['h#', 'b', 'iy', 'AH0']);
    expect(table.phoneCounts).toEqual([0, 2, 4, 2]);
    expect(table.classLabels).toEqual(['silence', 'consonant', 'vowel']);
    expect(table.classCounts).toEqual([0, 2, 6]);
    expect(table.labelKeyRanges[0]).toEqual([[0, 3], [12, 16]]);
  });

  it('folds labels and clips to the tensor; an alignment without words is a bad utterance', () => {
    const table = makeAtlasFrameTable(alignment, 320, 14, { fold: 40, classScheme: 'manner' });
    expect(table.phoneLabels).toEqual(['sil', 'b', 'iy', 'ah']);
    expect(table.labelKeyRanges[0]).toEqual([[0, 3], [12, 14]]);
    expect(() => makeAtlasFrameTable({ ...alignment, words: [] }, 320, 20, { fold: 61, classScheme: 'manner' })).toThrow(RangeError);
  });
});

describe('a label with repeated or overlapping intervals', () => {
  it('holds each frame once, so that counts and every path\'s sums count it once', () => {
    // The reviewer's case: a .phn with one line twice (iy 6-10 again), and an iy overlapping it and AH0 (8-11).
    const phones = [...alignment.phones, { label: 'iy', startSample: 1920, endSample: 3200 }, { label: 'iy', startSample: 2560, endSample: 3520 }];
    const table = makeAtlasFrameTable({ ...alignment, phones }, 320, 20, { fold: 61, classScheme: 'category' });
    const iy = table.phoneLabels.indexOf('iy');
    expect(table.labelKeyRanges[iy]).toEqual([[6, 11]]);
    expect(table.phoneCounts[iy]).toBe(5);
    // Vowels: iy 6-11 and AH0 10-12 make one stretch of 6 query frames, as before.
    const vowel = table.phones + table.classLabels.indexOf('vowel');
    expect(table.labelKeyRanges[vowel]).toEqual([[6, 12]]);
    expect(table.classCounts[table.classLabels.indexOf('vowel')]).toBe(6);
  });
});

function randomAtlas(seed: number, utterances: number): Atlas {
  const random = makeRandom(seed);
  const atlas = new Atlas({ layers: 2, heads: 3, fold: 61, classScheme: 'manner', softmax: 'auto', roundUp: false });
  for (let u = 0; u < utterances; u++) {
    const frames = makeAtlasFrameTable(alignment, 320, 20, { fold: 61, classScheme: 'manner' });
    const sums = Float32Array.from({ length: 6 * atlasOutputWidth(frames) }, () => random() * 100);
    atlas.addUtterance(frames, sums, 320 + u, { utterance: `u${seed}_${u}`, source: 'x.npy', dtype: 'float32', softmaxed: false, spf: 320 + u });
  }
  return atlas;
}

describe(Atlas.name, () => {
  it('merges in any grouping to the same sums, and round-trips through atlas.json exactly', () => {
    const [a, b, c] = [randomAtlas(1, 3), randomAtlas(2, 2), randomAtlas(3, 4)];
    const left = atlasFromJson(JSON.parse(JSON.stringify(atlasToJson(a)))).atlas;
    left.merge(b);
    left.merge(c);
    const right = randomAtlas(2, 2);
    right.merge(randomAtlas(3, 4));
    const outer = randomAtlas(1, 3);
    outer.merge(right);
    const [x, y] = [atlasToJson(left), atlasToJson(outer)];
    expect(x.queryFrames).toBe(9 * 9);
    expect(x.utterances.used).toHaveLength(9);
    x.metrics.entropy.sum.flat().forEach((value, i) => expect(Math.abs(value - y.metrics.entropy.sum.flat()[i]) / value).toBeLessThan(1e-12));
    x.phones.sums.forEach((value, i) => expect(Math.abs(value - y.phones.sums[i])).toBeLessThanOrEqual(1e-12 * Math.abs(value)));
    expect(atlasToJson(atlasFromJson(JSON.parse(JSON.stringify(x))).atlas)).toEqual(x);
  });

  it('refuses to merge atlases of other settings, and files that are not atlases', () => {
    const other = new Atlas({ layers: 2, heads: 3, fold: 49, classScheme: 'manner', softmax: 'auto', roundUp: false });
    expect(() => randomAtlas(1, 1).merge(other)).toThrow('fold is 61 in one atlas and 49 in the other');
    expect(() => atlasFromJson({ format: 'nope' })).toThrow('not a STEVE atlas');
    const json = JSON.parse(JSON.stringify(atlasToJson(randomAtlas(1, 1))));
    json.phones.sums.pop();
    expect(() => atlasFromJson(json)).toThrow('phones.sums does not hold 6 x');
  });
});

describe('shards', () => {
  it('cut the sorted list into N contiguous slices that cover it once', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const slices = [0, 1, 2].map((index) => shardSlice(items, { index, count: 3 }));
    expect(slices).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]);
    expect(shardSlice([1, 2], { index: 0, count: 3 })).toEqual([]);
    expect(parseShard('3/16')).toEqual({ index: 3, count: 16 });
    for (const bad of ['16/16', '-1/4', '1', 'a/b', '0/0']) expect(() => parseShard(bad)).toThrow('expected i/N');
  });
});
