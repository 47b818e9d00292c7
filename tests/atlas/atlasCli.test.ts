/**
 * `steve atlas` end to end against the independent numpy reference (tests/fixtures/atlas/make_atlas_fixtures.py),
 * on whichever path STEVE_COMPUTE's default takes here (the host on a software adapter), and the GPU pass against it:
 * the TIMIT and L2-ARCTIC samples with numpy-written synthetic attention (raw scores in .npz, softmaxed in STEVE's
 * .npy layout), every metric and every phone and class matrix entry at 1e-5 relative; three shards merged equal one
 * run to 1e-9; bad utterances are skipped and counted; the outputs (heads.csv, .npy + sidecars) agree with atlas.json.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AtlasJson } from '../../src/atlas/atlasFile.ts';
import { ATLAS_METRICS } from '../../src/atlas/atlas.ts';
import { python, ROOT, steve, TIMIT_WAV, ARCTIC_WAV } from '../cli/steveProcess.ts';

const FIXTURES = join(ROOT, 'tests/fixtures/atlas');
const TIMIT_TENSORS = ['timit_raw.npz', 'timit_softmaxed.npy', 'timit_coarse.npz'].map((name) => join(FIXTURES, name));
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as {
  queryFrames: number;
  metrics: Record<string, number[][]>;
  phones: { counts: Record<string, number>; sums: Record<string, number[][]> };
  classes: { counts: Record<string, number>; sums: Record<string, number[][]> };
};

const work = mkdtempSync(join(tmpdir(), 'steve-atlas-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const readAtlas = (dir: string) => JSON.parse(readFileSync(join(dir, 'atlas.json'), 'utf8')) as AtlasJson;
const timitArgs = TIMIT_TENSORS.flatMap((tensor) => ['--wav', TIMIT_WAV, '--attention', tensor]);

function relativeError(actual: number, reference: number): number {
  return Math.abs(actual - reference) / Math.max(Math.abs(reference), 1e-12);
}

/** The largest relative difference between two atlases' sums (metrics and both matrices, matched by label). */
function worstDifference(a: AtlasJson, b: AtlasJson): number {
  let worst = 0;
  for (const metric of ATLAS_METRICS) {
    a.metrics[metric].sum.flat().forEach((value, i) => (worst = Math.max(worst, relativeError(value, b.metrics[metric].sum.flat()[i]))));
  }
  for (const kind of ['phones', 'classes'] as const) {
    expect([...a[kind].labels].sort()).toEqual([...b[kind].labels].sort());
    const maps = a.settings.layers * a.settings.heads;
    const [na, nb] = [a[kind].labels.length, b[kind].labels.length];
    a[kind].labels.forEach((rowLabel, i) =>
      a[kind].labels.forEach((colLabel, j) => {
        const [bi, bj] = [b[kind].labels.indexOf(rowLabel), b[kind].labels.indexOf(colLabel)];
        for (let map = 0; map < maps; map++) {
          const x = a[kind].sums[(map * na + i) * na + j];
          const y = b[kind].sums[(map * nb + bi) * nb + bj];
          if (x !== 0 || y !== 0) worst = Math.max(worst, relativeError(x, y));
        }
      }),
    );
  }
  return worst;
}

