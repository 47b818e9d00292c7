/**
 * Just enough of the zip format to read .npz files: the central directory (with zip64 records and extra
 * fields, which numpy writes), stored entries and deflate-compressed entries.
 *
 * Stored entries become a window on the zip's ByteSource, so a slice of an array costs one read. Deflated
 * entries cannot be read from the middle: each keeps its first 64 KiB (inflated on first use, enough for a .npy
 * header; an entry that small is simply inflated whole), and the first read past that inflates the whole entry
 * through the cache passed to openZipEntry, which keeps only the most recently inflated entry alive.
 *
 * Against crafted zips (zip bombs): compressed data is fed to the inflater in small pieces, so no step can make
 * more than a few MiB, and inflating stops the moment the output passes the size the directory declares; an entry
 * declared larger than the inflate budget is refused before anything is inflated; members whose bytes overlap
 * (one member's data inflated once per entry pointing at it) are refused when the directory is read; and every
 * member's CRC-32 is checked: deflated ones when inflated whole, stored ones (up to STORED_CRC_LIMIT) before their
 * data is first read.
 */
import { Inflate } from 'fflate';
import type { ByteSource } from './byteSource.ts';
import { InputError, check } from './inputError.ts';
import { describe, readBytes, readBytesInto } from './safeRead.ts';
import { boundText, quoteUntrusted } from './untrustedText.ts';

/** One file inside a zip, as its central directory describes it. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** Offset of the entry's local header in the zip. */
  readonly localHeaderOffset: number;
  /**
   * Where the next member's local header (or the central directory) starts: the entry's header and data must end
   * there. Set by listZipEntries.
   */
  readonly regionEnd?: number;
}

/** Holds the one inflated entry kept in memory; share one per opened file. */
export interface InflateCache {
  current?: { readonly entry: ZipEntry; readonly bytes: Promise<Uint8Array> };
  /** The most bytes one entry may inflate to in memory (default INFLATE_BUDGET_BYTES). */
  readonly budgetBytes?: number;
}

/**
 * The most bytes a deflated entry may inflate to: it is held in memory whole. 1 GiB covers a compressed per-layer
 * .npz of Whisper large-v3 (288 MB a layer) many times; larger entries should be stored (np.savez), not compressed.
 */
export const INFLATE_BUDGET_BYTES = 1 << 30;
/** Stored entries up to this size have their CRC-32 checked before use (one extra read); larger ones are not read whole. */
export const STORED_CRC_LIMIT = 1 << 26;

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
// An .npz directory lists one entry per array; 16 MiB is ~300 000 entries, far beyond any attention file.
const MAX_DIRECTORY_BYTES = 1 << 24;
// Deflate cannot expand data more than 1032-fold; a larger claimed size is a corrupt (or hostile) header.
const MAX_DEFLATE_RATIO = 1032;
// The .npy header of a deflated entry is read by inflating just this much of the entry.
const PREFIX_BYTES = 1 << 16;
const READ_CHUNK_BYTES = 1 << 22;
// Compressed bytes per push into the inflater: at deflate's 1032:1, one push makes at most ~4 MiB.
const INFLATE_PIECE_BYTES = 1 << 12;

/** Lists the entries of a zip file from its central directory. */
export async function listZipEntries(source: ByteSource): Promise<ZipEntry[]> {
  const directory = await findCentralDirectory(source);
  const bytes = await readBytes(source, directory.offset, directory.size, 'zip central directory');
  const entries: ZipEntry[] = [];
  let pos = 0;
  for (let i = 0; i < directory.count; i++) {
    const { entry, next } = parseCentralEntry(bytes, pos, source.name);
    checkEntry(entry, directory.offset, source.name);
    entries.push(entry);
    pos = next;
  }
  return withRegions(entries, directory.offset, source.name);
}

/**
 * The entries with the end of each one's region (the next local header, or the directory), refusing members that
 * overlap: two entries at one offset, or an entry whose header and data would run into the next.
 */
