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
  var sums: array<f32, 16>;
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
      var aRegister: array<f32, 4>;
      var bRegister: array<f32, 4>;
      for (var i = 0u; i < PER_THREAD; i++) {
        aRegister[i] = tileA[inner * TILE + localId.y + i * THREADS];
        bRegister[i] = tileB[inner * TILE + localId.x + i * THREADS];
      }
      for (var i = 0u; i < PER_THREAD; i++) {
        for (var j = 0u; j < PER_THREAD; j++) {
          sums[i * PER_THREAD + j] = fma(aRegister[i], bRegister[j], sums[i * PER_THREAD + j]);
        }
      }
    }
    workgroupBarrier();
  }
  let cBase = params.cOffset + batch * params.cBatchStride;
  for (var i = 0u; i < PER_THREAD; i++) {
    let row = rowBase + localId.y + i * THREADS;
    if (row >= params.m) {
      continue;
    }
    for (var j = 0u; j < PER_THREAD; j++) {
      let col = colBase + localId.x + j * THREADS;
      if (col >= params.n) {
        continue;
      }
      var value = sums[i * PER_THREAD + j];
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
}
