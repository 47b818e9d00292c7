// ElementwisePass: output[i] = activate(input[i] * scale + addend[addendOffset + i % addendPeriod]), the addend
// only when hasAddend is 1. Concatenated after model/gelu.wgsl. Used for Whisper's embed_positions (a period of
// frames x width), a standalone GELU and scaling.
// Dispatch: ceil(count / 256) workgroups, folded into (x, y) past maxComputeWorkgroupsPerDimension.

struct ElementwiseParams {
  count: u32,
  hasAddend: u32,
  addendOffset: u32,
  addendPeriod: u32,
  activation: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read> addend: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<uniform> params: ElementwiseParams;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  let index = (workgroupId.x + workgroupId.y * workgroupCounts.x) * 256u + localIndex;
  if (index >= params.count) {
    return;
  }
  var value = input[index] * params.scale;
  if (params.hasAddend == 1u) {
    value += addend[params.addendOffset + index % params.addendPeriod];
  }
  output[index] = activate(value, params.activation);
}
