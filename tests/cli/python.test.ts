/**
 * The Python page (demo/public/python/README.md) against the CLI: for each model snippet, the layout and dtype its
 * `# attn:` line promises, an array of exactly that layout made with numpy, the page's own `steve-save` blocks run
 * on it (safetensors through a stand-in written from the format, tests/fixtures/python), and then the page's
 * `steve-open` commands run on the files written. torch, transformers and safetensors are not needed.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, python, ROOT, steve, TIMIT_WAV } from './steveProcess.ts';

const PAGE = readFileSync(join(ROOT, 'demo/public/python/README.md'), 'utf8');
const STUBS = join(ROOT, 'tests/fixtures/python');

/** Fenced code blocks of the page: their info string ("python steve-save") and code. */
const blocks = [...PAGE.matchAll(/```([^\n]*)\n([\s\S]*?)```/g)].map((m) => ({ info: m[1].trim(), code: m[2] }));
const saveBlocks = blocks.filter((b) => b.info === 'python steve-save').map((b) => b.code);
const openCommands = blocks
  .filter((b) => b.info === 'sh steve-open')
  .flatMap((b) => b.code.split('\n'))
  .filter((line) => line.startsWith('npx steve '));

/** What a model snippet hands to the saving blocks. */
interface Snippet {
  title: string;
  dtype: string;
  layout: string[];
  softmaxed: boolean;
  /** Its `spf = ...` and `model_name = ...` lines, run as they are. */
  assignments: string;
}

const snippets: Snippet[] = blocks
  .filter((b) => b.info === 'python' && /^# attn: /m.test(b.code))
  .map((b) => {
    const [, dtype, layout, note] = /^# attn: (\w+) array, ([\w ]+?) \((.*)\)$/m.exec(b.code)!;
    return {
      title: /model_name = "([^"]+)"/.exec(b.code)![1],
      dtype,
      layout: layout.split(' x '),
      softmaxed: /softmaxed/.test(note),
      assignments: b.code.split('\n').filter((line) => /^(spf|model_name) = /.test(line)).join('\n'),
    };
  });

// The sizes the layout's names take here: 147 frames fit the 2.92 s TIMIT sample at spf 320 (or audio/frames).
const SIZES: Record<string, number> = { layers: 4, '1': 1, heads: 6, frames: 147 };

describe('From Python to STEVE (demo/public/python/README.md)', () => {
  it('has the snippets the tests rely on', () => {
    expect(snippets.map((s) => s.layout.join(' x '))).toEqual(['layers x 1 x heads x frames x frames', 'layers x 1 x heads x frames x frames']);
    expect(snippets.map((s) => s.softmaxed)).toEqual([false, true]);
    expect(saveBlocks).toHaveLength(3);
    expect(openCommands.map((c) => c.split(' ')[2])).toEqual(['serve', 'inspect', 'render', 'export']);
  });

  for (const [index, snippet] of snippets.entries()) {
    it(`saves ${snippet.title}'s attention as the page shows and opens it with the page's commands`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'steve-python-'));
      for (const extension of ['wav', 'phn', 'wrd', 'txt']) copyFileSync(TIMIT_WAV.replace(/wav$/, extension), join(dir, `LDC93S1.${extension}`));
      const shape = snippet.layout.map((name) => SIZES[name]);
      const written = python<string[]>(
        `
import json, os
import numpy as np
os.chdir(${JSON.stringify(dir)})
speech = np.zeros(46797, dtype=np.float32)  # the TIMIT sample's length at 16 kHz
scores = np.random.default_rng(${index}).normal(size=${JSON.stringify(shape)})
if ${snippet.softmaxed ? 'True' : 'False'}:
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    scores /= scores.sum(-1, keepdims=True)
attn = scores.astype(np.${snippet.dtype})
np.save('expected_L3_H5.npy', attn[3, 0, 5].astype(np.float32))
${snippet.assignments}
${saveBlocks.join('\n')}
print(json.dumps(sorted(f for f in os.listdir('.') if f.startswith('LDC93S1_attention'))))
`,
        { PYTHONPATH: STUBS },
      );
      expect(written).toEqual(['LDC93S1_attention.npy', 'LDC93S1_attention.safetensors', 'LDC93S1_attention_f16.npy']);

      // Each file holds the array as laid out: layer 3, head 5 comes back as it went in (to float16's precision).
      for (const file of written) {
        const out = join(dir, `${file}.L3H5.npy`);
        const run = await steve(['export', '--attention', file, '--layer', '3', '--head', '5', '--softmax', 'none', '-o', out], dir);
        expect(run.stderr).toBe('');
        const error = python<number>(`import numpy as np; print(float(np.abs(np.load('${out}') - np.load('${join(dir, 'expected_L3_H5.npy')}')).max()))`);
        expect(error, file).toBeLessThan(file.includes('.npy') && !file.includes('f16') ? 1e-7 : 4e-3);
      }
      const inspected = JSON.parse((await steve(['inspect', '--attention', 'LDC93S1_attention.safetensors', '--json'], dir)).stdout);
      expect(inspected.attention).toMatchObject({ layers: 4, heads: 6, keys: 147, queries: 147, dtype: 'float16', softmaxed: snippet.softmaxed });
      expect(inspected.spfSource).toBe('metadata');

      // The page's commands, as written (Hugging Face attention with --softmax none, as the page says).
      const extra = snippet.softmaxed ? ['--softmax', 'none'] : [];
      for (const command of openCommands) {
        const args = command.split(' ').slice(2);
        if (args[0] === 'serve') {
          if (index === 0) await checkServe(args, dir);
          continue;
        }
        const run = await steve([...args, ...(args[0] === 'inspect' ? [] : extra)], dir);
        expect(run.stderr, command).toBe('');
        expect(run.code, command).toBe(0);
        const out = args[args.indexOf('-o') + 1];
        if (args.includes('-o')) expect(existsSync(join(dir, out)), out).toBe(true);
        if (args[0] === 'inspect') expect(run.stdout).toMatch(/4 layers x 6 heads x 147 queries x 147 keys \(rows x columns\), float16/);
      }
    });
  }
});

/** Starts the page's serve command on a free port, checks its manifest lists the files, and stops it. */
async function checkServe(args: string[], dir: string): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...args, '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk;
        const match = /at (http:\/\/\S+)/.exec(stdout);
        if (match) resolve(match[1]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    // The printed URL carries serve's per-run token, which the manifest route requires.
    const { origin, search } = new URL(url);
    const manifest = await (await fetch(`${origin}/steve-files.json${search}`)).json();
    expect(manifest.utterances[0].files.map((f: { name: string }) => f.name)).toEqual([
      'LDC93S1_attention.safetensors',
      'LDC93S1.wav',
      'LDC93S1.phn',
      'LDC93S1.wrd',
      'LDC93S1.txt',
    ]);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
