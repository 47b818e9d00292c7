// Head atlas, step 1 of 2: the phonetic statistics of every query row of every map. atlasReduce.wgsl sums them.
//
// Concatenated after common/loadFloat32.wgsl or common/loadFloat16Packed.wgsl, which bind `attention` (group 0,
// binding 0): `maps` square maps of frames x frames values, row-major, back to back, map 0 at params.elementOffset.
// Rows are query frames q and columns key frames k. P[q, k] is the softmax of row q's raw scores over all keys
// (params.softmax = 1), or the stored value (params.softmax = 0, for tensors already softmaxed). A value that is
// non-finite (a masked -inf score, a NaN) or, when stored, negative, has probability 0.
//
// One workgroup handles query frame q = params.queryStart + qi of map m and writes one record of
// params.recordWidth f32 at rowRecords[(m * queryFrames + qi) * recordWidth]:
//   [0] entropy           -Σ_k P ln P                  (nats; 0 ln 0 = 0)
//   [1] distance          Σ_k P |k - q|                 (frames; the reduce step turns it into ms)
//   [2] local share       Σ_{|k - q| <= 1} P
//   [3] same-phone share  Σ_{k in q's phone segment} P (0 when q lies in no phone)
//   [4] outside share     Σ_{k outside [queryStart, queryEnd)} P
//   [5 + l] label mass    Σ_{k in segments of label l} P, for every label l (phones, then classes)

// Threads per workgroup; must be a power of two (tree reduction).
override WorkgroupSize: u32 = 64u;

struct Params {
  // Index of map 0's first value within `attention`, in elements.
  elementOffset: u32,
  // Frames per map side (rows = cols).
  frames: u32,
  // Query frames: [queryStart, queryEnd).
  queryStart: u32,
  queryEnd: u32,
  // 1: P is the softmax of the row; 0: P is the stored value.
  softmax: u32,
  // Labels in the range table (phones, then classes).
  labels: u32,
  // f32 per record: 5 + labels.
  recordWidth: u32,
}

@group(0) @binding(1) var<uniform> params: Params;
// Per frame: the index of the phone segment it lies in, or NO_SEGMENT.
@group(0) @binding(2) var<storage, read> frameSegment: array<u32>;
// Key frames of each label: keyOffsets[l] .. keyOffsets[l + 1] index range pairs (start, end exclusive) in
// keyRanges. keyOffsets has labels + 1 entries and comes first, then the pairs.
@group(0) @binding(3) var<storage, read> keyRanges: array<u32>;
@group(0) @binding(4) var<storage, read_write> rowRecords: array<f32>;

const NO_SEGMENT: u32 = 0xffffffffu;

var<workgroup> partial: array<vec4<f32>, WorkgroupSize>;
var<workgroup> partialOutside: array<f32, WorkgroupSize>;
var<workgroup> rowShift: f32;
var<workgroup> rowScale: f32;

fn isFiniteValue(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn loadValue(rowStart: u32, k: u32) -> f32 {
  return loadAttention(rowStart + k);
}

// The probability of value x once the row's shift and scale are known.
fn probability(x: f32) -> f32 {
  if (!isFiniteValue(x)) {
    return 0.0;
  }
  if (params.softmax == 1u) {
    return exp(x - rowShift) * rowScale;
  }
  return max(x, 0.0);
}

// Sums partial[] (and partialOutside[]) into slot 0. Every thread must call it.
fn reduceWorkgroup(lane: u32) {
  workgroupBarrier();
  for (var stride = WorkgroupSize / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      partial[lane] += partial[lane + stride];
      partialOutside[lane] += partialOutside[lane + stride];
    }
    workgroupBarrier();
  }
}

// Dispatch: queryFrames x maps workgroups.
@compute @workgroup_size(WorkgroupSize)
fn main(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let qi = workgroup.x;
  let map = workgroup.y;
  let q = params.queryStart + qi;
  let frames = params.frames;
  let rowStart = params.elementOffset + (map * frames + q) * frames;

  // Softmax in one sweep (the "online" softmax): each thread keeps its largest finite score m and Σ exp(x - m),
  // rescaling the sum when m grows; the tree then combines (m1, s1) and (m2, s2) into
  // (m, s1 exp(m1 - m) + s2 exp(m2 - m)).
  if (params.softmax == 1u) {
    var largest = bitcast<f32>(0xff7fffffu); // -FLT_MAX: exp(-FLT_MAX - m) is 0 for any finite m
    var total = 0.0;
    for (var k = lane; k < frames; k += WorkgroupSize) {
      let x = loadValue(rowStart, k);
      if (isFiniteValue(x)) {
        if (x > largest) {
          total = total * exp(largest - x) + 1.0;
          largest = x;
        } else {
          total += exp(x - largest);
        }
      }
    }
    partial[lane] = vec4<f32>(largest, total, 0.0, 0.0);
    workgroupBarrier();
    for (var stride = WorkgroupSize / 2u; stride > 0u; stride /= 2u) {
      if (lane < stride) {
        let a = partial[lane];
        let b = partial[lane + stride];
        let m = max(a.x, b.x);
        partial[lane] = vec4<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m), 0.0, 0.0);
      }
      workgroupBarrier();
    }
    if (lane == 0u) {
      rowShift = partial[0].x;
      // A row with no finite score has no distribution: every P is 0.
      rowScale = select(0.0, 1.0 / partial[0].y, partial[0].y > 0.0);
    }
  } else if (lane == 0u) {
    rowShift = 0.0;
    rowScale = 1.0;
  }
  workgroupBarrier();

  let ownSegment = frameSegment[q];
  var sums = vec4<f32>(0.0);
  var outside = 0.0;
  for (var k = lane; k < frames; k += WorkgroupSize) {
    let p = probability(loadValue(rowStart, k));
    if (p > 0.0) {
      let distance = max(k, q) - min(k, q);
      sums += vec4<f32>(
        -p * log(p),
        p * f32(distance),
        select(0.0, p, distance <= 1u),
        select(0.0, p, ownSegment != NO_SEGMENT && frameSegment[k] == ownSegment),
      );
      outside += select(0.0, p, k < params.queryStart || k >= params.queryEnd);
    }
  }
  partial[lane] = sums;
  partialOutside[lane] = outside;
  reduceWorkgroup(lane);

  let record = (map * (params.queryEnd - params.queryStart) + qi) * params.recordWidth;
  if (lane == 0u) {
    let total = partial[0];
    rowRecords[record] = total.x;
    rowRecords[record + 1u] = total.y;
    rowRecords[record + 2u] = total.z;
    rowRecords[record + 3u] = total.w;
    rowRecords[record + 4u] = partialOutside[0];
  }
  // The mass on each label: threads take labels in turn and sum their key ranges serially.
  for (var label = lane; label < params.labels; label += WorkgroupSize) {
    var mass = 0.0;
    for (var r = keyRanges[label]; r < keyRanges[label + 1u]; r++) {
      let pair = params.labels + 1u + 2u * r;
      for (var k = keyRanges[pair]; k < keyRanges[pair + 1u]; k++) {
        mass += probability(loadValue(rowStart, k));
      }
    }
    rowRecords[record + 5u + label] = mass;
  }
}
