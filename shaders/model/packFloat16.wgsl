// PackFloat16Pass: f32 scores -> the engine's float16 storage, two values per u32 word (element 2k in the low half,
// 2k+1 in the high half; common/loadFloat16Packed.wgsl reads it back), so a model's scores can fill a float16 chunk
// without leaving the GPU. An odd count leaves the last high half 0, as packFloat16Pairs does.
// Dispatch: ceil(words / 256) workgroups, folded into (x, y) past maxComputeWorkgroupsPerDimension.

struct PackParams {
  count: u32, // f32 values to pack
  inputOffset: u32,
  outputOffset: u32, // in words
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@group(0) @binding(2) var<uniform> params: PackParams;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  let word = (workgroupId.x + workgroupId.y * workgroupCounts.x) * 256u + localIndex;
  let first = word * 2u;
  if (first >= params.count) {
    return;
  }
  let low = input[params.inputOffset + first];
  let high = select(0.0, input[params.inputOffset + first + 1u], first + 1u < params.count);
  output[params.outputOffset + word] = pack2x16float(vec2<f32>(low, high));
}
