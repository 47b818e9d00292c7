/**
 * A grid zoomed in step (the viewer's wheel zoom) drawn from pyramids (bench/core/pyramidZoom.ts runInStepZoom, at a
 * tiny size): with windowed levels every cell reaches full resolution with a fraction of the bytes whole levels take,
 * under a budget where whole levels must coarsen; with whole levels only (the path before windows) they do coarsen.
 */
import { describe, expect, it } from 'vitest';
import { runInStepZoom } from '../../bench/core/pyramidZoom.ts';
import { createOffscreenTarget } from '../../bench/core/render.ts';
import { makeSyntheticSource } from '../../bench/core/synthetic.ts';
import { AttentionEngine } from '../../src/engine.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';

// 4 maps of 512^2 frames in ~110-px cells: every map at full resolution is 4 MiB, over the frame's level budget
// (3 MiB: half of 6 MiB), so whole levels stop at level 2; the windows around the ~110 frames in view fit.
const SHAPE = { layers: 2, heads: 2, rows: 512, cols: 512 };
const BUDGET = 6 * 2 ** 20;

async function zoom(windows: boolean) {
  const shaders = readShaderSources();
  const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders, budgetBytes: BUDGET });
  try {
    engine.addTensor('model', makeSyntheticSource(SHAPE));
    const target = createOffscreenTarget(engine.device, 240, 256);
    try {
      return await runInStepZoom(engine, shaders, target, { shape: SHAPE, tensorId: 'model', steps: 2, windows });
    } finally {
      target.destroy();
    }
  } finally {
    engine.destroy();
  }
}

describe('a grid zoomed in step, drawn from pyramids', () => {
  it('reaches full resolution in every cell with windows, within the budget, where whole levels coarsen', async () => {
    const windowed = await zoom(true);
    const whole = await zoom(false);
    const full = windowed.steps.find((step) => step.pixelsPerFrame >= 1)!;
    expect(full.wantedLevel).toBe(1);
    expect(full.levels).toEqual({ 1: 4 });
    expect(full.waiting).toBe(0);
    const wholeFull = whole.steps[full.step];
    expect(wholeFull.levels).toEqual({ 2: 4 });
    // Each cell pins a window of 128^2 level cells around the ~103 frames in view and the whole level 4 (128^2) it
    // keeps to draw while a window is built: an eighth of the maps at full resolution.
    const fullResolution = SHAPE.layers * SHAPE.heads * SHAPE.rows * SHAPE.cols * 4;
    expect(full.pinnedLevelBytes).toBe(4 * (128 * 128 + 128 * 128) * 4);
    expect(windowed.maxPinnedLevelBytes).toBeLessThanOrEqual(fullResolution / 8);
    expect(windowed.maxPinnedLevelBytes).toBeLessThanOrEqual(BUDGET / 2);
    expect(windowed.maxResidentBytes).toBeLessThanOrEqual(BUDGET);
  });
});
