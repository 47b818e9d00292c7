// ColorRangePass: the values the bottom and top colours of each map stand for, from the maps' stats buffers
// (MinMaxPass) and histograms (HistogramPass), computed on the GPU so that a frame can be drawn in the same submit as
// its maps. The rule is src/view/colorScale.ts's makeColorScale (low and high), which is the reference:
// - min to max of the finite values (0 to 0 when there is none);
// - percentile: the clip quantiles of the values, each bin's count spread evenly over its interval (when max > min);
// - symmetric: -b to b with b the largest magnitude (1 when that is 0);
// - log (not symmetric, max > 0): low raised to max x 1e-6, as the heatmap shader clamps.
// Shared: one range over all maps, written for every map; else each map its own.
// Dispatch: ceil(count / 64) workgroups (shared: 1).

struct RangeParams {
  count: u32, // maps
  bins: u32, // histogram bins per map (0 without a percentile)
  sharedRange: u32, // 1: one range over all maps
  symmetric: u32, // 1: symmetric about 0
  logScale: u32, // 1: log floor
  percentile: u32, // 1: clip quantiles
  clipLow: f32, // quantiles, fractions in [0, 1]
  clipHigh: f32,
}

// Each map's stats buffer, 8 words apiece: word 2 finite count, 6 min and 7 max (f32 bits); see minMax.wgsl.
@group(0) @binding(0) var<storage, read> stats: array<u32>;
// Each map's histogram, `bins` counts apiece, between its min and max (unused without a percentile).
@group(0) @binding(1) var<storage, read> histograms: array<u32>;
@group(0) @binding(2) var<uniform> params: RangeParams;
// Low and high per map, in map order: what the heatmap pass binds as its value range.
@group(0) @binding(3) var<storage, read_write> ranges: array<f32>;

const LOG_FLOOR_RATIO: f32 = 1e-6;
const BISECTION_STEPS: u32 = 48u;

fn hasFinite(map: u32) -> bool {
  return stats[map * 8u + 2u] > 0u;
}

fn minOf(map: u32) -> f32 {
  return bitcast<f32>(stats[map * 8u + 6u]);
}

fn maxOf(map: u32) -> f32 {
  return bitcast<f32>(stats[map * 8u + 7u]);
}

// How many values of maps [first, last) lie below v, each bin's count spread evenly over its interval.
fn countBelow(first: u32, last: u32, v: f32) -> f32 {
  var sum = 0.0;
  for (var map = first; map < last; map++) {
    if (!hasFinite(map)) {
      continue;
    }
    let low = minOf(map);
    let width = (maxOf(map) - low) / f32(params.bins);
    for (var b = 0u; b < params.bins; b++) {
      let count = f32(histograms[map * params.bins + b]);
      if (count == 0.0) {
        continue;
      }
      let binLow = low + f32(b) * width;
      let binHigh = low + f32(b + 1u) * width;
      if (binHigh <= binLow) {
        sum += select(0.0, count, v >= binLow);
      } else {
        sum += count * clamp((v - binLow) / (binHigh - binLow), 0.0, 1.0);
      }
    }
  }
  return sum;
}

// The `fraction` quantile of the values of maps [first, last) between lo and hi (their min and max), by bisection.
fn quantile(first: u32, last: u32, fraction: f32, total: f32, lo0: f32, hi0: f32) -> f32 {
  let wanted = clamp(fraction, 0.0, 1.0) * total;
  var lo = lo0;
  var hi = hi0;
  for (var i = 0u; i < BISECTION_STEPS; i++) {
    let mid = lo + (hi - lo) * 0.5;
    if (countBelow(first, last, mid) >= wanted) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

// [low, high] of maps [first, last) together.
fn rangeOf(first: u32, last: u32) -> vec2<f32> {
  var found = false;
  var low = 0.0;
  var high = 0.0;
  for (var map = first; map < last; map++) {
    if (!hasFinite(map)) {
      continue;
    }
    low = select(minOf(map), min(low, minOf(map)), found);
    high = select(maxOf(map), max(high, maxOf(map)), found);
    found = true;
  }
  if (params.percentile == 1u && high > low) {
    var total = 0.0;
    for (var map = first; map < last; map++) {
      if (hasFinite(map)) {
        for (var b = 0u; b < params.bins; b++) {
          total += f32(histograms[map * params.bins + b]);
        }
      }
    }
    let qLow = quantile(first, last, params.clipLow, total, low, high);
    let qHigh = quantile(first, last, params.clipHigh, total, low, high);
    low = qLow;
    high = qHigh;
  }
  if (params.symmetric == 1u) {
    var bound = max(abs(low), abs(high));
    if (bound == 0.0) {
      bound = 1.0;
    }
    return vec2<f32>(-bound, bound);
  }
  if (params.logScale == 1u && high > 0.0) {
    return vec2<f32>(max(low, high * LOG_FLOOR_RATIO), high);
  }
  return vec2<f32>(low, high);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let index = id.x;
  if (params.sharedRange == 1u) {
    if (index != 0u) {
      return;
    }
    let range = rangeOf(0u, params.count);
    for (var map = 0u; map < params.count; map++) {
      ranges[map * 2u] = range.x;
      ranges[map * 2u + 1u] = range.y;
    }
    return;
  }
  if (index >= params.count) {
    return;
  }
  let range = rangeOf(index, index + 1u);
  ranges[index * 2u] = range.x;
  ranges[index * 2u + 1u] = range.y;
}
