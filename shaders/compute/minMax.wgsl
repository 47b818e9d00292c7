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
// Per value the first walk takes only the order key and two maxima: non-finite values are not masked out there,
// since their keys lie outside the finite ones (+inf and +NaN above the key of the largest finite float, -inf and
// -NaN below that of the smallest), so the extreme keys tell whether the block held any. A workgroup whose block did
// walks it a second time, exactly: non-finite values skipped for min and max, counted by kind (rare: a map's
// non-finite values are usually masked cells, which the colour scale ignores anyway). The finite count is the
// block's size less those.
// The finite count is the block's size less those.

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

// One invocation's running reduction, four values wide (one per component of a quad; a single value fills all four).
struct Reduction {
  maxKey: vec4<u32>,
  minKeyComplement: vec4<u32>,
}

// Keys beyond the finite floats': orderKey of +inf (and above it, +NaN), and of -inf (and below it, -NaN).
const POS_INF_KEY: u32 = 0xff800000u;
const NEG_INF_KEY: u32 = 0x007fffffu;

// A u32 that orders like the float whose bits are `bits`: larger float, larger key. Negative floats (sign bit set)
// have all bits flipped, others only the sign bit: bits ^ (arithmetic sign mask | sign bit).
fn orderKeys(bits: vec4<u32>) -> vec4<u32> {
  return bits ^ (bitcast<vec4<u32>>(bitcast<vec4<i32>>(bits) >> vec4<u32>(31u)) | vec4<u32>(0x80000000u));
}

// Adds four values (f32 bit patterns), finite or not, to `reduction`.
fn reduceQuad(bits: vec4<u32>, reduction: ptr<function, Reduction>) {
  let keys = orderKeys(bits);
  (*reduction).maxKey = max((*reduction).maxKey, keys);
  (*reduction).minKeyComplement = max((*reduction).minKeyComplement, ~keys);
}

// The exact walk of elements [first, end) taken by this invocation (interleaved, as in regionBlocks.wgsl): adds the
// finite values to the scalar keys in `reduction` (component x) and returns the counts of NaN, +inf and -inf.
fn reduceExactly(first: u32, end: u32, localIndex: u32, reduction: ptr<function, Reduction>) -> vec3<u32> {
  var counts = vec3<u32>(0u);
  for (var element = first + localIndex; element < end; element += WorkgroupSize) {
    let value = loadAttention(element);
    let valueClass = classifyValue(value);
    if (valueClass == VALUE_FINITE) {
      let key = orderKeys(vec4<u32>(bitcast<u32>(value))).x;
      (*reduction).maxKey.x = max((*reduction).maxKey.x, key);
      (*reduction).minKeyComplement.x = max((*reduction).minKeyComplement.x, ~key);
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
  var reduction = Reduction(vec4<u32>(0u), vec4<u32>(0u));
  // The block's pieces: runs of consecutive elements (a row of the region, or the whole block when rows are whole).
  for (var value = block.x; value < block.y; value = nextPiece(value, block.y)) {
    let piece = pieceOf(value, block.y);
    let span = quadSpan(piece);
    for (var element = piece.x + localIndex; element < span.x; element += WorkgroupSize) {
      reduceQuad(vec4<u32>(bitcast<u32>(loadAttention(element))), &reduction);
    }
    for (var quad = span.y + localIndex; quad < span.z; quad += WorkgroupSize) {
      reduceQuad(loadQuad(quad), &reduction);
    }
    for (var element = span.w + localIndex; element < piece.y; element += WorkgroupSize) {
      reduceQuad(vec4<u32>(bitcast<u32>(loadAttention(element))), &reduction);
    }
  }
  let maxKeys = reduction.maxKey;
  let minKeys = ~reduction.minKeyComplement;
  if (any(maxKeys >= vec4<u32>(POS_INF_KEY)) || any(minKeys <= vec4<u32>(NEG_INF_KEY))) {
    atomicStore(&localSawNonFinite, 1u);
  }
  workgroupBarrier();
  // The same for every invocation of the workgroup, which walk again by single values, not by the quads they read.
  if (atomicLoad(&localSawNonFinite) != 0u) {
    reduction = Reduction(vec4<u32>(0u), vec4<u32>(0u));
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
  let finalMaxKeys = reduction.maxKey;
  let finalMinKeyComplements = reduction.minKeyComplement;
  atomicMax(&localMaxKey, max(max(finalMaxKeys.x, finalMaxKeys.y), max(finalMaxKeys.z, finalMaxKeys.w)));
  atomicMax(
    &localMinKeyComplement,
    max(max(finalMinKeyComplements.x, finalMinKeyComplements.y), max(finalMinKeyComplements.z, finalMinKeyComplements.w)),
  );
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
