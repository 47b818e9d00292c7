// Quad loads, for float32 storage: `attentionQuads` is bound to the same bytes as `attention` (binding 0), so quad q
// holds elements 4q .. 4q + 3. Kernels that read runs of neighbouring values (minMax.wgsl, histogram.wgsl,
// headMean.wgsl) take them four at a time: one 16-byte load per thread, coalesced on a GPU; on a software adapter
// a load costs a lane about what a whole quad does (per-lane addressing and a bounds check each), so a quad is
// about four times cheaper per value than a single. src/compute/quadPipelines.ts compiles the kernel with this file
// or with singleLoads.wgsl.
const QuadLoads: bool = true;

// The map again, four f32 bit patterns per element.
@group(0) @binding(4) var<storage, read> attentionQuads: array<vec4<u32>>;

// Elements 4 * quad .. 4 * quad + 3 of `attention`, as f32 bit patterns.
fn loadQuad(quad: u32) -> vec4<u32> {
  return attentionQuads[quad];
}

// How elements [piece.x, piece.y) are read: single values [piece.x, x), whole quads [y, z) (quad q is elements
// 4q .. 4q + 3), single values [w, piece.y). When no whole quad fits, every value is single.
fn quadSpan(piece: vec2<u32>) -> vec4<u32> {
  let quadFirst = (piece.x + 3u) / 4u;
  let quadEnd = piece.y / 4u;
  if (quadFirst >= quadEnd) {
    return vec4<u32>(piece.y, 0u, 0u, piece.y);
  }
  return vec4<u32>(quadFirst * 4u, quadFirst, quadEnd, quadEnd * 4u);
}
