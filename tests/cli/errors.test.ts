/**
 * What `steve` says when the input is wrong: one clear line on stderr and a non-zero exit for unknown options,
 * missing files, frames that do not fit the audio, layers and heads out of range and bad --words; and --help that
 * lists every option with an example.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_FIXTURES, SOFTMAXED_F16, steve, TIMIT_WAV } from './steveProcess.ts';

const VIEW = ['--attention', SOFTMAXED_F16, '--wav', TIMIT_WAV];
const out = () => join(mkdtempSync(join(tmpdir(), 'steve-errors-')), 'out.png');

/** Runs steve and checks it failed with exactly one line on stderr matching `pattern`. */
async function failsWith(args: string[], pattern: RegExp, code?: number): Promise<void> {
  const run = await steve(args);
  expect(run.code, run.stderr).not.toBe(0);
  if (code !== undefined) expect(run.code).toBe(code);
  const lines = run.stderr.trim().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^steve: /);
  expect(lines[0]).toMatch(pattern);
}

describe('steve errors', () => {
  it('refuses unknown options and bad option values before doing any work', async () => {
    await Promise.all([
      failsWith(['render', ...VIEW, '--colour', 'red'], /unknown option '--colour'/, 2),
      failsWith(['frobnicate'], /unknown command 'frobnicate'/, 2),
      failsWith(['render', ...VIEW, '--size', 'big', '-o', out()], /--size.*whole number from 64 to 4096.*"big"/, 2),
      failsWith(['render', ...VIEW, '--size', '5', '-o', out()], /--size.*whole number from 64 to 4096, got "5"/, 2),
      failsWith(['render', ...VIEW, '--size', '5000', '-o', out()], /--size.*whole number from 64 to 4096, got "5000"/, 2),
      failsWith(['render', ...VIEW, '--dpi', '10', '-o', out()], /--dpi.*whole number from 72 to 1200, got "10"/, 2),
      failsWith(['render', ...VIEW, '--size', '4096', '--dpi', '600', '-o', out()], /--size 4096 at --dpi 600: each map would be 25600 pixels wide, over 8192/, 2),
      failsWith(['render', ...VIEW, '--colormap', 'rainbow', '-o', out()], /--colormap must be viridis, .* got "rainbow"/, 2),
      failsWith(['render', ...VIEW, '--softmax', 'all', '-o', out()], /--softmax must be none, row or crop/, 2),
      failsWith(['render', ...VIEW, '--layer', 'abc', '-o', out()], /--layer must be an index .* got "abc"/, 2),
      failsWith(['render', ...VIEW, '--words', '-1', '-o', out()], /--words must be A:B .* got "-1"/, 2),
      failsWith(['render', ...VIEW, '--pool', '0', '-o', out()], /--pool must be phones, words or a block size .* got "0"/, 2),
      failsWith(['render', ...VIEW, '-o', 'figure.jpg'], /-o figure.jpg: the extension must be \.png or \.svg/, 1),
      failsWith(['export', ...VIEW, '--head', 'all', '--view', 'rollout', '-o', out()], /--head all .* does not go with --view rollout/, 2),
      failsWith(['render', ...VIEW, '--dpi', '300', '-o', out().replace('.png', '.svg')], /--dpi sets the resolution of PNG output/, 1),
    ]);
  });

  it('says which file is missing or does not fit', async () => {
    await Promise.all([
      failsWith(['render', '--attention', join(CLI_FIXTURES, 'nope.npy'), '-o', out()], /nope\.npy: no such file/),
      failsWith(['render', '--attention', SOFTMAXED_F16, '--wav', join(CLI_FIXTURES, 'nope.wav'), '-o', out()], /nope\.wav: cannot read the WAV file/),
      // 147 frames at spf 100 cover 0.92 s; the TIMIT sample lasts 2.92 s.
      failsWith(['render', ...VIEW, '--spf', '100', '-o', out()], /147 frames at spf 100 cover 0\.92 s, but .*LDC93S1\.wav lasts 2\.92 s/),
      failsWith(['render', ...VIEW, '--view', 'difference', '--compare-attention', join(CLI_FIXTURES, 'other.npy'), '-o', out()], /other\.npy: no such file/),
    ]);
  });

  it('says when a layer, head or word is out of range, and what the range is', async () => {
    await Promise.all([
      failsWith(['render', ...VIEW, '--layer', '2', '-o', out()], /--layer 2: .*timit_softmaxed_f16\.npy has 2 layers \(0\.\.1\)/),
      failsWith(['export', ...VIEW, '--head', '5', '-o', out().replace('.png', '.npy')], /--head 5: .*has 2 heads \(0\.\.1\)/),
      failsWith(['render', ...VIEW, '--compare-head', '3', '-o', out()], /--compare-head 3: .*has 2 heads/),
      failsWith(['render', ...VIEW, '--words', '3:20', '-o', out()], /--words 3:20: .*LDC93S1\.wav has 11 words \(0\.\.10\)/),
      failsWith(['render', ...VIEW, '--words', '5:2', '-o', out()], /--words 5:2: the last word \(2\) comes before the first \(5\)/),
      failsWith(['render', ...VIEW, '--words', 'she', '-o', out()], /--words must be A:B/),
      failsWith(['render', '--attention', SOFTMAXED_F16, '--words', '0:1', '-o', out()], /--words needs an alignment: give --wav/),
    ]);
  });

  it('lists every option with an example in --help', async () => {
    const [top, render, exporting, serve] = await Promise.all([
      steve(['--help']),
      steve(['render', '--help']),
      steve(['export', '--help']),
      steve(['serve', '--help']),
    ]);
    for (const run of [top, render, exporting, serve]) expect(run.code).toBe(0);
    for (const command of ['inspect', 'render', 'export', 'serve']) expect(top.stdout).toContain(command);
    const viewOptions = ['--attention', '--wav', '--alignments', '--phone-tier', '--word-tier', '--text-tier', '--tg-ext', '--spf', '--layer', '--head', '--words', '--softmax', '--view', '--pool', '--compare-layer', '--compare-head', '--compare-attention', '--out'];
    for (const option of [...viewOptions, '--colormap', '--scale', '--size', '--dpi']) expect(render.stdout).toContain(option);
    for (const option of viewOptions) expect(exporting.stdout).toContain(option);
    for (const option of ['--attention', '--wav', '--spf', '--alignments', '--tg-ext', '--port']) expect(serve.stdout).toContain(option);
    for (const run of [top, render, exporting, serve]) expect(run.stdout).toMatch(/Examples?:\n {2}steve /);
  });
});
