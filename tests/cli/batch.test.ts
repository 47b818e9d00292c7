/**
 * Many utterances in one call: a glob of WAVs with each tensor found beside its WAV, or --wav/--attention pairs.
 * A bad file is reported as one line and the others are still written; the exit status is 1 when any failed.
 */
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SOFTMAXED_F16, steve, TIMIT_WAV } from './steveProcess.ts';

let data: string;

/** a, b: good utterances (TIMIT sample + tensor); c: a broken tensor; d: a WAV with no tensor beside it. */
beforeAll(() => {
  data = mkdtempSync(join(tmpdir(), 'steve-batch-'));
  for (const stem of ['a', 'b', 'c', 'd']) {
    for (const extension of ['wav', 'phn', 'wrd', 'txt']) copyFileSync(TIMIT_WAV.replace(/wav$/, extension), join(data, `${stem}.${extension}`));
  }
  copyFileSync(SOFTMAXED_F16, join(data, 'a.npy'));
  copyFileSync(SOFTMAXED_F16, join(data, 'b_whisper.npy'));
  writeFileSync(join(data, 'c.npy'), Buffer.from('\x93NUMPY\x01\x00\xff\xffnot a header'));
});

describe('steve batches', () => {
  it('renders every WAV of a glob with the tensor beside it, reports the bad ones, and exits 1', async () => {
    const out = join(data, 'figures') + '/';
    const run = await steve(['render', '--wav', join(data, '*.wav'), '--words', '0:1', '--softmax', 'row', '--size', '64', '-o', out]);
    expect(run.code).toBe(1);
    expect(run.stdout.trim().split('\n')).toEqual([join(out, 'a.png'), join(out, 'b.png')]);
    const problems = run.stderr.trim().split('\n');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^steve: .*c\.npy: /);
    expect(problems[1]).toMatch(/^steve: .*d\.wav: no attention file beside it/);
    // stderr is not a terminal here: no progress bar drawn into it.
    expect(run.stderr).not.toContain('\x1b');
    expect(existsSync(join(out, 'a.png')) && existsSync(join(out, 'b.png'))).toBe(true);
  });

  it('exports --wav/--attention pairs in order to {name} outputs, going on after a bad one', async () => {
    const pair = (stem: string, tensor: string) => ['--wav', join(data, `${stem}.wav`), '--attention', join(data, tensor)];
    const template = join(data, 'matrices', '{name}_L1.npy');
    const run = await steve(['export', ...pair('a', 'a.npy'), ...pair('c', 'c.npy'), ...pair('b', 'b_whisper.npy'), '--layer', '1', '--softmax', 'row', '-o', template]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/c\.npy/);
    for (const stem of ['a', 'b']) {
      expect(existsSync(join(data, 'matrices', `${stem}_L1.npy`))).toBe(true);
      expect(existsSync(join(data, 'matrices', `${stem}_L1.npy.json`))).toBe(true);
    }
  });

  it('refuses a single -o file for several utterances, and unpaired counts', async () => {
    const [single, unpaired] = await Promise.all([
      steve(['render', '--wav', join(data, '*.wav'), '-o', join(data, 'one.png')]),
      steve(['render', '--wav', join(data, 'a.wav'), '--wav', join(data, 'b.wav'), '--attention', join(data, 'a.npy')]),
    ]);
    expect(single.code).not.toBe(0);
    expect(single.stderr).toMatch(/names one file, but 4 utterances were given: use a folder \("out\/"\) or put \{name\} in the name/);
    expect(unpaired.code).not.toBe(0);
    expect(unpaired.stderr).toMatch(/2 WAV file\(s\) but 1 attention file\(s\)/);
  });
});
