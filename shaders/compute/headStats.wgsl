// Per-head statistics, step 1 of 2: statistics of every row of every map. headStatsReduce.wgsl averages them per map.
//
// Rows index i (second-to-last axis), columns j (last axis, the softmax axis): each row is a distribution over
// columns, p_ij = a_ij / Σ_j a_ij. For row i:
//   entropy            H_i = -Σ_j p_ij ln p_ij                       (nats)
//   distance           D_i = Σ_j p_ij |i - j|                        (frames)
//   near-diagonal mass N_i = Σ_{|i - j| <= nearFrames} p_ij           (share, 0..1)
// computed in one sweep from the raw sums s = Σ a, Σ a ln a, Σ a |i - j|, Σ_near a:
//   H_i = ln s - (Σ a ln a) / s,  D_i = (Σ a |i - j|) / s,  N_i = (Σ_near a) / s.
//
// Concatenated after common/loadFloat32.wgsl or common/loadFloat16Packed.wgsl, which bind `attention`
// (group 0, binding 0): `maps` maps of rows x cols values, row-major, back to back, map 0 at element
// params.elementOffset. The maps should be softmax output (or any non-negative weights): a raw map must be
// softmaxed first.
//
// Values that are negative or non-finite (NaN, +-inf) count as 0. A row whose remaining mass is 0 (or overflows)
// is marked invalid and left out of the average.

// Threads per workgroup; one workgroup handles one row. Must be a power of two (tree reduction).
override WorkgroupSize: u32 = 64u;

struct Params {
  // Index of map 0's first value within `attention`, in elements.
  elementOffset: u32,
  // Rows per map.
  rows: u32,
  // Columns per map.
  cols: u32,
  // Half-width w of the diagonal band, in frames: |i - j| <= w counts as near.
  nearFrames: u32,
}

@group(0) @binding(1) var<uniform> params: Params;
// Per-row statistics: maps x rows vec4 (entropy in nats, distance in frames, near-diagonal share, valid 1 or 0).
@group(0) @binding(2) var<storage, read_write> rowStats: array<vec4<f32>>;

// (Σ a, Σ a ln a, Σ a |i - j|, Σ_near a) per thread.
var<workgroup> partialSums: array<vec4<f32>, WorkgroupSize>;

fn isFiniteValue(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// Dispatch: rows x maps workgroups; workgroup (i, m) sweeps row i of map m, its threads WorkgroupSize columns apart.
@compute @workgroup_size(WorkgroupSize)
fn main(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row = workgroup.x;
  let map = workgroup.y;
  let rowStart = params.elementOffset + (map * params.rows + row) * params.cols;
  var sums = vec4<f32>(0.0);
  for (var col = lane; col < params.cols; col += WorkgroupSize) {
    let value = loadAttention(rowStart + col);
    if (isFiniteValue(value) && value > 0.0) {
      let distance = f32(max(row, col) - min(row, col));
      let near = select(0.0, value, max(row, col) - min(row, col) <= params.nearFrames);
      sums += vec4<f32>(value, value * log(value), value * distance, near);
    }
  }
  partialSums[lane] = sums;
  workgroupBarrier();
  for (var stride = WorkgroupSize / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      partialSums[lane] += partialSums[lane + stride];
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    let total = partialSums[0];
    let mass = total.x;
    var stats = vec4<f32>(0.0);
    if (mass > 0.0 && isFiniteValue(mass)) {
      // Rounding can push a one-hot row's entropy a hair below 0.
      stats = vec4<f32>(max(log(mass) - total.y / mass, 0.0), total.z / mass, total.w / mass, 1.0);
    }
    rowStats[map * params.rows + row] = stats;
  }
}
