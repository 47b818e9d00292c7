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
  const range = request.headers.range;
  if (range) {
    const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (!match || (match[1] === '' && match[2] === '')) {
      response.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    // "bytes=-500" is the last 500 bytes; "bytes=500-" runs to the end.
    if (match[1] === '') start = Math.max(0, size - Number(match[2]));
    else {
      start = Number(match[1]);
      if (match[2] !== '') end = Math.min(end, Number(match[2]));
    }
    if (start >= size || start > end) {
      response.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
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
