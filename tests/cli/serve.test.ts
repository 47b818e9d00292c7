/**
 * `steve serve`: started on a folder in a child process, it lists the utterances it found at /steve-files.json,
 * serves exactly those files (with byte ranges), serves the viewer's page, refuses every path that climbs out
 * with "..", plain or percent-encoded, and listens on the loopback interface only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectAlignmentKind } from '../../src/node/findAlignments.ts';
import { BIN, ROOT, SOFTMAXED_F16, TIMIT_WAV } from './steveProcess.ts';

let server: ChildProcess;
let base: string;
/** The run's access token, from the printed URL. */
let token: string;
let stderr = '';
let data: string;

/** GET with the path sent exactly as written (fetch and URL would resolve "..", which is what we want to send). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks), headers: response.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'steve-serve-'));
  mkdirSync(join(data, 'timit'));
  for (const extension of ['wav', 'phn', 'wrd', 'txt']) copyFileSync(TIMIT_WAV.replace(/wav$/, extension), join(data, 'timit', `LDC93S1.${extension}`));
  copyFileSync(SOFTMAXED_F16, join(data, 'timit', 'LDC93S1_whisper.npy'));
  // A second utterance whose tensor is broken: reported and left out, the server still starts.
  copyFileSync(TIMIT_WAV, join(data, 'broken.wav'));
  writeFileSync(join(data, 'broken.npy'), 'not numpy');
  // A third with no alignment files beside its WAV: served with STEVE's dummy segments, and said so.
  mkdirSync(join(data, 'plain'));
  copyFileSync(TIMIT_WAV, join(data, 'plain', 'quiet.wav'));
  copyFileSync(SOFTMAXED_F16, join(data, 'plain', 'quiet.npy'));
  server = spawn(process.execPath, [BIN, 'serve', data, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  base = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)\?token=([\w-]+)\n/.exec(stdout);
      if (url) {
        token = url[2];
        resolve(url[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`steve serve exited with ${code}: ${stderr}`)));
  });
});

afterAll(async () => {
  if (server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
});

describe('steve serve', () => {
  it('reports the bad utterance and lists the good one with its files in the manifest', async () => {
    expect(stderr).toMatch(/^steve: .*broken\.npy: .*\(left out\)\n/);
    const manifest = await (await fetch(`${base}steve-files.json?token=${token}`)).json();
    expect(manifest.version).toBe(1);
    expect(manifest.utterances.map((u: { name: string }) => u.name)).toEqual(['quiet', 'LDC93S1']);
    const utterance = manifest.utterances[1];
    expect(utterance).toMatchObject({ name: 'LDC93S1', alignments: 'timit', spf: null });
    expect(utterance.files.map((f: { role: string; name: string }) => `${f.role}:${f.name}`)).toEqual([
      'attention:LDC93S1_whisper.npy',
      'wav:LDC93S1.wav',
      'phones:LDC93S1.phn',
      'words:LDC93S1.wrd',
      'text:LDC93S1.txt',
    ]);
    expect(utterance.files[0].url).toBe(`/files/1/LDC93S1_whisper.npy?token=${token}`);
  });

  it('finds each utterance\'s alignment kind from the files beside its WAV, and says when there are none', async () => {
    const manifest = await (await fetch(`${base}steve-files.json?token=${token}`)).json();
    expect(manifest.utterances.map((u: { alignments: string }) => u.alignments)).toEqual(['none', 'timit']);
    // The same decision and line as render and export (chooseAlignmentKind).
    expect(stderr).toMatch(/^steve: quiet\.wav: no TextGrid or TIMIT \.phn\/\.wrd beside it; using STEVE's dummy 40 ms phones \(--alignments none asks for them\)$/m);
    expect(stderr).not.toMatch(/LDC93S1.*dummy/);
  });

  it('says so when --alignments timit finds no TIMIT files and falls back to the dummy grid', async () => {
    const quiet = join(data, 'plain', 'quiet.wav');
    const child = spawn(process.execPath, [BIN, 'serve', '--wav', quiet, '--attention', join(data, 'plain', 'quiet.npy'), '--alignments', 'timit', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let childErr = '';
    child.stderr!.on('data', (chunk: Buffer) => (childErr += chunk));
    const url = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        const found = /at (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)\n/.exec(out);
        if (found) resolve(found[1]);
      });
    });
    const manifest = await (await fetch(url.replace('/?', '/steve-files.json?'))).json();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    expect(manifest.utterances[0].alignments).toBe('none');
    expect(childErr).toMatch(/^steve: quiet\.wav: --alignments timit, but no \.phn or \.wrd beside it; using STEVE's dummy 40 ms phones$/m);
  });

  it('detects a TextGrid before TIMIT files, and nothing as none', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'steve-detect-'));
    writeFileSync(join(folder, 'a.wav'), '');
    expect(await detectAlignmentKind(join(folder, 'a.wav'))).toBe('none');
    writeFileSync(join(folder, 'a.WRD'), '');
    expect(await detectAlignmentKind(join(folder, 'a.wav'))).toBe('timit');
    writeFileSync(join(folder, 'a.textgrid'), '');
    expect(await detectAlignmentKind(join(folder, 'a.wav'))).toBe('textgrid');
    expect(await detectAlignmentKind(join(folder, 'a.wav'), 'tg')).toBe('timit');
  });

  it('serves the listed files whole and by byte range', async () => {
    const whole = await rawGet(`/files/1/LDC93S1.phn?token=${token}`);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(readFileSync(TIMIT_WAV.replace(/wav$/, 'phn')))).toBe(true);
    const range = await rawGet(`/files/1/LDC93S1_whisper.npy?token=${token}`, { Range: 'bytes=0-5' });
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe(`bytes 0-5/${readFileSync(SOFTMAXED_F16).length}`);
    expect(range.body.toString('latin1')).toBe('\x93NUMPY');
  });

  it('serves the viewer page', async () => {
    const page = await rawGet('/');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('<canvas id="map-canvas">');
  });

  it('refuses paths that climb out, plain or encoded, and files it was not given', async () => {
    const secret = readFileSync(join(ROOT, 'package.json'), 'utf8');
    for (const path of [
      '/files/0/../../package.json',
      '/files/0/..%2f..%2fpackage.json',
      '/files/0/%2e%2e%2f%2e%2e%2fpackage.json',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/..%5c..%5cpackage.json',
      '/files/2/broken.npy',
      '/files/1/broken.npy',
      '/files/0/LDC93S1.npy',
      '/@fs/etc/passwd',
      `/@fs${ROOT}package.json`,
      `/@fs${data}/timit/LDC93S1.phn`,
    ]) {
      // With the token, so that what refuses them is the path, not the missing token.
      const response = await rawGet(`${path}?token=${token}`);
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.body.toString(), path).not.toContain('"name"');
      expect(response.body.toString(), path).not.toContain('root:');
      expect(response.body.toString(), path).not.toContain(secret.slice(0, 40));
    }
  });

  it('listens on 127.0.0.1 only', async () => {
    expect(new URL(base).hostname).toBe('127.0.0.1');
    // From any other address of this machine the port is closed.
    const others = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal);
    for (const address of others) {
      const reached = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: address!.address, port: Number(new URL(base).port) }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      expect(reached, address!.address).toBe(false);
    }
  });
});