function withRegions(entries: readonly ZipEntry[], directoryOffset: number, fileName: string): ZipEntry[] {
  const byOffset = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  const regionEnd = new Map<ZipEntry, number>();
  byOffset.forEach((entry, i) => {
    const end = i + 1 < byOffset.length ? byOffset[i + 1].localHeaderOffset : directoryOffset;
    check(
      entry.localHeaderOffset + 30 + entry.compressedSize <= end,
      fileName,
      'bad-header',
      () => `zip entries ${quoteUntrusted(entry.name)} and ${quoteUntrusted(byOffset[i + 1]?.name ?? '(central directory)')} overlap (at offsets ${entry.localHeaderOffset} and ${end}); a zip's members never share bytes`,
    );
    regionEnd.set(entry, end);
  });
  return entries.map((entry) => ({ ...entry, regionEnd: regionEnd.get(entry) }));
}

interface CentralDirectory {
  readonly offset: number;
  readonly size: number;
  readonly count: number;
}

async function findCentralDirectory(source: ByteSource): Promise<CentralDirectory> {
  // Most zips (numpy's included) have no comment, so the record is the last 22 bytes: try that before
  // reading the 64 KiB a comment could take.
  let { view, tailStart, eocd } = await searchTail(source, Math.min(source.byteLength, EOCD_BYTES));
  if (eocd < 0) ({ view, tailStart, eocd } = await searchTail(source, Math.min(source.byteLength, EOCD_BYTES + MAX_COMMENT_BYTES)));
  check(eocd >= 0, source.name, 'bad-header', () => `not a complete zip (.npz) file: no end-of-central-directory record at its end (the file may be truncated)`);
  check(view.getUint16(eocd + 4, true) === 0 && view.getUint16(eocd + 6, true) === 0, source.name, 'bad-header', () => 'multi-disk zip files are not supported');
  let directory: CentralDirectory = { count: view.getUint16(eocd + 10, true), size: view.getUint32(eocd + 12, true), offset: view.getUint32(eocd + 16, true) };
  if (directory.count === 0xffff || directory.size === 0xffffffff || directory.offset === 0xffffffff) {
    directory = await readZip64Directory(source, tailStart + eocd);
  }
  const end = directory.offset + directory.size;
  check(end <= source.byteLength, source.name, 'truncated', () => `zip central directory claims bytes ${directory.offset}..${end} but the file has ${source.byteLength} bytes`);
  check(directory.size <= MAX_DIRECTORY_BYTES, source.name, 'bad-header', () => `zip central directory claims ${directory.size} bytes; expected at most ${MAX_DIRECTORY_BYTES}`);
  check(directory.count * 46 <= directory.size, source.name, 'bad-header', () => `zip central directory claims ${directory.count} entries in ${directory.size} bytes`);
  return directory;
}

async function searchTail(source: ByteSource, tailLength: number): Promise<{ view: DataView; tailStart: number; eocd: number }> {
  const tailStart = source.byteLength - tailLength;
  const view = dataView(await readBytes(source, tailStart, tailLength, 'zip end of central directory'));
  return { view, tailStart, eocd: findEndRecord(view) };
}

/** Position of the end-of-central-directory record in `view` (searching back from the end), or -1. */
function findEndRecord(view: DataView): number {
  for (let pos = view.byteLength - EOCD_BYTES; pos >= 0; pos--) {
    if (view.getUint32(pos, true) === EOCD_SIGNATURE && pos + EOCD_BYTES + view.getUint16(pos + 20, true) <= view.byteLength) return pos;
  }
  return -1;
}

