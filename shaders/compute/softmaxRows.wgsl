// SoftmaxPass on a software adapter: one invocation per output row, each walking its row alone (no workgroup memory,
// no barriers), four values at a time. Concatenated after a load prefix, common/finite.wgsl, common/rowSoftmax.wgsl
// (RowStats and its flags), compute/quadLoads.wgsl or singleLoads.wgsl, and compute/softmaxParams.wgsl.
//
// Dispatch: ceil(outRows / WorkgroupSize) workgroups, folded into (x, y) when above 65535.
//
// Why this shape there: an emulator such as SwiftShader runs an invocation's vec4 as four SIMD registers across
// WorkgroupSize lanes and pays each lane's load separately (address, bounds check, access) whatever its width, each
// loop step, and each branch that the lanes of a group take differently (both sides run, masked). So the row is read
// as 16-byte quads (a quad costs about what one value does), and the per-value classification and branches of the
// GPU shape's statistics (rowSoftmax.wgsl) become selects on whole quads: each of the four components keeps its own
// running max and sum (the online softmax merge), rescaled only in the rare step where some component's max grows.
// The rows' statistics need no reduction between invocations, so no barrier. On a GPU this shape would be wrong
// (1500 threads for a 1500-row map, and neighbouring threads reading addresses a row apart); softmax.wgsl is the
// GPU's shape.
//
// Statistics and outputs follow rowSoftmax.wgsl (torch's rules for non-finite values): a NaN or +inf among the
// normalised columns makes the row NaN, -inf weighs 0, a row without a finite value is NaN.

// Invocations per workgroup: one SIMD group of the adapter (src/gpu/workgroupShape.ts); rows are independent.
override WorkgroupSize: u32 = 4u;

// Bits of -inf, which pad a single value to a quad: not finite, and neither NaN nor +inf, so it adds nothing to a
// row's max, sum or flags.
const NEG_INF_BITS: u32 = 0xff800000u;
// The most negative finite float: the max of a component that has seen no finite value.
const LOWEST_FLOAT: f32 = -0x1.fffffep+127f;
// exp(-RESCALE_FLOOR) is 0 in f32: differences of maxima are taken no lower, so that a component still at
// LOWEST_FLOAT cannot overflow the subtraction.
const RESCALE_FLOOR: f32 = 200.0;

// A row's statistics while it is read, four components wide: per component the max of its finite values, the sum of
// exp(x - that max), and whether it saw a NaN or +inf.
struct RowScan {
  maxValues: vec4<f32>,
  sums: vec4<f32>,
  sawNan: vec4<bool>,
  sawPosInf: vec4<bool>,
}

// Four values from four single loads.
fn loadFour(element: u32) -> vec4<u32> {
  return vec4<u32>(
    bitcast<u32>(loadAttention(element)),
    bitcast<u32>(loadAttention(element + 1u)),
    bitcast<u32>(loadAttention(element + 2u)),
    bitcast<u32>(loadAttention(element + 3u)),
  );
}

// One value, padded to a quad with -inf.
fn loadPadded(element: u32) -> vec4<u32> {
  return vec4<u32>(bitcast<u32>(loadAttention(element)), NEG_INF_BITS, NEG_INF_BITS, NEG_INF_BITS);
}

fn finiteOf(bits: vec4<u32>) -> vec4<bool> {
  return (bits & vec4<u32>(0x7f800000u)) != vec4<u32>(0x7f800000u);
}

// exp(oldMax - newMax) for maxima oldMax <= newMax, as 0 where the difference is below -RESCALE_FLOOR (without
// computing it).
fn rescale(oldMax: vec4<f32>, newMax: vec4<f32>) -> vec4<f32> {
  return exp(max(oldMax, newMax - vec4<f32>(RESCALE_FLOOR)) - newMax);
}

// Adds four values (f32 bit patterns) to the scan, component by component.
fn scanQuad(bits: vec4<u32>, scan: ptr<function, RowScan>) {
  let finite = finiteOf(bits);
  (*scan).sawNan |= !finite & ((bits & vec4<u32>(0x007fffffu)) != vec4<u32>(0u));
  (*scan).sawPosInf |= bits == vec4<u32>(0x7f800000u);
  let values = select(vec4<f32>(LOWEST_FLOAT), bitcast<vec4<f32>>(bits), finite);
  if (any(values > (*scan).maxValues)) {
    let maxValues = max((*scan).maxValues, values);
    (*scan).sums *= rescale((*scan).maxValues, maxValues);
    (*scan).maxValues = maxValues;
  }
  (*scan).sums += select(vec4<f32>(0.0), exp(values - (*scan).maxValues), finite);
}

