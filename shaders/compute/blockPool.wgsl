// Block pooling: the mean and the max of each k x k block of a map, for overviews and zoomed-out rendering.
// Output is ceil(rows / k) x ceil(cols / k); the last block of a row or column covers what remains (it may be
// smaller than k x k). k = 1 copies the map (widened to f32).
//
// Concatenated after a load prefix (common/loadFloat32.wgsl or common/loadFloat16Packed.wgsl) and
// common/rectangleSums.wgsl. The prefix binds `attention` (group 0, binding 0): `maps` maps of rows x cols values
// each, row-major, back to back, map 0 starting at element params.elementOffset.
//
// Non-finite values (NaN, +-inf) are skipped: mean and max are over the finite values of the block only.
// A block with no finite value gets NaN in both outputs. Detection looks at the exponent bits, since WGSL lets a
// compiler assume floats are finite.

// Threads per workgroup. Must be a power of two, and at least 1 << params.threadsPerBlockLog2.
override WorkgroupSize: u32 = 64u;

struct Params {
  // Index of map 0's first value within `attention`, in elements.
  elementOffset: u32,
  // Rows per map (second-to-last axis).
  rows: u32,
  // Columns per map (last axis).
  cols: u32,
  // Block side k, in frames (>= 1).
  blockSize: u32,
  // Output rows per map: ceil(rows / k).
  outputRows: u32,
  // Output columns per map: ceil(cols / k).
  outputCols: u32,
  // Number of maps.
  maps: u32,
  // log2 of the threads that share one block (0 for small k: one thread per block).
  threadsPerBlockLog2: u32,
}

@group(0) @binding(1) var<uniform> params: Params;
// Block means: maps x outputRows x outputCols, row-major, f32 (written as bit patterns so NaN can be stored).
@group(0) @binding(2) var<storage, read_write> meanOutput: array<u32>;
// Block maxima, same layout as meanOutput.
@group(0) @binding(3) var<storage, read_write> maxOutput: array<u32>;

const NAN_BITS: u32 = 0x7fc00000u;

var<workgroup> partialSum: array<f32, WorkgroupSize>;
var<workgroup> partialCount: array<u32, WorkgroupSize>;
var<workgroup> partialMax: array<f32, WorkgroupSize>;

fn store(out: u32, sum: f32, count: u32, maximum: f32) {
  if (count == 0u) {
    meanOutput[out] = NAN_BITS;
    maxOutput[out] = NAN_BITS;
  } else {
    meanOutput[out] = bitcast<u32>(sum / f32(count));
    maxOutput[out] = bitcast<u32>(maximum);
  }
}

// Dispatch: ceil(maps * outputRows * outputCols / (WorkgroupSize >> threadsPerBlockLog2)) workgroups, laid out
// along x and folded into y past the per-dimension limit (workgroup index = x + y * num_workgroups.x).
// Each block (output value) is pooled by T = 1 << threadsPerBlockLog2 adjacent threads: T = 1 for small k (each
// thread loops over its k x k values, no barrier), more for large k so that no thread walks thousands of values;
// the T partial results are then reduced in workgroup memory.
@compute @workgroup_size(WorkgroupSize)
fn main(
  @builtin(workgroup_id) workgroup: vec3<u32>,
  @builtin(num_workgroups) workgroupGrid: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
) {
  let threadsPerBlock = 1u << params.threadsPerBlockLog2;
  let blocksPerWorkgroup = WorkgroupSize >> params.threadsPerBlockLog2;
  let workgroupIndex = workgroup.x + workgroup.y * workgroupGrid.x;
  let block = workgroupIndex * blocksPerWorkgroup + (lane >> params.threadsPerBlockLog2);
  let part = lane & (threadsPerBlock - 1u);
  let blocksPerMap = params.outputRows * params.outputCols;
  let valid = block < blocksPerMap * params.maps;

  var sums = RectangleSums(0.0, 0u, LOWEST_F32);
  if (valid) {
    let map = block / blocksPerMap;
    let inMap = block % blocksPerMap;
    let outputRow = inMap / params.outputCols;
    let outputCol = inMap % params.outputCols;
    let rowStart = outputRow * params.blockSize;
    let rowEnd = min(rowStart + params.blockSize, params.rows);
    let colStart = outputCol * params.blockSize;
    let colEnd = min(colStart + params.blockSize, params.cols);
    let count = (rowEnd - rowStart) * (colEnd - colStart);
    let mapStart = params.elementOffset + map * params.rows * params.cols;
    sums = sumRectangle(mapStart, params.cols, rowStart, colStart, colEnd, count, part, threadsPerBlock);
  }
  let sum = sums.sum;
  let finiteCount = sums.finiteCount;
  let maximum = sums.maximum;

  // One thread per block: nothing to reduce. (threadsPerBlockLog2 is uniform, so this return keeps the barriers
  // below in uniform control flow.)
  if (params.threadsPerBlockLog2 == 0u) {
    if (valid) {
      store(block, sum, finiteCount, maximum);
    }
    return;
  }

  partialSum[lane] = sum;
  partialCount[lane] = finiteCount;
  partialMax[lane] = maximum;
  workgroupBarrier();
  for (var stride = threadsPerBlock / 2u; stride > 0u; stride /= 2u) {
    if (part < stride) {
      partialSum[lane] += partialSum[lane + stride];
      partialCount[lane] += partialCount[lane + stride];
      partialMax[lane] = max(partialMax[lane], partialMax[lane + stride]);
    }
    workgroupBarrier();
  }
  if (valid && part == 0u) {
    store(block, partialSum[lane], partialCount[lane], partialMax[lane]);
  }
}
