/**
 * `steve --model`: inspect runs the encoder on the WAV and reports the raw scores (their per-head range checked
 * against the torch reference), the model and its dims; bad model paths and option clashes are one-line errors
 * that come before any GPU work.
 */
import { mkdtemp, cp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cliError.ts';
import { runInspect } from '../../src/cli/inspect.ts';
import { expandInputs } from '../../src/cli/inputs.ts';
import { InputError } from '../../src/data/inputError.ts';
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

  // The messages are what main() prints after "steve: ".
  it('errors are one line naming the file: unknown model_type (before the GPU starts), --model with --attention, no --wav', async () => {
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
    expect(items).toEqual([{ name: 'whisper_input', files: { wav: WHISPER_WAV, attention: WHISPER, model: WHISPER } }]);
  });
});
