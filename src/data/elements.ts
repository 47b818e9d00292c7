/**
 * Decoding stored attention values (float16, bfloat16, float32, float64; either byte order) into float32.
 * The engine works in float32 everywhere, so this is the only place that knows about stored element types.
 */
import { bfloat16BitsToFloat32, float16ToFloat32Table } from './float16.ts';
import type { StoredDType } from './tensor.ts';

/** Bytes per stored element. */
export const ELEMENT_BYTES: Readonly<Record<StoredDType, number>> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
};

/** How values are stored: the element type and the byte order. */
export interface ElementEncoding {
  readonly dtype: StoredDType;
  readonly littleEndian: boolean;
}

// Typed arrays use the platform's byte order; every platform a browser or Node runs on today is little-endian,
// but checking costs nothing and keeps the zero-copy path honest.
const PLATFORM_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes `bytes` (a whole number of elements) to float32.
 * Little-endian float32 bytes that start on a 4-byte boundary are returned as a zero-copy view on the same
 * ArrayBuffer: callers must treat the result as read-only, since writing to it would write to the bytes read.
 */
export function decodeElements(bytes: Uint8Array, encoding: ElementEncoding): Float32Array {
  const { dtype, littleEndian } = encoding;
  if (dtype === 'float32' && littleEndian === PLATFORM_LITTLE_ENDIAN) return float32View(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength / ELEMENT_BYTES[dtype];
  const out = new Float32Array(count);
  switch (dtype) {
    case 'float16': {
      const table = float16ToFloat32Table();
      for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, littleEndian)];
      break;
    }
    case 'bfloat16':
      for (let i = 0; i < count; i++) out[i] = bfloat16BitsToFloat32(view.getUint16(2 * i, littleEndian));
      break;
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, littleEndian);
      break;
    case 'float64':
      // Storing into a Float32Array rounds to nearest even, as numpy's astype(np.float32) does.
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, littleEndian);
      break;
  }
  return out;
}

/** Native-order float32 bytes as a Float32Array: a view when aligned, otherwise one copy. */
function float32View(bytes: Uint8Array): Float32Array {
  const count = bytes.byteLength / 4;
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  return new Float32Array(bytes.slice().buffer, 0, count);
}
