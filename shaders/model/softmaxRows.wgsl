// SoftmaxRowsPass: softmax over each row of a rows x cols f32 matrix, in place: the attention probabilities that
// multiply V inside the encoder (the engine's own softmax views are separate: compute/softmax.wgsl).
// Scores inside a model are finite, so this kernel needs none of torch's non-finite rules.
// Dispatch: one workgroup per row, folded into (x, y) past maxComputeWorkgroupsPerDimension.

const WORKGROUP_SIZE: u32 = 64u;

struct SoftmaxRowsParams {
  rows: u32,
  cols: u32,
  offset: u32,
}

@group(0) @binding(0) var<storage, read_write> values: array<f32>;
@group(0) @binding(1) var<uniform> params: SoftmaxRowsParams;

var<workgroup> partials: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  let row = workgroupId.x + workgroupId.y * workgroupCounts.x;
  if (row >= params.rows) {
    return;
  }
  let base = params.offset + row * params.cols;
  var largest = -3.0e38;
  for (var col = localIndex; col < params.cols; col += WORKGROUP_SIZE) {
    largest = max(largest, values[base + col]);
  }
  partials[localIndex] = largest;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half >>= 1u) {
    if (localIndex < half) {
      partials[localIndex] = max(partials[localIndex], partials[localIndex + half]);
    }
    workgroupBarrier();
  }
  let rowMax = partials[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var col = localIndex; col < params.cols; col += WORKGROUP_SIZE) {
    sum += exp(values[base + col] - rowMax);
  }
  partials[localIndex] = sum;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half >>= 1u) {
    if (localIndex < half) {
      partials[localIndex] += partials[localIndex + half];
    }
    workgroupBarrier();
  }
  let inverseSum = 1.0 / partials[0];
  for (var col = localIndex; col < params.cols; col += WORKGROUP_SIZE) {
    values[base + col] = exp(values[base + col] - rowMax) * inverseSum;
  }
}
