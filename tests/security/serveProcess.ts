/**
 * `steve serve` in a child process for the security tests, and raw HTTP requests to it: every header (Host,
 * Origin, Range) and the method sent exactly as an attacker's page or script would send them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { BIN, ROOT } from '../cli/steveProcess.ts';

/** A running `steve serve`: its origin ("http://127.0.0.1:PORT"), port, token, and what it wrote to stderr. */
export interface ServeProcess {
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `steve serve ...args` and resolves once it prints its URL. */
export function startServe(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', ...args, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const found = /at http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+)\n/.exec(stdout);
      if (found) resolve({ origin: `http://127.0.0.1:${found[1]}`, port: Number(found[1]), token: found[2], stderr: () => stderr, stop });
    });
    child.on('exit', (code) => reject(new Error(`steve serve exited with ${code}: ${stderr}`)));
  });
}

/** The answer to one raw request. */
export interface RawResponse {
  readonly status: number;
  readonly body: Buffer;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** Sends `method path` to the server with exactly these headers (Host defaults to the server's own). */
export function rawRequest(server: ServeProcess, method: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers: { Host: `127.0.0.1:${server.port}`, ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks), headers: response.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
