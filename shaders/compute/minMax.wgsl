// MinMaxPass, step 1 of 2: smallest and largest finite value of a rectangular region of a map, and counts of the
// finite, NaN, +inf and -inf values in it. Non-finite values are counted and otherwise ignored, so one NaN cannot
// poison a colour scale. Concatenated after a load prefix, common/finite.wgsl, compute/quadLoads.wgsl or
// singleLoads.wgsl, and compute/regionBlocks.wgsl (the region's layout and how a workgroup walks its block).
// Step 2 is minMaxFinalize.wgsl.
//
// Dispatch: any number of workgroups (folded into (x, y)), each reading one contiguous block of the region (see
// regionBlocks.wgsl).
//
// The stats buffer is cleared to zero before this pass. f32 has no atomics, so min and max go through an
// order-preserving u32 key (negative floats have all bits flipped, positive ones the sign bit set) and atomicMax;
// the minimum is found as the atomicMax of the complemented key, so that zero is the neutral start for both.
// Per value the first walk takes only four integer extremes of the bits (signed and unsigned max and min, which
// give the extreme keys at the end: extremeKeys), four quads per loop step: non-finite values are not masked out
// there, since their keys lie outside the finite ones (+inf and +NaN above the key of the largest finite float, -inf
// and -NaN below that of the smallest), so the extremes tell whether the block held any. A workgroup whose block did
// walks it a second time, exactly: non-finite values skipped for min and max, counted by kind (rare: a map's
// non-finite values are usually masked cells, which the colour scale ignores anyway). The finite count is the
// block's size less those.

// Stats: 8 words as laid out below; zero before the pass.
@group(0) @binding(2) var<storage, read_write> stats: array<atomic<u32>, 8>;

// Layout of the stats buffer, in 32-bit words (MAP_STATS_WORDS in src/compute/minMax.ts).
const STATS_MIN_KEY_COMPLEMENT: u32 = 0u; // max over values of ~orderKey(bits)
const STATS_MAX_KEY: u32 = 1u; // max over values of orderKey(bits)
const STATS_FINITE_COUNT: u32 = 2u;
const STATS_NAN_COUNT: u32 = 3u;
const STATS_POS_INF_COUNT: u32 = 4u;
const STATS_NEG_INF_COUNT: u32 = 5u;
// Words 6 and 7 (min and max as f32) are written by minMaxFinalize.wgsl.

// The workgroup's max of ~orderKey(bits) (its minimum, complemented).
var<workgroup> localMinKeyComplement: atomic<u32>;
// The workgroup's max of orderKey(bits).
var<workgroup> localMaxKey: atomic<u32>;
// The workgroup's counts of NaN, +inf and -inf values.
var<workgroup> localNonFiniteCounts: array<atomic<u32>, 3>;
// Non-zero once an invocation of the workgroup saw a non-finite value: then every invocation walks its share again.
var<workgroup> localSawNonFinite: atomic<u32>;

// One invocation's running reduction, four values wide (one per component of a quad; a single value fills all four):
// the extremes of the values' bits read as signed and as unsigned integers. Those four give the extreme order keys
// (see extremeKeys) for four integer min/max per quad, where keys would cost three more operations per quad before
// their two maxima.
struct Reduction {
  maxSigned: vec4<i32>,
  minSigned: vec4<i32>,
  maxUnsigned: vec4<u32>,
  minUnsigned: vec4<u32>,
}

const EMPTY_REDUCTION = Reduction(vec4<i32>(-2147483647 - 1), vec4<i32>(2147483647), vec4<u32>(0u), vec4<u32>(0xffffffffu));

// Bits at and beyond the finite floats': +inf (+NaN above it) read as signed, -inf (-NaN above it) read as unsigned.
const POS_INF_BITS: i32 = 0x7f800000;
const NEG_INF_BITS: u32 = 0xff800000u;

