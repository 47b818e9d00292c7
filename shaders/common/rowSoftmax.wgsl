// Per-row statistics for a numerically stable softmax, shared by compute/softmax.wgsl and compute/headMean.wgsl.
// Needs the load prefix (loadAttention), common/finite.wgsl, and a kernel that declares
// `override WorkgroupSize: u32` (a power of two) and runs one workgroup per row.
//
// Softmax subtracts the row max first so that exp() cannot overflow f32. The max and the sum of exp(x - max) are
// found in one pass with the "online softmax" merge: a partial (m, s) over some values becomes (m', s * exp(m - m')
// + ...) when a larger value m' arrives, so each row is read once for its statistics and once for its output.
//
// Non-finite values follow torch.softmax: a NaN or a +inf anywhere in the normalised columns makes the whole row
// NaN (torch computes inf - inf there), -inf values get weight 0, and a row with no finite value is NaN.

// Per-invocation partial maxima of the row's finite values (valid where rowPartialSum > 0).
var<workgroup> rowPartialMax: array<f32, WorkgroupSize>;
// Per-invocation partial sums of exp(value - rowPartialMax); 0 means "no finite value seen yet".
var<workgroup> rowPartialSum: array<f32, WorkgroupSize>;
// Per-invocation OR of ROW_HAS_NAN / ROW_HAS_POS_INF.
var<workgroup> rowPartialFlags: array<u32, WorkgroupSize>;

const ROW_HAS_NAN: u32 = 1u;
const ROW_HAS_POS_INF: u32 = 2u;

// The statistics of one row: softmax(x) = exp(x - maxValue) / sum, unless `flags` != 0 or sum == 0 (row is NaN).
struct RowStats {
  maxValue: f32, // largest finite value in the normalised columns
  sum: f32, // sum of exp(x - maxValue) over the finite values; 0 when there are none
  flags: u32, // ROW_HAS_NAN | ROW_HAS_POS_INF seen in the normalised columns
}

// Merges two partial (max, sum) pairs; a pair with sum 0 is empty.
fn mergeSoftmaxPartials(maxA: f32, sumA: f32, maxB: f32, sumB: f32) -> vec2<f32> {
  if (sumA == 0.0) {
    return vec2<f32>(maxB, sumB);
  }
  if (sumB == 0.0) {
    return vec2<f32>(maxA, sumA);
  }
  let maxValue = max(maxA, maxB);
  return vec2<f32>(maxValue, sumA * exp(maxA - maxValue) + sumB * exp(maxB - maxValue));
}

// Statistics of attention elements [rowBase + normStart, rowBase + normEnd). Every invocation of the workgroup must
// call this (it has barriers); every invocation gets the same result.
fn computeRowStats(localIndex: u32, rowBase: u32, normStart: u32, normEnd: u32) -> RowStats {
  var partialMax = 0.0;
  var partialSum = 0.0;
  var flags = 0u;
  for (var col = normStart + localIndex; col < normEnd; col += WorkgroupSize) {
    let value = loadAttention(rowBase + col);
    let valueClass = classifyValue(value);
    if (valueClass == VALUE_FINITE) {
      // mergeSoftmaxPartials(partialMax, partialSum, value, 1.0) with its exp(0) = 1 left out: one exp per value
      // instead of two, the same arithmetic otherwise.
      if (partialSum == 0.0) {
        partialMax = value;
        partialSum = 1.0;
      } else if (value > partialMax) {
        partialSum = partialSum * exp(partialMax - value) + 1.0;
        partialMax = value;
      } else {
        partialSum += exp(value - partialMax);
      }
    } else if (valueClass == VALUE_NAN) {
      flags |= ROW_HAS_NAN;
    } else if (valueClass == VALUE_POS_INF) {
      flags |= ROW_HAS_POS_INF;
    }
  }
  rowPartialMax[localIndex] = partialMax;
  rowPartialSum[localIndex] = partialSum;
  rowPartialFlags[localIndex] = flags;
  workgroupBarrier();
  for (var stride = WorkgroupSize / 2u; stride > 0u; stride >>= 1u) {
    if (localIndex < stride) {
      let merged = mergeSoftmaxPartials(
        rowPartialMax[localIndex], rowPartialSum[localIndex],
        rowPartialMax[localIndex + stride], rowPartialSum[localIndex + stride]);
      rowPartialMax[localIndex] = merged.x;
      rowPartialSum[localIndex] = merged.y;
      rowPartialFlags[localIndex] |= rowPartialFlags[localIndex + stride];
    }
    workgroupBarrier();
  }
  let stats = RowStats(rowPartialMax[0], rowPartialSum[0], rowPartialFlags[0]);
  // The next call overwrites the partials: wait until everyone has read the result.
  workgroupBarrier();
  return stats;
}

// softmax(value) for a value of the row whose statistics are `stats`.
fn softmaxOf(value: f32, stats: RowStats) -> f32 {
  if (stats.flags != 0u || stats.sum == 0.0) {
    return nanValue();
  }
  if (classifyValue(value) != VALUE_FINITE) {
    // Only -inf can reach here (NaN and +inf set a flag): it gets weight 0.
    return 0.0;
  }
  return exp(value - stats.maxValue) / stats.sum;
}
