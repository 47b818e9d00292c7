// HistogramPass: counts of the finite values of a rectangular region of a map in Bins equal bins between the min
// and max that MinMaxPass left in the stats buffer (for percentile clipping of the colour scale). Non-finite values
// are not binned (MinMaxPass counts them). A value v goes to bin floor((v - min) * Bins / (max - min)), clamped to
// [0, Bins - 1] (computed in f32, so a value within a few ulp of a bin edge may land on either side of it; the reference
// divides in float64). When max == min every value goes to bin 0.
// Concatenated after a load prefix, common/finite.wgsl, compute/quadLoads.wgsl or singleLoads.wgsl, and
// compute/regionBlocks.wgsl (the region's layout and how a workgroup walks its block).
//
// Dispatch: any number of workgroups (folded into (x, y)), each reading one contiguous block of the region.
//
// Bins live in workgroup memory, added to atomically; each workgroup then adds its non-zero counts to `histogram`
// with one global atomic per bin. Each invocation also keeps a run in registers: the bin of the last value it counted
// and how many values in a row fell in it, so a quad whose four values all fall in that bin costs one register add
// instead of four shared atomics. Neighbouring values of an attention map mostly share a bin (a softmaxed map is
// mostly values near zero, all in bin 0), so on a GPU this also spares the shared-memory atomics on one hot bin,
// which serialize; on a software adapter, where each lane's atomic is a separate locked add (a per-lane scatter costs
// about the same without the atomic, measured), it removes most of them. A value's bin is one subtraction and one
// multiplication by a scale computed once per workgroup (no divide; the position is clamped at 0 with one max, for a
// value below the given min, which a region's own min/max never leaves, and at Bins - 1 on the integer).

// Number of bins (at most 4096: the per-workgroup bins live in workgroup memory).
override Bins: u32 = 256u;

// Stats from MinMaxPass: words 6 and 7 are min and max (f32 bits) of the region's finite values.
@group(0) @binding(2) var<storage, read> stats: array<u32, 8>;
// Counts per bin, Bins words; zero before the pass.
@group(0) @binding(3) var<storage, read_write> histogram: array<atomic<u32>>;

// The workgroup's counts per bin.
var<workgroup> localBins: array<atomic<u32>, Bins>;

// What binning needs to know of the range, the same for every value: bin of v = min(u32((v * half - low * half) *
// scale), Bins - 1). `half` is 0.5, so that a range wider than the largest float cannot overflow, unless the range is
// so narrow that Bins / range would: then 2^63 (a range under 2^-60 holds only values of magnitude below ~2^-36, so
// the product cannot overflow either; it also keeps the differences of values near the smallest normal float out of
// the subnormals, which an adapter may flush to zero). Both are powers of two: v * half and low * half are exact, and their difference
// is never negative for v >= low.
struct Binning {
  lowScaled: f32, // low * half
  half: f32,
  // Bins / (high * half - low * half), or 0 when every value goes to bin 0 (max == min).
  scale: f32,
}

fn binningOf(low: f32, high: f32) -> Binning {
  if (!(high > low)) {
    return Binning(0.0, 0.0, 0.0);
  }
  // (A subnormal half range may read as 0 where the adapter flushes subnormals: that also takes 2^63.)
  let half = select(0.5, 0x1p63f, high * 0.5 - low * 0.5 < 0x1p-60f);
  return Binning(low * half, half, f32(Bins) / (high * half - low * half));
}

// A whole number n in [0, 2^22) plus INTEGER_BIAS (1.5 x 2^23, exact) has the bits INTEGER_BIAS_BITS + n: bins are
// read off those bits rather than converted with u32(), which WGSL compilers guard with compares and selects
// against out-of-range values (measured on SwiftShader: 39 instead of 45 ms of CPU for a 1500² map). A position is
// at most Bins (<= 4096) for a value up to the given max; larger ones (and infinity) give bits past Bins, clamped.
const INTEGER_BIAS: f32 = 12582912.0;
const INTEGER_BIAS_BITS: u32 = 0x4b400000u;

