// How the region passes (minMax.wgsl, histogram.wgsl) split a rectangular region of a map between workgroups and
// walk it. Concatenated after the load prefix, common/finite.wgsl and one of quadLoads.wgsl / singleLoads.wgsl.
//
// attention (binding 0, from the prefix): the map row-major, one piece of the region after the other. A piece is a
// run of consecutive elements: one row of the region, or the whole region when its rows are whole rows of the map.
//
// Workgroup w reads the region's values [w * blockValues, (w + 1) * blockValues) in row-major order, its
// invocations interleaved: invocation i takes quad (or value) i, i + WorkgroupSize, ... of each piece. So each step of
// a workgroup reads WorkgroupSize neighbouring quads (16-byte loads, coalesced on a GPU), and on a software adapter,
// where a workgroup is one CPU thread, each thread streams its own contiguous block and no two threads share cache
// lines. Quads, and quadSpan(), which splits a piece into single values and quads: see quadLoads.wgsl.

// Invocations per workgroup (src/gpu/workgroupShape.ts chooses it per adapter).
override WorkgroupSize: u32 = 256u;

struct RegionParams {
  regionStart: u32, // element index in `attention` of the region's first value
  pieceLength: u32, // values per piece
  pieceStride: u32, // elements from the start of one piece to the next (the map's row length)
  valueCount: u32, // values in the region
  blockValues: u32, // values per workgroup (the last workgroup may have fewer)
}

// Region, see RegionParams.
@group(0) @binding(1) var<uniform> params: RegionParams;

// Region values [x, y) of workgroup `workgroupIndex`.
fn blockOf(workgroupIndex: u32) -> vec2<u32> {
  let first = min(workgroupIndex * params.blockValues, params.valueCount);
  return vec2<u32>(first, min(first + params.blockValues, params.valueCount));
}

// Elements [x, y) of `attention` from region value `value` to the end of its piece or to `blockEnd`.
fn pieceOf(value: u32, blockEnd: u32) -> vec2<u32> {
  let offset = value % params.pieceLength;
  let first = params.regionStart + (value / params.pieceLength) * params.pieceStride + offset;
  return vec2<u32>(first, first + min(params.pieceLength - offset, blockEnd - value));
}

// The region value after the piece that holds `value`, or `blockEnd`.
fn nextPiece(value: u32, blockEnd: u32) -> u32 {
  return min(blockEnd, (value / params.pieceLength + 1u) * params.pieceLength);
}
