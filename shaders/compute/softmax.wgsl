// SoftmaxPass: one attention map -> one f32 map, cropped, with an optional softmax over the last axis.
// Concatenated after a load prefix (common/loadFloat32.wgsl or common/loadFloat16Packed.wgsl), common/finite.wgsl
// and common/rowSoftmax.wgsl.
//
// attention (binding 0, from the prefix): the map row-major [row][col], `cols` values per row, starting at
// element `elementOffset`.
// Dispatch: one workgroup per output row, outRows workgroups folded into (x, y) when above 65535.

// Invocations per workgroup; a power of two (the row reductions halve it).
override WorkgroupSize: u32 = 256u;

struct SoftmaxParams {
  elementOffset: u32, // element index of the map's [0][0] in `attention`
  cols: u32, // values per source row (the last axis), elements
  rowStart: u32, // first source row of the crop
  colStart: u32, // first source column of the crop
  outRows: u32, // rows of the crop = rows of the output
  outCols: u32, // columns of the crop = row stride of the output
  normStart: u32, // softmax normalises source columns [normStart, normEnd) ...
  normEnd: u32, // ... the whole row (scope 'row') or the crop's columns (scope 'crop')
  mode: u32, // 0: copy the values; 1: softmax
}

// Parameters, see SoftmaxParams.
@group(0) @binding(1) var<uniform> params: SoftmaxParams;
// Output: f32 bit patterns, row-major [outRow][outCol], outRows x outCols.
@group(0) @binding(2) var<storage, read_write> output: array<u32>;

// One workgroup per output row: the row's softmax statistics, then the cropped values.
@compute @workgroup_size(WorkgroupSize)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  let outRow = workgroupId.x + workgroupId.y * workgroupCounts.x;
  if (outRow >= params.outRows) {
    return;
  }
  let rowBase = params.elementOffset + (params.rowStart + outRow) * params.cols;
  var stats = RowStats(0.0, 1.0, 0u);
  if (params.mode == 1u) {
    stats = computeRowStats(localIndex, rowBase, params.normStart, params.normEnd);
  }
  let outBase = outRow * params.outCols;
  for (var col = localIndex; col < params.outCols; col += WorkgroupSize) {
    let value = loadAttention(rowBase + params.colStart + col);
    var result = value;
    if (params.mode == 1u) {
      result = softmaxOf(value, stats);
    }
    output[outBase + col] = bitcast<u32>(result);
  }
}
