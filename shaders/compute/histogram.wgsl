// HistogramPass: counts of the finite values of a rectangular region of a map in Bins equal bins between the min
// and max that MinMaxPass left in the stats buffer (for percentile clipping of the colour scale). Non-finite values
// are not binned (MinMaxPass counts them). A value v goes to bin floor((v - min) / (max - min) * Bins), clamped to
// [0, Bins - 1]; the halves below keep max - min from overflowing. When max == min every value goes to bin 0.
// Concatenated after a load prefix, common/finite.wgsl, compute/quadLoads.wgsl or singleLoads.wgsl, and
// compute/regionBlocks.wgsl (the region's layout and how a workgroup walks its block).
//
// Dispatch: any number of workgroups (folded into (x, y)), each reading one contiguous block of the region.
//
// Bins live in workgroup memory, added to atomically; each workgroup then adds its non-zero counts to `histogram`
// with one global atomic per bin. (One row of bins per invocation with plain adds was measured on SwiftShader as
// no faster: there the per-lane scatter costs the same with or without the atomic.)

// Number of bins (at most 4096: the per-workgroup bins live in workgroup memory).
override Bins: u32 = 256u;

// Stats from MinMaxPass: words 6 and 7 are min and max (f32 bits) of the region's finite values.
@group(0) @binding(2) var<storage, read> stats: array<u32, 8>;
// Counts per bin, Bins words; zero before the pass.
@group(0) @binding(3) var<storage, read_write> histogram: array<atomic<u32>>;

// The workgroup's counts per bin.
var<workgroup> localBins: array<atomic<u32>, Bins>;

// What binning needs to know of the range, the same for every value.
struct Binning {
  low: f32,
  // (max - min) / 2, or 1 when every value goes to bin 0 (the quotient is then clamped to 0).
  divisor: f32,
  // Bins, or 0 when every value goes to bin 0.
  scale: f32,
}

// Counts the value whose bits are `bits` when it is finite.
fn binValue(bits: u32, binning: Binning) {
  if ((bits & 0x7f800000u) != 0x7f800000u) {
    let position = clamp((bitcast<f32>(bits) * 0.5 - binning.low * 0.5) / binning.divisor, 0.0, 1.0) * binning.scale;
    atomicAdd(&localBins[min(u32(position), Bins - 1u)], 1u);
  }
}

@compute @workgroup_size(WorkgroupSize)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  for (var bin = localIndex; bin < Bins; bin += WorkgroupSize) {
    atomicStore(&localBins[bin], 0u);
  }
  workgroupBarrier();
  let low = bitcast<f32>(stats[6]);
  let high = bitcast<f32>(stats[7]);
  let halfRange = high * 0.5 - low * 0.5;
  let spread = halfRange > 0.0;
  let binning = Binning(low, select(1.0, halfRange, spread), select(0.0, f32(Bins), spread));
  let block = blockOf(workgroupId.x + workgroupId.y * workgroupCounts.x);
  for (var value = block.x; value < block.y; value = nextPiece(value, block.y)) {
    let piece = pieceOf(value, block.y);
    let span = quadSpan(piece);
    for (var element = piece.x + localIndex; element < span.x; element += WorkgroupSize) {
      binValue(bitcast<u32>(loadAttention(element)), binning);
    }
    for (var quad = span.y + localIndex; quad < span.z; quad += WorkgroupSize) {
      let bits = loadQuad(quad);
      binValue(bits.x, binning);
      binValue(bits.y, binning);
      binValue(bits.z, binning);
      binValue(bits.w, binning);
    }
    for (var element = span.w + localIndex; element < piece.y; element += WorkgroupSize) {
      binValue(bitcast<u32>(loadAttention(element)), binning);
    }
  }
  workgroupBarrier();
  for (var bin = localIndex; bin < Bins; bin += WorkgroupSize) {
    let count = atomicLoad(&localBins[bin]);
    if (count != 0u) {
      atomicAdd(&histogram[bin], count);
    }
  }
}
