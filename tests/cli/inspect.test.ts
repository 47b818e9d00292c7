/**
 * `steve inspect`, run as a user runs it: the bin script in a child process, on numpy-written tensors
 * (tests/fixtures/cli/make_cli_fixtures.py) and the bundled samples.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCTIC_WAV, CLI_FIXTURES as FIXTURES, TIMIT_WAV, steve as run } from './steveProcess.ts';

const steve = (...args: string[]) => run(args);

describe('steve inspect', () => {
  it('prints one JSON object with shape, dtype, softmax detection, stats, audio, spf and TIMIT alignment', async () => {
    const { code, stdout, stderr } = await steve(
      'inspect', '--attention', join(FIXTURES, 'timit_softmaxed_f16.npy'), '--wav', TIMIT_WAV, '--alignments', 'timit', '--json',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(stdout);
    expect(report.attention).toMatchObject({ layers: 2, heads: 2, rows: 147, cols: 147, queries: 147, keys: 147, dtype: 'float16', softmaxed: true });
    expect(report.attention.heads_stats).toHaveLength(2);
    expect(report.attention.heads_stats[0]).toHaveLength(2);
    expect(report.audio).toEqual({ sampleRate: 16000, channels: 1, durationSec: 46797 / 16000 });
    // 147 frames are not Whisper's 1500 and the file has no metadata: spf = 46797 samples / 147 frames
    expect(report.spf).toBeCloseTo(46797 / 147, 10);
    expect(report.spfSource).toBe('audio');
    expect(report.alignment.source).toBe('timit');
    expect(report.alignment.text).toBe('She had your dark suit in greasy wash water all year.');
    expect(report.alignment.words.map((w: { label: string }) => w.label)).toEqual(
      ['she', 'had', 'your', 'dark', 'suit', 'in', 'greasy', 'wash', 'water', 'all', 'year'],
    );
    // "she" 3050..5723 samples -> 0.190625 s .. 0.3576875 s; frames round(3050 / 318.35) = 10, round(5723 / 318.35) = 18
    expect(report.alignment.words[0]).toEqual({ label: 'she', start: 0.190625, end: 0.3576875, startFrame: 10, endFrame: 18 });
  });

  it('takes --spf, reports raw scores as not softmaxed, and counts NaN instead of crashing', async () => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));
    const { code, stdout } = await steve('inspect', '--attention', join(FIXTURES, 'timit_raw_f32.npy'), '--spf', '320', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.attention.softmaxed).toBe(false);
    expect(report.spf).toBe(320);
    expect(report.spfSource).toBe('user');
    expect(report.audio).toBeNull();
    const stats = report.attention.heads_stats[0][0];
    expect(stats.nonFinite).toBe(1);
    expect(stats.min).toBeCloseTo(expected.raw_min, 6);
    expect(stats.max).toBeCloseTo(expected.raw_max, 6);
    expect(stats.mean).toBeCloseTo(expected.raw_mean, 5);
  });

  it('reads the TextGrid beside the arctic WAV with the default tier names', async () => {
    const { code, stdout, stderr } = await steve(
      'inspect', '--attention', join(FIXTURES, 'timit_raw_f32.npy'), '--spf', '440', '--wav', ARCTIC_WAV, '--alignments', 'textgrid', '--json',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.audio.sampleRate).toBe(44100);
    expect(report.alignment.source).toBe('textgrid');
    expect(report.alignment.words[0].label).toBe('author');
  });

  it('without --alignments finds the TextGrid beside the WAV, and warns in one line when the dummy grid stands in', async () => {
    const lone = mkdtempSync(join(tmpdir(), 'steve-lone-'));
    const loneWav = join(lone, 'arctic_a0001.wav');
    copyFileSync(ARCTIC_WAV, loneWav);
    const inspect = (wav: string, ...more: string[]) => steve('inspect', '--attention', join(FIXTURES, 'timit_raw_f32.npy'), '--spf', '440', '--wav', wav, '--json', ...more);
    const [found, dummy, timitGiven, textGridGiven] = await Promise.all([
      inspect(ARCTIC_WAV),
      inspect(loneWav),
      inspect(loneWav, '--alignments', 'timit'),
      inspect(loneWav, '--alignments', 'textgrid'),
    ]);
    expect(found.stderr).toBe('');
    expect(JSON.parse(found.stdout).alignment.source).toBe('textgrid');
    expect(dummy.code).toBe(0);
    expect(JSON.parse(dummy.stdout).alignment.source).toBe('dummy');
    expect(dummy.stderr).toBe("steve: arctic_a0001.wav: no TextGrid or TIMIT .phn/.wrd beside it; using STEVE's dummy 40 ms phones (--alignments none asks for them)\n");
    expect(timitGiven.code).toBe(0);
    expect(timitGiven.stderr).toMatch(/^steve: arctic_a0001\.wav: --alignments timit, but no \.phn or \.wrd beside it; using STEVE's dummy 40 ms phones\n$/);
    // An explicit kind whose file is missing is an error, not a fallback.
    expect(textGridGiven.code).toBe(1);
    expect(textGridGiven.stderr).toMatch(/^steve: .*arctic_a0001\.TextGrid: no TextGrid beside arctic_a0001\.wav/);
  });

  it('prints a readable summary without --json', async () => {
    const { code, stdout } = await steve('inspect', '--attention', join(FIXTURES, 'timit_softmaxed_f16.npy'), '--wav', TIMIT_WAV);
    expect(code).toBe(0);
    expect(stdout).toMatch(/2 layers x 2 heads x 147 queries x 147 keys \(rows x columns\), float16/);
    expect(stdout).toMatch(/softmaxed/);
    expect(stdout).toMatch(/alignment: timit, 11 words/);
  });

  it('rejects bad input with one line naming the file, and a non-zero exit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steve-cli-'));
    const bad = join(dir, 'broken.npy');
    writeFileSync(bad, Buffer.from('\x93NUMPY\x01\x00\xff\xffnot a header'));
    const broken = await steve('inspect', '--attention', bad);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr.trim().split('\n')).toHaveLength(1);
    expect(broken.stderr).toContain('broken.npy');

    const missing = await steve('inspect', '--attention', join(dir, 'nope.npy'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('nope.npy');

    // 147 frames at spf 100 cover 0.92 s, but the TIMIT sample lasts 2.92 s
    const mismatch = await steve('inspect', '--attention', join(FIXTURES, 'timit_raw_f32.npy'), '--spf', '100', '--wav', TIMIT_WAV);
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toMatch(/timit_raw_f32\.npy: 147 frames at spf 100 cover 0\.92 s, but .*LDC93S1\.wav lasts 2\.92 s/);

    // A TextGrid without the asked-for tier lists the tiers it has
    const wav = join(dir, 'arctic_a0001.wav');
    copyFileSync(ARCTIC_WAV, wav);
    copyFileSync(ARCTIC_WAV.replace('.wav', '.TextGrid'), wav.replace('.wav', '.TextGrid'));
    const tier = await steve('inspect', '--attention', join(FIXTURES, 'timit_raw_f32.npy'), '--spf', '440', '--wav', wav, '--alignments', 'textgrid', '--phone-tier', 'segments');
    expect(tier.code).not.toBe(0);
    expect(tier.stderr).toMatch(/segments/);
    expect(tier.stderr).toMatch(/words/);

    const usage = await steve('inspect', '--attention', bad, '--alignments', 'praat');
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toMatch(/--alignments must be timit, textgrid or none/);
  });
});
