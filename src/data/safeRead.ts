/**
 * Reads from a ByteSource that fail only with InputError.
 * Readers check every header against the file size before reading, so an out-of-range read means a file that
 * changed under us or a source that misbehaves; either way the user should see one line naming the file.
 */
import type { ByteSource } from './byteSource.ts';
import { InputError, check } from './inputError.ts';

/** Reads bytes [offset, offset + length) of `source`, or throws InputError('truncated') saying what was wanted. */
export async function readBytes(source: ByteSource, offset: number, length: number, what: string): Promise<Uint8Array> {
  check(
    Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0,
    source.name,
    'bad-header',
    () => `${what}: cannot read ${length} bytes at offset ${offset}`,
  );
  check(
    offset + length <= source.byteLength,
    source.name,
    'truncated',
    () => `${what}: needs bytes ${offset}..${offset + length} but the file has ${source.byteLength} bytes`,
  );
  let bytes: Uint8Array;
  try {
    bytes = await source.read(offset, length);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(source.name, 'truncated', `${what}: reading ${length} bytes at offset ${offset} failed (${describe(error)})`);
  }
  check(
    bytes.byteLength === length,
    source.name,
    'truncated',
    () => `${what}: expected ${length} bytes at offset ${offset}, got ${bytes.byteLength}`,
  );
  return bytes;
}

/**
 * Reads bytes [offset, offset + target.byteLength) of `source` into `target`, through source.readInto when the source
 * has it (one copy) and read() otherwise; throws InputError('truncated') saying what was wanted, as readBytes does.
 */
export async function readBytesInto(source: ByteSource, offset: number, target: Uint8Array, what: string): Promise<void> {
  if (!source.readInto) {
    target.set(await readBytes(source, offset, target.byteLength, what));
    return;
  }
  const length = target.byteLength;
  check(Number.isSafeInteger(offset) && offset >= 0, source.name, 'bad-header', () => `${what}: cannot read ${length} bytes at offset ${offset}`);
  check(
    offset + length <= source.byteLength,
    source.name,
    'truncated',
    () => `${what}: needs bytes ${offset}..${offset + length} but the file has ${source.byteLength} bytes`,
  );
  try {
    await source.readInto(offset, target);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(source.name, 'truncated', `${what}: reading ${length} bytes at offset ${offset} failed (${describe(error)})`);
  }
}

/** A short description of anything thrown. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
