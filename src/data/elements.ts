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

/** Whether values so stored are float32 in this machine's byte order: their bytes are a Float32Array's as they are. */
export function isNativeFloat32(encoding: ElementEncoding): boolean {
  return encoding.dtype === 'float32' && encoding.littleEndian === PLATFORM_LITTLE_ENDIAN;
}

/**
 * Decodes `bytes` (a whole number of elements) to float32.
 * Little-endian float32 bytes that start on a 4-byte boundary are returned as a zero-copy view on the same
 * ArrayBuffer: callers must treat the result as read-only, since writing to it would write to the bytes read.
 */
export function decodeElements(bytes: Uint8Array, encoding: ElementEncoding): Float32Array {
  const { dtype, littleEndian } = encoding;
  const native = littleEndian === PLATFORM_LITTLE_ENDIAN;
  if (isNativeFloat32(encoding)) return float32View(bytes);
  const count = bytes.byteLength / ELEMENT_BYTES[dtype];
  // Aligned native-order data is read through a typed-array view (several times faster than a DataView).
  if (native && bytes.byteOffset % ELEMENT_BYTES[dtype] === 0) return decodeNative(bytes, dtype, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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

/** Decodes aligned, native-order float16, bfloat16 or float64 data through typed-array views. */
function decodeNative(bytes: Uint8Array, dtype: StoredDType, count: number): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'float64') {
    out.set(new Float64Array(bytes.buffer, bytes.byteOffset, count)); // rounds to nearest even
  } else if (dtype === 'float16') {
    const table = float16ToFloat32Table();
    const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    for (let i = 0; i < count; i++) out[i] = table[halves[i]];
  } else if (dtype === 'bfloat16') {
    // bfloat16 is the top half of a float32: widen the bits in place of the values.
    const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    const words = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) words[i] = halves[i] << 16;
  } else {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset, count));
  }
  return out;
}

/** Native-order float32 bytes as a Float32Array: a view when aligned, otherwise one copy. */
function float32View(bytes: Uint8Array): Float32Array {
  const count = bytes.byteLength / 4;
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  return new Float32Array(bytes.slice().buffer, 0, count);
}
