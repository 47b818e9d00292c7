// SoftmaxPass: one attention map -> one f32 map, cropped, with an optional softmax over the last axis.
// The shape for a GPU: one workgroup per output row (softmaxRows.wgsl is the software adapters' shape).
// Concatenated after a load prefix (common/loadFloat32.wgsl or common/loadFloat16Packed.wgsl), common/finite.wgsl,
// common/rowSoftmax.wgsl and compute/softmaxParams.wgsl.
//
// attention (binding 0, from the prefix): the map row-major [row][col], `cols` values per row, starting at
// element `elementOffset`.
// Dispatch: one workgroup per output row, outRows workgroups folded into (x, y) when above 65535.

// Invocations per workgroup; a power of two (the row reductions halve it).
override WorkgroupSize: u32 = 256u;

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
