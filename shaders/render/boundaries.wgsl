// Boundary lines over a heatmap: phone and word boundaries as quads of constant pixel width, so they stay crisp
// at every zoom. One instance per line; 6 vertices (two triangles) per instance.

struct BoundaryParams {
  scale: vec2<f32>,        // map -> viewport pixels: px = map * scale + offset (axis-aligned pan/zoom)
  offset: vec2<f32>,
  viewportSize: vec2<f32>, // width, height in pixels
  mapSize: vec2<f32>,      // columns, rows in frames: lines span the map, not the whole viewport
  phoneColor: vec4<f32>,
  wordColor: vec4<f32>,
  phoneWidth: f32,         // line widths in pixels
  wordWidth: f32,
}

struct BoundaryLine {
  position: f32, // in frames (frame f covers [f, f + 1)): a boundary at a frame's centre is f + 0.5
  axis: u32,     // 0: vertical line at column `position`; 1: horizontal line at row `position`
  style: u32,    // 0: phone boundary; 1: word boundary
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: BoundaryParams;
@group(0) @binding(1) var<storage, read> lines: array<BoundaryLine>;

struct VertexOut {
  @builtin(position) position: vec4<f32>,
  @location(0) @interpolate(flat) style: u32,
}

@vertex
fn vertexMain(@builtin(vertex_index) vertex: u32, @builtin(instance_index) instance: u32) -> VertexOut {
  let line = lines[instance];
  let width = select(params.phoneWidth, params.wordWidth, line.style == 1u);
  // Quad corners: (along, across) in {0,1} x {-0.5, 0.5}
  let corner = array<vec2<f32>, 6>(vec2(0.0, -0.5), vec2(1.0, -0.5), vec2(0.0, 0.5), vec2(0.0, 0.5), vec2(1.0, -0.5), vec2(1.0, 0.5))[vertex];
  var pixel: vec2<f32>;
  if (line.axis == 0u) {
    let x = line.position * params.scale.x + params.offset.x;
    let y = mix(params.offset.y, params.mapSize.y * params.scale.y + params.offset.y, corner.x);
    pixel = vec2<f32>(x + corner.y * width, y);
  } else {
    let y = line.position * params.scale.y + params.offset.y;
    let x = mix(params.offset.x, params.mapSize.x * params.scale.x + params.offset.x, corner.x);
    pixel = vec2<f32>(x, y + corner.y * width);
  }
  var out: VertexOut;
  out.position = vec4<f32>(pixel.x / params.viewportSize.x * 2.0 - 1.0, 1.0 - pixel.y / params.viewportSize.y * 2.0, 0.0, 1.0);
  out.style = line.style;
  return out;
}

@fragment
fn fragmentMain(in: VertexOut) -> @location(0) vec4<f32> {
  return select(params.phoneColor, params.wordColor, in.style == 1u);
}
