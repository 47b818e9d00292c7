/**
 * Exact conversions between IEEE half precision (float16), bfloat16 and float32.
 *
 * Node 20 and most browsers have no Float16Array yet, so we convert bit patterns ourselves.
 * Every float16 and bfloat16 value is exactly representable as a float32, so widening is exact; narrowing to
 * float16 rounds to nearest, ties to even, like numpy's astype(np.float16) and the GPU's pack2x16float.
 */

// One shared scratch word lets us move between a float32 and its bits without a DataView per value.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Bits of the float32 `x` (after rounding x to float32). */
function float32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0];
}

/** The float32 whose bits are `bits`. */
function float32FromBits(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0];
}

/** Widens float16 bits to float32, exactly: subnormals become normal float32s, Inf stays Inf, NaN keeps its payload. */
export function float16BitsToFloat32(bits: number): number {
  const sign = (bits & 0x8000) << 16;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) return float32FromBits(sign | 0x7f800000 | (mantissa << 13));
  if (exponent !== 0) return float32FromBits(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Subnormal (or zero): mantissa * 2^-24 is exact in float32; the sign is applied separately to keep -0.
  const magnitude = mantissa * 2 ** -24;
  return sign ? -magnitude : magnitude;
}

/**
 * Narrows a number to float16 bits: first to float32 (as a Float32Array store would), then to float16 with
 * round-to-nearest-even, overflow to Inf, underflow through subnormals to signed zero, NaN to NaN; bit-for-bit what numpy's astype(np.float16) gives.
 */
export function float32ToFloat16Bits(x: number): number {
  const bits = float32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  // Inf stays Inf; NaN keeps the top 10 payload bits, forced non-zero so it stays a NaN (numpy does the same).
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? mantissa >>> 13 || 1 : 0);
  const halfExponent = exponent - 112; // rebias 127 -> 15
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) return sign | roundSubnormal(mantissa | 0x800000, 14 - halfExponent);
  // Rounding may carry into the exponent; a carry out of exponent 30 correctly yields Inf (0x7c00).
  return sign | roundShift((halfExponent << 23) | mantissa, 13);
}

/** float16 subnormal from a 24-bit significand: significand / 2^shift, rounded to nearest even. */
function roundSubnormal(significand: number, shift: number): number {
  // Below half of the smallest subnormal (2^-25) everything rounds to zero.
  return shift > 24 ? 0 : roundShift(significand, shift);
}

/** value >>> shift, rounded to nearest, ties to even. */
function roundShift(value: number, shift: number): number {
  const quotient = value >>> shift;
  const remainder = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return remainder > half || (remainder === half && (quotient & 1) === 1) ? quotient + 1 : quotient;
}

/** Widens bfloat16 bits to float32: bfloat16 is the top half of a float32, so this is exact. */
export function bfloat16BitsToFloat32(bits: number): number {
  return float32FromBits((bits & 0xffff) << 16);
}

// Decoding a 1500 x 1500 map value by value is the hot path for float16 files: a 64 Ki-entry table (256 KB,
// built on first use) turns each conversion into one indexed load.
let float16Table: Float32Array | undefined;

/** Float32 value of every float16 bit pattern. */
export function float16ToFloat32Table(): Float32Array {
  if (!float16Table) {
    float16Table = new Float32Array(0x10000);
    for (let bits = 0; bits < 0x10000; bits++) float16Table[bits] = float16BitsToFloat32(bits);
  }
  return float16Table;
}

/**
 * Packs float32 values as float16, two per 32-bit word: element 2k in the low 16 bits of word k, element 2k+1 in
 * the high 16 bits (WGSL's unpack2x16float order). An odd count leaves the last word's high half zero.
 */
export function packFloat16Pairs(values: Float32Array): Uint32Array {
  const packed = new Uint32Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i += 2) {
    const low = float32ToFloat16Bits(values[i]);
    const high = i + 1 < values.length ? float32ToFloat16Bits(values[i + 1]) : 0;
    packed[i >>> 1] = (low | (high << 16)) >>> 0;
  }
  return packed;
}
