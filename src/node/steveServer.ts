/**
 * The HTTP server of `steve serve`, on the loopback interface only: the manifest of the files given on the command
 * line (GET /steve-files.json?token=...), those files (GET /files/<index>/<name>?token=...), and the viewer itself
 * from Vite's dev server in middleware mode, restricted to the folders the app is built from.
 *
 * Before any route: a request must name this server by a loopback name with its port in Host, and come from no
 * other site (Origin), or it gets 403 (requestGuard.ts: DNS rebinding); only GET and HEAD are answered (405); a
 * path holding a ".." segment, plain or percent-encoded, is refused (400); Vite's dev endpoints ("/__...", such as
 * /__open-in-editor) do not exist here. The manifest and the files also need the run's token, which only the
 * printed URL carries (403 without it).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Plugin, ViteDevServer } from 'vite';
import { sendFile } from './fileResponse.ts';
import { hasAccessToken, makeAccessToken, refuseForeignRequest } from './requestGuard.ts';
import type { ServedUtterance } from './servedFiles.ts';
import { lookupServedFile, makeManifest } from './servedFiles.ts';

/** Path of the manifest the viewer fetches. */
export const MANIFEST_PATH = '/steve-files.json';

/** Options of startSteveServer. */
export interface SteveServerOptions {
  readonly utterances: readonly ServedUtterance[];
  /** 0 picks a free port. */
  readonly port: number;
  /** When the port is taken, try the next ones (up to 20) instead of failing. */
  readonly tryNextPorts?: boolean;
  /** The repository root: vite.config.ts and the app's folders. */
  readonly appRoot: string;
  /** The access token the file routes require; a fresh random one when absent. */
  readonly token?: string;
}

/** A running server. */
export interface SteveServer {
  /** http://127.0.0.1:<port>/?token=<token>: the page, with the token the viewer passes on to the file routes. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** The only interface we listen on: the files are the user's, the page is for the user's own browser. */
export const LOOPBACK = '127.0.0.1';

/** Starts Vite (middleware mode) and the HTTP server; resolves once it listens. */
export async function startSteveServer(options: SteveServerOptions): Promise<SteveServer> {
  const token = options.token ?? makeAccessToken();
  const manifest = JSON.stringify(makeManifest(options.utterances, token));
  let port = 0;
  // The HTTP server exists first so that Vite's WebSocket can share it (no second port); it serves nothing until
  // it listens, by which time Vite is ready.
  let vite: ViteDevServer | undefined;
  const server = createHttpServer((request, response) => {
    handle(request, response, { utterances: options.utterances, manifest, token, port }, vite!).catch((error: Error) => {
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end(`${error.message}\n`);
    });
  });
  // Vite's WebSocket (its client script insists on one) answers only this server's own pages, as every route does.
  server.prependListener('upgrade', (request, socket) => {
    if (refuseForeignRequest(request.headers, port) !== undefined) socket.destroy();
  });
  vite = await startVite(options.appRoot, server);
  try {
    await listen(server, options.port, options.tryNextPorts ? 20 : 0);
  } catch (error) {
    await vite.close();
    throw error;
  }
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await vite.close();
    },
  };
}

interface Served {
  readonly utterances: readonly ServedUtterance[];
  readonly manifest: string;
  readonly token: string;
  readonly port: number;
}

async function handle(request: IncomingMessage, response: ServerResponse, served: Served, vite: ViteDevServer): Promise<void> {
  const refuse = (status: number, text: string, headers: Record<string, string> = {}) =>
    void response.writeHead(status, { 'Content-Type': 'text/plain', ...headers }).end(`${text}\n`);
  const foreign = refuseForeignRequest(request.headers, served.port);
  if (foreign) return refuse(403, foreign);
  if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'only GET and HEAD are answered', { Allow: 'GET, HEAD' });
  const url = request.url ?? '/';
  const rawPath = url.split('?')[0];
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return refuse(400, 'bad URL encoding');
  }
  if (decoded.includes('\0') || decoded.split(/[\\/]/).includes('..')) return refuse(400, 'path traversal refused');
  // Vite's dev endpoints (/__open-in-editor launches an editor) have no use here.
  if (decoded.startsWith('/__')) return refuse(404, 'not found');
  const isFileRoute = rawPath === MANIFEST_PATH || rawPath.startsWith('/files/');
  if (isFileRoute && !hasAccessToken(url, served.token)) return refuse(403, 'the token of the URL that steve serve printed is required');
  if (rawPath === MANIFEST_PATH) {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(request.method === 'HEAD' ? undefined : served.manifest);
    return;
  }
  if (rawPath.startsWith('/files/')) {
    // Split before decoding, so an encoded "/" stays inside the name (and then matches no file).
    const parts = rawPath.split('/');
    const file = parts.length === 4 ? lookupServedFile(served.utterances, parts[2], decodeURIComponent(parts[3])) : undefined;
    if (!file || !(await staysInside(file.path, file.root))) return refuse(404, 'not found');
    await sendFile(request, response, file.path);
    return;
  }
  vite.middlewares(request, response, () => refuse(404, 'not found'));
}

/**
 * True when `path`, symbolic links resolved, lies inside the folder `root` (a real path) was found under, or when
 * it was named on the command line (no root). Checked per request: a link may be planted after the server started.
 */
export async function staysInside(path: string, root: string | undefined): Promise<boolean> {
  if (root === undefined) return true;
  const real = await realpath(path).catch(() => undefined);
  return real !== undefined && real.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Vite's dev server with the project's own vite.config.ts, as `npm start` runs it, with file access narrowed from
 * the whole repository to what the app is made of. Its client script always opens a WebSocket; it is given our own
 * loopback server to upgrade on, rather than a port of its own (or none, which makes the page throw).
 */
async function startVite(appRoot: string, httpServer: Server): Promise<ViteDevServer> {
  const { createServer } = await import('vite');
  // Vite 8 warns on every start that vite.config.ts uses __dirname, which its future native config loader will not
  // support; we load the config with the bundling loader, where __dirname works, so the warning is noise here.
  process.env.VITE_CONFIG_NATIVE_IGNORE_WARNING ??= 'true';
  const narrowFiles: Plugin = {
    name: 'steve-serve-files',
    // A config hook may change the merged config in place; returning `allow` would be appended to the config's.
    config(config) {
      config.server ??= {};
      config.server.fs = { ...config.server.fs, strict: true, allow: ['demo', 'src', 'shaders', 'node_modules'].map((folder) => join(appRoot, folder)) };
    },
  };
  return createServer({
    configFile: join(appRoot, 'vite.config.ts'),
    // The config's root ('demo') is relative to the working directory, which for `steve serve` can be anywhere.
    root: join(appRoot, 'demo'),
    configLoader: 'bundle',
    server: { middlewareMode: true, ws: { server: httpServer } },
    appType: 'spa',
    logLevel: 'warn',
    plugins: [narrowFiles],
  });
}

/** Listens on the loopback interface at `port`, or at the next free one of `retries` more. */
async function listen(server: Server, port: number, retries: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port + attempt, LOOPBACK, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= retries || port === 0) throw error;
    }
  }
}