/** The zip64 end record, found through the locator just before the classic end record at `eocdOffset`. */
async function readZip64Directory(source: ByteSource, eocdOffset: number): Promise<CentralDirectory> {
  check(eocdOffset >= 20, source.name, 'bad-header', () => 'zip64 end-of-central-directory locator is missing');
  const locator = dataView(await readBytes(source, eocdOffset - 20, 20, 'zip64 locator'));
  check(locator.getUint32(0, true) === ZIP64_LOCATOR_SIGNATURE, source.name, 'bad-header', () => 'zip64 end-of-central-directory locator is missing');
  const recordOffset = readUint64(locator, 8, source.name);
  const record = dataView(await readBytes(source, recordOffset, 56, 'zip64 end-of-central-directory record'));
  check(record.getUint32(0, true) === ZIP64_EOCD_SIGNATURE, source.name, 'bad-header', () => `no zip64 end-of-central-directory record at offset ${recordOffset}`);
  return { count: readUint64(record, 32, source.name), size: readUint64(record, 40, source.name), offset: readUint64(record, 48, source.name) };
}

function parseCentralEntry(bytes: Uint8Array, pos: number, fileName: string): { entry: ZipEntry; next: number } {
  const view = dataView(bytes);
  check(pos + 46 <= bytes.length && view.getUint32(pos, true) === CENTRAL_SIGNATURE, fileName, 'bad-header', () => `zip central directory is corrupt at byte ${pos}`);
  const [nameLength, extraLength, commentLength] = [view.getUint16(pos + 28, true), view.getUint16(pos + 30, true), view.getUint16(pos + 32, true)];
  const next = pos + 46 + nameLength + extraLength + commentLength;
  check(next <= bytes.length, fileName, 'bad-header', () => `zip central directory entry at byte ${pos} runs past the directory`);
  const flags = view.getUint16(pos + 8, true);
  const name = new TextDecoder().decode(bytes.subarray(pos + 46, pos + 46 + nameLength));
  check((flags & 1) === 0, fileName, 'bad-header', () => `zip entry ${quoteUntrusted(name)} is encrypted`);
  const sizes = {
    uncompressedSize: view.getUint32(pos + 24, true),
    compressedSize: view.getUint32(pos + 20, true),
    localHeaderOffset: view.getUint32(pos + 42, true),
  };
  const extra = bytes.subarray(pos + 46 + nameLength, pos + 46 + nameLength + extraLength);
  const entry = { name, method: view.getUint16(pos + 10, true), crc32: view.getUint32(pos + 16, true), ...applyZip64Extra(extra, sizes, name, fileName) };
  return { entry, next };
}

type EntrySizes = Pick<ZipEntry, 'uncompressedSize' | 'compressedSize' | 'localHeaderOffset'>;

/** Replaces 0xFFFFFFFF sizes and offset by the 64-bit values of the zip64 extra field (id 1), in the order the spec gives. */
function applyZip64Extra(extra: Uint8Array, sizes: EntrySizes, name: string, fileName: string): EntrySizes {
  const view = dataView(extra);
  for (let pos = 0; pos + 4 <= extra.length; pos += 4 + view.getUint16(pos + 2, true)) {
    if (view.getUint16(pos, true) !== 1) continue;
    const end = pos + 4 + view.getUint16(pos + 2, true);
    let field = pos + 4;
    const next64 = (): number => {
      check(field + 8 <= Math.min(end, extra.length), fileName, 'bad-header', () => `zip64 extra field of entry ${quoteUntrusted(name)} is too short`);
      field += 8;
      return readUint64(view, field - 8, fileName);
    };
    return {
      uncompressedSize: sizes.uncompressedSize === 0xffffffff ? next64() : sizes.uncompressedSize,
      compressedSize: sizes.compressedSize === 0xffffffff ? next64() : sizes.compressedSize,
      localHeaderOffset: sizes.localHeaderOffset === 0xffffffff ? next64() : sizes.localHeaderOffset,
    };
  }
  return sizes;
}

