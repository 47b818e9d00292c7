// Attention rollout, step 1 of 2 (Abnar & Zuidema 2020): one layer's head-averaged map A becomes
// Â = 0.5 A + 0.5 I with every row renormalised to sum 1, i.e. Â[i][j] = (A[i][j] + δij) / (Σ_j A[i][j] + 1).
// rollout.wgsl then multiplies the Â of successive layers.
//
// Concatenated after common/loadFloat32.wgsl or common/loadFloat16Packed.wgsl, which bind `attention`
// (group 0, binding 0): the layer's size x size map, row-major (rows are distributions over columns), starting at
// element params.elementOffset. Values are expected to be >= 0 (softmax output or its head mean).
//
// Non-finite values (NaN, +-inf) count as 0. A row with no mass (all zero or non-finite) becomes the identity row
// e_i: that frame only passes on its own residual stream.
//
// Â is written at row stride params.outStride into params.outRows rows: size and size for a plain size x size Â, or
// the padded size (a multiple of 4) for the software adapter's product kernel (rolloutRegisterTile.wgsl), which wants
// whole quads per row and zeros everywhere outside the size x size matrix: those rows and columns are written 0.

// Threads per workgroup; one workgroup prepares one row. Must be a power of two (tree reduction).
override WorkgroupSize: u32 = 64u;

struct Params {
  // Index of the map's first value within `attention`, in elements.
  elementOffset: u32,
  // Rows and columns of the square map (frames).
  size: u32,
  // Elements between the starts of two rows of `prepared` (>= size).
  outStride: u32,
  // Rows of `prepared` written (>= size); rows from size on are zeros.
  outRows: u32,
}

@group(0) @binding(1) var<uniform> params: Params;
// Â: outRows x outStride f32, row-major.
@group(0) @binding(2) var<storage, read_write> prepared: array<f32>;

var<workgroup> partialSum: array<f32, WorkgroupSize>;

fn finiteOrZero(x: f32) -> f32 {
  return select(x, 0.0, (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u);
}

// Dispatch: outRows workgroups; workgroup i sums row i (its threads WorkgroupSize columns apart), then writes row i of
// Â and its padding.
@compute @workgroup_size(WorkgroupSize)
fn main(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row = workgroup.x;
  let outStart = row * params.outStride;
  if (row >= params.size) {
    for (var col = lane; col < params.outStride; col += WorkgroupSize) {
      prepared[outStart + col] = 0.0;
    }
    return;
  }
  let rowStart = params.elementOffset + row * params.size;
  var sum = 0.0;
  for (var col = lane; col < params.size; col += WorkgroupSize) {
    sum += finiteOrZero(loadAttention(rowStart + col));
  }
  partialSum[lane] = sum;
  workgroupBarrier();
  for (var stride = WorkgroupSize / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      partialSum[lane] += partialSum[lane + stride];
    }
    workgroupBarrier();
  }
  let scale = 1.0 / (partialSum[0] + 1.0);
  for (var col = lane; col < params.size; col += WorkgroupSize) {
    let value = finiteOrZero(loadAttention(rowStart + col)) + select(0.0, 1.0, col == row);
    prepared[outStart + col] = value * scale;
  }
  for (var col = params.size + lane; col < params.outStride; col += WorkgroupSize) {
    prepared[outStart + col] = 0.0;
  }
}
