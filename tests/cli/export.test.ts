/**
 * `steve export`, run as a user runs it: the matrices behind each view, loaded with python3's numpy.load and
 * compared with a numpy reference computed from the tensor file (softmax over rows, crop to the words' frames,
 * head mean, pooling, difference, rollout), and the CSV and JSON sidecar beside them.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { python, SOFTMAXED_F16, steve, TIMIT_WAV } from './steveProcess.ts';

/** The fixture's rows already sum to 1: --softmax row is named so the maps match the numpy softmax reference. */
const VIEW = ['--attention', SOFTMAXED_F16, '--wav', TIMIT_WAV, '--words', '1:3', '--softmax', 'row'];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'steve-export-'));
});

/**
 * numpy: the file's maps softmaxed over rows in float64 (`soft[layer, head]`), the sidecar's crop (`rows`, `cols`
 * slices), and `got`, the exported array; `code` computes `expected` from them and we print the largest error.
 */
function compareWithNumpy(npy: string, code: string): { shape: number[]; error: number } {
  return python(`
import json, numpy as np
side = json.load(open(${JSON.stringify(npy)} + '.json'))
got = np.load(${JSON.stringify(npy)})
assert got.dtype == np.float32 and got.flags['C_CONTIGUOUS']
raw = np.load(${JSON.stringify(SOFTMAXED_F16)}).astype(np.float64)[:, 0]
e = np.exp(raw - raw.max(-1, keepdims=True))
soft = e / e.sum(-1, keepdims=True)
c = side['crop']
rows, cols = slice(c['rowStart'], c['rowEnd']), slice(c['colStart'], c['colEnd'])
${code}
print(json.dumps({'shape': list(got.shape), 'error': float(np.nanmax(np.abs(got - expected)))}))
`);
}

