// MatmulPass: C = activate((A . B^T + bias) * scale) [+ C], batched, with f32 accumulation in workgroup-shared tiles.
// Concatenated after model/gelu.wgsl.
//
// A(m, k) = a[aOffset + batch * aBatchStride + m * aRowStride + k]                 (k contiguous)
// B(n, k) = b[bOffset + batch * bBatchStride + n * bRowStride + k * bInnerStride]
// C(m, n) = c[cOffset + batch * cBatchStride + m * cRowStride + n]
// The strides let one kernel do a linear layer (B = torch's weight, out x in), per-head q . k^T (A and B are column
// slices of q and k) and per-head probabilities . V (B(n, k) = v[k][head * headDim + n]).
// Dispatch: (ceil(n / TILE), ceil(m / TILE), batches). Each of the 8 x 8 invocations computes a 4 x 4 block of
// the 32 x 32 output tile, spaced 8 apart so that neighbouring invocations read neighbouring shared words. (A
// 64 x 64 tile on 16 x 16 invocations is faster on large GPUs but makes SwiftShader, where CI runs, ~2x slower.)

const TILE: u32 = 32u;
const TILE_K: u32 = 16u;
const THREADS: u32 = 8u;
const PER_THREAD: u32 = 4u;

struct MatmulParams {
  m: u32, // rows of A and C
  n: u32, // rows of B = columns of C
  k: u32, // the summed axis
  aOffset: u32,
  aRowStride: u32,
  aBatchStride: u32,
  bOffset: u32,
  bRowStride: u32,
  bInnerStride: u32,
  bBatchStride: u32,
  cOffset: u32,
  cRowStride: u32,
  cBatchStride: u32,
  biasOffset: u32, // bias[biasOffset + n] is added to column n when hasBias is 1
  hasBias: u32,
  activation: u32, // ACTIVATION_NONE or ACTIVATION_GELU (model/gelu.wgsl), after bias and scale
  accumulate: u32, // 1: add the result to what C holds (a residual connection)
  scale: f32, // multiplies A . B^T + bias (q_proj's head_dim^-0.5)
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> params: MatmulParams;

// [k][m] and [k][n]: the inner loop reads a row of each.
var<workgroup> tileA: array<f32, 512>; // TILE * TILE_K
var<workgroup> tileB: array<f32, 512>;

@compute @workgroup_size(8, 8)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(local_invocation_id) localId: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  let batch = workgroupId.z;
  let rowBase = workgroupId.y * TILE;
  let colBase = workgroupId.x * TILE;
  let aBase = params.aOffset + batch * params.aBatchStride;
  let bBase = params.bOffset + batch * params.bBatchStride;
  // Four rows of four columns in vec4 registers: no dynamically indexed arrays, which SwiftShader keeps in memory.
  var sums0 = vec4<f32>(0.0);
  var sums1 = vec4<f32>(0.0);
  var sums2 = vec4<f32>(0.0);
  var sums3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < params.k; k0 += TILE_K) {
    // TILE x TILE_K values of each tile, 8 per invocation; consecutive invocations take consecutive k.
    for (var part = 0u; part < TILE * TILE_K / (THREADS * THREADS); part++) {
      let element = localIndex + part * THREADS * THREADS;
      let outer = element / TILE_K;
      let inner = element % TILE_K;
      let kIndex = k0 + inner;
      var aValue = 0.0;
      if (rowBase + outer < params.m && kIndex < params.k) {
        aValue = a[aBase + (rowBase + outer) * params.aRowStride + kIndex];
      }
      tileA[inner * TILE + outer] = aValue;
      var bValue = 0.0;
      if (colBase + outer < params.n && kIndex < params.k) {
        bValue = b[bBase + (colBase + outer) * params.bRowStride + kIndex * params.bInnerStride];
      }
      tileB[inner * TILE + outer] = bValue;
    }
    workgroupBarrier();
    for (var inner = 0u; inner < TILE_K; inner++) {
      let aAt = inner * TILE + localId.y;
      let bAt = inner * TILE + localId.x;
      let bRow = vec4<f32>(tileB[bAt], tileB[bAt + THREADS], tileB[bAt + 2u * THREADS], tileB[bAt + 3u * THREADS]);
      sums0 = fma(vec4<f32>(tileA[aAt]), bRow, sums0);
      sums1 = fma(vec4<f32>(tileA[aAt + THREADS]), bRow, sums1);
      sums2 = fma(vec4<f32>(tileA[aAt + 2u * THREADS]), bRow, sums2);
      sums3 = fma(vec4<f32>(tileA[aAt + 3u * THREADS]), bRow, sums3);
    }
    workgroupBarrier();
  }
  let cBase = params.cOffset + batch * params.cBatchStride;
  writeRow(cBase, rowBase + localId.y, colBase + localId.x, sums0);
  writeRow(cBase, rowBase + localId.y + THREADS, colBase + localId.x, sums1);
  writeRow(cBase, rowBase + localId.y + 2u * THREADS, colBase + localId.x, sums2);
  writeRow(cBase, rowBase + localId.y + 3u * THREADS, colBase + localId.x, sums3);
}

// Writes one invocation's four sums of `row` (columns firstCol + j * THREADS) through the epilogue.
fn writeRow(cBase: u32, row: u32, firstCol: u32, sums: vec4<f32>) {
  if (row >= params.m) {
    return;
  }
  for (var j = 0u; j < PER_THREAD; j++) {
    let col = firstCol + j * THREADS;
    if (col >= params.n) {
      continue;
    }
    var value = sums[j];
    if (params.hasBias == 1u) {
      value += bias[params.biasOffset + col];
    }
    value = activate(value * params.scale, params.activation);
    let index = cBase + row * params.cRowStride + col;
    if (params.accumulate == 1u) {
      value += c[index];
    }
    c[index] = value;
  }
}
