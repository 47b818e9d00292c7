// NormalizePass: layer norm and group norm, (x - mean) / sqrt(var + eps) * gamma + beta, then an optional GELU.
// Concatenated after model/gelu.wgsl. One workgroup per group of values.
//
// Value e of group g is at input[g * groupStride + e * elementStride] (and the same index of the output), so a
// layer norm over each frame of a frames-first [T][C] tensor is groupStride C, elementStride 1, and wav2vec 2.0's
// group norm (one group per channel, over time) is groupStride 1, elementStride C, on the same layout.
// Mean and variance are found in two passes (the variance from centred values, as torch does), each summed per
// invocation and then reduced pairwise across the workgroup; variance is the biased one (divided by the count).
// Dispatch: groupCount workgroups, folded into (x, y) past maxComputeWorkgroupsPerDimension.

const WORKGROUP_SIZE: u32 = 64u;

const AFFINE_NONE: u32 = 0u;
const AFFINE_PER_ELEMENT: u32 = 1u; // layer norm: gamma[e], beta[e]
const AFFINE_PER_GROUP: u32 = 2u; // group norm with one channel per group: gamma[g], beta[g]

struct NormalizeParams {
  groupCount: u32,
  groupStride: u32,
  elementCount: u32,
  elementStride: u32,
  affine: u32,
  activation: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
@group(0) @binding(4) var<uniform> params: NormalizeParams;

var<workgroup> partials: array<f32, WORKGROUP_SIZE>;

// Sum of every invocation's `value`, by halving (pairwise); all invocations get the result.
fn workgroupSum(value: f32, localIndex: u32) -> f32 {
  partials[localIndex] = value;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half >>= 1u) {
    if (localIndex < half) {
      partials[localIndex] += partials[localIndex + half];
    }
    workgroupBarrier();
  }
  let total = partials[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  let group = workgroupId.x + workgroupId.y * workgroupCounts.x;
  // Uniform control flow: every invocation of a workgroup takes the same branch.
  if (group >= params.groupCount) {
    return;
  }
  let base = group * params.groupStride;
  let count = f32(params.elementCount);
  var sum = 0.0;
  for (var e = localIndex; e < params.elementCount; e += WORKGROUP_SIZE) {
    sum += input[base + e * params.elementStride];
  }
  let mean = workgroupSum(sum, localIndex) / count;
  var squares = 0.0;
  for (var e = localIndex; e < params.elementCount; e += WORKGROUP_SIZE) {
    let centred = input[base + e * params.elementStride] - mean;
    squares = fma(centred, centred, squares);
  }
  let inverseDeviation = inverseSqrt(workgroupSum(squares, localIndex) / count + params.eps);
  for (var e = localIndex; e < params.elementCount; e += WORKGROUP_SIZE) {
    let index = base + e * params.elementStride;
    var value = (input[index] - mean) * inverseDeviation;
    if (params.affine == AFFINE_PER_ELEMENT) {
      value = value * gamma[e] + beta[e];
    } else if (params.affine == AFFINE_PER_GROUP) {
      value = value * gamma[group] + beta[group];
    }
    output[index] = activate(value, params.activation);
  }
}