describe('steve export', () => {
  it('writes one softmaxed, cropped map as .npy that numpy loads, with a sidecar describing its axes', async () => {
    const out = join(dir, 'map.npy');
    const run = await steve(['export', ...VIEW, '--layer', '1', '--head', '0', '-o', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { shape, error } = compareWithNumpy(out, 'expected = soft[1, 0][rows, cols]');
    expect(error).toBeLessThan(1e-6);
    const side = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    expect(shape).toEqual(side.shape);
    expect(side).toMatchObject({ format: 'npy', dtype: 'float32', dims: ['row', 'col'], view: 'map', softmax: 'row', words: { first: 1, last: 3 } });
    expect(side.maps).toEqual([{ title: 'L1 H0', layer: 1, head: 0 }]);
    expect(side.spfSource).toBe('audio');
    expect(side.segments.words.map((w: { label: string }) => w.label)).toEqual(['had', 'your', 'dark']);
    // Rows are frames of the utterance from the crop's start, each with the phone and word it falls in.
    expect(side.axes.rows).toHaveLength(shape[0]);
    expect(side.axes.rows[0]).toEqual({ frame: side.crop.rowStart, phone: 'hv', word: 'had' });
  });

  it('writes the same numbers as CSV, led by the frame of each row', async () => {
    const npy = join(dir, 'same.npy');
    const csv = join(dir, 'same.csv');
    const runs = await Promise.all([
      steve(['export', ...VIEW, '--layer', '0', '--head', '1', '-o', npy]),
      steve(['export', ...VIEW, '--layer', '0', '--head', '1', '-o', csv]),
    ]);
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const result = python<{ error: number; header: string[]; first: string }>(`
import json, numpy as np
a = np.load(${JSON.stringify(npy)})
lines = open(${JSON.stringify(csv)}).read().splitlines()
b = np.array([[float(v) for v in line.split(',')[1:]] for line in lines[1:]])
print(json.dumps({'error': float(np.abs(a - b).max()), 'header': lines[0].split(',')[:3], 'first': lines[1].split(',')[0]}))
`);
    expect(result.error).toBeLessThan(1e-8);
    const side = JSON.parse(readFileSync(`${csv}.json`, 'utf8'));
    expect(result.header).toEqual(['row', String(side.crop.colStart), String(side.crop.colStart + 1)]);
    expect(result.first).toBe(String(side.crop.rowStart));
  });

  it('stacks the heads of a layer with their mean, and the model as layers x heads', async () => {
    const heads = join(dir, 'heads.npy');
    const model = join(dir, 'model.npy');
    const runs = await Promise.all([
      steve(['export', ...VIEW, '--layer', '1', '--head', 'all', '-o', heads]),
      steve(['export', ...VIEW, '--view', 'model', '-o', model]),
    ]);
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const headsResult = compareWithNumpy(heads, 'layer = soft[1][:, rows, cols]\nexpected = np.concatenate([layer, layer.mean(0, keepdims=True)])');
    expect(headsResult.shape.slice(0, 1)).toEqual([3]);
    expect(headsResult.error).toBeLessThan(1e-6);
    const modelResult = compareWithNumpy(model, 'expected = soft[:, :, rows, cols]');
    expect(modelResult.shape.slice(0, 2)).toEqual([2, 2]);
    expect(modelResult.error).toBeLessThan(1e-6);
    expect(JSON.parse(readFileSync(`${model}.json`, 'utf8')).dims).toEqual(['layer', 'head', 'row', 'col']);
  });

  it('pools onto phones and onto k x k blocks', async () => {
    const phones = join(dir, 'phones.npy');
    const blocks = join(dir, 'blocks.npy');
    const runs = await Promise.all([
      steve(['export', ...VIEW, '--head', 'mean', '--pool', 'phones', '-o', phones]),
      steve(['export', ...VIEW, '--pool', '4', '--pool-stat', 'max', '-o', blocks]),
    ]);
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const pooled = compareWithNumpy(
      phones,
      `m = soft[0].mean(0)[rows, cols]
s = [(a['startFrame'] - c['rowStart'], a['stopFrame'] - c['rowStart']) for a in side['axes']['rows']]
expected = np.array([[m[r0:r1, c0:c1].mean() for (c0, c1) in s] for (r0, r1) in s])`,
    );
    const side = JSON.parse(readFileSync(`${phones}.json`, 'utf8'));
    // "had your dark": hv eh dcl | jh ih | dcl d ah kcl k
    expect(side.axes.rows.map((s: { label: string }) => s.label)).toEqual(['hv', 'eh', 'dcl', 'jh', 'ih', 'dcl', 'd', 'ah', 'kcl', 'k']);
    expect(pooled.shape).toEqual([10, 10]);
    expect(pooled.error).toBeLessThan(1e-6);
    const blocked = compareWithNumpy(
      blocks,
      `m = soft[0, 0][rows, cols]
n = (m.shape[0] + 3) // 4
expected = np.array([[m[4 * i:4 * i + 4, 4 * j:4 * j + 4].max() for j in range(n)] for i in range(n)])`,
    );
    expect(blocked.error).toBeLessThan(1e-6);
  });

  it('subtracts a map of another file, and rolls attention out through the layers', async () => {
    const diff = join(dir, 'diff.npy');
    const rollout = join(dir, 'rollout.npy');
    const runs = await Promise.all([
      steve(['export', ...VIEW, '--layer', '0', '--head', '0', '--compare-attention', SOFTMAXED_F16, '--compare-layer', '1', '--compare-head', '1', '-o', diff]),
      steve(['export', ...VIEW, '--view', 'rollout', '-o', rollout]),
    ]);
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    expect(compareWithNumpy(diff, 'expected = soft[0, 0][rows, cols] - soft[1, 1][rows, cols]').error).toBeLessThan(1e-6);
    const rolled = compareWithNumpy(
      rollout,
      `def prepare(a):
    return (a + np.eye(len(a))) / (a.sum(-1, keepdims=True) + 1)
r = prepare(soft[1].mean(0)) @ prepare(soft[0].mean(0))
expected = r[rows, cols]`,
    );
    expect(rolled.error).toBeLessThan(1e-5);
  });
});
