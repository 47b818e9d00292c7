// Sum, count and maximum of the finite values in a rectangle of a map, shared by block pooling and segment pooling.
// Concatenated after a load prefix (common/loadFloat32.wgsl or loadFloat16Packed.wgsl), whose loadAttention() it
// reads with. Non-finite values (NaN, +-inf) are skipped; they are recognised by their exponent bits, since WGSL
// lets a compiler assume floats are finite.

const LOWEST_F32: f32 = -0x1.fffffep+127f;

struct RectangleSums {
  sum: f32,          // sum of the finite values walked
  finiteCount: u32,  // how many values that is
  maximum: f32,      // their maximum (LOWEST_F32 when there is none)
}

fn isFiniteValue(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// The rectangle: rows from rowStart, columns [colStart, colEnd), `count` values in all, of the map whose [0][0] is
// element mapStart and whose rows are `cols` long. `stride` threads walk it together: this one takes values first,
// first + stride, ... in row-major order, carrying (row, col) from step to step instead of dividing.
fn sumRectangle(mapStart: u32, cols: u32, rowStart: u32, colStart: u32, colEnd: u32, count: u32, first: u32, stride: u32) -> RectangleSums {
  var sums = RectangleSums(0.0, 0u, LOWEST_F32);
  if (count == 0u) {
    return sums;
  }
  let width = colEnd - colStart;
  let stepRows = stride / width;
  let stepCols = stride % width;
  var row = rowStart + first / width;
  var col = colStart + first % width;
  for (var e = first; e < count; e += stride) {
    let value = loadAttention(mapStart + row * cols + col);
    if (isFiniteValue(value)) {
      sums.sum += value;
      sums.finiteCount += 1u;
      sums.maximum = max(sums.maximum, value);
    }
    row += stepRows;
    col += stepCols;
    if (col >= colEnd) {
      col -= width;
      row += 1u;
    }
  }
  return sums;
}
