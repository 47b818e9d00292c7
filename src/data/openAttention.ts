/**
 * Opening an attention file of any supported format: the format is recognised from its first bytes, not its
 * name, so a renamed or extension-less file (a browser File, a fetch() result) still opens.
 */
import type { ByteSource } from './byteSource.ts';
import { check, InputError } from './inputError.ts';
import { NPY_MAGIC, openNpy } from './npy.ts';
import { openNpz } from './npz.ts';
import { readBytes } from './safeRead.ts';
import { openSafetensors } from './safetensors.ts';
import type { AttentionSource } from './tensor.ts';

export { computeMapStats, isHeadSoftmaxed, isSoftmaxed, softmaxTolerance, type MapStats, type SoftmaxCheckOptions } from './mapStats.ts';

/** The file formats openAttention reads. */
export type AttentionFormat = 'npy' | 'npz' | 'safetensors';

const SUPPORTED =
  '.npy (starts with \\x93NUMPY), .npz (a zip: starts with PK\\x03\\x04) or .safetensors (an 8-byte little-endian header length, then a JSON header starting with {)';

/**
 * Recognises the format from the first bytes of a file of `fileSize` bytes (9 bytes suffice), or undefined.
 * safetensors has no magic number, so it is recognised by a header length that fits in the file followed by '{'.
 */
export function detectAttentionFormat(first: Uint8Array, fileSize: number): AttentionFormat | undefined {
  if (first.length >= NPY_MAGIC.length && NPY_MAGIC.every((b, i) => first[i] === b)) return 'npy';
  // PK\x03\x04 starts a zip with entries; PK\x05\x06 is an empty zip, which openNpz reports as holding no arrays.
  if (first.length >= 4 && first[0] === 0x50 && first[1] === 0x4b && ((first[2] === 3 && first[3] === 4) || (first[2] === 5 && first[3] === 6))) return 'npz';
  if (first.length >= 9 && first[8] === 0x7b) {
    const headerLength = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
    if (headerLength >= 2n && headerLength <= BigInt(fileSize - 8)) return 'safetensors';
  }
  return undefined;
}

/**
 * Opens an attention tensor from a .npy, .npz or .safetensors file. Reads only headers; values are read a map
 * or a layer at a time through the returned source. Every failure is an InputError naming the file.
 */
export async function openAttention(source: ByteSource): Promise<AttentionSource> {
  check(source.byteLength > 0, source.name, 'truncated', () => `file is empty; expected ${SUPPORTED}`);
  const first = await readBytes(source, 0, Math.min(9, source.byteLength), 'file signature');
  const format = detectAttentionFormat(first, source.byteLength);
  switch (format) {
    case 'npy':
      return openNpy(source);
    case 'npz':
      return openNpz(source);
    case 'safetensors':
      return openSafetensors(source);
    case undefined:
      throw new InputError(source.name, 'bad-header', `not a supported attention file: expected ${SUPPORTED}; found ${hexBytes(first)}`);
  }
}

function hexBytes(bytes: Uint8Array): string {
  return `bytes ${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}
