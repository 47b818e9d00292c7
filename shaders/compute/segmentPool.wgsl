// Segment pooling: for every (row segment, column segment) pair, the mean and the max of the map over that block
// of frames. Segments are phones or words as frame ranges; they may overlap and may be empty.
//
// Concatenated after a load prefix (common/loadFloat32.wgsl or common/loadFloat16Packed.wgsl) and
// common/rectangleSums.wgsl. The prefix binds `attention` (group 0, binding 0): `maps` maps of rows x cols values
// each, row-major, back to back, map 0 starting at element params.elementOffset.
//
// Non-finite values (NaN, +-inf) are skipped: mean and max are over the finite values of the block only.
// A block with no finite value (an empty segment, or all values non-finite) gets NaN in both outputs.
// Detection looks at the exponent bits, since WGSL lets a compiler assume floats are finite.

// Threads per workgroup; one workgroup pools one block. Must be a power of two (tree reduction).
override WorkgroupSize: u32 = 64u;

struct Params {
  // Index of map 0's first value within `attention`, in elements.
  elementOffset: u32,
  // Rows per map (second-to-last axis).
  rows: u32,
  // Columns per map (last axis).
  cols: u32,
  // Number of row segments (output rows).
  rowSegmentCount: u32,
  // Number of column segments (output columns).
  colSegmentCount: u32,
}

@group(0) @binding(1) var<uniform> params: Params;
// Row segments: rowSegmentCount pairs (start, end), half-open [start, end) in row indices. Bounds past the map are
// clamped to it; end < start counts as empty.
@group(0) @binding(2) var<storage, read> rowSegments: array<vec2<u32>>;
// Column segments: colSegmentCount pairs (start, end), half-open [start, end) in column indices, clamped likewise.
@group(0) @binding(3) var<storage, read> colSegments: array<vec2<u32>>;
// Block means: maps x rowSegmentCount x colSegmentCount, row-major, f32 (written as bit patterns so NaN can be stored).
@group(0) @binding(4) var<storage, read_write> meanOutput: array<u32>;
// Block maxima, same layout as meanOutput.
@group(0) @binding(5) var<storage, read_write> maxOutput: array<u32>;

const NAN_BITS: u32 = 0x7fc00000u;

var<workgroup> partialSum: array<f32, WorkgroupSize>;
var<workgroup> partialCount: array<u32, WorkgroupSize>;
var<workgroup> partialMax: array<f32, WorkgroupSize>;

// Dispatch: colSegmentCount x rowSegmentCount x maps workgroups; workgroup (c, r, m) pools column segment c,
// row segment r of map m. Its threads walk the block's values in row-major order, WorkgroupSize apart, so that
// small blocks (1x1 frames) and large ones (100x100) both finish in a few steps, then reduce in workgroup memory.
@compute @workgroup_size(WorkgroupSize)
fn main(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let colSegment = workgroup.x;
  let rowSegment = workgroup.y;
  let map = workgroup.z;

  let rowRange = rowSegments[rowSegment];
  let colRange = colSegments[colSegment];
  let rowEnd = min(rowRange.y, params.rows);
  let rowStart = min(rowRange.x, rowEnd);
  let colEnd = min(colRange.y, params.cols);
  let colStart = min(colRange.x, colEnd);
  let count = (rowEnd - rowStart) * (colEnd - colStart);
  let mapStart = params.elementOffset + map * params.rows * params.cols;
  let sums = sumRectangle(mapStart, params.cols, rowStart, colStart, colEnd, count, lane, WorkgroupSize);
  let sum = sums.sum;
  let finiteCount = sums.finiteCount;
  let maximum = sums.maximum;
  partialSum[lane] = sum;
  partialCount[lane] = finiteCount;
  partialMax[lane] = maximum;
  workgroupBarrier();
  for (var stride = WorkgroupSize / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      partialSum[lane] += partialSum[lane + stride];
      partialCount[lane] += partialCount[lane + stride];
      partialMax[lane] = max(partialMax[lane], partialMax[lane + stride]);
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    let out = (map * params.rowSegmentCount + rowSegment) * params.colSegmentCount + colSegment;
    let total = partialCount[0];
    if (total == 0u) {
      meanOutput[out] = NAN_BITS;
      maxOutput[out] = NAN_BITS;
    } else {
      meanOutput[out] = bitcast<u32>(partialSum[0] / f32(total));
      maxOutput[out] = bitcast<u32>(partialMax[0]);
    }
  }
}
