// MinMaxPass, step 2 of 2: turns the order keys that minMax.wgsl left in the stats buffer into f32 min and max
// (words 6 and 7), which the histogram and the render passes read. With no finite value in the region both are NaN.
// Needs common/finite.wgsl. Dispatch: one workgroup of one invocation.

// Stats: 8 words (see minMax.wgsl); words 6 and 7 are written here as f32 bit patterns.
@group(0) @binding(0) var<storage, read_write> stats: array<u32, 8>;

// Inverse of orderKey(bits) in minMax.wgsl (a negative float's bits all flipped, another's sign bit set).
fn valueOfKey(key: u32) -> u32 {
  return select(~key, key & 0x7fffffffu, (key & 0x80000000u) != 0u);
}

// One invocation: decode the two keys.
@compute @workgroup_size(1)
fn main() {
  // Word 2: finite count; words 0 and 1: complemented min key and max key; words 6 and 7: min and max.
  if (stats[2] == 0u) {
    stats[6] = nanBits;
    stats[7] = nanBits;
    return;
  }
  stats[6] = valueOfKey(~stats[0]);
  stats[7] = valueOfKey(stats[1]);
}
