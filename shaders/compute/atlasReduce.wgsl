// Head atlas, step 2 of 2: sums atlasRows.wgsl's row records over query frames, per map.
//
// Per map the output holds params.outputWidth f32 = 5 + phones² + classes²:
//   [0..5)                   the five row statistics summed over every query frame (atlasRows.wgsl's order)
//   [5 + a * phones + b]     Σ_{q in phone label a} (mass of row q on phone label b)
//   then classes x classes   the same over class labels (row records' label slots phones + c)
// One thread per output value and map; it adds its rows serially with Kahan summation, so a sum over 1500 frames
// keeps float32's precision.

override WorkgroupSize: u32 = 64u;

struct Params {
  // Query frames per map (rows of row records).
  queryFrames: u32,
  // f32 per row record: 5 + phones + classes.
  recordWidth: u32,
  phones: u32,
  classes: u32,
  // Values per map in the output.
  outputWidth: u32,
  // Output record of map 0.
  firstOutputMap: u32,
  maps: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rowRecords: array<f32>;
// Query frames of each label, relative to queryStart: queryOffsets[l] .. queryOffsets[l + 1] index range pairs.
// Same layout as atlasRows.wgsl's keyRanges: phones + classes + 1 offsets, then the pairs.
@group(0) @binding(2) var<storage, read> queryRanges: array<u32>;
@group(0) @binding(3) var<storage, read_write> sums: array<f32>;

// Dispatch: ceil(outputWidth / WorkgroupSize) x maps workgroups.
@compute @workgroup_size(WorkgroupSize)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let index = id.x;
  let map = id.y;
  if (index >= params.outputWidth || map >= params.maps) {
    return;
  }
  let labels = params.phones + params.classes;
  // Which column of the records, and over which query ranges (a label, or every query frame).
  var column = index;
  var label = 0xffffffffu;
  if (index >= 5u) {
    let pair = index - 5u;
    let phonePairs = params.phones * params.phones;
    if (pair < phonePairs) {
      label = pair / params.phones;
      column = 5u + pair % params.phones;
    } else {
      let classPair = pair - phonePairs;
      label = params.phones + classPair / params.classes;
      column = 5u + params.phones + classPair % params.classes;
    }
  }
  var total = 0.0;
  var carry = 0.0;
  let base = map * params.queryFrames;
  if (label == 0xffffffffu) {
    for (var qi = 0u; qi < params.queryFrames; qi++) {
      let y = rowRecords[(base + qi) * params.recordWidth + column] - carry;
      let t = total + y;
      carry = (t - total) - y;
      total = t;
    }
  } else {
    for (var r = queryRanges[label]; r < queryRanges[label + 1u]; r++) {
      let pair = labels + 1u + 2u * r;
      for (var qi = queryRanges[pair]; qi < queryRanges[pair + 1u]; qi++) {
        let y = rowRecords[(base + qi) * params.recordWidth + column] - carry;
        let t = total + y;
        carry = (t - total) - y;
        total = t;
      }
    }
  }
  sums[(params.firstOutputMap + map) * params.outputWidth + index] = total;
}
