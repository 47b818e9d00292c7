/**
 * Messages built from untrusted bytes (issue 11, items 2 and 7): structure nested thousands deep in every format that
 * carries JSON or a Python literal is refused with one bounded line (never a stack overflow), control characters
 * never reach the terminal, and echoed names and lists are bounded.
 */
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { InputError } from '../../src/data/inputError.ts';
import { openAttention } from '../../src/data/openAttention.ts';
import { parseSafetensorsHeader } from '../../src/data/safetensors.ts';
import { boundText, describeUntrusted, escapeControl, listUntrusted } from '../../src/data/untrustedText.ts';
import { runBatch } from '../../src/cli/batch.ts';
import { runInspect } from '../../src/cli/inspect.ts';
import { steve } from '../cli/steveProcess.ts';
import { makeNpy } from '../helpers/tensorFixtures.ts';

/** The longest one-line message any reader may produce (file name and reason, each bounded). */
const MAX_MESSAGE = 1500;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A .safetensors file from header JSON text (not an object: JSON.stringify could not even build the deep ones). */
function safetensorsOfText(json: string, data = new Uint8Array(0)): Uint8Array {
  const padded = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
  const bytes = new Uint8Array(8 + padded.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded.length), true);
  bytes.set(new TextEncoder().encode(padded), 8);
  bytes.set(data, 8 + padded.length);
  return bytes;
}