describe('steve atlas', () => {
  it('matches the numpy reference on the TIMIT and L2-ARCTIC samples, for every metric and matrix entry', async () => {
    const timit = await steve(['atlas', ...timitArgs, '--alignments', 'timit', '-o', join(work, 'timit')]);
    expect(timit.stderr).toContain('3 utterance(s) used, 0 skipped');
    expect(timit.code).toBe(0);
    const arctic = await steve(['atlas', '--wav', ARCTIC_WAV, '--attention', join(FIXTURES, 'arctic_raw.npz'), '--alignments', 'textgrid', '-o', join(work, 'arctic')]);
    expect(arctic.code, arctic.stderr).toBe(0);
    const merged = await steve(['atlas', 'merge', join(work, 'timit'), join(work, 'arctic'), '-o', join(work, 'all')]);
    expect(merged.code, merged.stderr).toBe(0);
    const atlas = readAtlas(join(work, 'all'));

    expect(atlas.queryFrames).toBe(expected.queryFrames);
    expect(atlas.utterances.used.map((used) => used.softmaxed).sort()).toEqual([false, false, false, true]);
    for (const metric of ATLAS_METRICS) {
      const reference = expected.metrics[metric].flat();
      expect(atlas.metrics[metric].count.flat()).toEqual(reference.map(() => expected.queryFrames));
      atlas.metrics[metric].sum.flat().forEach((sum, i) => expect(relativeError(sum, reference[i]), `${metric}[${i}]`).toBeLessThan(1e-5));
    }
    for (const kind of ['phones', 'classes'] as const) {
      const { labels, counts, sums } = atlas[kind];
      expect(Object.fromEntries(labels.map((label, i) => [label, counts[i]]))).toEqual(expected[kind].counts);
      const a = labels.length;
      let compared = 0;
      for (const [pair, reference] of Object.entries(expected[kind].sums)) {
        const [row, col] = pair.split('|');
        const [i, j] = [labels.indexOf(row), labels.indexOf(col)];
        reference.flat().forEach((value, map) => {
          const sum = sums[(map * a + i) * a + j];
          // Sums below 1e-6 are float32 round-off on the GPU; compare them absolutely.
          if (value > 1e-6) expect(relativeError(sum, value), `${kind} ${pair} map ${map}`).toBeLessThan(1e-5);
          else expect(Math.abs(sum - value)).toBeLessThan(1e-6);
          compared++;
        });
      }
      expect(compared).toBeGreaterThan(kind === 'phones' ? 1000 : 50);
    }
  }, 120_000);

  it('merges three shards into exactly the one-run atlas', async () => {
    const runs = await Promise.all(
      [0, 1, 2].map((index) => steve(['atlas', ...timitArgs, '--alignments', 'timit', '--shard', `${index}/3`, '-o', join(work, `shard${index}`)])),
    );
    runs.forEach((run) => expect(run.stderr).toContain('1 utterance(s) used, 0 skipped'));
    const merge = await steve(['atlas', 'merge', ...[2, 0, 1].map((index) => join(work, `shard${index}`)), '-o', join(work, 'merged')]);
    expect(merge.code, merge.stderr).toBe(0);
    expect(merge.stderr).not.toContain('warning');
    const one = readAtlas(join(work, 'timit'));
    const merged = readAtlas(join(work, 'merged'));
    expect(merged.shards.map((shard) => shard.index).sort()).toEqual([0, 1, 2]);
    expect(merged.utterances.used.map((used) => used.source).sort()).toEqual(one.utterances.used.map((used) => used.source).sort());
    expect(merged.queryFrames).toBe(one.queryFrames);
    expect(worstDifference(merged, one)).toBeLessThan(1e-9);
  }, 120_000);

  it('gives the same atlas on the GPU pass as on the host (the default on a software adapter)', async () => {
    const [onGpu, onHost] = await Promise.all(
      (['gpu', 'cpu'] as const).map((compute) => steve(['atlas', ...timitArgs, '--alignments', 'timit', '-o', join(work, `timit-${compute}`)], ROOT, { STEVE_COMPUTE: compute })),
    );
    expect(onGpu.code, onGpu.stderr).toBe(0);
    expect(onHost.code, onHost.stderr).toBe(0);
    expect(worstDifference(readAtlas(join(work, 'timit-gpu')), readAtlas(join(work, 'timit-cpu')))).toBeLessThan(1e-5);
  }, 120_000);

  it('writes heads.csv and the .npy matrices from the same sums', () => {
    const dir = join(work, 'all');
    const atlas = readAtlas(dir);
    const csv = readFileSync(join(dir, 'heads.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(`layer,head,${ATLAS_METRICS.join(',')},queryFrames`);
    expect(csv).toHaveLength(1 + atlas.settings.layers * atlas.settings.heads);
    expect(Number(csv[3].split(',')[3])).toBeCloseTo(atlas.metrics.distanceMs.sum[1][0] / atlas.queryFrames, 9);
    // numpy reads the averages: row a of head (l, h) is sums / count[a].
    const check = python<{ shape: number[]; value: number; labels: string[] }>(
      `import numpy as np, json; a = np.load(${JSON.stringify(join(dir, 'phones.npy'))}); s = json.load(open(${JSON.stringify(join(dir, 'phones.json'))}));` +
        `print(json.dumps({"shape": list(a.shape), "value": float(a[1, 1, 2, 3]), "labels": s["labels"]}))`,
    );
    const a = atlas.phones.labels.length;
    expect(check.shape).toEqual([atlas.settings.layers, atlas.settings.heads, a, a]);
    expect(check.labels).toEqual(atlas.phones.labels);
    expect(check.value).toBeCloseTo(atlas.phones.sums[((1 * atlas.settings.heads + 1) * a + 2) * a + 3] / atlas.phones.counts[2], 5);
  });

  it('plots heat-tables for every metric and the matrices of a chosen head, as SVG and PNG', async () => {
    const run = await steve(['atlas', '--plot', join(work, 'all'), '--layer', '1', '--head', '0', '-o', join(work, 'plots')]);
    expect(run.code, run.stderr).toBe(0);
    const written = run.stdout.trim().split('\n');
    expect(written).toHaveLength(2 * (ATLAS_METRICS.length + 2));
    expect(written).toContain(join(work, 'plots', 'phones_L1_H0.png'));
    const png = readFileSync(join(work, 'plots', 'heat_entropy.png'));
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(readFileSync(join(work, 'plots', 'classes_L1_H0.svg'), 'utf8')).toContain('Layer 1, head 0: manner x manner');
    const outside = await steve(['atlas', '--plot', join(work, 'all'), '--layer', '9']);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('outside the atlas');
  }, 60_000);

  it('takes layers x heads from the first utterance measured, names the failing tensor, and refuses a bad STEVE_COMPUTE in one line', async () => {
    // A square-less tensor (152 x 100 maps) opens but cannot be measured: it must not fix the atlas at its 3 x 2.
    const nonSquare = join(work, 'nonsquare.npy');
    python(`import numpy as np; np.save(${JSON.stringify(nonSquare)}, np.zeros((3, 1, 2, 152, 100), 'f4')); print(1)`);
    const run = await steve(['atlas', '--wav', TIMIT_WAV, '--attention', nonSquare, '--wav', TIMIT_WAV, '--attention', TIMIT_TENSORS[0], '--alignments', 'timit', '-o', join(work, 'first-fails')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('1 utterance(s) used, 1 skipped');
    const atlas = readAtlas(join(work, 'first-fails'));
    expect([atlas.settings.layers, atlas.settings.heads]).toEqual([readAtlas(join(work, 'timit')).settings.layers, readAtlas(join(work, 'timit')).settings.heads]);
    expect(atlas.utterances.skipped[0].reason).toContain(nonSquare);
    const alone = await steve(['atlas', '--wav', TIMIT_WAV, '--attention', nonSquare, '--alignments', 'timit', '-o', join(work, 'none-used')]);
    expect(alone.code).toBe(1);
    const badCompute = await steve(['atlas', ...timitArgs, '--alignments', 'timit', '-o', join(work, 'bad-compute')], ROOT, { STEVE_COMPUTE: 'fast' });
    expect(badCompute.code).toBe(2);
    expect(badCompute.stderr.trim().split('\n')).toEqual([expect.stringContaining('STEVE_COMPUTE must be gpu, cpu or auto, got "fast"')]);
  }, 60_000);

  it('skips and counts bad utterances, and refuses a folder that is not an atlas', async () => {
    const run = await steve([
      'atlas',
      '--wav', TIMIT_WAV, '--attention', TIMIT_TENSORS[0],
      '--wav', ARCTIC_WAV, '--attention', join(FIXTURES, 'arctic_raw.npz'),
      '--wav', TIMIT_WAV, '--attention', join(FIXTURES, 'make_atlas_fixtures.py'),
      '--alignments', 'timit', '-o', join(work, 'bad'),
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('1 utterance(s) used, 2 skipped');
    expect(readAtlas(join(work, 'bad')).utterances.skipped).toHaveLength(2);
    const merge = await steve(['atlas', 'merge', FIXTURES, '-o', join(work, 'nothing')]);
    expect(merge.code).toBe(1);
    expect(merge.stderr.trim().split('\n')).toHaveLength(1);
    expect(merge.stderr).toContain('atlas.json');
  }, 60_000);
});
