// Storage format prefix: attention stored as float32, one value per u32 word.
// Every kernel that reads attention binds it as `attention: array<u32>` (group 0, binding 0) and calls
// loadAttention(elementIndex); the pass concatenates this file or loadFloat16Packed.wgsl in front of the kernel,
// so one kernel source serves both storage formats.
@group(0) @binding(0) var<storage, read> attention: array<u32>;

fn loadAttention(elementIndex: u32) -> f32 {
  return bitcast<f32>(attention[elementIndex]);
}