// Bins of four values given as f32 bit patterns (a non-finite value's bin is meaningless: `finite` masks it).
fn binsOf(bits: vec4<u32>, binning: Binning) -> vec4<u32> {
  let positions = floor(max((bitcast<vec4<f32>>(bits) * binning.half - binning.lowScaled) * binning.scale, vec4<f32>(0.0)));
  return min(bitcast<vec4<u32>>(positions + vec4<f32>(INTEGER_BIAS)) - vec4<u32>(INTEGER_BIAS_BITS), vec4<u32>(Bins - 1u));
}

// The bin of one value (f32 bits), as binsOf.
fn binOf(bits: u32, binning: Binning) -> u32 {
  let position = floor(max((bitcast<f32>(bits) * binning.half - binning.lowScaled) * binning.scale, 0.0));
  return min(bitcast<u32>(position + INTEGER_BIAS) - INTEGER_BIAS_BITS, Bins - 1u);
}

// Whether each of four f32 bit patterns is a finite value.
fn finiteOf(bits: vec4<u32>) -> vec4<bool> {
  return (bits & vec4<u32>(0x7f800000u)) != vec4<u32>(0x7f800000u);
}

// An invocation's run: `count` values not yet added, all in bin `bin`.
struct Run {
  bin: u32,
  count: u32,
}

// Counts four values (f32 bit patterns) whose finite ones are marked by `finite`.
fn countQuad(bits: vec4<u32>, finite: vec4<bool>, binning: Binning, run: ptr<function, Run>) {
  let bins = binsOf(bits, binning);
  if (all(finite) && all(bins == vec4<u32>((*run).bin))) {
    (*run).count += 4u;
  } else {
    // The run ends: it is added, and the quad's last value starts the next one (a non-finite one an empty run).
    let amounts = vec4<u32>(finite);
    atomicAdd(&localBins[(*run).bin], (*run).count);
    atomicAdd(&localBins[bins.x], amounts.x);
    atomicAdd(&localBins[bins.y], amounts.y);
    atomicAdd(&localBins[bins.z], amounts.z);
    *run = Run(bins.w, amounts.w);
  }
}

// Counts one value (f32 bits), when finite.
fn countSingle(bits: u32, binning: Binning, run: ptr<function, Run>) {
  let finite = (bits & 0x7f800000u) != 0x7f800000u;
  let bin = binOf(bits, binning);
  if (finite && bin == (*run).bin) {
    (*run).count += 1u;
  } else if (finite) {
    atomicAdd(&localBins[(*run).bin], (*run).count);
    *run = Run(bin, 1u);
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
  let binning = binningOf(bitcast<f32>(stats[6]), bitcast<f32>(stats[7]));
  var run = Run(0u, 0u);
  let block = blockOf(workgroupId.x + workgroupId.y * workgroupCounts.x);
  for (var value = block.x; value < block.y; value = nextPiece(value, block.y)) {
    let piece = pieceOf(value, block.y);
    let span = quadSpan(piece);
    for (var element = piece.x + localIndex; element < span.x; element += WorkgroupSize) {
      countSingle(bitcast<u32>(loadAttention(element)), binning, &run);
    }
    // Four quads per step, WorkgroupSize apart, then the rest one by one (as in minMax.wgsl: fewer loop steps, four
    // loads in flight).
    var quad = span.y + localIndex;
    for (; quad + 3u * WorkgroupSize < span.z; quad += 4u * WorkgroupSize) {
      let a = loadQuad(quad);
      let b = loadQuad(quad + WorkgroupSize);
      let c = loadQuad(quad + 2u * WorkgroupSize);
      let d = loadQuad(quad + 3u * WorkgroupSize);
      countQuad(a, finiteOf(a), binning, &run);
      countQuad(b, finiteOf(b), binning, &run);
      countQuad(c, finiteOf(c), binning, &run);
      countQuad(d, finiteOf(d), binning, &run);
    }
    for (; quad < span.z; quad += WorkgroupSize) {
      let bits = loadQuad(quad);
      countQuad(bits, finiteOf(bits), binning, &run);
    }
    for (var element = span.w + localIndex; element < piece.y; element += WorkgroupSize) {
      countSingle(bitcast<u32>(loadAttention(element)), binning, &run);
    }
  }
  atomicAdd(&localBins[run.bin], run.count);
  workgroupBarrier();
  for (var bin = localIndex; bin < Bins; bin += WorkgroupSize) {
    let count = atomicLoad(&localBins[bin]);
    if (count != 0u) {
      atomicAdd(&histogram[bin], count);
    }
  }
}
