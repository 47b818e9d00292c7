/**
 * Hand-built zips for the zip-bomb tests: members with any declared sizes, CRCs and offsets (a real writer would
 * refuse to lie), and deflate streams of gigabytes of zeros built in milliseconds.
 */
import { constants, deflateRawSync } from 'node:zlib';
import { crc32 } from '../../src/data/zip.ts';

/** One member as the central directory describes it; `at` shares the data of an earlier member (overlap). */
export interface ZipMember {
  readonly name: string;
  readonly method: 0 | 8;
  /** The member's bytes as stored (compressed for method 8). */
  readonly data: Uint8Array;
  readonly declaredSize: number;
  readonly crc32: number;
  /** Index of an earlier member whose local header this one points at, instead of its own. */
  readonly at?: number;
}

/** A zip (no zip64: sizes below 4 GiB) whose directory says exactly what `members` say, true or not. */
export function buildZip(members: readonly ZipMember[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let offset = 0;
  const encoder = new TextEncoder();
  for (const member of members) {
    if (member.at !== undefined) {
      offsets.push(offsets[member.at]);
      continue;
    }
    const name = encoder.encode(member.name);
    const header = new Uint8Array(30 + name.length);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0x04034b50, true);
    view.setUint16(4, 20, true);
    view.setUint16(8, member.method, true);
    view.setUint32(14, member.crc32, true);
    view.setUint32(18, member.data.length, true);
    view.setUint32(22, member.declaredSize >>> 0, true);
    view.setUint16(26, name.length, true);
    header.set(name, 30);
    offsets.push(offset);
    parts.push(header, member.data);
    offset += header.length + member.data.length;
  }
  const directoryOffset = offset;
  members.forEach((member, i) => {
    const name = encoder.encode(member.name);
    const source = member.at === undefined ? member : members[member.at];
    const entry = new Uint8Array(46 + name.length);
    const view = new DataView(entry.buffer);
    view.setUint32(0, 0x02014b50, true);
    view.setUint16(4, 20, true);
    view.setUint16(6, 20, true);
    view.setUint16(10, source.method, true);
    view.setUint32(16, member.crc32, true);
    view.setUint32(20, source.data.length, true);
    view.setUint32(24, member.declaredSize >>> 0, true);
    view.setUint16(28, name.length, true);
    view.setUint32(42, offsets[i], true);
    entry.set(name, 46);
    parts.push(entry);
    offset += entry.length;
  });
  const end = new Uint8Array(22);
  const view = new DataView(end.buffer);
  view.setUint32(0, 0x06054b50, true);
  view.setUint16(8, members.length, true);
  view.setUint16(10, members.length, true);
  view.setUint32(12, offset - directoryOffset, true);
  view.setUint32(16, directoryOffset, true);
  parts.push(end);
  const zip = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    zip.set(part, at);
    at += part.length;
  }
  return zip;
}

const ZERO_BLOCK_BYTES = 8 << 20;
let zeroBlock: Uint8Array | undefined;

/**
 * A raw deflate stream that inflates to `blocks` x 8 MiB of zeros: one full-flushed block (which resets the
 * compressor, so copies of it follow each other validly) repeated, then a final empty block.
 */
export function deflatedZeros(blocks: number): Uint8Array {
  zeroBlock ??= deflateRawSync(new Uint8Array(ZERO_BLOCK_BYTES), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const stream = new Uint8Array(zeroBlock.length * blocks + 2);
  for (let i = 0; i < blocks; i++) stream.set(zeroBlock, i * zeroBlock.length);
  stream.set([0x03, 0x00], zeroBlock.length * blocks); // final block, fixed Huffman codes, end of block at once
  return stream;
}

/** Bytes of zeros `deflatedZeros(blocks)` inflates to. */
export function zerosInflatedSize(blocks: number): number {
  return blocks * ZERO_BLOCK_BYTES;
}

/** A little-endian float32 .npy header for `shape`, padded as numpy pads it, followed by `dataBytes` zeros. */
export function npyOfZeros(shape: readonly number[], dataBytes: number): Uint8Array {
  const text = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const headerLength = Math.ceil((10 + text.length + 1) / 64) * 64 - 10;
  const bytes = new Uint8Array(10 + headerLength + dataBytes);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(bytes.buffer).setUint16(8, headerLength, true);
  const header = text.padEnd(headerLength - 1, ' ') + '\n';
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  return bytes;
}

export { crc32 };
