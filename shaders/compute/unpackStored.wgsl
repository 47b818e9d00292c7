// Upload of attention as the file stores it: the raw bytes of float16, bfloat16 or float32 values (little-endian, as
// read from the file into a staging buffer) -> the engine's storage format (float32, or float16 pairs as
// common/loadFloat16Packed.wgsl reads them), so that no element is decoded in JS.
//
// Everything is done on the bits, so the result is exact and the same on every adapter:
// - float16 -> float32 widens exactly (subnormals become normal float32s, Inf stays Inf, NaN keeps sign and payload),
//   like float16BitsToFloat32 in src/data/float16.ts. unpack2x16float is not used: WGSL lets an implementation flush
//   float16 subnormals and does not promise NaN payloads.
// - bfloat16 -> float32 is a shift: bfloat16 is the top half of a float32.
// - float32 or bfloat16 -> float16 rounds to nearest even (overflow to Inf, underflow through subnormals to signed
//   zero, NaN kept a NaN), bit for bit what float32ToFloat16Bits and numpy's astype(np.float16) give; the same
//   rounding as compute/packFloat16.wgsl.
//
// Dispatch: ceil(words / WorkgroupSize) workgroups folded into (x, y); invocation i writes output word i.

override WorkgroupSize: u32 = 256u;
// 0: float16, 1: bfloat16, 2: float32 (src/gpu/storedUpload.ts STORED_KIND).
override StoredKind: u32 = 0u;
// 0: float32 storage (one value per word), 1: float16 storage (two values per word, element 2k in the low half).
override StorageKind: u32 = 0u;

struct UnpackParams {
  words: u32, // output words to write
  values: u32, // values to read
}

@group(0) @binding(0) var<storage, read> stored: array<u32>;
@group(0) @binding(1) var<uniform> params: UnpackParams;
@group(0) @binding(2) var<storage, read_write> words: array<u32>;

// The float32 bits of the float16 whose bits are `half`.
fn widenFloat16(half: u32) -> u32 {
  let sign = (half & 0x8000u) << 16u;
  let exponent = (half >> 10u) & 0x1fu;
  let mantissa = half & 0x3ffu;
  if (exponent == 0x1fu) {
    return sign | 0x7f800000u | (mantissa << 13u);
  }
  if (exponent != 0u) {
    return sign | ((exponent + 112u) << 23u) | (mantissa << 13u);
  }
  if (mantissa == 0u) {
    return sign;
  }
  // Subnormal: mantissa * 2^-24 with its top set bit at position p (0..9) is 2^(p - 24) * 1.f.
  let top = 31u - countLeadingZeros(mantissa);
  return sign | ((top + 103u) << 23u) | ((mantissa << (23u - top)) & 0x7fffffu);
}

// The float32 bits of stored value `index`.
fn storedBits(index: u32) -> u32 {
  if (StoredKind == 2u) {
    return stored[index];
  }
  let word = stored[index >> 1u];
  let half = select(word & 0xffffu, word >> 16u, (index & 1u) == 1u);
  if (StoredKind == 1u) {
    return half << 16u;
  }
  return widenFloat16(half);
}

// float16Bits: common/float16Bits.wgsl, prepended.

@compute @workgroup_size(WorkgroupSize)
fn main(
  @builtin(global_invocation_id) id: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
) {
  let word = id.x + id.y * workgroupCounts.x * WorkgroupSize;
  if (word >= params.words) {
    return;
  }
  if (StorageKind == 0u) {
    words[word] = storedBits(word);
    return;
  }
  // float16 pairs; a float16 file never gets here (its bytes are the storage words already).
  let low = float16Bits(storedBits(2u * word));
  var high = 0u;
  if (2u * word + 1u < params.values) {
    high = float16Bits(storedBits(2u * word + 1u));
  }
  words[word] = low | (high << 16u);
}
