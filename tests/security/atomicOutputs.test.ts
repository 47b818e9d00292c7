/**
 * Outputs appear whole or not at all (issue 11, item 4): a failed or interrupted write leaves the earlier file and its
 * sidecar as they were and no temporary file behind; SIGINT and SIGTERM exit with 130 and say what was written. And
 * exports are streamed (item 6): the .npy writer's pieces are the file numpy reads, its size is known before any map
 * is computed (past 4 GiB too), and a disk without room is refused up front.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { readNpyArrayInfo } from '../../src/data/npy.ts';
import { encodeNpy, encodeNpyHeader, float32LittleEndian } from '../../src/data/npyWriter.ts';
import { checkFreeSpace } from '../../src/cli/export.ts';
import { CliError } from '../../src/cli/cliError.ts';
import { writeFileAtomic, writeOutputs } from '../../src/node/atomicWrite.ts';
import { ROOT } from '../cli/steveProcess.ts';

const folder = () => mkdtempSync(join(tmpdir(), 'steve-atomic-'));

describe('atomic outputs', () => {
  it('replace a file whole and leave no temporary file', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'out.svg'), 'old');
    await writeFileAtomic(join(dir, 'out.svg'), '<svg/>');
    expect(readFileSync(join(dir, 'out.svg'), 'utf8')).toBe('<svg/>');
    expect(readdirSync(dir)).toEqual(['out.svg']);
  });

  it('keep the old pair when writing the new one fails half-way', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'm.npy'), 'old matrix');
    writeFileSync(join(dir, 'm.npy.json'), 'old sidecar');
    const failing = writeOutputs([
      { path: join(dir, 'm.npy.json'), produce: (file) => file.write('new sidecar') },
      {
        path: join(dir, 'm.npy'),
        produce: async (file) => {
          await file.write('half of a new mat');
          throw new Error('disk full');
        },
      },
    ]);
    await expect(failing).rejects.toThrow('disk full');
    expect(readFileSync(join(dir, 'm.npy'), 'utf8')).toBe('old matrix');
    expect(readFileSync(join(dir, 'm.npy.json'), 'utf8')).toBe('old sidecar');
    expect(readdirSync(dir).sort()).toEqual(['m.npy', 'm.npy.json']);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`on ${signal}: remove the files in progress, keep the old pair, report what was written, exit 130`, async () => {
      const dir = folder();
      writeFileSync(join(dir, 'second.bin'), 'old second');
      writeFileSync(join(dir, 'second.bin.json'), 'old sidecar');
      const child = spawn(process.execPath, [join(ROOT, 'tests/security/slowWriter.mjs'), dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => String(chunk).includes('writing') && resolve()));
      // Some of second.bin is on disk under its temporary name when the signal comes.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readdirSync(dir).some((name) => name.endsWith('.partial'))).toBe(true);
      const code = await new Promise<number | null>((resolve) => {
        child.on('exit', (exitCode) => resolve(exitCode));
        child.kill(signal);
      });
      expect(code).toBe(130);
      expect(stderr).toBe(`steve: interrupted (${signal}): wrote ${join(dir, 'first.txt')}; ${join(dir, 'second.bin.json')}, ${join(dir, 'second.bin')} not written (any earlier file there is unchanged)\n`);
      expect(readdirSync(dir).sort()).toEqual(['first.txt', 'second.bin', 'second.bin.json']);
      expect(readFileSync(join(dir, 'first.txt'), 'utf8')).toBe('new first\n');
      expect(readFileSync(join(dir, 'second.bin'), 'utf8')).toBe('old second');
      expect(readFileSync(join(dir, 'second.bin.json'), 'utf8')).toBe('old sidecar');
    });
  }
});

describe('streamed .npy exports', () => {
  it('header and little-endian pieces make the same file as the one-buffer encoder', () => {
    const values = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => i / 7 - 1);
    const pieces = [encodeNpyHeader([2, 3, 5]), float32LittleEndian(values.subarray(0, 15)), float32LittleEndian(values.subarray(15))];
    const streamed = Buffer.concat(pieces);
    expect(streamed.equals(Buffer.from(encodeNpy(values, [2, 3, 5])))).toBe(true);
  });

  it('declares a model view larger than 4 GiB (Whisper large-v3, 5.76 GB) without holding it', async () => {
    const shape = [32, 20, 1500, 1500];
    const header = encodeNpyHeader(shape);
    const bytes = 32 * 20 * 1500 * 1500 * 4;
    expect(bytes).toBeGreaterThan(2 ** 32);
    // The reader sees a file of header + data bytes: a source that only knows its length is enough for the header.
    const source = { ...makeMemorySource('big.npy', header), byteLength: header.length + bytes };
    const info = await readNpyArrayInfo(source);
    expect(info.header.shape).toEqual(shape);
    expect(info.dataBytes).toBe(bytes);
    expect(info.header.dataOffset % 64).toBe(0);
  });

  it('refuses an export bigger than the free disk space, before computing', async () => {
    const error = await checkFreeSpace(join(folder(), 'huge.npy'), 1e18).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toMatch(/huge\.npy: this export needs up to 1000000000\.00 GB but its disk has [\d.]+ (GB|MB|bytes) free/);
    await expect(checkFreeSpace(join(folder(), 'small.npy'), 1000)).resolves.toBeUndefined();
  });
});
