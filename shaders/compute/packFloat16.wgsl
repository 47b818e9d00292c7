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

// float16Bits: common/float16Bits.wgsl, prepended.

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
