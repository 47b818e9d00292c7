// DifferencePass: output = minuend - subtrahend, element by element, for two maps of the same size (head vs head,
// layer vs layer, tensor vs tensor). Concatenated after a load prefix and common/finite.wgsl; the minuend is read
// through loadAttention, so it can be a stored map (either format) or an f32 intermediate (float32 prefix).
// Non-finite values follow IEEE 754 (computed by ieeeAdd whatever the compiler assumes): NaN in either map gives NaN,
// inf - inf of the same sign gives NaN, otherwise an infinity wins.
//
// attention (binding 0, from the prefix): the minuend, `count` values from element minuendOffset.
// Dispatch: ceil(count / WorkgroupSize) workgroups folded into (x, y) when above 65535.

// Invocations per workgroup.
override WorkgroupSize: u32 = 256u;

struct DifferenceParams {
  minuendOffset: u32, // element index of the minuend's first value in `attention`
  subtrahendOffset: u32, // element index of the subtrahend's first value in `subtrahend`
  count: u32, // values in each map
}

// Parameters, see DifferenceParams.
@group(0) @binding(1) var<uniform> params: DifferenceParams;
// Subtrahend: f32 bit patterns, the same layout as the minuend.
@group(0) @binding(2) var<storage, read> subtrahend: array<u32>;
// Output: f32 bit patterns, `count` values, the same layout as the inputs.
@group(0) @binding(3) var<storage, read_write> output: array<u32>;

// One invocation per value.
@compute @workgroup_size(WorkgroupSize)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  let index = (workgroupId.x + workgroupId.y * workgroupCounts.x) * WorkgroupSize + localIndex;
  if (index >= params.count) {
    return;
  }
  let minuend = loadAttention(params.minuendOffset + index);
  let negated = bitcast<f32>(subtrahend[params.subtrahendOffset + index] ^ 0x80000000u);
  output[index] = bitcast<u32>(ieeeAdd(minuend, negated));
}
