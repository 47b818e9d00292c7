/**
 * numpy .npy files (format versions 1.0, 2.0 and 3.0), as written by np.save.
 *
 * Layout: "\x93NUMPY", major, minor, header length (uint16 LE for 1.0, uint32 LE for 2.0/3.0), then a Python
 * dict literal (latin-1 for 1.0/2.0, UTF-8 for 3.0) padded so the data starts on a 64-byte boundary, then the
 * values. We read the header first, check it against the file size, and then read one slice at a time.
 */
import type { ByteSource } from './byteSource.ts';
import { elementCount, formatShape, normaliseShape } from './attentionLayout.ts';
import { makeDenseAttentionSource } from './denseAttention.ts';
import { ELEMENT_BYTES, decodeElements, type ElementEncoding } from './elements.ts';
import { InputError, check } from './inputError.ts';
import { parsePythonLiteral, type PyValue } from './pythonLiteral.ts';
import { readBytes } from './safeRead.ts';
import type { AttentionMetadata, AttentionSource, StoredDType } from './tensor.ts';
import { listUntrusted, quoteUntrusted } from './untrustedText.ts';

/** The first bytes of every .npy file. */
export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY

// numpy's own reader refuses headers over 10 000 bytes by default; we allow far more, but a corrupt length
// field must not make us read (and decode) megabytes of "header".
const MAX_HEADER_BYTES = 1 << 20;

/** The parsed header of a .npy file. */
export interface NpyHeader {
  /** Format version, e.g. [1, 0]. */
  readonly version: readonly [number, number];
  /** numpy's type string as written, e.g. '<f4'. */
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** Byte offset of the first value: magic, version, length field and header. */
  readonly dataOffset: number;
}

/** What a descr like '<f4' or '<U12' means. */
export interface NpyElementType {
  /** numpy's kind letter class: float, signed/unsigned integer, bool, unicode (UTF-32) or bytes. */
  readonly kind: 'float' | 'int' | 'uint' | 'bool' | 'unicode' | 'bytes';
  /** Bytes per element. */
  readonly itemSize: number;
  /** Byte order; '=' (native) and '|' (not applicable) count as little-endian. */
  readonly littleEndian: boolean;
}

/** A .npy header whose data size has been checked against the bytes available. */
export interface NpyArrayInfo {
  readonly header: NpyHeader;
  readonly element: NpyElementType;
  /** Bytes of data the header declares: element count x item size. */
  readonly dataBytes: number;
}

/**
 * Size of the preamble plus header (= the data offset), from the file's first 12 bytes (fewer is fine for
 * version 1.0: 10). Throws InputError for a wrong magic, an unknown version or a header over 1 MiB.
 */
export function npyHeaderEnd(prefix: Uint8Array, fileName: string): number {
  check(prefix.length >= 6 && NPY_MAGIC.every((b, i) => prefix[i] === b), fileName, 'bad-header', () => `not a .npy file: expected the magic bytes \\x93NUMPY, found ${describeBytes(prefix.subarray(0, 6))}`);
  check(prefix.length >= 8, fileName, 'truncated', () => `file ends inside the .npy preamble (${prefix.length} bytes)`);
  const [major, minor] = [prefix[6], prefix[7]];
  check([1, 2, 3].includes(major) && minor === 0, fileName, 'bad-header', () => `unsupported .npy format version ${major}.${minor}; expected 1.0, 2.0 or 3.0`);
  const lengthBytes = major === 1 ? 2 : 4;
  check(prefix.length >= 8 + lengthBytes, fileName, 'truncated', () => `file ends inside the .npy preamble (${prefix.length} bytes)`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  check(headerLength <= MAX_HEADER_BYTES, fileName, 'bad-header', () => `.npy header claims ${headerLength} bytes; expected at most ${MAX_HEADER_BYTES}`);
  return 8 + lengthBytes + headerLength;
}

/**
 * Parses a .npy header from `bytes`, which must hold at least the preamble and the whole header (the data may
 * follow). Pure: checks only the header itself, not the data size (see readNpyArrayInfo).
 */
export function parseNpyHeader(bytes: Uint8Array, fileName: string): NpyHeader {
  const dataOffset = npyHeaderEnd(bytes, fileName);
  check(bytes.length >= dataOffset, fileName, 'truncated', () => `file ends inside the .npy header: the header needs ${dataOffset} bytes, the file has ${bytes.length}`);
  const major = bytes[6];
  const text = decodeHeaderText(bytes.subarray(major === 1 ? 10 : 12, dataOffset), major === 3, fileName);
  const dict = parsePythonLiteral(text, fileName);
  check(dict instanceof Map, fileName, 'bad-header', () => `.npy header is not a dict: ${JSON.stringify(text.slice(0, 60))}`);
  const keys = [...dict.keys()].sort();
  check(keys.join(', ') === 'descr, fortran_order, shape', fileName, 'bad-header', () => `.npy header must have exactly the keys descr, fortran_order, shape; found ${listUntrusted(keys) || 'none'}`);
  return {
    version: [major, 0],
    descr: headerDescr(dict.get('descr'), fileName),
    fortranOrder: headerBoolean(dict.get('fortran_order'), fileName),
    shape: headerShape(dict.get('shape'), fileName),
    dataOffset,
  };
}

function decodeHeaderText(bytes: Uint8Array, utf8: boolean, fileName: string): string {
  if (!utf8) return Array.from(bytes, (b) => String.fromCharCode(b)).join(''); // latin-1: byte = code point
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(fileName, 'bad-header', '.npy version 3.0 header is not valid UTF-8');
  }
}

