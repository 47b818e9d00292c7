// Per-head statistics, step 2 of 2: the average of headStats.wgsl's row statistics over the valid rows of each map.
//
// Concatenated after common/loadFloat32.wgsl, which binds `attention` (group 0, binding 0): here the row statistics,
// maps x rows x 4 f32 (entropy in nats, distance in frames, near-diagonal share, valid 1 or 0), read with
// loadAttention().

// Threads per workgroup; one workgroup averages one map. Must be a power of two (tree reduction).
override WorkgroupSize: u32 = 64u;

struct Params {
  // Rows per map.
  rows: u32,
  // Index of the first output record, in maps: map m writes record firstOutputMap + m.
  firstOutputMap: u32,
  // Milliseconds per frame (samples per frame / 16 kHz * 1000), for the distance in ms.
  msPerFrame: f32,
}

@group(0) @binding(1) var<uniform> params: Params;
// Per map, 4 f32: mean entropy (nats), mean distance (frames), mean distance (ms), mean near-diagonal share.
// Written as bit patterns so that a map without a valid row can be NaN.
@group(0) @binding(2) var<storage, read_write> headStats: array<u32>;

const NAN_BITS: u32 = 0x7fc00000u;

// (Σ entropy, Σ distance, Σ near share, valid rows) per thread.
var<workgroup> partialSums: array<vec4<f32>, WorkgroupSize>;

// Dispatch: maps workgroups; workgroup m sums the rows of map m, its threads WorkgroupSize rows apart.
@compute @workgroup_size(WorkgroupSize)
fn main(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let map = workgroup.x;
  var sums = vec4<f32>(0.0);
  for (var row = lane; row < params.rows; row += WorkgroupSize) {
    let base = (map * params.rows + row) * 4u;
    // Invalid rows hold zeros, so they add nothing but their 0 valid flag.
    sums += vec4<f32>(loadAttention(base), loadAttention(base + 1u), loadAttention(base + 2u), loadAttention(base + 3u));
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
    let out = (params.firstOutputMap + map) * 4u;
    if (total.w == 0.0) {
      headStats[out] = NAN_BITS;
      headStats[out + 1u] = NAN_BITS;
      headStats[out + 2u] = NAN_BITS;
      headStats[out + 3u] = NAN_BITS;
    } else {
      let distance = total.y / total.w;
      headStats[out] = bitcast<u32>(total.x / total.w);
      headStats[out + 1u] = bitcast<u32>(distance);
      headStats[out + 2u] = bitcast<u32>(distance * params.msPerFrame);
      headStats[out + 3u] = bitcast<u32>(total.z / total.w);
    }
  }
}
