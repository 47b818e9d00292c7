/**
 * The traffic separable pooling declares (src/compute/separablePool.ts: both stages' `kernelBytes`) against the
 * minimum (the maps read once, both outputs written once), for phones, words and k x k blocks of 1500-frame maps.
 * Counted, not timed: the numbers are the same on any adapter. Both stages run in the GPU's shape (one range per
 * thread) whatever the adapter; on a software adapter block pooling itself takes one-pass kernels instead.
 *
 *   npx tsx bench/node/poolBytes.ts
 */
import { createRangeBuffer, SeparablePool, type PoolRanges } from '../../src/compute/separablePool.ts';
import { createStorageBuffer } from '../../src/gpu/buffers.ts';
import { workCountsOf, workSince } from '../../src/gpu/workCounters.ts';
import { requestNodeAdapter } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';

const FRAMES = 1500;
const adapter = await requestNodeAdapter();
const device = await adapter.requestDevice({ requiredLimits: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize } });
const pool = await SeparablePool.create(device, readShaderSources(), 'PoolBytes');

/** Ranges of `size` frames tiling the axis: a buffer of segments, or k-frame blocks. */
function rangesOf(kind: 'segments' | 'blocks', size: number): PoolRanges {
  const count = Math.ceil(FRAMES / size);
  if (kind === 'blocks') return { kind: 'blocks', blockSize: size, count };
  const ranges = Array.from({ length: count }, (_, i) => ({ start: size * i, end: Math.min(FRAMES, size * (i + 1)) }));
  return { kind: 'buffer', ...createRangeBuffer(device, 'PoolBytes.ranges', ranges, FRAMES) };
}

const cases = [
  { label: 'phones of 5 frames', maps: 1, ranges: rangesOf('segments', 5) },
  { label: 'words of 50 frames', maps: 1, ranges: rangesOf('segments', 50) },
  { label: '4 x 4 blocks', maps: 8, ranges: rangesOf('blocks', 4) },
  { label: '16 x 16 blocks', maps: 8, ranges: rangesOf('blocks', 16) },
];
console.log('| case | maps | kernel bytes | minimum | ratio |\n|---|---|---|---|---|');
for (const { label, maps, ranges } of cases) {
  const cells = maps * ranges.count * ranges.count;
  const input = createStorageBuffer(device, 'PoolBytes.maps', maps * FRAMES * FRAMES * 4);
  const [mean, max] = [0, 1].map(() => createStorageBuffer(device, 'PoolBytes.output', cells * 4));
  const before = workCountsOf(device);
  pool.encode(device.createCommandEncoder(), {
    input: { buffer: input, format: 'float32', elementOffset: 0 },
    rows: FRAMES, cols: FRAMES, maps, rowRanges: ranges, colRanges: ranges, meanOutput: mean, maxOutput: max, owner: 'PoolBytes',
  });
  const { kernelBytes } = workSince(before, workCountsOf(device));
  const minimum = maps * FRAMES * FRAMES * 4 + 2 * cells * 4;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(`| ${label}, ${FRAMES}² | ${maps} | ${mb(kernelBytes)} | ${mb(minimum)} | ${(kernelBytes / minimum).toFixed(2)}x |`);
  for (const buffer of [input, mean, max]) buffer.destroy();
}
pool.destroy();
device.destroy();