function headerDescr(value: PyValue | undefined, fileName: string): string {
  // Structured dtypes have a list of fields as descr: not an attention tensor.
  check(typeof value === 'string', fileName, 'unsupported-dtype', () => `.npy dtype is a structured (record) dtype; expected a float array ('<f2', '<f4' or '<f8')`);
  return value;
}

function headerBoolean(value: PyValue | undefined, fileName: string): boolean {
  check(typeof value === 'boolean', fileName, 'bad-header', () => `.npy header's fortran_order is not True or False`);
  return value;
}

function headerShape(value: PyValue | undefined, fileName: string): number[] {
  check(
    Array.isArray(value) && value.every((d) => typeof d === 'number'),
    fileName,
    'bad-header',
    () => `.npy header's shape is not a tuple of integers`,
  );
  const dims = value as number[];
  elementCount(dims, fileName); // integer, non-negative, countable
  return dims;
}

const KINDS: Readonly<Record<string, NpyElementType['kind']>> = { f: 'float', i: 'int', u: 'uint', b: 'bool', U: 'unicode', S: 'bytes' };

/** Interprets a numpy type string ('<f4', '>f2', '=f8', '<i8', '<U12', '|S5', ...), or throws unsupported-dtype. */
export function parseNpyDescr(descr: string, fileName: string): NpyElementType {
  const match = /^([<>=|])([a-zA-Z])(\d{1,6})$/.exec(descr);
  const kind = match ? KINDS[match[2]] : undefined;
  check(match && kind, fileName, 'unsupported-dtype', () => `unsupported dtype ${quoteUntrusted(descr)}; expected float16, float32 or float64 ('<f2', '<f4', '<f8' or big-endian '>f2', '>f4', '>f8')`);
  const count = Number(match[3]);
  return { kind, itemSize: kind === 'unicode' ? 4 * count : count, littleEndian: match[1] !== '>' };
}

const FLOAT_DTYPES: Readonly<Record<number, StoredDType>> = { 2: 'float16', 4: 'float32', 8: 'float64' };

/** The encoding of attention values: a float dtype in C order, or InputError saying what to do instead. */
export function npyAttentionEncoding(info: NpyArrayInfo, fileName: string): ElementEncoding {
  const { element, header } = info;
  const dtype = element.kind === 'float' ? FLOAT_DTYPES[element.itemSize] : undefined;
  check(dtype, fileName, 'unsupported-dtype', () => `unsupported dtype ${quoteUntrusted(header.descr)} (${dtypeName(element)}); attention must be float16, float32 or float64 ('<f2', '<f4', '<f8', or '>f2', '>f4', '>f8')`);
  check(
    !header.fortranOrder,
    fileName,
    'unsupported-layout',
    () => `array of shape ${formatShape(header.shape)} is stored in Fortran (column-major) order; save it in C order with np.save(path, np.ascontiguousarray(attention))`,
  );
  return { dtype, littleEndian: element.littleEndian };
}

function dtypeName(element: NpyElementType): string {
  const bits = 8 * element.itemSize;
  switch (element.kind) {
    case 'float':
      return `float${bits}`;
    case 'int':
      return `int${bits}`;
    case 'uint':
      return `uint${bits}`;
    case 'bool':
      return 'bool';
    case 'unicode':
      return 'unicode string';
    case 'bytes':
      return 'byte string';
  }
}

/**
 * Reads and checks a .npy header: parses it and verifies that the file holds all the data it declares
 * (before anything is allocated for that data). Reads only the preamble and the header.
 */
