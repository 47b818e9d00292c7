/**
 * The atlas on the host (src/compute/cpu/atlasHost.ts, AtlasRunner with `host`) against atlasSumsCpu and the GPU
 * pass: raw scores with masked (-inf), NaN and +inf values and a row without a finite score, stored values with
 * negative and non-finite ones, and the query rows read straight from a float32 file's bytes (`stored`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AtlasFrameTable } from '../../src/compute/atlas.cpu.ts';
import { atlasSumsCpu, NO_SEGMENT } from '../../src/compute/atlas.cpu.ts';
import { AtlasRunner } from '../../src/compute/atlasUtterance.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { makeAttentionMaps, makeRandom } from '../helpers/computeCheck.ts';
import { getTestDevice, withDevice } from '../helpers/gpuDevice.ts';
import { memorySource } from '../helpers/memorySource.ts';

let host: AtlasRunner;
let gpu: AtlasRunner;
beforeAll(async () => {
  const device = await getTestDevice();
  host = await AtlasRunner.create(device, readShaderSources(), { host: true });
  gpu = await AtlasRunner.create(device, readShaderSources());
});
afterAll(() => {
  host?.destroy();
  gpu?.destroy();
});

/** 48 frames: silence 0-6, phones a (6-14), b (14-22), pause 22-25, a (25-34), c (34-38), silence 38-48; Q = [6, 38). */
function makeTable(): AtlasFrameTable {
  const frames = 48;
  const frameSegment = new Uint32Array(frames).fill(NO_SEGMENT);
  const segments: [number, number][] = [[0, 6], [6, 14], [14, 22], [25, 34], [34, 38], [38, 48]];
  segments.forEach(([start, end], index) => frameSegment.fill(index, start, end));
  return {
    frames,
    queryStart: 6,
    queryEnd: 38,
    frameSegment,
    phones: 4, // h#, a, b, c
    classes: 2, // silence, vowel
    labelKeyRanges: [[[0, 6], [38, 48]], [[6, 14], [25, 34]], [[14, 22]], [[34, 38]], [[0, 6], [38, 48]], [[6, 14], [14, 22], [25, 34], [34, 38]]],
  };
}

function worstRelative(actual: Float32Array, expected: Float64Array | Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  expected.forEach((value, i) => (worst = Math.max(worst, Math.abs(actual[i] - value) / Math.max(Math.abs(value), 1e-3))));
  return worst;
}

describe('AtlasRunner on the host', () => {
  it('matches the reference and the GPU pass on raw scores with non-finite values, reading only the query rows', async () => {
    const table = makeTable();
    const [layers, heads, frames] = [2, 3, table.frames];
    const random = makeRandom(21);
    const values = Float32Array.from({ length: layers * heads * frames * frames }, () => 10 * random() - 5);
    values[7 * frames + 3] = -Infinity;
    values[9 * frames + 30] = NaN;
    values[frames * frames + 12 * frames + 40] = Infinity;
    values.fill(-Infinity, 2 * frames * frames + 20 * frames, 2 * frames * frames + 21 * frames); // no finite score
    const source = memorySource(values, layers, heads, frames, true);
    const onHost = await host.measure(source, table, true);
    expect(source.headReads, 'rows read from the bytes, no whole map').toBe(0);
    expect(worstRelative(onHost, atlasSumsCpu(values, layers * heads, table, true))).toBeLessThan(1e-6);
    const onGpu = await withDevice(() => gpu.measure(memorySource(values, layers, heads, frames, false), table, true));
    expect(worstRelative(onHost, onGpu)).toBeLessThan(1e-5);
  });

  it('matches the reference on stored values, negative and non-finite ones counting as 0, through whole-map reads', async () => {
    const table = makeTable();
    const frames = table.frames;
    const values = makeAttentionMaps(makeRandom(5), 3, frames, frames);
    values[10 * frames + 2] = -0.25;
    values[frames * frames + 15 * frames + 7] = NaN;
    values[2 * frames * frames + 30 * frames + 1] = Infinity;
    const source = memorySource(values, 1, 3, frames, false);
    const onHost = await host.measure(source, table, false);
    expect(source.headReads).toBe(3);
    expect(worstRelative(onHost, atlasSumsCpu(values, 3, table, false))).toBeLessThan(1e-6);
  });
});
