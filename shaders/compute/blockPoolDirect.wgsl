// Block pooling in one pass, the shape for software adapters (src/compute/blockPool.ts chooses it there; GPUs use
// the two separable stages of poolAlongRows.wgsl and poolAcrossRows.wgsl): each thread walks its k x k blocks
// itself and writes their mean and max, so nothing goes through a buffer of row partials. On a CPU that traffic
// is what separable pooling adds (for 4 x 4 blocks, 12 bytes written and read again per 4 values read).
// Concatenated after a load prefix, common/finite.wgsl and compute/quadLoads.wgsl (float32 maps whose block rows
// are whole quads: k and the map's row length multiples of 4, the map starting on a quad) or singleLoads.wgsl.
// Non-finite values are skipped (selects on their exponent bits); a block without finite values is NaN in both
// outputs. Every input value is read once, whatever k.

// Threads per workgroup. Threads share nothing (no barriers): on a software adapter a workgroup runs its SIMD groups
// back to back.
override WorkgroupSize: u32 = 64u;

const LOWEST_F32: f32 = -0x1.fffffep+127f;

struct Params {
  elementOffset: u32, // index of the first map's [0][0] within `attention`, in elements
  rows: u32, // rows per map
  cols: u32, // columns per map
  maps: u32, // maps pooled
  blockSize: u32, // k
  outRows: u32, // ceil(rows / k)
  outCols: u32, // ceil(cols / k)
  blocksPerThread: u32, // neighbouring blocks of one block row that a thread pools
}

@group(0) @binding(1) var<uniform> params: Params;
// Block means: maps x outRows x outCols f32 bit patterns, row-major.
@group(0) @binding(2) var<storage, read_write> meanOutput: array<u32>;
// Block maxima, same layout.
@group(0) @binding(3) var<storage, read_write> maxOutput: array<u32>;

// Dispatch: ceil(maps x outRows x ceil(outCols / blocksPerThread) / WorkgroupSize) workgroups along x, folded into y.
// Thread i pools blocksPerThread neighbouring blocks of one block row; neighbouring threads take neighbouring blocks.
@compute @workgroup_size(WorkgroupSize)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) grid: vec3<u32>) {
  let index = id.x + id.y * grid.x * WorkgroupSize;
  let chunksPerRow = (params.outCols + params.blocksPerThread - 1u) / params.blocksPerThread;
  if (index >= params.maps * params.outRows * chunksPerRow) {
    return;
  }
  let outputRow = index / chunksPerRow; // map * outRows + block row
  let map = outputRow / params.outRows;
  let rowStart = (outputRow % params.outRows) * params.blockSize;
  let rowEnd = min(rowStart + params.blockSize, params.rows);
  let firstBlock = (index % chunksPerRow) * params.blocksPerThread;
  let endBlock = min(firstBlock + params.blocksPerThread, params.outCols);
  let mapStart = params.elementOffset + map * params.rows * params.cols;
  for (var block = firstBlock; block < endBlock; block++) {
    let colStart = block * params.blockSize;
    let colEnd = min(colStart + params.blockSize, params.cols);
    // Four running partials, one per quad component (a single value goes to the first).
    var sums = vec4<f32>(0.0);
    var counts = vec4<u32>(0u);
    var maxima = vec4<f32>(LOWEST_F32);
    if (QuadLoads) {
      // One flat loop over the block's quads, row after row (a block row is whole quads here).
      let quadsPerRow = (colEnd - colStart) / 4u;
      let quadCount = quadsPerRow * (rowEnd - rowStart);
      var rowQuad = (mapStart + rowStart * params.cols + colStart) / 4u;
      var quadInRow = 0u;
      for (var step = 0u; step < quadCount; step++) {
        let bits = loadQuad(rowQuad + quadInRow);
        quadInRow += 1u;
        if (quadInRow == quadsPerRow) {
          quadInRow = 0u;
          rowQuad += params.cols / 4u;
        }
        let values = bitcast<vec4<f32>>(bits);
        let finite = (bits & vec4<u32>(0x7f800000u)) != vec4<u32>(0x7f800000u);
        sums += select(vec4<f32>(0.0), values, finite);
        counts += select(vec4<u32>(0u), vec4<u32>(1u), finite);
        maxima = select(maxima, max(maxima, values), finite);
      }
    } else {
      for (var row = rowStart; row < rowEnd; row++) {
        let rowBase = mapStart + row * params.cols;
        for (var col = colStart; col < colEnd; col++) {
          let value = loadAttention(rowBase + col);
          let finite = (bitcast<u32>(value) & 0x7f800000u) != 0x7f800000u;
          sums.x += select(0.0, value, finite);
          counts.x += select(0u, 1u, finite);
          maxima.x = select(maxima.x, max(maxima.x, value), finite);
        }
      }
    }
    let count = counts.x + counts.y + counts.z + counts.w;
    let out = outputRow * params.outCols + block;
    if (count == 0u) {
      meanOutput[out] = nanBits;
      maxOutput[out] = nanBits;
    } else {
      meanOutput[out] = bitcast<u32>(((sums.x + sums.y) + (sums.z + sums.w)) / f32(count));
      maxOutput[out] = bitcast<u32>(max(max(maxima.x, maxima.y), max(maxima.z, maxima.w)));
    }
  }
}
