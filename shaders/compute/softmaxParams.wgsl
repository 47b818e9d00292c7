// SoftmaxPass's parameters and output, shared by its two shapes: softmax.wgsl (a workgroup per row, for GPUs) and
// softmaxRows.wgsl (an invocation per row, for software adapters).

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
