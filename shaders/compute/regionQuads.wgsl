// Quad loads for the region passes (see regionBlocks.wgsl), for float32 storage: `attentionQuads` is bound to the
// same bytes as `attention` (binding 0), so quad q holds elements 4q .. 4q + 3.
const QuadLoads: bool = true;

// The map again, four f32 bit patterns per element.
@group(0) @binding(4) var<storage, read> attentionQuads: array<vec4<u32>>;

// Elements 4 * quad .. 4 * quad + 3 of `attention`, as f32 bit patterns.
fn loadQuad(quad: u32) -> vec4<u32> {
  return attentionQuads[quad];
}