/** `depth` opening brackets around `inner`, then their closings: "[[[0]]]" or '{"a":{"a":0}}'. */
function nestJson(depth: number, kind: 'array' | 'object', inner = '0'): string {
  return kind === 'array' ? '['.repeat(depth) + inner + ']'.repeat(depth) : '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}

/** Python-literal nesting for .npy headers: "((((0,),),),)" and the like. */
function nestPython(depth: number, open: '(' | '[' | '{'): string {
  const close = { '(': ',)', '[': ']', '{': '}' }[open];
  const opening = open === '{' ? "{'a': " : open;
  return opening.repeat(depth) + '0' + close.repeat(depth);
}

/** Opening `bytes` as `name` gives success or a bounded, escaped InputError naming the file; never anything else. */
async function opensOrRefuses(name: string, bytes: Uint8Array): Promise<InputError | undefined> {
  try {
    await openAttention(makeMemorySource(name, bytes));
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    const message = (error as InputError).message;
    expect(message.startsWith(name)).toBe(true);
    expect(message.length).toBeLessThan(MAX_MESSAGE);
    expect(message).not.toMatch(CONTROL);
    return error as InputError;
  }
}

const SAFETENSORS_PLACES = ['data_offsets', 'shape', 'dtype', 'metadata-value', 'metadata', 'entry', 'root-key'] as const;

/** A .safetensors header with nesting `depth` deep at `place`. */
function deepSafetensors(place: (typeof SAFETENSORS_PLACES)[number], depth: number, kind: 'array' | 'object'): Uint8Array {
  const deep = nestJson(depth, kind);
  const tensor = (fields: Record<string, string>) => `{${Object.entries({ dtype: '"F32"', shape: '[1,1,1,1,1]', data_offsets: '[0,4]', ...fields }).map(([k, v]) => `"${k}":${v}`).join(',')}}`;
  const data = new Uint8Array(4);
  switch (place) {
    case 'data_offsets':
      return safetensorsOfText(`{"a":${tensor({ data_offsets: deep })}}`, data);
    case 'shape':
      return safetensorsOfText(`{"a":${tensor({ shape: deep })}}`, data);
    case 'dtype':
      return safetensorsOfText(`{"a":${tensor({ dtype: deep })}}`, data);
    case 'metadata-value':
      return safetensorsOfText(`{"__metadata__":{"spf":${deep}},"a":${tensor({})}}`, data);
    case 'metadata':
      return safetensorsOfText(`{"__metadata__":${deep},"a":${tensor({})}}`, data);
    case 'entry':
      return safetensorsOfText(`{"a":${deep}}`, data);
    case 'root-key':
      return safetensorsOfText(deep, data);
  }
}

describe('nesting depth, fuzzed, in every format that carries JSON or a Python literal', () => {
  it('the issue\'s file: data_offsets nested 10 000 deep is one bounded line, not a stack overflow', async () => {
    const bytes = deepSafetensors('data_offsets', 10_000, 'array');
    expect(bytes.length).toBeLessThan(25_000);
    const error = await opensOrRefuses('deep.safetensors', bytes);
    expect(error?.message).toMatch(/^deep\.safetensors: \.safetensors tensor 'a' has data_offsets \[\[\[\[.*; expected \[begin, end\]/);
  });

  it('.safetensors headers nested up to 100 000 deep anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SAFETENSORS_PLACES), fc.integer({ min: 1, max: 100_000 }), fc.constantFrom('array' as const, 'object' as const), async (place, depth, kind) => {
        await opensOrRefuses('deep.safetensors', deepSafetensors(place, depth, kind));
      }),
      { numRuns: 60 },
    );
  });

  it('.npy headers (and the .npy members of an .npz) nested up to 50 000 deep anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('descr', 'shape', 'fortran_order', 'key', 'whole'),
        fc.integer({ min: 1, max: 50_000 }),
        fc.constantFrom('(' as const, '[' as const, '{' as const),
        fc.boolean(),
        async (place, depth, open, inNpz) => {
          const deep = nestPython(depth, open);
          const fields = { descr: "'<f4'", fortran_order: 'False', shape: '(1, 1)', [place]: deep };
          const dict = place === 'whole' ? deep : place === 'key' ? `{${deep}: 1}` : `{${Object.entries(fields).filter(([k]) => k !== 'whole' && k !== 'key').map(([k, v]) => `'${k}': ${v}`).join(', ')}, }`;
          const npy = makeNpy(dict, new Uint8Array(4), 2);
          if (inNpz) await opensOrRefuses('deep.npz', zipSync({ 'attention.npy': npy, 'model.npy': npy }, { level: 1 }));
          else await opensOrRefuses('deep.npy', npy);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('control characters and long echoes', () => {
  it('are escaped and bounded by the text helpers', () => {
    expect(escapeControl('a\x1b]0;pwned\x07b\n\u202ec\x9b')).toBe('a\\x1b]0;pwned\\x07b\\n\\u202ec\\x9b');
    expect(boundText('x'.repeat(500), 10)).toBe('xxxxxxxxxx… (500 characters in all)');
    expect(listUntrusted(Array.from({ length: 200_000 }, (_, i) => `t${i}`))).toBe("'t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7' and 199992 more");
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(describeUntrusted(deep)).toBe('[[[[...]]]]');
  });

  it('a 200 KB dtype and 20 000 tensor names are not echoed back whole', async () => {
    const long = parseError(`{"a":{"dtype":"${'F'.repeat(200_000)}","shape":[1],"data_offsets":[0,4]}}`, 4);
    expect(long.message.length).toBeLessThan(MAX_MESSAGE);
    expect(long.message).toMatch(/unknown dtype 'F{80}… \(200000 characters in all\)'/);
    const entries = Array.from({ length: 20_000 }, (_, i) => `"t${i}x":{"dtype":"F32","shape":[1],"data_offsets":[${4 * i},${4 * i + 4}]}`);
    const names = await opensOrRefuses('names.safetensors', safetensorsOfText(`{${entries.join(',')}}`, new Uint8Array(80_000)));
    expect(names?.message).toMatch(/'t0x', 't1x', .* and 19992 more does not end in a layer number/);
  });

  it('an ESC in a safetensors model string does not reach the terminal from inspect, in text or JSON', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'steve-escape-'));
    const path = join(folder, 'title.safetensors');
    const header = `{"__metadata__":{"model":"\\u001b]0;pwned\\u0007\\u009b31m"},"a":{"dtype":"F32","shape":[1,1,1,2,2],"data_offsets":[0,16]}}`;
    writeFileSync(path, safetensorsOfText(header, new Uint8Array(new Float32Array([0.5, 0.5, 0.5, 0.5]).buffer)));
    for (const json of [false, true]) {
      let out = '';
      const sink = new Writable({ write: (chunk, _encoding, done) => ((out += chunk), done()) });
      await runInspect({ attention: path, alignments: 'none', json }, sink);
      expect(out).toContain('pwned');
      expect(out).not.toMatch(/[\u001b\u0007\u009b]/);
      if (json) expect(JSON.parse(out).attention.model).toBe('\u001b]0;pwned\u0007\u009b31m');
    }
  });

  it('steve inspect and a batch report the 10 000-deep file in one line naming it', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'steve-deep-'));
    const path = join(folder, 'deep.safetensors');
    writeFileSync(path, deepSafetensors('data_offsets', 10_000, 'array'));
    const run = await steve(['inspect', '--attention', path]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^steve: ${path.replace(/[.]/g, '\\.')}: \\.safetensors tensor 'a' has data_offsets .{1,200}\\n$`));
    const lines: string[] = [];
    const stream = Object.assign(new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }), { isTTY: false }) as unknown as NodeJS.WriteStream;
    const result = await runBatch([{ name: 'deep', files: { attention: path } }], async (item) => void (await openAttention(makeMemorySource(item.files.attention, deepSafetensors('data_offsets', 10_000, 'array')))), stream, stream);
    expect(result.failed).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^steve: .*deep\.safetensors: .*data_offsets/);
  });
});

function parseError(json: string, dataBytes: number): InputError {
  try {
    parseSafetensorsHeader(new TextEncoder().encode(json), 8 + json.length + dataBytes, 'long.safetensors');
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}
