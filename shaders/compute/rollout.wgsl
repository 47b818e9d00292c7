// Attention rollout, step 2 of 2: product = left x right for square size x size f32 matrices, as a tiled matrix
// product. The rollout pass calls it once per layer with left = Â_l (from rolloutPrepare.wgsl) and right = the
// rollout so far, R_l = Â_l R_(l-1).
//
// Concatenated after common/loadFloat32.wgsl, which binds `attention` (group 0, binding 0): here the left operand,
// size x size f32, row-major, read with loadAttention().
//
// Each workgroup computes a BlockSize x BlockSize tile of the product (BlockSize = TileSize * ThreadTile = 64 with
// the defaults): it steps through the shared dimension TileK at a time, staging a BlockSize x TileK slice of left and
// a TileK x BlockSize slice of right in workgroup memory (8 KiB), and each thread accumulates ThreadTile x ThreadTile
// outputs in registers. Reads past the matrix edge load 0 and writes past it are skipped, so any size works.

// Threads per side of the workgroup (TileSize x TileSize threads).
override TileSize: u32 = 16u;
// Outputs per thread per side: thread (x, y) computes rows y + TileSize * r and columns x + TileSize * c, r, c < 4.
// Fixed at 4 because a thread's four columns are accumulated as one vec4. Strided (not adjacent) outputs keep the
// lanes of a row reading consecutive workgroup-memory words and writing consecutive product addresses.
const ThreadTile: u32 = 4u;
// Depth of the slices staged in workgroup memory per step.
const TileK: u32 = 16u;

struct Params {
  // Rows and columns of the square matrices.
  size: u32,
}

@group(0) @binding(1) var<uniform> params: Params;
// Right operand: size x size f32, row-major.
@group(0) @binding(2) var<storage, read> right: array<f32>;
// Product: size x size f32, row-major. Must not alias either operand.
@group(0) @binding(3) var<storage, read_write> product: array<f32>;

// left[blockRow + r][k0 + k] at r * TileK + k.
var<workgroup> leftTile: array<f32, TileSize * ThreadTile * TileK>;
// right[k0 + k][blockCol + c] at k * BlockSize + c.
var<workgroup> rightTile: array<f32, TileSize * ThreadTile * TileK>;

// Dispatch: ceil(size / BlockSize) x ceil(size / BlockSize); workgroup (x, y) computes product rows
// [y * BlockSize, (y + 1) * BlockSize) and columns [x * BlockSize, (x + 1) * BlockSize).
@compute @workgroup_size(TileSize, TileSize)
fn main(
  @builtin(workgroup_id) workgroup: vec3<u32>,
  @builtin(local_invocation_id) local: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
) {
  let blockSize = TileSize * ThreadTile;
  let threads = TileSize * TileSize;
  let n = params.size;
  let blockRow = workgroup.y * blockSize;
  let blockCol = workgroup.x * blockSize;

  var acc: array<vec4<f32>, ThreadTile>;
  for (var k0 = 0u; k0 < n; k0 += TileK) {
    // Stage the slices: consecutive lanes read consecutive addresses of a matrix row.
    for (var i = lane; i < blockSize * TileK; i += threads) {
      let leftRow = blockRow + i / TileK;
      let leftCol = k0 + i % TileK;
      var leftValue = 0.0;
      if (leftRow < n && leftCol < n) {
        leftValue = loadAttention(leftRow * n + leftCol);
      }
      leftTile[i] = leftValue;
      let rightRow = k0 + i / blockSize;
      let rightCol = blockCol + i % blockSize;
      var rightValue = 0.0;
      if (rightRow < n && rightCol < n) {
        rightValue = right[rightRow * n + rightCol];
      }
      rightTile[i] = rightValue;
    }
    workgroupBarrier();
    for (var k = 0u; k < TileK; k++) {
      let b = vec4<f32>(
        rightTile[k * blockSize + local.x],
        rightTile[k * blockSize + local.x + TileSize],
        rightTile[k * blockSize + local.x + 2u * TileSize],
        rightTile[k * blockSize + local.x + 3u * TileSize],
      );
      for (var r = 0u; r < ThreadTile; r++) {
        acc[r] += leftTile[(local.y + r * TileSize) * TileK + k] * b;
      }
    }
    workgroupBarrier();
  }

  for (var r = 0u; r < ThreadTile; r++) {
    let row = blockRow + local.y + r * TileSize;
    if (row < n) {
      for (var c = 0u; c < ThreadTile; c++) {
        let col = blockCol + local.x + c * TileSize;
        if (col < n) {
          product[row * n + col] = acc[r][c];
        }
      }
    }
  }
}