function checkEntry(entry: ZipEntry, directoryOffset: number, fileName: string): void {
  check(entry.method === 0 || entry.method === 8, fileName, 'bad-header', () => `zip entry ${quoteUntrusted(entry.name)} uses compression method ${entry.method}; expected stored (0) or deflate (8) as np.savez and np.savez_compressed write`);
  check(entry.method !== 0 || entry.compressedSize === entry.uncompressedSize, fileName, 'bad-header', () => `stored zip entry ${quoteUntrusted(entry.name)} has different compressed (${entry.compressedSize}) and uncompressed (${entry.uncompressedSize}) sizes`);
  check(entry.localHeaderOffset + entry.compressedSize <= directoryOffset, fileName, 'truncated', () => `zip entry ${quoteUntrusted(entry.name)} claims ${entry.compressedSize} bytes at offset ${entry.localHeaderOffset}, past the central directory at ${directoryOffset}`);
  check(
    entry.method === 0 || entry.uncompressedSize <= entry.compressedSize * MAX_DEFLATE_RATIO + 64,
    fileName,
    'bad-header',
    () => `zip entry ${quoteUntrusted(entry.name)} claims ${entry.uncompressedSize} bytes uncompressed from ${entry.compressedSize} compressed bytes, more than deflate can produce`,
  );
}

/**
 * A ByteSource over the uncompressed bytes of one entry, named "<zip> (entry <name>)" for error messages.
 * Stored entries read straight from the zip; deflated ones serve their first 64 KiB from a partial inflate
 * (enough for a .npy header) and inflate the whole entry, through `cache`, for anything further.
 */
export async function openZipEntry(source: ByteSource, entry: ZipEntry, cache: InflateCache): Promise<ByteSource> {
  const name = `${source.name} (entry ${boundText(entry.name)})`;
  const local = dataView(await readBytes(source, entry.localHeaderOffset, 30, `local header of zip entry ${quoteUntrusted(entry.name)}`));
  check(local.getUint32(0, true) === LOCAL_SIGNATURE, source.name, 'bad-header', () => `zip entry ${quoteUntrusted(entry.name)} has no local header at offset ${entry.localHeaderOffset}`);
  const dataOffset = entry.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
  check(dataOffset + entry.compressedSize <= source.byteLength, source.name, 'truncated', () => `zip entry ${quoteUntrusted(entry.name)} needs bytes ${dataOffset}..${dataOffset + entry.compressedSize} but the file has ${source.byteLength}`);
  check(
    entry.regionEnd === undefined || dataOffset + entry.compressedSize <= entry.regionEnd,
    source.name,
    'bad-header',
    () => `zip entry ${quoteUntrusted(entry.name)} has data at ${dataOffset}..${dataOffset + entry.compressedSize}, overlapping the next member at ${entry.regionEnd}`,
  );
  if (entry.method === 0) {
    const window = windowSource(source, name, `zip entry ${quoteUntrusted(entry.name)}`, dataOffset, entry.compressedSize);
    return entry.compressedSize <= STORED_CRC_LIMIT ? checkingCrcOnce(window, () => checkStoredCrc(source, name, entry, dataOffset)) : window;
  }
  const budget = cache.budgetBytes ?? INFLATE_BUDGET_BYTES;
  if (entry.uncompressedSize > budget) {
    // The .npy header (the first 64 KiB) can still be read; the data cannot, so say so before inflating any.
    return refusingPastPrefix(inflatingSource(source, name, entry, dataOffset, cache), entry, budget);
  }
  return inflatingSource(source, name, entry, dataOffset, cache);
}

/** Reads a stored entry in chunks and checks its CRC-32, holding one chunk at a time. */
async function checkStoredCrc(source: ByteSource, name: string, entry: ZipEntry, dataOffset: number): Promise<void> {
  let crc = CRC_START;
  for (let done = 0; done < entry.compressedSize; ) {
    const length = Math.min(READ_CHUNK_BYTES, entry.compressedSize - done);
    crc = updateCrc32(crc, await readBytes(source, dataOffset + done, length, `zip entry ${quoteUntrusted(entry.name)}`));
    done += length;
  }
  check(finishCrc32(crc) === entry.crc32, name, 'bad-header', () => `data fails its CRC-32 check (the file is corrupt)`);
}

