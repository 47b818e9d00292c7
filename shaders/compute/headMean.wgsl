// HeadMeanPass: the weighted sum of several attention maps held in one buffer (the heads of a layer, or any subset),
// each cropped and optionally softmaxed first, written to or added onto an f32 map. With weight = 1 / (number of
// maps) it is the mean over heads; several dispatches with accumulate = 1 extend the mean across buffers (the heads
// of a layer split into chunks, or the layers of a layer mean).
// Concatenated after a load prefix, common/finite.wgsl, common/rowSoftmax.wgsl and compute/quadLoads.wgsl (when the
// maps' rows line up in quads: float32 storage, map offsets equal modulo 4) or compute/singleLoads.wgsl.
//
// attention (binding 0, from the prefix): map k is row-major [row][col] from element mapOffsets[k], `cols` per row.
// Dispatch: one workgroup per output row, outRows workgroups folded into (x, y) when above 65535.
//
// Non-finite values: softmax as in common/rowSoftmax.wgsl; the sum follows IEEE 754 (NaN in any map gives NaN,
// +inf plus -inf gives NaN, otherwise an infinity wins), computed by ieeeAdd whatever the compiler assumes.

// Invocations per workgroup; a power of two (the row reductions halve it).
override WorkgroupSize: u32 = 256u;
// true: every map's row statistics first, then one sweep summing the maps in registers, each output written once
// (the least memory traffic: right for a GPU, where this kernel is bound by memory). false: map by map, the output
// read and rewritten per map; measured 2x faster on SwiftShader, whose emulated inner loop over maps costs more
// than the extra traffic through the CPU's caches. HeadMeanPass chooses per adapter (src/gpu/workgroupShape.ts).
override SumInRegisters: bool = true;

// Maps one dispatch can sum: 16 x vec4 offsets. More are split into dispatches with accumulate = 1.
const MAX_MAPS_PER_DISPATCH: u32 = 64u;

struct HeadMeanParams {
  cols: u32, // values per source row (the last axis), elements
  rowStart: u32, // first source row of the crop
  colStart: u32, // first source column of the crop
  outRows: u32, // rows of the crop = rows of the output
  outCols: u32, // columns of the crop = row stride of the output
  normStart: u32, // softmax normalises source columns [normStart, normEnd)
  normEnd: u32,
  mode: u32, // 0: the values as they are; 1: softmax first
  mapCount: u32, // maps summed by this dispatch, 1 .. MAX_MAPS_PER_DISPATCH
  accumulate: u32, // 0: output = weight * sum; 1: output += weight * sum
  weight: f32, // factor applied to each map's values
  padding: u32, // keeps mapOffsets 16-byte aligned
  mapOffsets: array<vec4<u32>, 16>, // element index of map k's [0][0] in `attention`: mapOffsets[k / 4][k % 4]
}

// Parameters, see HeadMeanParams.
@group(0) @binding(1) var<uniform> params: HeadMeanParams;
// Output: f32 bit patterns, row-major [outRow][outCol], outRows x outCols; read too when accumulate = 1.
@group(0) @binding(2) var<storage, read_write> output: array<u32>;

// Each map's row statistics, found first (lane 0 stores what computeRowStats returns to every lane).
var<workgroup> mapRowStats: array<RowStats, MAX_MAPS_PER_DISPATCH>;

// One workgroup per output row. First the softmax statistics of the row in every map, then one sweep over the
// output columns that sums the maps in registers and writes each output value once: the output is neither read
// back nor rewritten per map (kernel traffic: each map's row read twice with softmax, once without, plus one write).
// The sum is taken in map order, as a map-by-map accumulation would, so the result does not depend on the shape.
fn sumInRegisters(outRow: u32, localIndex: u32) {
  let rowOffset = (params.rowStart + outRow) * params.cols;
  if (params.mode == 1u) {
    for (var map = 0u; map < params.mapCount; map++) {
      let rowBase = params.mapOffsets[map / 4u][map % 4u] + rowOffset;
      let stats = computeRowStats(localIndex, rowBase, params.normStart, params.normEnd);
      if (localIndex == 0u) {
        mapRowStats[map] = stats;
      }
    }
    workgroupBarrier();
  }
  let outBase = outRow * params.outCols;
  for (var col = localIndex; col < params.outCols; col += WorkgroupSize) {
    var total = 0.0;
    for (var map = 0u; map < params.mapCount; map++) {
      var value = loadAttention(params.mapOffsets[map / 4u][map % 4u] + rowOffset + params.colStart + col);
      if (params.mode == 1u) {
        value = softmaxOf(value, mapRowStats[map]);
      }
      var weighted = value;
      if (classifyValue(value) == VALUE_FINITE) {
        weighted = value * params.weight;
      }
      if (map == 0u && params.accumulate == 0u) {
        total = weighted;
      } else if (map == 0u) {
        total = ieeeAdd(bitcast<f32>(output[outBase + col]), weighted);
      } else {
        total = ieeeAdd(total, weighted);
      }
    }
    output[outBase + col] = bitcast<u32>(total);
  }
}

