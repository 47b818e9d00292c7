// No quad loads for the region passes (see regionBlocks.wgsl): for float16 storage, and for maps under 16 bytes.
const QuadLoads: bool = false;

// Never called: quadSpan() gives no quads when QuadLoads is false.
fn loadQuad(quad: u32) -> vec4<u32> {
  return vec4<u32>(0u);
}
