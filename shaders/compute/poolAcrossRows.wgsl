// Separable pooling, stage 2 of 2: combines the band partials of compute/poolAlongRows.wgsl over the bands that
// make up each row range, giving the mean and the max of every (row range, column range) block. A block with no finite value (an empty
// range, or all values non-finite) gets NaN in both outputs.

// Threads per workgroup; threads share nothing (see poolAlongRows.wgsl).
override WorkgroupSize: u32 = 64u;

struct Params {
  // Row bands per map.
  bandCount: u32,
  // Number of maps handled by this dispatch.
  maps: u32,
  // Number of row ranges (output rows per map).
  rowRangeCount: u32,
  // Number of column ranges (output columns per map).
  colRangeCount: u32,
  // For block pooling, bands per k-row block (range i is made of bands [i b, (i + 1) b)); 0 to read each range's
  // run of bands from rowRanges.
  bandsPerBlock: u32,
  // Index of this dispatch's first output value in meanOutput and maxOutput (maps before it x cells per map).
  outputOffset: u32,
  // Consecutive output cells (column ranges) one thread makes (1 on a GPU; more on a software adapter).
  rangesPerThread: u32,
}

struct BandPartial {
  sum: f32,
  finiteCount: u32,
  maximum: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
// The row ranges' buffer (see RangeBuffer in separablePool.ts): after rowRangeCount bounds, each range's run of
// bands [first, end), read when params.bandsPerBlock is 0.
@group(0) @binding(1) var<storage, read> rowRanges: array<vec2<u32>>;
// maps x bandCount x colRangeCount partials from stage 1.
@group(0) @binding(2) var<storage, read> partials: array<BandPartial>;
// Block means: maps x rowRangeCount x colRangeCount f32, row-major (bit patterns, so that NaN can be stored).
@group(0) @binding(3) var<storage, read_write> meanOutput: array<u32>;
// Block maxima, same layout.
@group(0) @binding(4) var<storage, read_write> maxOutput: array<u32>;

const NAN_BITS: u32 = 0x7fc00000u;

// Dispatch: ceil(maps x rowRangeCount x ceil(colRangeCount / rangesPerThread) / WorkgroupSize) workgroups along x,
// folded into y. Thread i makes rangesPerThread neighbouring output cells of one output row (column range fastest):
// neighbouring threads read neighbouring partials of each row.
@compute @workgroup_size(WorkgroupSize)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>) {
  let index = id.x + id.y * grid.x * WorkgroupSize;
  let chunksPerRow = (params.colRangeCount + params.rangesPerThread - 1u) / params.rangesPerThread;
  if (index >= params.maps * params.rowRangeCount * chunksPerRow) {
    return;
  }
  let outputRow = index / chunksPerRow;  // map * rowRangeCount + row range
  let map = outputRow / params.rowRangeCount;
  let range = outputRow % params.rowRangeCount;
  let firstColRange = (index % chunksPerRow) * params.rangesPerThread;
  let endColRange = min(firstColRange + params.rangesPerThread, params.colRangeCount);
  var bands: vec2<u32>;
  if (params.bandsPerBlock > 0u) {
    bands = vec2<u32>(range * params.bandsPerBlock, range * params.bandsPerBlock + params.bandsPerBlock);
  } else {
    bands = rowRanges[params.rowRangeCount + range];
  }
  for (var colRange = firstColRange; colRange < endColRange; colRange++) {
    var sum = 0.0;
    var finiteCount = 0u;
    var maximum = -0x1.fffffep+127f;
    for (var band = bands.x; band < bands.y; band++) {
      let partial = partials[(map * params.bandCount + band) * params.colRangeCount + colRange];
      sum += partial.sum;
      finiteCount += partial.finiteCount;
      maximum = max(maximum, partial.maximum);
    }
    let out = params.outputOffset + outputRow * params.colRangeCount + colRange;
    if (finiteCount == 0u) {
      meanOutput[out] = NAN_BITS;
      maxOutput[out] = NAN_BITS;
    } else {
      meanOutput[out] = bitcast<u32>(sum / f32(finiteCount));
      maxOutput[out] = bitcast<u32>(maximum);
    }
  }
}