// Maps one after the other, each invocation owning the same output columns for all of them, so the read-modify-write
// of the output needs no synchronisation. Traffic: the output is read and rewritten per map.
fn sumMapByMap(outRow: u32, localIndex: u32) {
  let outBase = outRow * params.outCols;
  for (var map = 0u; map < params.mapCount; map++) {
    let rowBase = params.mapOffsets[map / 4u][map % 4u] + (params.rowStart + outRow) * params.cols;
    var stats = RowStats(0.0, 1.0, 0u);
    if (params.mode == 1u) {
      stats = computeRowStats(localIndex, rowBase, params.normStart, params.normEnd);
    }
    let fresh = map == 0u && params.accumulate == 0u;
    for (var col = localIndex; col < params.outCols; col += WorkgroupSize) {
      var value = loadAttention(rowBase + params.colStart + col);
      if (params.mode == 1u) {
        value = softmaxOf(value, stats);
      }
      var weighted = value;
      if (classifyValue(value) == VALUE_FINITE) {
        weighted = value * params.weight;
      }
      var total = weighted;
      if (!fresh) {
        total = ieeeAdd(bitcast<f32>(output[outBase + col]), weighted);
      }
      output[outBase + col] = bitcast<u32>(total);
    }
  }
}

// The exact sum of column `col` of the row at `rowOffset` (elements from each map's start) over the maps, without
// softmax, IEEE 754 rules for non-finite values (ieeeAdd), onto `start` when accumulating.
fn exactPlainSum(rowOffset: u32, col: u32, start: f32) -> f32 {
  var total = start;
  for (var map = 0u; map < params.mapCount; map++) {
    let value = loadAttention(params.mapOffsets[map / 4u][map % 4u] + rowOffset + col);
    var weighted = value;
    if (classifyValue(value) == VALUE_FINITE) {
      weighted = value * params.weight;
    }
    if (map == 0u && params.accumulate == 0u) {
      total = weighted;
    } else {
      total = ieeeAdd(total, weighted);
    }
  }
  return total;
}

// Without softmax: one sweep over the output row, the maps summed in registers with plain adds, four columns at a
// time where the rows line up in quads. A column where any value (or the output added onto) is not finite is summed
// again by exactPlainSum, so plain adds never decide a NaN or an infinity; finite columns get the same adds in the same
// order (starting from -0, which leaves the first weighted value as it is), so the two paths agree to the bit.
// Traffic: each map's row read once, the output written once (read first when accumulating).
fn sumPlain(outRow: u32, localIndex: u32) {
  let rowOffset = (params.rowStart + outRow) * params.cols + params.colStart;
  let outBase = outRow * params.outCols;
  // Columns [0, headCols) and [tailStart, outCols) one at a time, quads between them.
  var headCols = params.outCols;
  var quadCount = 0u;
  if (QuadLoads) {
    headCols = min((4u - (params.mapOffsets[0].x + rowOffset) % 4u) % 4u, params.outCols);
    quadCount = (params.outCols - headCols) / 4u;
  }
  let tailStart = headCols + 4u * quadCount;
  for (var quad = localIndex; quad < quadCount; quad += WorkgroupSize) {
    let col = headCols + 4u * quad;
    var total = vec4<f32>(-0.0);
    var exponents = vec4<u32>(0u);
    if (params.accumulate == 1u) {
      let outBits = vec4<u32>(output[outBase + col], output[outBase + col + 1u], output[outBase + col + 2u], output[outBase + col + 3u]);
      total = bitcast<vec4<f32>>(outBits);
      exponents = outBits & vec4<u32>(0x7f800000u);
    }
    var nonFinite = exponents == vec4<u32>(0x7f800000u);
    for (var map = 0u; map < params.mapCount; map++) {
      let bits = loadQuad((params.mapOffsets[map / 4u][map % 4u] + rowOffset + col) / 4u);
      nonFinite = nonFinite | ((bits & vec4<u32>(0x7f800000u)) == vec4<u32>(0x7f800000u));
      total += bitcast<vec4<f32>>(bits) * params.weight;
    }
    if (any(nonFinite)) {
      for (var k = 0u; k < 4u; k++) {
        if (nonFinite[k]) {
          total[k] = exactPlainSum(rowOffset, col + k, bitcast<f32>(output[outBase + col + k]));
        }
      }
    }
    let outBits = bitcast<vec4<u32>>(total);
    output[outBase + col] = outBits.x;
    output[outBase + col + 1u] = outBits.y;
    output[outBase + col + 2u] = outBits.z;
    output[outBase + col + 3u] = outBits.w;
  }
  for (var col = localIndex; col < headCols; col += WorkgroupSize) {
    sumPlainColumn(rowOffset, outBase, col);
  }
  for (var col = tailStart + localIndex; col < params.outCols; col += WorkgroupSize) {
    sumPlainColumn(rowOffset, outBase, col);
  }
}

// One column of sumPlain, one value per map.
fn sumPlainColumn(rowOffset: u32, outBase: u32, col: u32) {
  var total = -0.0;
  var nonFinite = false;
  if (params.accumulate == 1u) {
    total = bitcast<f32>(output[outBase + col]);
    nonFinite = classifyValue(total) != VALUE_FINITE;
  }
  for (var map = 0u; map < params.mapCount; map++) {
    let value = loadAttention(params.mapOffsets[map / 4u][map % 4u] + rowOffset + col);
    nonFinite = nonFinite || classifyValue(value) != VALUE_FINITE;
    total += value * params.weight;
  }
  if (nonFinite) {
    total = exactPlainSum(rowOffset, col, bitcast<f32>(output[outBase + col]));
  }
  output[outBase + col] = bitcast<u32>(total);
}

// One workgroup per output row. Uniform across the workgroup (workgroup id and an override): every lane takes the
// same path, so the barriers inside stay in uniform control flow.
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
  if (params.mode == 0u) {
    sumPlain(outRow, localIndex);
  } else if (SumInRegisters) {
    sumInRegisters(outRow, localIndex);
  } else {
    sumMapByMap(outRow, localIndex);
  }
}
