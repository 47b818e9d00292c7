// Storage format prefix: attention stored as float16, two values packed per u32 word (element 2k in the low
// half, 2k+1 in the high half), which works on every adapter, with or without the shader-f16 feature.
// See loadFloat32.wgsl for the contract.
@group(0) @binding(0) var<storage, read> attention: array<u32>;

fn loadAttention(elementIndex: u32) -> f32 {
  let pair = unpack2x16float(attention[elementIndex >> 1u]);
  return select(pair.x, pair.y, (elementIndex & 1u) == 1u);
}
