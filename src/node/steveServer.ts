/**
 * The HTTP server of `steve serve`, on the loopback interface only: the manifest of the files given on the command
 * line (GET /steve-files.json), those files (GET /files/<index>/<name>), and the viewer itself from Vite's dev
 * server in middleware mode, restricted to the folders the app is built from. Any URL whose path holds a ".."
 * segment, plain or percent-encoded, is refused before it reaches either.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Plugin, ViteDevServer } from 'vite';
import { sendFile } from './fileResponse.ts';
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
}

/** A running server. */
export interface SteveServer {
  /** http://127.0.0.1:<port>/ */
  readonly url: string;
  close(): Promise<void>;
}

/** The only interface we listen on: the files are the user's, the page is for the user's own browser. */
export const LOOPBACK = '127.0.0.1';

/** Starts Vite (middleware mode) and the HTTP server; resolves once it listens. */
export async function startSteveServer(options: SteveServerOptions): Promise<SteveServer> {
  const manifest = JSON.stringify(makeManifest(options.utterances));
  // The HTTP server exists first so that Vite's WebSocket can share it (no second port); it serves nothing until
  // it listens, by which time Vite is ready.
  let vite: ViteDevServer | undefined;
  const server = createHttpServer((request, response) => {
    handle(request, response, options.utterances, manifest, vite!).catch((error: Error) => {
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end(`${error.message}\n`);
    });
  });
  vite = await startVite(options.appRoot, server);
  try {
    await listen(server, options.port, options.tryNextPorts ? 20 : 0);
  } catch (error) {
    await vite.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${LOOPBACK}:${port}/`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await vite.close();
    },
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  utterances: readonly ServedUtterance[],
  manifest: string,
  vite: ViteDevServer,
): Promise<void> {
  const rawPath = (request.url ?? '/').split('?')[0];
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    response.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad URL encoding\n');
    return;
  }
  if (decoded.includes('\0') || decoded.split(/[\\/]/).includes('..')) {
    response.writeHead(400, { 'Content-Type': 'text/plain' }).end('path traversal refused\n');
    return;
  }
  if (rawPath === MANIFEST_PATH) {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(manifest);
    return;
  }
  if (rawPath.startsWith('/files/')) {
    // Split before decoding, so an encoded "/" stays inside the name (and then matches no file).
    const parts = rawPath.split('/');
    const file = parts.length === 4 ? lookupServedFile(utterances, parts[2], decodeURIComponent(parts[3])) : undefined;
    if (!file || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    await sendFile(request, response, file.path);
    return;
  }
  vite.middlewares(request, response, () => {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
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
