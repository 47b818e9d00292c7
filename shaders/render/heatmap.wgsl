// Heatmap: one attention map (or any f32 matrix) colour-mapped into a viewport.
// Drawn as one full-screen triangle clipped to the viewport; each fragment finds its map cell through
// viewportToMap, so pan and zoom change a uniform, never the data.
// `values` may be a pyramid level (src/compute/pyramid.ts): the map block-pooled over levelFactor x levelFactor
// frames. Positions stay in frames (so the map's edges and the boundary lines are where they are at full
// resolution); level cell c covers frames [c * levelFactor, (c + 1) * levelFactor), cut at the map's edge.

struct HeatmapParams {
  viewportToMap: mat3x3<f32>, // viewport pixels (from its top-left) -> map (column, row) in frames; 48 bytes
  viewportOrigin: vec2<f32>,  // the viewport's top-left corner in framebuffer pixels
  mapSize: vec2<f32>,         // columns, rows of the map in frames
  clip: vec2<f32>,            // colour limits as fractions of [min, max]: (0, 1) spans the whole range
  scale: u32,                 // 0: linear, 1: log10 (values below max * 1e-6 clamp to the bottom colour)
  bilinear: u32,              // 0: nearest cell (each frame a visible cell), 1: bilinear between cell centres
  rangeWord: u32,             // index in valueRange of the minimum; the maximum follows it
  levelFactor: f32,           // frames per cell of `values` along each axis: 1 at full resolution
  levelSize: vec2<f32>,       // columns, rows of `values`: ceil(mapSize / levelFactor)
  background: vec4<f32>,      // colour outside the map
  nonFinite: vec4<f32>,       // colour of NaN / infinite cells, so they never take a colour from the scale
  windowOrigin: vec2<f32>,    // first column, row of the level that `values` holds (0, 0: the whole level)
  windowSize: vec2<f32>,      // columns, rows of the level that `values` holds (levelSize: the whole level)
}

// values: row-major [row][column] f32, rows x columns = windowSize.y x windowSize.x: the level's cells from
// windowOrigin on (src/view/pyramidWindow.ts: a cell zoomed into part of its map draws a window of its level)
@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<uniform> params: HeatmapParams;
// colormap: 256 x 1 RGBA, entry 0 for the lowest value
@group(0) @binding(2) var colormap: texture_2d<f32>;
// valueRange: min and max of the visible values at [rangeWord] and [rangeWord + 1]: the min/max compute pass's
// stats buffer (words 6 and 7) bound as it is, so the colour scale never makes a round trip through the CPU
@group(0) @binding(3) var<storage, read> valueRange: array<f32>;

@vertex
fn vertexMain(@builtin(vertex_index) index: u32) -> @builtin(position) vec4<f32> {
  // One triangle covering clip space: (-1,-1), (3,-1), (-1,3).
  let corner = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
  return vec4<f32>(corner * 2.0 - 1.0, 0.0, 1.0);
}

fn isFinite(value: f32) -> bool {
  // NaN fails every comparison; the bound is f32's largest finite value.
  return abs(value) <= 3.4028234663852886e38;
}

// Level cell (column, row), clamped to the level's edges as a whole level is, then read from the window. The window
// covers every cell a visible pixel reads; its own clamp only keeps off-screen pixels inside the buffer.
fn cellValue(column: i32, row: i32) -> f32 {
  let size = vec2<i32>(params.levelSize);
  let origin = vec2<i32>(params.windowOrigin);
  let window = vec2<i32>(params.windowSize);
  let c = clamp(clamp(column, 0, size.x - 1) - origin.x, 0, window.x - 1);
  let r = clamp(clamp(row, 0, size.y - 1) - origin.y, 0, window.y - 1);
  return values[u32(r) * u32(window.x) + u32(c)];
}

// `point` in frames; the level cell holding it, or (smooth) bilinear between level-cell centres.
fn sampleAt(point: vec2<f32>) -> f32 {
  let cell = point / params.levelFactor;
  if (params.bilinear == 0u) {
    return cellValue(i32(floor(cell.x)), i32(floor(cell.y)));
  }
  // Bilinear between cell centres (cell c's centre is at c + 0.5).
  let p = cell - 0.5;
  let base = vec2<i32>(floor(p));
  let f = p - floor(p);
  let top = mix(cellValue(base.x, base.y), cellValue(base.x + 1, base.y), f.x);
  let bottom = mix(cellValue(base.x, base.y + 1), cellValue(base.x + 1, base.y + 1), f.x);
  return mix(top, bottom, f.y);
}

const MAX_FOOTPRINT_SAMPLES: f32 = 4.0;

@fragment
fn fragmentMain(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
  let pixel = position.xy - params.viewportOrigin;
  let point = (params.viewportToMap * vec3<f32>(pixel, 1.0)).xy;
  if (point.x < 0.0 || point.y < 0.0 || point.x >= params.mapSize.x || point.y >= params.mapSize.y) {
    return params.background;
  }
  // Zoomed out, one pixel covers several cells: average up to 4 x 4 samples spread over the pixel's footprint
  // so that thin diagonals and single-frame peaks do not flicker in and out while panning. With the pyramid level
  // chosen for the zoom (src/view/pyramidLevel.ts) a pixel covers at most ~2 cells a side.
  let framesPerPixel = vec2<f32>(abs(params.viewportToMap[0].x), abs(params.viewportToMap[1].y));
  let samples = clamp(ceil(framesPerPixel / params.levelFactor), vec2<f32>(1.0), vec2<f32>(MAX_FOOTPRINT_SAMPLES));
  var sum = 0.0;
  var count = 0.0;
  for (var i = 0.0; i < samples.x; i += 1.0) {
    for (var j = 0.0; j < samples.y; j += 1.0) {
      let offset = (vec2<f32>(i, j) + 0.5) / samples - 0.5;
      let value = sampleAt(point + offset * framesPerPixel * step(vec2<f32>(1.5), samples));
      if (isFinite(value)) {
        sum += value;
        count += 1.0;
      }
    }
  }
  if (count == 0.0) {
    return params.nonFinite;
  }
  var value = sum / count;
  var low = valueRange[params.rangeWord];
  var high = valueRange[params.rangeWord + 1u];
  if (params.scale == 1u) {
    let floorValue = max(high, 1e-30) * 1e-6;
    value = log(max(value, floorValue)) / log(10.0);
    low = log(max(low, floorValue)) / log(10.0);
    high = log(max(high, floorValue)) / log(10.0);
  }
  let span = high - low;
  let clipLow = low + params.clip.x * span;
  let clipHigh = low + params.clip.y * span;
  let t = select(0.5, clamp((value - clipLow) / (clipHigh - clipLow), 0.0, 1.0), clipHigh > clipLow);
  return textureLoad(colormap, vec2<i32>(i32(round(t * 255.0)), 0), 0);
}
