/**
 * The engine in Node, for the command line: Dawn's WebGPU (SwiftShader without a GPU), the WGSL files read from
 * disk, and an rgba8unorm heatmap pass for figures rendered offscreen.
 */
import type { ShaderSources } from '../engine.ts';
import { AttentionEngine } from '../engine.ts';
import { HeatmapPass } from '../render/heatmap.ts';
import { getNodeGpu } from './dawn.ts';
import { readShaderSources } from './shaderFiles.ts';

/** An engine and the heatmap pass that draws its maps into figures. */
export interface NodeEngine {
  readonly engine: AttentionEngine;
  /** The WGSL sources, for render passes made beside the heatmap (boundary lines). */
  readonly shaders: ShaderSources;
  /** Created on first use: exports need no render pipeline. */
  heatmap(): Promise<HeatmapPass>;
  destroy(): void;
}

/** Starts the engine on the first WebGPU adapter Dawn finds. Throws the engine's no-adapter message without one. */
export async function createNodeEngine(): Promise<NodeEngine> {
  const shaders = readShaderSources();
  const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders });
  let heatmap: HeatmapPass | undefined;
  return {
    engine,
    shaders,
    heatmap: async () => (heatmap ??= await HeatmapPass.create(engine.device, shaders, 'rgba8unorm')),
    destroy: () => {
      heatmap?.destroy();
      engine.destroy();
    },
  };
}
