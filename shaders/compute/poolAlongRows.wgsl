// Separable pooling, stage 1 of 2: for every band of every map and every column range, the sum, count and maximum
// of the finite values of that band over the range. A band is a run of at most 8 rows that lies inside every row
// range touching it (src/compute/separablePool.ts cuts them); stage 2 (compute/poolAcrossRows.wgsl) combines the
// partials of the bands that make up each row range. Sum, count and max are all separable over a rectangle, so the
// two stages give exactly what a walk over the rectangle gives, with every input value read once when the column
// ranges do not overlap, and one partial per band rather than per row between the stages.
//
// Used by segment pooling (ranges from a buffer) and by k x k block pooling (ranges computed from k).
// Concatenated after a load prefix (common/loadFloat32.wgsl or loadFloat16Packed.wgsl), which binds `attention`
// (group 0, binding 0). Non-finite values (NaN, +-inf) are skipped; they are recognised by their exponent bits,
// since WGSL lets a compiler assume floats are finite.

// Threads per workgroup. Threads share nothing (no barriers), so the size only sets how many neighbouring
// partials one workgroup writes: 64 is two warps / one wavefront on a GPU, and on a software adapter a workgroup
// runs its SIMD groups back to back without a switch.
override WorkgroupSize: u32 = 64u;

const LOWEST_F32: f32 = -0x1.fffffep+127f;

struct Params {
  // Index of the first map's [0][0] within `attention`, in elements.
  elementOffset: u32,
  // Rows per map.
  rows: u32,
  // Columns per map.
  cols: u32,
  // Number of maps handled by this dispatch.
  maps: u32,
  // Number of column ranges.
  colRangeCount: u32,
  // k for block pooling (range i is [i k, (i + 1) k)); 0 to read the ranges from colRanges.
  blockSize: u32,
  // Consecutive column ranges one thread pools (1 on a GPU; more on a software adapter, see separablePool.ts).
  rangesPerThread: u32,
  // Number of row bands per map.
  bandCount: u32,
  // k for block pooling along the rows; 0 to read the bands from rowBands.
  rowBlockSize: u32,
  // For block pooling: bands per k-row block, and rows per band (the last band of a block may be shorter).
  bandsPerBlock: u32,
  rowsPerBand: u32,
  // Index in rowBands of the first band's bounds (after the row ranges' bounds and band runs).
  firstBandPair: u32,
}

// Partial of one band over one column range.
struct BandPartial {
  sum: f32,
  finiteCount: u32,
  maximum: f32,  // LOWEST_F32 when finiteCount is 0
}

@group(0) @binding(1) var<uniform> params: Params;
// Column ranges (start, end), half-open, when params.blockSize is 0. Bounds are clamped to the map.
@group(0) @binding(2) var<storage, read> colRanges: array<vec2<u32>>;
// maps x bandCount x colRangeCount partials, row-major.
@group(0) @binding(3) var<storage, read_write> partials: array<BandPartial>;
// The row ranges' buffer (see RangeBuffer in separablePool.ts); its band bounds are read when rowBlockSize is 0.
@group(0) @binding(4) var<storage, read> rowBands: array<vec2<u32>>;

fn isFiniteValue(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn columnRange(range: u32) -> vec2<u32> {
  var bounds: vec2<u32>;
  if (params.blockSize > 0u) {
    bounds = vec2<u32>(range * params.blockSize, range * params.blockSize + params.blockSize);
  } else {
    bounds = colRanges[range];
  }
  let colEnd = min(bounds.y, params.cols);
  return vec2<u32>(min(bounds.x, colEnd), colEnd);
}

// Rows [start, end) of a band, clamped to the map.
fn bandRows(band: u32) -> vec2<u32> {
  var bounds: vec2<u32>;
  if (params.rowBlockSize > 0u) {
    let blockStart = (band / params.bandsPerBlock) * params.rowBlockSize;
    let start = blockStart + (band % params.bandsPerBlock) * params.rowsPerBand;
    bounds = vec2<u32>(start, min(start + params.rowsPerBand, blockStart + params.rowBlockSize));
  } else {
    bounds = rowBands[params.firstBandPair + band];
  }
  let rowEnd = min(bounds.y, params.rows);
  return vec2<u32>(min(bounds.x, rowEnd), rowEnd);
}

// Dispatch: ceil(maps x bandCount x ceil(colRangeCount / rangesPerThread) / WorkgroupSize) workgroups along x,
// folded into y past the per-dimension limit. Thread i pools column ranges chunk * rangesPerThread ... of one band,
// where chunk = i % chunksPerBand: neighbouring threads take neighbouring ranges of one band, so on a GPU (one range
// per thread) a warp walks one contiguous stretch of each of the band's rows together.
@compute @workgroup_size(WorkgroupSize)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>) {
  let index = id.x + id.y * grid.x * WorkgroupSize;
  let chunksPerBand = (params.colRangeCount + params.rangesPerThread - 1u) / params.rangesPerThread;
  if (index >= params.maps * params.bandCount * chunksPerBand) {
    return;
  }
  let mapBand = index / chunksPerBand;  // map * bandCount + band
  let map = mapBand / params.bandCount;
  let rows = bandRows(mapBand % params.bandCount);
  let firstRange = (index % chunksPerBand) * params.rangesPerThread;
  let endRange = min(firstRange + params.rangesPerThread, params.colRangeCount);
  let mapStart = params.elementOffset + map * params.rows * params.cols;
  for (var range = firstRange; range < endRange; range++) {
    let bounds = columnRange(range);
    var partial = BandPartial(0.0, 0u, LOWEST_F32);
    for (var row = rows.x; row < rows.y; row++) {
      let rowStart = mapStart + row * params.cols;
      for (var col = bounds.x; col < bounds.y; col++) {
        // Selects rather than a branch: no divergence between the lanes of a SIMD group.
        let value = loadAttention(rowStart + col);
        let finite = isFiniteValue(value);
        partial.sum += select(0.0, value, finite);
        partial.finiteCount += select(0u, 1u, finite);
        partial.maximum = select(partial.maximum, max(partial.maximum, value), finite);
      }
    }
    partials[mapBand * params.colRangeCount + range] = partial;
  }
}
