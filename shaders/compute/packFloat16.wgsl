// float32 values -> float16 storage pairs packed two per u32 word (element 2k in the low half, 2k+1 in the high half,
// as common/loadFloat16Packed.wgsl reads them), so that the narrowing runs on the GPU: for uploads (not in JS) and for
// a model's scores written straight into a float16 chunk (src/gpu/packFloat16.ts). Rounding is done on the bits, bit for bit what float32ToFloat16Bits in src/data/float16.ts (and numpy's
// astype(np.float16)) gives: round to nearest even, overflow to Inf, underflow through subnormals to signed zero,
// NaN kept as a NaN with its top payload bits. pack2x16float is not used: WGSL leaves its result indeterminate for
// values outside the finite float16 range, and raw attention scores can be.
//
// Dispatch: ceil(pairs / WorkgroupSize) workgroups folded into (x, y); invocation i reads values inputOffset + 2i and
// inputOffset + 2i + 1 and writes word outputOffset + i.

override WorkgroupSize: u32 = 256u;

struct PackParams {
  pairs: u32, // words to write
  values: u32, // values to read (2 * pairs, or one less when the last word's high half is padding)
  inputOffset: u32, // in values
  outputOffset: u32, // in words
}

@group(0) @binding(0) var<storage, read> values: array<u32>;
@group(0) @binding(1) var<uniform> params: PackParams;
@group(0) @binding(2) var<storage, read_write> words: array<u32>;

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

@compute @workgroup_size(WorkgroupSize)
fn main(
  @builtin(global_invocation_id) id: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
) {
  let pair = id.x + id.y * workgroupCounts.x * WorkgroupSize;
  if (pair >= params.pairs) {
    return;
  }
  let first = params.inputOffset + 2u * pair;
  let low = float16Bits(values[first]);
  var high = 0u;
  if (2u * pair + 1u < params.values) {
    high = float16Bits(values[first + 1u]);
  }
  words[params.outputOffset + pair] = low | (high << 16u);
}
