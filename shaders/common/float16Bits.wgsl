// float32 bits -> float16 bits, rounded on the bits: bit for bit what float32ToFloat16Bits in src/data/float16.ts (and
// numpy's astype(np.float16)) gives: round to nearest even, overflow to Inf, underflow through subnormals to signed
// zero, NaN kept as a NaN with its top payload bits. Shared by compute/packFloat16.wgsl and compute/unpackStored.wgsl.

// The float16 bits of the float32 whose bits are `bits`.
fn float16Bits(bits: u32) -> u32 {
  let sign = (bits >> 16u) & 0x8000u;
  let exponent = (bits >> 23u) & 0xffu;
  let mantissa = bits & 0x7fffffu;
  if (exponent == 0xffu) {
    if (mantissa == 0u) {
      return sign | 0x7c00u;
    }
    return sign | 0x7c00u | max(mantissa >> 13u, 1u);
  }
  // Rebias 127 -> 15, in i32 so that small exponents go negative.
  let halfExponent = i32(exponent) - 112;
  if (halfExponent >= 31) {
    return sign | 0x7c00u;
  }
  if (halfExponent <= 0) {
    let shift = u32(14 - halfExponent);
    if (shift > 24u) {
      return sign;
    }
    return sign | roundShift(mantissa | 0x800000u, shift);
  }
  // A carry out of the mantissa moves into the exponent; out of exponent 30 it gives Inf (0x7c00), as it should.
  return sign | roundShift((u32(halfExponent) << 23u) | mantissa, 13u);
}

// value >> shift, rounded to nearest, ties to even (1 <= shift <= 24).
fn roundShift(value: u32, shift: u32) -> u32 {
  let quotient = value >> shift;
  let remainder = value & ((1u << shift) - 1u);
  let half = 1u << (shift - 1u);
  if (remainder > half || (remainder == half && (quotient & 1u) == 1u)) {
    return quotient + 1u;
  }
  return quotient;
}
