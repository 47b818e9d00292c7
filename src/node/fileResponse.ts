/**
 * Sends one file over HTTP with what a browser needs to read a large tensor by slices: Content-Length, HEAD, and
 * single byte ranges ("Range: bytes=0-1023" -> 206), so the viewer can read a 6 GB file's header and one layer
 * at a time instead of downloading it whole.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';

/** Content types of the files STEVE reads; anything else is sent as bytes. */
const CONTENT_TYPES: Record<string, string> = {
  '.wav': 'audio/wav',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.textgrid': 'text/plain; charset=utf-8',
  '.phn': 'text/plain; charset=utf-8',
  '.wrd': 'text/plain; charset=utf-8',
};

/** Answers GET or HEAD for `path`, honouring one byte range; 404 when the file has gone, 416 for a range past its end. */
export async function sendFile(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
  let size: number;
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw new Error('not a file');
    size = stats.size;
  } catch {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const headers: Record<string, string | number> = {
    'Content-Type': CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-cache',
  };
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = request.method === 'GET' ? parseByteRange(request.headers.range, size) : undefined;
  if (range === 'unsatisfiable') {
    response.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
    return;
  }
  if (range) {
    [start, end] = range;
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = size === 0 ? 0 : end - start + 1;
  response.writeHead(status, headers);
  if (request.method === 'HEAD' || size === 0) {
    response.end();
    return;
  }
  createReadStream(path, { start, end }).on('error', () => response.destroy()).pipe(response);
}

/**
 * The one byte range a Range header asks of a file of `size` bytes, as RFC 9110 (section 14) reads it: [first, last]
 * inclusive, clipped to the file; 'unsatisfiable' (a 416) when it starts past the end or asks for the last 0 bytes;
 * undefined (send the whole file, 200) when there is no header or the server may ignore it: another unit, a
 * malformed value, or several ranges (which would need a multipart answer).
 */
export function parseByteRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [first, last] = [match[1] === '' ? undefined : Number(match[1]), match[2] === '' ? undefined : Number(match[2])];
  if (first === undefined) {
    // "bytes=-500": the last 500 bytes (all of a smaller file).
    if (last === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - last!), size - 1];
  }
  if (last !== undefined && last < first) return undefined; // invalid: ignored, as the RFC allows
  if (first >= size) return 'unsatisfiable';
  return [first, Math.min(size - 1, last ?? size - 1)];
}
