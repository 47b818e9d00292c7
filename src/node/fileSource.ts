/**
 * A ByteSource over a file on disk, for the CLI and Node tests. Reads go through FileHandle.read at an offset,
 * so a 5.8 GB tensor file costs only the slices actually read, never the whole file.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { ByteSource } from '../data/byteSource.ts';
import { InputError } from '../data/inputError.ts';

/** A file's ByteSource plus close(), which releases the file handle. */
export type FileSource = ByteSource & { close(): Promise<void> };

// FileHandle.read takes at most 2 GiB - 1 bytes per call; big reads are split into chunks under that.
const MAX_READ_CHUNK = 1 << 30;

/**
 * Opens `path` for random-access reads. Throws InputError('not-found') naming the path when it does not exist
 * or is not a regular file. Each read returns a fresh, 4-byte-aligned Uint8Array.
 */
export async function makeFileSource(path: string): Promise<FileSource> {
  const handle = await openHandle(path);
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw new InputError(path, 'not-found', `is not a regular file (expected an attention file)`);
  }
  return {
    name: path,
    byteLength: stats.size,
    read: (offset, length) => readAt(handle, path, stats.size, offset, length),
    close: () => handle.close(),
  };
}

async function openHandle(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError(path, 'not-found', 'no such file');
    if (code === 'EISDIR') throw new InputError(path, 'not-found', 'is a directory, not a file');
    if (code === 'EACCES' || code === 'EPERM') throw new InputError(path, 'not-found', 'permission denied');
    throw error;
  }
}

async function readAt(handle: FileHandle, path: string, size: number, offset: number, length: number): Promise<Uint8Array> {
  if (offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`${path}: read of ${length} bytes at ${offset} runs past the end (${size} bytes)`);
  }
  const bytes = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const { bytesRead } = await handle.read(bytes, done, Math.min(MAX_READ_CHUNK, length - done), offset + done);
    // Zero bytes before the end means the file shrank after it was opened.
    if (bytesRead === 0) throw new InputError(path, 'truncated', `file ended after ${offset + done} bytes while reading ${length} bytes at ${offset}; it changed since it was opened`);
    done += bytesRead;
  }
  return bytes;
}
