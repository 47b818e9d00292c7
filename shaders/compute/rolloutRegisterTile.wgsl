// Attention rollout, step 2 of 2, the software adapter's shape (SwiftShader, llvmpipe): product = left x right for
// square matrices, without workgroup memory or barriers. src/compute/rollout.ts picks it (workgroupShapeOf(device).
// software) instead of rollout.wgsl, whose 256-thread workgroups pay a switch between all 64 of their SIMD groups at
// each of their two barriers per 16-deep step on such an adapter.
//
// The operands are stored padded: paddedSize x paddedSize f32, row-major, paddedSize a multiple of 4 and every value
// outside the size x size matrix 0 (rolloutPrepare.wgsl writes Â that way, and this kernel writes its padded products
// that way), so that every row is a whole number of 16-byte quads and no load needs a bounds test: a padded column
// of left meets a padded (zero) row of right, and a padded row or column of the product comes out 0.
//
// Each invocation computes a 4 x 4 block of the product in four vec4 registers: per step of 4 along the shared
// dimension it loads one quad from each of its 4 rows of left and one quad from each of 4 rows of right (8 quads,
// about the price of 8 single loads on a software adapter) for 64 multiply-adds. The lanes of a SIMD group are
// neighbouring column quads of the same rows: they read the same quads of left and neighbouring quads of right.

// Invocations per workgroup: one SIMD group of a software adapter (src/gpu/workgroupShape.ts).
override WorkgroupSize: u32 = 4u;

struct Params {
  // paddedSize / 4: quads per row of left, right and a padded product.
  quadsPerRow: u32,
  // Elements between the starts of two rows of `product`: paddedSize for a padded product, or the size itself for
  // the caller's size x size output.
  outStride: u32,
  // Rows and columns of `product` written: paddedSize (padded: the zeros too), or the size.
  outSize: u32,
}

// Left operand (Â of the layer): paddedSize x paddedSize, zero padded.
@group(0) @binding(0) var<storage, read> left: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> params: Params;
// Right operand (the rollout so far): paddedSize x paddedSize, zero padded.
@group(0) @binding(2) var<storage, read> right: array<vec4<f32>>;
// Product: outSize x outSize at row stride outStride. Must not alias either operand.
@group(0) @binding(3) var<storage, read_write> product: array<f32>;

// Dispatch: ceil(quadsPerRow / WorkgroupSize) x quadsPerRow; invocation (x, y) computes product rows 4y .. 4y + 3,
// columns 4x .. 4x + 3.
@compute @workgroup_size(WorkgroupSize)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let quads = params.quadsPerRow;
  let colQuad = id.x;
  if (colQuad >= quads) {
    return;
  }
  let row0 = id.y * 4u;
  let left0 = row0 * quads;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  for (var kQuad = 0u; kQuad < quads; kQuad++) {
    // left[row0 + r][4 kQuad .. 4 kQuad + 3], r < 4.
    let a0 = left[left0 + kQuad];
    let a1 = left[left0 + quads + kQuad];
    let a2 = left[left0 + 2u * quads + kQuad];
    let a3 = left[left0 + 3u * quads + kQuad];
    // right[4 kQuad + c][4 colQuad .. 4 colQuad + 3], c < 4.
    let rightRow = kQuad * 4u * quads + colQuad;
    let b0 = right[rightRow];
    let b1 = right[rightRow + quads];
    let b2 = right[rightRow + 2u * quads];
    let b3 = right[rightRow + 3u * quads];
    acc0 += a0.x * b0 + a0.y * b1 + a0.z * b2 + a0.w * b3;
    acc1 += a1.x * b0 + a1.y * b1 + a1.z * b2 + a1.w * b3;
    acc2 += a2.x * b0 + a2.y * b1 + a2.z * b2 + a2.w * b3;
    acc3 += a3.x * b0 + a3.y * b1 + a3.z * b2 + a3.w * b3;
  }
  let acc = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  let col0 = colQuad * 4u;
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + r;
    if (row < params.outSize) {
      for (var c = 0u; c < 4u; c++) {
        if (col0 + c < params.outSize) {
          product[row * params.outStride + col0 + c] = acc[r][c];
        }
      }
    }
  }
}
