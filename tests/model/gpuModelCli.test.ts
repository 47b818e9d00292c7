/**
 * `steve --model`: inspect runs the encoder on the WAV and reports the raw scores (their per-head range checked
 * against the torch reference), the model and its dims; bad model paths and option clashes are one-line errors
 * that come before any GPU work.
 */
import { mkdtemp, cp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { CliError } from '../../src/cli/cliError.ts';
import { runInspect } from '../../src/cli/inspect.ts';
import { expandInputs } from '../../src/cli/inputs.ts';
import { InputError } from '../../src/data/inputError.ts';
import { HostModelAttentionSource } from '../../src/model/host/hostModelSource.ts';
import { ModelAttentionSource } from '../../src/model/modelSource.ts';
import { openModelInput } from '../../src/node/loadModel.ts';
import { MODEL_FIXTURES, readExpected } from './modelFixtures.ts';

const WHISPER = join(MODEL_FIXTURES, 'whisper_f32');
const WHISPER_WAV = join(MODEL_FIXTURES, 'whisper_input.wav');

describe('steve --model', () => {
  it('inspect --json: raw scores of every head, the model type, dims and weight dtype', async () => {
    // In-process (what `steve inspect --json --model WHISPER --wav WAV` runs), to spare a process start.
    const out = new PassThrough();
    let printed = '';
    out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    await runInspect({ json: true, model: WHISPER, wav: WHISPER_WAV }, out);
    expect(printed.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(printed);
    expect(report.attention).toMatchObject({ layers: 2, heads: 4, keys: 100, queries: 100, softmaxed: false, model: 'steve-tests/whisper_f32' });
    expect(report.model).toEqual({ name: 'steve-tests/whisper_f32', model_type: 'whisper', hidden_size: 64, layers: 2, heads: 4, head_dim: 16, ffn_dim: 128, weight_dtype: 'F32' });
    expect(report.spf).toBe(320);
    // The fixture's reference ran on the log-mel of this very WAV: the per-head ranges must agree.
    const scores = (await readExpected('whisper_f32')).get('scores')!.data;
    const size = 100 * 100;
    for (let layer = 0; layer < 2; layer++) {
      for (let head = 0; head < 4; head++) {
        const map = scores.subarray((layer * 4 + head) * size, (layer * 4 + head + 1) * size);
        const stats = report.attention.heads_stats[layer][head];
        expect(Math.abs(stats.min - Math.min(...map))).toBeLessThan(2e-3);
        expect(Math.abs(stats.max - Math.max(...map))).toBeLessThan(2e-3);
      }
    }
  });

  it('inspect runs the encoder on the host on this software adapter, and on the GPU with STEVE_COMPUTE=gpu, to the same scores', async () => {
    const inspect = async (compute: string) => {
      const saved = process.env.STEVE_COMPUTE;
      process.env.STEVE_COMPUTE = compute;
      try {
        const out = new PassThrough();
        let printed = '';
        out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
        await runInspect({ json: true, model: WHISPER, wav: WHISPER_WAV }, out);
        return JSON.parse(printed);
      } finally {
        if (saved === undefined) delete process.env.STEVE_COMPUTE;
        else process.env.STEVE_COMPUTE = saved;
      }
    };
    const hostRuns = vi.spyOn(HostModelAttentionSource, 'run');
    const gpuRuns = vi.spyOn(ModelAttentionSource, 'run');
    const host = await inspect('cpu');
    expect([hostRuns.mock.calls.length, gpuRuns.mock.calls.length]).toEqual([1, 0]);
    const gpu = await inspect('gpu');
    expect([hostRuns.mock.calls.length, gpuRuns.mock.calls.length]).toEqual([1, 1]);
    await inspect('auto');
    expect([hostRuns.mock.calls.length, gpuRuns.mock.calls.length], 'auto on a software adapter').toEqual([2, 1]);
    vi.restoreAllMocks();
    expect(host.model).toEqual(gpu.model);
    const stats = (report: { attention: { heads_stats: { min: number; max: number; mean: number }[][] } }) =>
      report.attention.heads_stats.flat().flatMap(({ min, max, mean }) => [min, max, mean]);
    const [hostStats, gpuStats] = [stats(host), stats(gpu)];
    expect(hostStats).toHaveLength(2 * 4 * 3);
    hostStats.forEach((value, i) => expect(Math.abs(value - gpuStats[i]), `statistic ${i}`).toBeLessThan(1e-4));
  });

  // The messages are what main() prints after "steve: "
  it('errors are one line naming the file: unknown model_type (before the GPU starts), --model with --attention, no --wav; long audio trimmed with a warning', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'steve-model-'));
    await cp(WHISPER, folder, { recursive: true });
    await writeFile(join(folder, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    const unknown = await runInspect({ model: folder, wav: WHISPER_WAV }, new PassThrough()).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(InputError);
    expect((unknown as Error).message).toMatch(/config\.json.*model_type "bert".*whisper, wav2vec2, hubert/);
    expect((unknown as Error).message).not.toContain('\n');

    const inputs = { attention: [] as string[], wav: [WHISPER_WAV], model: WHISPER };
    await expect(expandInputs({ ...inputs, attention: ['x.npy'] })).rejects.toThrow(new CliError('give --model or --attention, not both'));
    await expect(expandInputs({ ...inputs, wav: [] })).rejects.toThrow(/--model needs audio/);
    const items = await expandInputs(inputs);
    // Audio over the fixture model's 2 s window: one warning line, and the utterance keeps the 2 s the model saw.
    const long = join(folder, 'long.wav');
    await writeFile(long, pcm16Wav(new Int16Array(3 * 16000).map((_, i) => Math.round(8000 * Math.sin(i / 10))), 16000));
    const warnings: string[] = [];
    const opened = await openModelInput({ model: WHISPER, attention: WHISPER, wav: long }, (line) => warnings.push(line));
    await opened.close();
    expect(warnings).toEqual([expect.stringMatching(/long\.wav: 3\.0 s of audio; Whisper reads 2\.0 s at most, so the rest is trimmed/)]);
    expect(opened.audio.samples.length).toBe(2 * 16000);
    expect(items).toEqual([{ name: 'whisper_input', files: { wav: WHISPER_WAV, attention: WHISPER, model: WHISPER } }]);
  });
});

/** A mono 16-bit PCM WAV file's bytes. */
function pcm16Wav(samples: Int16Array, sampleRate: number): Uint8Array {
  const bytes = new Uint8Array(44 + samples.byteLength);
  const view = new DataView(bytes.buffer);
  const text = (offset: number, value: string) => [...value].forEach((char, i) => (bytes[offset + i] = char.charCodeAt(0)));
  text(0, 'RIFF');
  view.setUint32(4, 36 + samples.byteLength, true);
  text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, samples.byteLength, true);
  bytes.set(new Uint8Array(samples.buffer), 44);
  return bytes;
}