// A u32 that orders like the float whose bits are `bits`: larger float, larger key. Negative floats (sign bit set)
// have all bits flipped, others only the sign bit.
fn orderKey(bits: u32) -> u32 {
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

// Adds four values (f32 bit patterns), finite or not, to `reduction`.
fn reduceQuad(bits: vec4<u32>, reduction: ptr<function, Reduction>) {
  let signed = bitcast<vec4<i32>>(bits);
  (*reduction).maxSigned = max((*reduction).maxSigned, signed);
  (*reduction).minSigned = min((*reduction).minSigned, signed);
  (*reduction).maxUnsigned = max((*reduction).maxUnsigned, bits);
  (*reduction).minUnsigned = min((*reduction).minUnsigned, bits);
}

// Adds four quads at once: their extremes first, then one update of `reduction` (fewer dependent steps).
fn reduceQuads(a: vec4<u32>, b: vec4<u32>, c: vec4<u32>, d: vec4<u32>, reduction: ptr<function, Reduction>) {
  let sa = bitcast<vec4<i32>>(a);
  let sb = bitcast<vec4<i32>>(b);
  let sc = bitcast<vec4<i32>>(c);
  let sd = bitcast<vec4<i32>>(d);
  (*reduction).maxSigned = max((*reduction).maxSigned, max(max(sa, sb), max(sc, sd)));
  (*reduction).minSigned = min((*reduction).minSigned, min(min(sa, sb), min(sc, sd)));
  (*reduction).maxUnsigned = max((*reduction).maxUnsigned, max(max(a, b), max(c, d)));
  (*reduction).minUnsigned = min((*reduction).minUnsigned, min(min(a, b), min(c, d)));
}

// The reduction's largest order key and its smallest one, complemented, when it holds only finite values; 0 and 0
// when it holds none (the neutral start of the stats words). Order keys put
// every negative float (sign bit set, bits descending) below every other (bits ascending). So the largest is the
// non-negative value with the largest bits, which is the largest signed integer when there is one (a negative float
// reads as a negative integer), else the negative value with the smallest bits; the smallest is the negative value
// with the largest bits, which is the largest unsigned integer when there is one, else the smallest bits.
fn extremeKeys(reduction: Reduction) -> vec2<u32> {
  let maxSigned = max(max(reduction.maxSigned.x, reduction.maxSigned.y), max(reduction.maxSigned.z, reduction.maxSigned.w));
  let maxUnsigned = max(max(reduction.maxUnsigned.x, reduction.maxUnsigned.y), max(reduction.maxUnsigned.z, reduction.maxUnsigned.w));
  let minUnsigned = min(min(reduction.minUnsigned.x, reduction.minUnsigned.y), min(reduction.minUnsigned.z, reduction.minUnsigned.w));
  let maxBits = select(minUnsigned, u32(maxSigned), maxSigned >= 0);
  let minBits = select(minUnsigned, maxUnsigned, maxUnsigned >= 0x80000000u);
  let empty = minUnsigned > maxUnsigned;
  return select(vec2<u32>(orderKey(maxBits), ~orderKey(minBits)), vec2<u32>(0u), empty);
}

// Whether the reduction saw a non-finite value: +inf or +NaN (bits at or above +inf's, read as signed), or -inf or
// -NaN (at or above -inf's, read as unsigned).
fn sawNonFinite(reduction: Reduction) -> bool {
  return any(reduction.maxSigned >= vec4<i32>(POS_INF_BITS)) || any(reduction.maxUnsigned >= vec4<u32>(NEG_INF_BITS));
}

// The exact walk of elements [first, end) taken by this invocation (interleaved, as in regionBlocks.wgsl): adds the
// finite values to `reduction` and returns the counts of NaN, +inf and -inf.
fn reduceExactly(first: u32, end: u32, localIndex: u32, reduction: ptr<function, Reduction>) -> vec3<u32> {
  var counts = vec3<u32>(0u);
  for (var element = first + localIndex; element < end; element += WorkgroupSize) {
    let value = loadAttention(element);
    let valueClass = classifyValue(value);
    if (valueClass == VALUE_FINITE) {
      reduceQuad(vec4<u32>(bitcast<u32>(value)), reduction);
    }
    counts += vec3<u32>(vec3<bool>(valueClass == VALUE_NAN, valueClass == VALUE_POS_INF, valueClass == VALUE_NEG_INF));
  }
  return counts;
}

@compute @workgroup_size(WorkgroupSize)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  if (localIndex == 0u) {
    atomicStore(&localMinKeyComplement, 0u);
    atomicStore(&localMaxKey, 0u);
    for (var k = 0u; k < 3u; k++) {
      atomicStore(&localNonFiniteCounts[k], 0u);
    }
    atomicStore(&localSawNonFinite, 0u);
  }
  workgroupBarrier();
  let block = blockOf(workgroupId.x + workgroupId.y * workgroupCounts.x);
  var reduction = EMPTY_REDUCTION;
  // The block's pieces: runs of consecutive elements (a row of the region, or the whole block when rows are whole).
  for (var value = block.x; value < block.y; value = nextPiece(value, block.y)) {
    let piece = pieceOf(value, block.y);
    let span = quadSpan(piece);
    for (var element = piece.x + localIndex; element < span.x; element += WorkgroupSize) {
      reduceQuad(vec4<u32>(bitcast<u32>(loadAttention(element))), &reduction);
    }
    // Four quads per step, WorkgroupSize apart (each still read by neighbouring invocations together), then the
    // rest one by one: a loop step costs a software adapter about as much as a load.
    var quad = span.y + localIndex;
    for (; quad + 3u * WorkgroupSize < span.z; quad += 4u * WorkgroupSize) {
      reduceQuads(loadQuad(quad), loadQuad(quad + WorkgroupSize), loadQuad(quad + 2u * WorkgroupSize), loadQuad(quad + 3u * WorkgroupSize), &reduction);
    }
    for (; quad < span.z; quad += WorkgroupSize) {
      reduceQuad(loadQuad(quad), &reduction);
    }
    for (var element = span.w + localIndex; element < piece.y; element += WorkgroupSize) {
      reduceQuad(vec4<u32>(bitcast<u32>(loadAttention(element))), &reduction);
    }
  }
  if (sawNonFinite(reduction)) {
    atomicStore(&localSawNonFinite, 1u);
  }
  workgroupBarrier();
  // The same for every invocation of the workgroup, which walk again by single values, not by the quads they read.
  if (atomicLoad(&localSawNonFinite) != 0u) {
    reduction = EMPTY_REDUCTION;
    var counts = vec3<u32>(0u);
    for (var value = block.x; value < block.y; value = nextPiece(value, block.y)) {
      let piece = pieceOf(value, block.y);
      counts += reduceExactly(piece.x, piece.y, localIndex, &reduction);
    }
    for (var k = 0u; k < 3u; k++) {
      if (counts[k] != 0u) {
        atomicAdd(&localNonFiniteCounts[k], counts[k]);
      }
    }
  }
  let keys = extremeKeys(reduction);
  atomicMax(&localMaxKey, keys.x);
  atomicMax(&localMinKeyComplement, keys.y);
  workgroupBarrier();
  if (localIndex == 0u) {
    atomicMax(&stats[STATS_MAX_KEY], atomicLoad(&localMaxKey));
    atomicMax(&stats[STATS_MIN_KEY_COMPLEMENT], atomicLoad(&localMinKeyComplement));
    var nonFiniteCount = 0u;
    for (var k = 0u; k < 3u; k++) {
      let count = atomicLoad(&localNonFiniteCounts[k]);
      nonFiniteCount += count;
      atomicAdd(&stats[STATS_NAN_COUNT + k], count);
    }
    atomicAdd(&stats[STATS_FINITE_COUNT], block.y - block.x - nonFiniteCount);
  }
}
