/**
 * The attacks on `steve serve` of issue 11, repeated against the real command: DNS rebinding (a foreign Host), a
 * cross-site Origin, requests without the run's token, other methods, Vite's /__open-in-editor, symbolic links out of
 * the served folder (present at start or planted later), a WebSocket from a foreign page, and Range forms that RFC
 * 9110 says to ignore or refuse.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOFTMAXED_F16, TIMIT_WAV } from '../cli/steveProcess.ts';
import { rawRequest, startServe, type ServeProcess } from './serveProcess.ts';

let server: ServeProcess;
let data: string;
let outside: string;
let editorMarker: string;
const SECRET = 'zzsecretzz';

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'steve-security-'));
  outside = mkdtempSync(join(tmpdir(), 'steve-outside-'));
  for (const extension of ['wav', 'wrd', 'txt']) copyFileSync(TIMIT_WAV.replace(/wav$/, extension), join(data, `LDC93S1.${extension}`));
  copyFileSync(SOFTMAXED_F16, join(data, 'LDC93S1_whisper.npy'));
  // The phones are a link to a file outside the folder (a valid .phn with a telltale label: only the link is wrong).
  writeFileSync(join(outside, 'secret.phn'), readFileSync(TIMIT_WAV.replace(/wav$/, 'phn'), 'utf8').replace(/h#\s*$/, `${SECRET}\n`));
  symlinkSync(join(outside, 'secret.phn'), join(data, 'LDC93S1.phn'));
  // A second pair whose tensor is a link out of the folder: left out.
  copyFileSync(TIMIT_WAV, join(data, 'other.wav'));
  copyFileSync(SOFTMAXED_F16, join(outside, 'other.npy'));
  symlinkSync(join(outside, 'other.npy'), join(data, 'other.npy'));
  // A tensor whose data_offsets nest 10 000 deep (the crash): reported and left out, the server still starts.
  writeFileSync(join(data, 'deep.safetensors'), deepSafetensorsFile());
  // A file whose name would retitle the terminal if printed raw.
  writeFileSync(join(data, 'title\x1b]0;pwned\x07.npy'), 'not numpy');
  // Vite's launch-editor runs $LAUNCH_EDITOR: this one leaves a marker if it is ever run.
  editorMarker = join(outside, 'editor-ran');
  const editor = join(outside, 'editor.sh');
  writeFileSync(editor, `#!/bin/sh\ntouch ${editorMarker}\n`);
  chmodSync(editor, 0o755);
  server = await startServe([data], { LAUNCH_EDITOR: editor, EDITOR: editor });
});

afterAll(async () => {
  await server?.stop();
  rmSync(data, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const withToken = (path: string) => `${path}${path.includes('?') ? '&' : '?'}token=${server.token}`;

describe('steve serve against DNS rebinding', () => {
  it('answers 403 on every route to a Host that is not a loopback name with its port', async () => {
    const port = server.port;
    for (const host of ['attacker.com', `attacker.com:${port}`, `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `localhost.attacker.com:${port}`]) {
      for (const path of ['/', withToken('/steve-files.json'), withToken('/files/0/LDC93S1.wav'), '/@vite/client', '/src/ui/main.ts']) {
        const response = await rawRequest(server, 'GET', path, { Host: host });
        expect(response.status, `${host} ${path}`).toBe(403);
        expect(response.body.toString(), `${host} ${path}`).not.toContain('LDC93S1');
      }
    }
  });

  it('answers the loopback names a local browser uses', async () => {
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`, `LOCALHOST:${server.port}`]) {
      expect((await rawRequest(server, 'GET', withToken('/steve-files.json'), { Host: host })).status, host).toBe(200);
    }
  });

  it('answers 403 to a request from another site (Origin), and serves the page\'s own', async () => {
    for (const origin of ['http://attacker.com', `http://attacker.com:${server.port}`, 'null', `https://127.0.0.1:${server.port}`, `http://127.0.0.1:${server.port + 1}`]) {
      for (const path of ['/', withToken('/steve-files.json')]) {
        expect((await rawRequest(server, 'GET', path, { Origin: origin })).status, `${origin} ${path}`).toBe(403);
      }
    }
    expect((await rawRequest(server, 'GET', withToken('/steve-files.json'), { Origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
  });

  it('requires the printed token for the manifest and the files, not for the page', async () => {
    for (const path of ['/steve-files.json', '/files/0/LDC93S1.wav', '/steve-files.json?token=', '/steve-files.json?token=x', `/files/0/LDC93S1.wav?token=${server.token.slice(1)}`]) {
      const response = await rawRequest(server, 'GET', path);
      expect(response.status, path).toBe(403);
      expect(response.body.toString()).not.toContain('RIFF');
    }
    expect((await rawRequest(server, 'GET', '/')).status).toBe(200);
    const manifest = JSON.parse((await rawRequest(server, 'GET', withToken('/steve-files.json'))).body.toString());
    const wav = manifest.utterances[0].files.find((file: { role: string }) => file.role === 'wav');
    expect((await rawRequest(server, 'GET', wav.url)).body.subarray(0, 4).toString()).toBe('RIFF');
  });

  it('answers only GET and HEAD, on every route', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'TRACE', 'OPTIONS', 'PATCH']) {
      for (const path of ['/', withToken('/steve-files.json'), withToken('/files/0/LDC93S1.wav')]) {
        const response = await rawRequest(server, method, path);
        expect(response.status, `${method} ${path}`).toBe(405);
        expect(response.headers.allow).toBe('GET, HEAD');
      }
    }
    const head = await rawRequest(server, 'HEAD', withToken('/files/0/LDC93S1.wav'));
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(readFileSync(TIMIT_WAV).length);
  });

  it('has no /__open-in-editor (nor other Vite dev endpoints), whatever the Origin', async () => {
    for (const origin of [undefined, 'http://attacker.com', `http://127.0.0.1:${server.port}`]) {
      const response = await rawRequest(server, 'GET', '/__open-in-editor?file=/etc/passwd', origin ? { Origin: origin } : {});
      expect(response.status).toBeGreaterThanOrEqual(403);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(editorMarker)).toBe(false);
  });

  it('refuses a WebSocket from a foreign Host or Origin', async () => {
    const upgrade = (host: string, origin: string) =>
      new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: server.port }, () => {
          socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: vite-hmr\r\n\r\n`);
        });
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk));
        socket.on('close', () => resolve(answer));
        socket.on('error', () => resolve(answer));
        setTimeout(() => socket.destroy(), 2000);
      });
    expect(await upgrade(`attacker.com:${server.port}`, `http://attacker.com:${server.port}`)).not.toMatch(/^HTTP\/1\.1 101/);
    expect(await upgrade(`127.0.0.1:${server.port}`, 'http://attacker.com')).not.toMatch(/^HTTP\/1\.1 101/);
  });
});

describe('steve serve and symbolic links', () => {
  it('reports a crafted tensor in one bounded line and serves the rest', () => {
    expect(server.stderr()).toMatch(/^steve: .*title\\x1b\]0;pwned\\x07\.npy: .*\(left out\)$/m);
    expect(server.stderr()).not.toMatch(/[\u001b\u0007]/);
    expect(server.stderr()).toMatch(/^steve: .*deep\.safetensors: \.safetensors tensor 'a' has data_offsets \[\[\[.{0,200} \(left out\)$/m);
  });

  it('leaves out a pair whose tensor links outside the folder, and an alignment file that does', async () => {
    expect(server.stderr()).toMatch(/other\.npy: links to a file outside the folder being served \(left out\)/);
    const manifest = JSON.parse((await rawRequest(server, 'GET', withToken('/steve-files.json'))).body.toString());
    expect(manifest.utterances.map((u: { name: string }) => u.name)).toEqual(['LDC93S1']);
    expect(manifest.utterances[0].files.map((f: { role: string }) => f.role)).toEqual(['attention', 'wav', 'words', 'text']);
    const response = await rawRequest(server, 'GET', withToken('/files/0/LDC93S1.phn'));
    expect(response.status).toBe(404);
    expect(response.body.toString()).not.toContain(SECRET);
  });

  it('stops serving a listed file replaced by a link out of the folder after the start', async () => {
    const words = join(data, 'LDC93S1.wrd');
    expect((await rawRequest(server, 'GET', withToken('/files/0/LDC93S1.wrd'))).status).toBe(200);
    writeFileSync(join(outside, 'planted.wrd'), SECRET);
    rmSync(words);
    symlinkSync(join(outside, 'planted.wrd'), words);
    const response = await rawRequest(server, 'GET', withToken('/files/0/LDC93S1.wrd'));
    expect(response.status).toBe(404);
    expect(response.body.toString()).not.toContain(SECRET);
  });
});

describe('steve serve and Range requests (RFC 9110)', () => {
  const wav = () => readFileSync(TIMIT_WAV);
  const get = (range: string) => rawRequest(server, 'GET', withToken('/files/0/LDC93S1.wav'), { Range: range });

  it('answers one satisfiable byte range with 206 and exactly those bytes', async () => {
    const size = wav().length;
    for (const [range, start, end] of [['bytes=0-5', 0, 5], ['bytes=10-', 10, size - 1], ['bytes=-3', size - 3, size - 1], ['bytes=0-99999999', 0, size - 1], ['BYTES=1-2', 1, 2]] as const) {
      const response = await get(range);
      expect(response.status, range).toBe(206);
      expect(response.headers['content-range'], range).toBe(`bytes ${start}-${end}/${size}`);
      expect(response.body.equals(wav().subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('ignores malformed ranges, other units and several ranges: 200 with the whole file', async () => {
    for (const range of ['items=0-5', 'bytes=0-1,4-5', 'bytes=abc', 'bytes=5-2', 'bytes=-', 'bytes 0-5', 'bytes=--1', 'bytes=0x10-']) {
      const response = await get(range);
      expect(response.status, range).toBe(200);
      expect(response.body.equals(wav()), range).toBe(true);
    }
  });

  it('answers 416 to a range that starts past the end or asks for no bytes', async () => {
    for (const range of [`bytes=${wav().length}-`, 'bytes=99999999-100000000', 'bytes=-0']) {
      const response = await get(range);
      expect(response.status, range).toBe(416);
      expect(response.headers['content-range']).toBe(`bytes */${wav().length}`);
    }
  });
});

/** A 20 KB .safetensors whose one tensor has data_offsets nested 10 000 deep. */
function deepSafetensorsFile(): Uint8Array {
  const json = `{"a":{"dtype":"F32","shape":[1],"data_offsets":${'['.repeat(10_000)}0${']'.repeat(10_000)}}}`.padEnd(20_056, ' ');
  const bytes = new Uint8Array(8 + json.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(new TextEncoder().encode(json), 8);
  return bytes;
}
