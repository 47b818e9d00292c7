/**
 * The first view of a model view too large for its full maps (bench/core/pyramidZoom.ts runFirstView: the viewer's
 * runView in groups, at a tiny size): with the first frame's levels pooled in the groups, that frame draws every cell
 * at its level and each map is computed once; built after the frame (the path before), the first frame draws none
 * and every map is computed twice.
 */
import { describe, expect, it } from 'vitest';
import { runFirstView } from '../../bench/core/pyramidZoom.ts';
import { createOffscreenTarget } from '../../bench/core/render.ts';
import { makeSyntheticSource } from '../../bench/core/synthetic.ts';
import { AttentionEngine } from '../../src/engine.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';

// 2 x 4 maps of 64^2 (16 KiB each, 128 KiB) over the frame's level budget (96 KiB: half of 192 KiB): computed in
// groups of 48 KiB (3 maps).
const SHAPE = { layers: 2, heads: 4, rows: 64, cols: 64 };
const BUDGET = 192 * 1024;

async function firstView(handOver: boolean) {
  const shaders = readShaderSources();
  const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders, budgetBytes: BUDGET });
  try {
    engine.addTensor('model', makeSyntheticSource(SHAPE));
    const target = createOffscreenTarget(engine.device, 200, 120);
    try {
      return await runFirstView(engine, shaders, target, { shape: SHAPE, tensorId: 'model', fileName: 'synthetic.npy', handOver });
    } finally {
      target.destroy();
    }
  } finally {
    engine.destroy();
  }
}

describe('the first view of a large grid', () => {
  it('draws every cell at its level in its first frame, each map computed once, where the path before computed each twice', async () => {
    const now = await firstView(true);
    const before = await firstView(false);
    expect(now).toMatchObject({ maps: 8, firstFrameDrawn: 8, frames: 1, mapsComputed: 8, submits: 4 });
    expect(before).toMatchObject({ maps: 8, firstFrameDrawn: 0, mapsComputed: 16 });
    expect(before.frames).toBeGreaterThan(1);
    // Both end at the same levels: the cells' size decides them, not the path.
    expect(now.levels).toEqual(before.levels);
    expect(Object.keys(now.levels).map(Number).every((factor) => factor > 1)).toBe(true);
  });
});