/**
 * A stored entry's source that checks its CRC-32 (reading it whole, a chunk at a time) before the first read that
 * needs more than a .npy header: at once for a small entry, on the first read of data for a larger one. Opening a
 * per-layer .npz thus reads headers only, as before; each layer is checked when it is first read.
 */
function checkingCrcOnce(window: ByteSource, check: () => Promise<void>): ByteSource {
  let checked: Promise<void> | undefined;
  return {
    ...window,
    async read(offset, count) {
      if (window.byteLength <= PREFIX_BYTES || offset + count > PREFIX_BYTES) {
        checked ??= check();
        await checked;
      }
      return window.read(offset, count);
    },
    async readInto(offset, target) {
      checked ??= check();
      await checked;
      await readBytesInto(window, offset, target, `${target.byteLength} bytes at ${offset}`);
    },
  };
}

/** The entry's source, refusing (with why) any read past the 64 KiB prefix: the entry is over the inflate budget. */
function refusingPastPrefix(inner: ByteSource, entry: ZipEntry, budget: number): ByteSource {
  return {
    ...inner,
    async read(offset, count) {
      check(
        offset + count <= PREFIX_BYTES,
        inner.name,
        'unsupported-layout',
        () => `compressed entry declares ${entry.uncompressedSize} bytes, more than the ${budget} bytes STEVE inflates in memory; save with np.savez (uncompressed) so slices can be read directly`,
      );
      return inner.read(offset, count);
    },
    // Every read goes through the check above.
    readInto: undefined,
  };
}

function windowSource(source: ByteSource, name: string, what: string, start: number, length: number): ByteSource {
  return {
    name,
    byteLength: length,
    async read(offset, count) {
      if (offset < 0 || count < 0 || offset + count > length) throw new RangeError(`${name}: read of ${count} bytes at ${offset} runs past the end (${length} bytes)`);
      return readBytes(source, start + offset, count, what);
    },
    async readInto(offset, target) {
      if (offset < 0 || offset + target.byteLength > length) throw new RangeError(`${name}: read of ${target.byteLength} bytes at ${offset} runs past the end (${length} bytes)`);
      await readBytesInto(source, start + offset, target, what);
    },
  };
}

function inflatingSource(source: ByteSource, name: string, entry: ZipEntry, dataOffset: number, cache: InflateCache): ByteSource {
  let prefix: Promise<Uint8Array> | undefined;
  return {
    name,
    byteLength: entry.uncompressedSize,
    async read(offset, count) {
      if (offset < 0 || count < 0 || offset + count > entry.uncompressedSize) throw new RangeError(`${name}: read of ${count} bytes at ${offset} runs past the end (${entry.uncompressedSize} bytes)`);
      if (offset + count <= Math.min(PREFIX_BYTES, entry.uncompressedSize)) {
        prefix ??= inflatePrefix(source, name, entry, dataOffset);
        return (await prefix).subarray(offset, offset + count);
      }
      if (cache.current?.entry !== entry) cache.current = { entry, bytes: inflateEntry(source, name, entry, dataOffset) };
      return (await cache.current.bytes).subarray(offset, offset + count);
    },
  };
}

/**
 * The first min(64 KiB, size) uncompressed bytes of a deflated entry, inflating no more than needed. An entry
 * that fits is inflated whole, so it is checked (size and CRC-32) like any full inflate.
 */
async function inflatePrefix(source: ByteSource, name: string, entry: ZipEntry, dataOffset: number): Promise<Uint8Array> {
  if (entry.uncompressedSize <= PREFIX_BYTES) return inflateEntry(source, name, entry, dataOffset);
  const out = new Uint8Array(PREFIX_BYTES);
  const filled = await inflateInto(source, name, entry, dataOffset, out, 1 << 12);
  check(filled === out.length, name, 'truncated', () => `compressed data ends after ${filled} bytes; the zip directory declares ${entry.uncompressedSize}`);
  return out;
}