// The statistics of attention elements [first, end).
fn scanRow(first: u32, end: u32) -> RowStats {
  var scan = RowScan(vec4<f32>(LOWEST_FLOAT), vec4<f32>(0.0), vec4<bool>(false), vec4<bool>(false));
  let span = quadSpan(vec2<u32>(first, end));
  var element = first;
  for (; element + 3u < span.x; element += 4u) {
    scanQuad(loadFour(element), &scan);
  }
  for (; element < span.x; element++) {
    scanQuad(loadPadded(element), &scan);
  }
  for (var quad = span.y; quad < span.z; quad++) {
    scanQuad(loadQuad(quad), &scan);
  }
  for (element = span.w; element < end; element++) {
    scanQuad(loadPadded(element), &scan);
  }
  let maxValue = max(max(scan.maxValues.x, scan.maxValues.y), max(scan.maxValues.z, scan.maxValues.w));
  let sum = dot(scan.sums, rescale(scan.maxValues, vec4<f32>(maxValue)));
  let flags = select(0u, ROW_HAS_NAN, any(scan.sawNan)) | select(0u, ROW_HAS_POS_INF, any(scan.sawPosInf));
  return RowStats(maxValue, sum, flags);
}

// The output of four values (f32 bit patterns) of a row whose statistics are `stats`: the values themselves without
// softmax, else softmaxOf() of each (rowSoftmax.wgsl), branch-free.
fn outputQuad(bits: vec4<u32>, stats: RowStats) -> vec4<u32> {
  if (params.mode == 0u) {
    return bits;
  }
  if (stats.flags != 0u || stats.sum == 0.0) {
    return vec4<u32>(nanBits);
  }
  // Only -inf can be non-finite here (NaN and +inf set a flag): it gets weight 0.
  return bitcast<vec4<u32>>(select(vec4<f32>(0.0), exp(bitcast<vec4<f32>>(bits) - stats.maxValue) / stats.sum, finiteOf(bits)));
}

// Writes the outputs of attention elements [first, end) to output[outFirst ...].
fn writeRow(first: u32, end: u32, outFirst: u32, stats: RowStats) {
  let span = quadSpan(vec2<u32>(first, end));
  let shift = outFirst - first; // output index of element e: e + shift (wrapping)
  var element = first;
  for (; element + 3u < span.x; element += 4u) {
    let out = outputQuad(loadFour(element), stats);
    output[element + shift] = out.x;
    output[element + 1u + shift] = out.y;
    output[element + 2u + shift] = out.z;
    output[element + 3u + shift] = out.w;
  }
  for (; element < span.x; element++) {
    output[element + shift] = outputQuad(loadPadded(element), stats).x;
  }
  for (var quad = span.y; quad < span.z; quad++) {
    let out = outputQuad(loadQuad(quad), stats);
    let outIndex = 4u * quad + shift;
    output[outIndex] = out.x;
    output[outIndex + 1u] = out.y;
    output[outIndex + 2u] = out.z;
    output[outIndex + 3u] = out.w;
  }
  for (element = span.w; element < end; element++) {
    output[element + shift] = outputQuad(loadPadded(element), stats).x;
  }
}

@compute @workgroup_size(WorkgroupSize)
fn main(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) workgroupCounts: vec3<u32>,
  @builtin(local_invocation_index) localIndex: u32,
) {
  let outRow = (workgroupId.x + workgroupId.y * workgroupCounts.x) * WorkgroupSize + localIndex;
  if (outRow >= params.outRows) {
    return;
  }
  let rowBase = params.elementOffset + (params.rowStart + outRow) * params.cols;
  var stats = RowStats(0.0, 1.0, 0u);
  if (params.mode == 1u) {
    stats = scanRow(rowBase + params.normStart, rowBase + params.normEnd);
  }
  writeRow(rowBase + params.colStart, rowBase + params.colStart + params.outCols, outRow * params.outCols, stats);
}