export async function readNpyArrayInfo(source: ByteSource): Promise<NpyArrayInfo> {
  const prefix = await readBytes(source, 0, Math.min(12, source.byteLength), '.npy preamble');
  const headerEnd = npyHeaderEnd(prefix, source.name);
  check(headerEnd <= source.byteLength, source.name, 'truncated', () => `file ends inside the .npy header: the header needs ${headerEnd} bytes, the file has ${source.byteLength}`);
  const header = parseNpyHeader(await readBytes(source, 0, headerEnd, '.npy header'), source.name);
  const element = parseNpyDescr(header.descr, source.name);
  const dataBytes = elementCount(header.shape, source.name) * element.itemSize;
  const available = source.byteLength - header.dataOffset;
  check(
    Number.isSafeInteger(dataBytes) && dataBytes <= available,
    source.name,
    'truncated',
    () => `header declares ${dataBytes} bytes of data (shape ${formatShape(header.shape)}, dtype ${quoteUntrusted(header.descr)}) but the file has ${available} after the header`,
  );
  return { header, element, dataBytes };
}

/**
 * Opens a .npy attention tensor. Reads only the header now; readHead/readLayer each read one slice later.
 * `metadata` lets a container (.npz) attach what it found beside the array.
 */
export async function openNpy(source: ByteSource, metadata: AttentionMetadata = {}): Promise<AttentionSource> {
  const info = await readNpyArrayInfo(source);
  const encoding = npyAttentionEncoding(info, source.name);
  const shape = normaliseShape(info.header.shape, source.name);
  const layerBytes = shape.heads * shape.rows * shape.cols * ELEMENT_BYTES[encoding.dtype];
  return makeDenseAttentionSource({
    fileName: source.name,
    shape,
    encoding,
    metadata,
    locateLayer: (layer) => ({ source, offset: info.header.dataOffset + layer * layerBytes }),
  });
}

// Side arrays (spf, sample_rate, model) are scalars; anything bigger than this is not a side array.
const MAX_SCALAR_BYTES = 1 << 16;

/**
 * Reads a one-element .npy array (a numpy scalar saved with np.savez: spf=320.0, model='whisper-tiny') as a
 * number or string. Throws InputError for more than one element or a dtype that is neither numeric nor text.
 */
export async function readNpyScalar(source: ByteSource): Promise<number | string> {
  const info = await readNpyArrayInfo(source);
  const { header, element } = info;
  check(
    elementCount(header.shape, source.name) === 1 && info.dataBytes <= MAX_SCALAR_BYTES,
    source.name,
    'bad-header',
    () => `expected a single value, found an array of shape ${formatShape(header.shape)}`,
  );
  const bytes = await readBytes(source, header.dataOffset, info.dataBytes, 'scalar value');
  return decodeScalar(bytes, element, header.descr, source.name);
}

function decodeScalar(bytes: Uint8Array, element: NpyElementType, descr: string, fileName: string): number | string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { kind, itemSize, littleEndian } = element;
  if (kind === 'unicode') {
    const codes = Array.from({ length: itemSize / 4 }, (_, i) => view.getUint32(4 * i, littleEndian)).filter((c) => c !== 0);
    check(codes.every((c) => c <= 0x10ffff), fileName, 'bad-header', () => `string value is not valid UTF-32`);
    return String.fromCodePoint(...codes);
  }
  if (kind === 'bytes') return new TextDecoder().decode(bytes).replace(/\0+$/, '');
  if (kind === 'bool' && itemSize === 1) return bytes[0];
  // float64 is read directly: decodeElements would round it to float32.
  if (kind === 'float' && itemSize === 8) return view.getFloat64(0, littleEndian);
  if (kind === 'float' && itemSize in FLOAT_DTYPES) return decodeElements(bytes.slice(), { dtype: FLOAT_DTYPES[itemSize], littleEndian })[0];
  if ((kind === 'int' || kind === 'uint') && [1, 2, 4, 8].includes(itemSize)) return readInteger(view, kind === 'int', itemSize, littleEndian);
  throw new InputError(fileName, 'unsupported-dtype', `unsupported dtype ${quoteUntrusted(descr)} for a single value; expected a number or a string`);
}

function readInteger(view: DataView, signed: boolean, itemSize: number, littleEndian: boolean): number {
  switch (itemSize) {
    case 1:
      return signed ? view.getInt8(0) : view.getUint8(0);
    case 2:
      return signed ? view.getInt16(0, littleEndian) : view.getUint16(0, littleEndian);
    case 4:
      return signed ? view.getInt32(0, littleEndian) : view.getUint32(0, littleEndian);
    default:
      return Number(signed ? view.getBigInt64(0, littleEndian) : view.getBigUint64(0, littleEndian));
  }
}

function describeBytes(bytes: Uint8Array): string {
  return bytes.length === 0 ? 'an empty file' : Array.from(bytes, (b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
}
