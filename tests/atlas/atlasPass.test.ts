/**
 * AtlasRunner (AtlasPass on the GPU) against atlasSumsCpu: raw scores with -inf and NaN, stored values, a chunked
 * layer, and a hand-made map whose sums are known in closed form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtlasFrameTable } from '../../src/compute/atlas.cpu.ts';
import { atlasOutputWidth, atlasSumsCpu, NO_SEGMENT } from '../../src/compute/atlas.cpu.ts';
import { AtlasRunner } from '../../src/compute/atlasUtterance.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { makeRandom } from '../helpers/computeCheck.ts';
import { getTestDevice, withDevice } from '../helpers/gpuDevice.ts';
import { memorySource } from '../helpers/memorySource.ts';

let runner: AtlasRunner;
beforeAll(async () => {
  runner = await AtlasRunner.create(await getTestDevice(), readShaderSources());
});
afterAll(() => runner?.destroy());

/** 40 frames: silence 0-5, phones a (5-12), b (12-20), pause 20-23, a (23-31), silence 31-40; Q = [5, 31). */
function makeTable(): AtlasFrameTable {
  const frames = 40;
  const frameSegment = new Uint32Array(frames).fill(NO_SEGMENT);
  const segments: [number, number][] = [[0, 5], [5, 12], [12, 20], [23, 31], [31, 40]];
  segments.forEach(([start, end], index) => frameSegment.fill(index, start, end));
  return {
    frames,
    queryStart: 5,
    queryEnd: 31,
    frameSegment,
    // Phone labels: h# (0-5, 31-40), a, b; classes: silence, vowel.
    phones: 3,
    classes: 2,
    labelKeyRanges: [[[0, 5], [31, 40]], [[5, 12], [23, 31]], [[12, 20]], [[0, 5], [31, 40]], [[5, 12], [12, 20], [23, 31]]],
  };
}

function expectRelative(gpu: Float32Array, cpu: Float64Array, relative: number): void {
  expect(gpu.length).toBe(cpu.length);
  let worst = 0;
  cpu.forEach((expected, i) => {
    worst = Math.max(worst, Math.abs(gpu[i] - expected) / Math.max(Math.abs(expected), 1e-3));
  });
  expect(worst).toBeLessThan(relative);
}

describe(AtlasRunner.name, () => {
  it('matches the reference on raw scores with masked (-inf) and NaN values', async () => {
    const table = makeTable();
    const [layers, heads, frames] = [2, 3, table.frames];
    const random = makeRandom(13);
    const values = Float32Array.from({ length: layers * heads * frames * frames }, () => 8 * random() - 4);
    values[7] = -Infinity;
    values[5 * frames + 3] = NaN;
    values.fill(-Infinity, frames * frames + 10 * frames, frames * frames + 11 * frames); // a row with no finite score
    const gpu = await withDevice(() => runner.measure(memorySource(values, layers, heads, frames), table, true));
    const cpu = atlasSumsCpu(values, layers * heads, table, true);
    expectRelative(gpu, cpu, 1e-5);
  });

  it('matches the reference on stored (already softmaxed) values', async () => {
    const table = makeTable();
    const frames = table.frames;
    const random = makeRandom(7);
    const values = new Float32Array(4 * frames * frames);
    for (let row = 0; row < 4 * frames; row++) {
      let sum = 0;
      for (let k = 0; k < frames; k++) sum += values[row * frames + k] = Math.exp(5 * random());
      for (let k = 0; k < frames; k++) values[row * frames + k] /= sum;
    }
    const gpu = await withDevice(() => runner.measure(memorySource(values, 1, 4, frames), table, false));
    expectRelative(gpu, atlasSumsCpu(values, 4, table, false), 1e-5);
  });

  it('gives the closed-form sums of an identity map', async () => {
    const table = makeTable();
    const frames = table.frames;
    const values = new Float32Array(frames * frames);
    for (let q = 0; q < frames; q++) values[q * frames + q] = 1;
    const gpu = await withDevice(() => runner.measure(memorySource(values, 1, 1, frames), table, false));
    const queries = table.queryEnd - table.queryStart;
    // No entropy or distance; all mass local; same phone except the 3 pause frames; nothing outside speech.
    expect(Array.from(gpu.slice(0, 5))).toEqual([0, 0, queries, queries - 3, 0]);
    expect(gpu.length).toBe(atlasOutputWidth(table));
    // Phone pairs: a->a 15 frames, b->b 8, h#->h# 0 (h# frames are not queries).
    const phonePairs = Array.from(gpu.slice(5, 14));
    expect(phonePairs).toEqual([0, 0, 0, 0, 15, 0, 0, 0, 8]);
    expect(Array.from(gpu.slice(14))).toEqual([0, 0, 0, 23]);
  });
});
