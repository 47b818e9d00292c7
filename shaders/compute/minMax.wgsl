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
// Per value the first walk takes only a signed key (three integer operations) and its signed max and min, four quads
// per loop step: non-finite values are not masked out there, since their keys lie outside the finite ones (+inf and
// +NaN above the key of the largest finite float, -inf and -NaN below that of the smallest), so the extremes tell
// whether the block held any. A workgroup whose block did walks it a second time, exactly: non-finite values skipped
// for min and max, counted by kind (rare: a map's non-finite values are usually masked cells, which the colour scale
// ignores anyway). The finite count is the block's size less those.

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
// the extremes of the values' signed keys (signedKey), reduced with signed integer max and min, which an emulator
// does in fewer instructions than unsigned ones.
struct Reduction {
  maxKey: vec4<i32>,
  minKey: vec4<i32>,
}

const EMPTY_REDUCTION = Reduction(vec4<i32>(-2147483647 - 1), vec4<i32>(2147483647));

// Signed keys at and beyond the finite floats': +inf's (and above it, +NaN's), and -inf's (and below it, -NaN's).
const POS_INF_SIGNED_KEY: i32 = 0x7f800000;
const NEG_INF_SIGNED_KEY: i32 = -2139095041; // bits 0x807fffff

// An i32 that orders like the float whose bits are `bits`: larger float, larger key. A negative float (sign bit
// set) has its other 31 bits flipped. The stats buffer's orderKey(bits) is this with the sign bit flipped, a u32
// that orders the same way (a negative float's bits all flipped, another's sign bit set).
fn signedKeys(bits: vec4<u32>) -> vec4<i32> {
  let signed = bitcast<vec4<i32>>(bits);
  return signed ^ bitcast<vec4<i32>>(bitcast<vec4<u32>>(signed >> vec4<u32>(31u)) >> vec4<u32>(1u));
}

// Adds four values (f32 bit patterns), finite or not, to `reduction`.
fn reduceQuad(bits: vec4<u32>, reduction: ptr<function, Reduction>) {
  let keys = signedKeys(bits);
  (*reduction).maxKey = max((*reduction).maxKey, keys);
  (*reduction).minKey = min((*reduction).minKey, keys);
}

// Adds four quads at once: their extremes first, then one update of `reduction` (fewer dependent steps).
fn reduceQuads(a: vec4<u32>, b: vec4<u32>, c: vec4<u32>, d: vec4<u32>, reduction: ptr<function, Reduction>) {
  let ka = signedKeys(a);
  let kb = signedKeys(b);
  let kc = signedKeys(c);
  let kd = signedKeys(d);
  (*reduction).maxKey = max((*reduction).maxKey, max(max(ka, kb), max(kc, kd)));
  (*reduction).minKey = min((*reduction).minKey, min(min(ka, kb), min(kc, kd)));
}

// The reduction's largest order key and its smallest one, complemented: the signed keys with the sign bit flipped.
// 0 and 0 when it saw no value (the neutral start of the stats words).
fn extremeKeys(reduction: Reduction) -> vec2<u32> {
  let maxKey = max(max(reduction.maxKey.x, reduction.maxKey.y), max(reduction.maxKey.z, reduction.maxKey.w));
  let minKey = min(min(reduction.minKey.x, reduction.minKey.y), min(reduction.minKey.z, reduction.minKey.w));
  return vec2<u32>(bitcast<u32>(maxKey) ^ 0x80000000u, ~(bitcast<u32>(minKey) ^ 0x80000000u));
}

// Whether the reduction saw a non-finite value: +inf or +NaN (keys at or above +inf's), -inf or -NaN (at or below
// -inf's).
fn sawNonFinite(reduction: Reduction) -> bool {
  return any(reduction.maxKey >= vec4<i32>(POS_INF_SIGNED_KEY)) || any(reduction.minKey <= vec4<i32>(NEG_INF_SIGNED_KEY));
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
