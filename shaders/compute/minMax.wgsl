// MinMaxPass, step 1 of 2: smallest and largest finite value of a rectangular region of a map, and counts of the
// finite, NaN, +inf and -inf values in it. Non-finite values are counted and otherwise ignored, so one NaN cannot
// poison a colour scale. Concatenated after a load prefix and common/finite.wgsl. Step 2 is minMaxFinalize.wgsl.
//
// attention (binding 0, from the prefix): the map row-major [row][col], `cols` per row, from element elementOffset.
// Dispatch: any number of workgroups (folded into (x, y)); invocations stride over the region's values.
//
// The stats buffer is cleared to zero before this pass. f32 has no atomics, so min and max go through an
// order-preserving u32 key (negative floats have all bits flipped, positive ones the sign bit set) and atomicMax;
// the minimum is found as the atomicMax of the complemented key, so that zero is the neutral start for both.

// Invocations per workgroup.
override WorkgroupSize: u32 = 256u;

struct RegionParams {
  elementOffset: u32, // element index of the map's [0][0] in `attention`
  cols: u32, // values per map row, elements
  rowStart: u32, // first row of the region
  colStart: u32, // first column of the region
  regionRows: u32, // rows of the region
  regionCols: u32, // columns of the region
}

// Layout of the stats buffer, in 32-bit words (MAP_STATS_WORDS in src/compute/minMax.ts).
const STATS_MIN_KEY_COMPLEMENT: u32 = 0u; // max over values of ~orderKey(value)
const STATS_MAX_KEY: u32 = 1u; // max over values of orderKey(value)
const STATS_FINITE_COUNT: u32 = 2u;
const STATS_NAN_COUNT: u32 = 3u;
const STATS_POS_INF_COUNT: u32 = 4u;
const STATS_NEG_INF_COUNT: u32 = 5u;
// Words 6 and 7 (min and max as f32) are written by minMaxFinalize.wgsl.

// Region, see RegionParams.
@group(0) @binding(1) var<uniform> params: RegionParams;
// Stats: 8 words as laid out above; zero before the pass.
@group(0) @binding(2) var<storage, read_write> stats: array<atomic<u32>, 8>;

// The workgroup's max of ~orderKey(value) (its minimum, complemented).
var<workgroup> localMinKeyComplement: atomic<u32>;
// The workgroup's max of orderKey(value).
var<workgroup> localMaxKey: atomic<u32>;
// The workgroup's counts of finite, NaN, +inf and -inf values (indexed by classifyValue()).
var<workgroup> localCounts: array<atomic<u32>, 4>;

// A u32 that orders like the float: larger float, larger key.
fn orderKey(value: f32) -> u32 {
  let bits = bitcast<u32>(value);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

// Each invocation reduces its strided share in registers, then the workgroup in shared atomics, then one global
// atomic per quantity per workgroup.
@compute @workgroup_size(WorkgroupSize)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  if (localIndex == 0u) {
    atomicStore(&localMinKeyComplement, 0u);
    atomicStore(&localMaxKey, 0u);
    for (var k = 0u; k < 4u; k++) {
      atomicStore(&localCounts[k], 0u);
    }
  }
  workgroupBarrier();
  let workgroupIndex = workgroupId.x + workgroupId.y * workgroupCounts.x;
  let invocationCount = workgroupCounts.x * workgroupCounts.y * WorkgroupSize;
  let valueCount = params.regionRows * params.regionCols;
  var minKeyComplement = 0u;
  var maxKey = 0u;
  var counts = vec4<u32>(0u);
  // (row, col) in the region is carried from step to step instead of divided out of the index each time.
  let first = workgroupIndex * WorkgroupSize + localIndex;
  let stepRows = invocationCount / params.regionCols;
  let stepCols = invocationCount % params.regionCols;
  var row = first / params.regionCols;
  var col = first % params.regionCols;
  for (var index = first; index < valueCount; index += invocationCount) {
    let value = loadAttention(params.elementOffset + (params.rowStart + row) * params.cols + params.colStart + col);
    row += stepRows;
    col += stepCols;
    if (col >= params.regionCols) {
      col -= params.regionCols;
      row += 1u;
    }
    let valueClass = classifyValue(value);
    if (valueClass == VALUE_FINITE) {
      let key = orderKey(value);
      maxKey = max(maxKey, key);
      minKeyComplement = max(minKeyComplement, ~key);
    }
    counts[valueClass] += 1u;
  }
  atomicMax(&localMaxKey, maxKey);
  atomicMax(&localMinKeyComplement, minKeyComplement);
  for (var k = 0u; k < 4u; k++) {
    if (counts[k] != 0u) {
      atomicAdd(&localCounts[k], counts[k]);
    }
  }
  workgroupBarrier();
  if (localIndex == 0u) {
    atomicMax(&stats[STATS_MAX_KEY], atomicLoad(&localMaxKey));
    atomicMax(&stats[STATS_MIN_KEY_COMPLEMENT], atomicLoad(&localMinKeyComplement));
    for (var k = 0u; k < 4u; k++) {
      atomicAdd(&stats[STATS_FINITE_COUNT + k], atomicLoad(&localCounts[k]));
    }
  }
}
