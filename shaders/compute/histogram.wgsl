// HistogramPass: counts of the finite values of a rectangular region of a map in Bins equal bins between the min
// and max that MinMaxPass left in the stats buffer (for percentile clipping of the colour scale). Non-finite values
// are not binned (MinMaxPass counts them). A value v goes to bin floor((v - min) / (max - min) * Bins), clamped to
// [0, Bins - 1]; the halves below keep max - min from overflowing. When max == min every value goes to bin 0.
// Concatenated after a load prefix and common/finite.wgsl.
//
// attention (binding 0, from the prefix): the map row-major [row][col], `cols` per row, from element elementOffset.
// Dispatch: any number of workgroups (folded into (x, y)); invocations stride over the region's values.

// Invocations per workgroup.
override WorkgroupSize: u32 = 256u;
// Number of bins (at most 4096: the per-workgroup bins live in workgroup memory).
override Bins: u32 = 256u;

struct RegionParams {
  elementOffset: u32, // element index of the map's [0][0] in `attention`
  cols: u32, // values per map row, elements
  rowStart: u32, // first row of the region
  colStart: u32, // first column of the region
  regionRows: u32, // rows of the region
  regionCols: u32, // columns of the region
}

// Region, see RegionParams.
@group(0) @binding(1) var<uniform> params: RegionParams;
// Stats from MinMaxPass: words 6 and 7 are min and max (f32 bits) of the region's finite values.
@group(0) @binding(2) var<storage, read> stats: array<u32, 8>;
// Counts per bin, Bins words; zero before the pass.
@group(0) @binding(3) var<storage, read_write> histogram: array<atomic<u32>>;

// The workgroup's counts per bin, added to `histogram` at the end.
var<workgroup> localBins: array<atomic<u32>, Bins>;

// Bins in workgroup memory, then one global atomicAdd per non-empty bin per workgroup.
@compute @workgroup_size(WorkgroupSize)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  for (var bin = localIndex; bin < Bins; bin += WorkgroupSize) {
    atomicStore(&localBins[bin], 0u);
  }
  workgroupBarrier();
  let low = bitcast<f32>(stats[6]);
  let high = bitcast<f32>(stats[7]);
  let halfRange = high * 0.5 - low * 0.5;
  let workgroupIndex = workgroupId.x + workgroupId.y * workgroupCounts.x;
  let invocationCount = workgroupCounts.x * workgroupCounts.y * WorkgroupSize;
  let valueCount = params.regionRows * params.regionCols;
  // (row, col) in the region is carried from step to step instead of divided out of the index each time.
  let first = workgroupIndex * WorkgroupSize + localIndex;
  let stepRows = invocationCount / params.regionCols;
  let stepCols = invocationCount % params.regionCols;
  var row = first / params.regionCols;
  var col = first % params.regionCols;
  for (var index = first; index < valueCount; index += invocationCount) {
    let value = loadAttention(params.elementOffset + (params.rowStart + row) * params.cols + params.colStart + col);
    if (classifyValue(value) == VALUE_FINITE) {
      var bin = 0u;
      if (halfRange > 0.0) {
        let position = clamp((value * 0.5 - low * 0.5) / halfRange, 0.0, 1.0) * f32(Bins);
        bin = min(u32(floor(position)), Bins - 1u);
      }
      atomicAdd(&localBins[bin], 1u);
    }
    row += stepRows;
    col += stepCols;
    if (col >= params.regionCols) {
      col -= params.regionCols;
      row += 1u;
    }
  }
  workgroupBarrier();
  for (var bin = localIndex; bin < Bins; bin += WorkgroupSize) {
    let count = atomicLoad(&localBins[bin]);
    if (count != 0u) {
      atomicAdd(&histogram[bin], count);
    }
  }
}
