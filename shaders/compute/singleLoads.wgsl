// No quad loads (see quadLoads.wgsl): for float16 storage (a word holds two values), for maps under 16 bytes, and
// for maps whose quads would not line up (head mean over maps at offsets that differ modulo 4).
const QuadLoads: bool = false;

// Never called: kernels take no quads when QuadLoads is false.
fn loadQuad(quad: u32) -> vec4<u32> {
  return vec4<u32>(0u);
}

// Elements [piece.x, piece.y) as quadSpan() in quadLoads.wgsl splits them, here every value single.
fn quadSpan(piece: vec2<u32>) -> vec4<u32> {
  return vec4<u32>(piece.y, 0u, 0u, piece.y);
}
