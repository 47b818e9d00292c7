/**
 * Runs `steve` as a user does, for the CLI tests: the bin script in a child process, and python3 with numpy for
 * reading what it wrote.
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin/steve.mjs');
export const CLI_FIXTURES = join(ROOT, 'tests/fixtures/cli');
export const TIMIT_WAV = join(ROOT, 'demo/public/samples/timit/LDC93S1.wav');
export const ARCTIC_WAV = join(ROOT, 'demo/public/samples/arctic/arctic_a0001.wav');
/** 2 layers x 1 x 2 heads x 147 x 147, float16, rows softmaxed; fits the TIMIT sample (tests/fixtures/cli). */
export const SOFTMAXED_F16 = join(CLI_FIXTURES, 'timit_softmaxed_f16.npy');

/** What a finished run printed and its exit status. */
export interface SteveRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `steve ...args` to completion (in `cwd`, the repository root by default). */
export function steve(args: readonly string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}): Promise<SteveRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs a Python program with numpy and returns its stdout parsed as JSON (the program prints one JSON value). */
export function python<T = unknown>(code: string, env: NodeJS.ProcessEnv = {}): T {
  const out = execFileSync('python3', ['-c', code], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return JSON.parse(out) as T;
}
