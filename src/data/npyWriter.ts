/**
 * Writes float32 arrays as .npy files that numpy.load reads: format version 1.0, descr '<f4', C order.
 * Version 1.0 is the one every numpy since 1.0 reads; its header (a Python dict literal) is padded with spaces and
 * a newline so the data starts on a 64-byte boundary, as numpy itself writes it.
 */
import { NPY_MAGIC } from './npy.ts';

/** Alignment of the data start that numpy's own writer uses (and memory-mapping readers appreciate). */
const NPY_ALIGNMENT = 64;

/** The Python dict literal of a little-endian float32 C-order array of `shape`. */
function npyHeaderText(shape: readonly number[]): string {
  // A one-element tuple needs its trailing comma: (5,) is a tuple, (5) is an int.
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }`;
}

/**
 * The preamble and header of a .npy file of little-endian float32 values with `shape`: the data (product(shape) x 4
 * bytes, see float32LittleEndian) follows it. Streaming writers send this, then the values a piece at a time, so a
 * file of any size (past 4 GiB too) never exists in memory whole. Throws a RangeError for a dimension that is not a
 * non-negative integer.
 */
export function encodeNpyHeader(shape: readonly number[]): Uint8Array {
  if (!shape.every((size) => Number.isSafeInteger(size) && size >= 0)) throw new RangeError(`encodeNpy: bad shape (${shape.join(', ')})`);
  const preamble = NPY_MAGIC.length + 2 + 2; // magic, version 1.0, uint16 header length
  const text = npyHeaderText(shape);
  const padded = Math.ceil((preamble + text.length + 1) / NPY_ALIGNMENT) * NPY_ALIGNMENT - preamble;
  const header = text.padEnd(padded - 1, ' ') + '\n';
  const bytes = new Uint8Array(preamble + header.length);
  bytes.set(NPY_MAGIC, 0);
  bytes[6] = 1;
  bytes[7] = 0;
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[preamble + i] = header.charCodeAt(i);
  return bytes;
}

/** The bytes of `values` as little-endian float32, whatever the machine's byte order (a view when it is little-endian). */
export function float32LittleEndian(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return bytes;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * The bytes of a .npy file holding `values` with `shape` (row-major). Throws a RangeError when the shape's product
 * is not the number of values, or a dimension is not a non-negative integer.
 */
export function encodeNpy(values: Float32Array, shape: readonly number[]): Uint8Array {
  const header = encodeNpyHeader(shape);
  const count = shape.reduce((product, size) => product * size, 1);
  if (count !== values.length) throw new RangeError(`encodeNpy: shape (${shape.join(', ')}) holds ${count} values, got ${values.length}`);
  const bytes = new Uint8Array(header.length + values.length * 4);
  bytes.set(header, 0);
  bytes.set(float32LittleEndian(values), header.length);
  return bytes;
}