/** All uncompressed bytes of a deflated entry, checked against the declared size and CRC-32. */
async function inflateEntry(source: ByteSource, name: string, entry: ZipEntry, dataOffset: number): Promise<Uint8Array> {
  const out = allocate(entry.uncompressedSize, name);
  const filled = await inflateInto(source, name, entry, dataOffset, out, READ_CHUNK_BYTES);
  check(filled === out.length, name, 'truncated', () => `inflates to ${filled} bytes; the zip directory declares ${out.length}`);
  check(crc32(out) === entry.crc32, name, 'bad-header', () => `data fails its CRC-32 check (the file is corrupt)`);
  return out;
}

/**
 * Inflates the entry into `out`, reading `chunkBytes` of compressed data at a time, until `out` is full or the
 * data ends; returns how many bytes were written. Output beyond the declared size is an error when `out` holds
 * the whole entry, and simply not needed when it holds a prefix.
 */
async function inflateInto(source: ByteSource, name: string, entry: ZipEntry, dataOffset: number, out: Uint8Array, chunkBytes: number): Promise<number> {
  const whole = out.length === entry.uncompressedSize;
  let filled = 0;
  const inflater = new Inflate((chunk) => {
    check(!whole || filled + chunk.length <= out.length, name, 'bad-header', () => `inflates to more than the ${out.length} bytes the zip directory declares`);
    const used = Math.min(chunk.length, out.length - filled);
    out.set(chunk.subarray(0, used), filled);
    filled += used;
  });
  for (let done = 0; done < entry.compressedSize && (whole || filled < out.length); ) {
    const length = Math.min(chunkBytes, entry.compressedSize - done);
    const chunk = await readBytes(source, dataOffset + done, length, `compressed data of zip entry ${quoteUntrusted(entry.name)}`);
    // In small pieces: fflate inflates all it is given at once, and a bomb's output is checked only between pieces.
    for (let piece = 0; piece < length && (whole || filled < out.length); piece += INFLATE_PIECE_BYTES) {
      const end = Math.min(length, piece + INFLATE_PIECE_BYTES);
      pushInflate(inflater, chunk.subarray(piece, end), done + end === entry.compressedSize, name);
    }
    done += length;
  }
  return filled;
}

function allocate(length: number, name: string): Uint8Array {
  try {
    return new Uint8Array(length);
  } catch {
    throw new InputError(name, 'unsupported-layout', `${length} bytes compressed in one zip entry are too many to inflate in memory; save with np.savez (uncompressed) so slices can be read directly`);
  }
}

function pushInflate(inflater: Inflate, chunk: Uint8Array, final: boolean, name: string): void {
  try {
    inflater.push(chunk, final);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(name, /EOF/i.test(describe(error)) ? 'truncated' : 'bad-header', `compressed data is corrupt (${describe(error)})`);
  }
}

let crcTable: Uint32Array | undefined;

const CRC_START = 0xffffffff;

/** CRC-32 (the zip polynomial 0xEDB88320) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  return finishCrc32(updateCrc32(CRC_START, bytes));
}

/** The running CRC after `bytes` (start from CRC_START, finish with finishCrc32). */
function updateCrc32(running: number, bytes: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = running;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc;
}

function finishCrc32(running: number): number {
  return (running ^ 0xffffffff) >>> 0;
}

function readUint64(view: DataView, pos: number, fileName: string): number {
  const value = view.getBigUint64(pos, true);
  check(value <= BigInt(Number.MAX_SAFE_INTEGER), fileName, 'bad-header', () => `zip64 field holds ${value}, larger than any real file`);
  return Number(value);
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
