/**
 * The engine in Node, for the command line: Dawn's WebGPU (SwiftShader without a GPU), the WGSL files read from
 * disk, and an rgba8unorm heatmap pass for figures rendered offscreen.
 *
 * Where maps are computed is STEVE_COMPUTE's choice (gpu, cpu or auto; auto when unset): on a CPU-only machine Dawn
 * finds only SwiftShader, and the host path computes the maps faster than the emulated GPU does (bench/README.md,
 * "The CLI on CPU-only machines").
 */
import type { ComputeChoice, ShaderSources } from '../engine.ts';
import { AttentionEngine } from '../engine.ts';
import { HeatmapPass } from '../render/heatmap.ts';
import { getNodeGpu } from './dawn.ts';
import { readShaderSources } from './shaderFiles.ts';

export type { ComputeChoice } from '../engine.ts';

/** The environment variable that chooses where the CLI computes maps. */
export const COMPUTE_ENV = 'STEVE_COMPUTE';
const COMPUTE_CHOICES: readonly ComputeChoice[] = ['gpu', 'cpu', 'auto'];

/** An engine and the heatmap pass that draws its maps into figures. */
export interface NodeEngine {
  readonly engine: AttentionEngine;
  /** The WGSL sources, for render passes made beside the heatmap (boundary lines). */
  readonly shaders: ShaderSources;
  /** Created on first use: exports need no render pipeline. */
  heatmap(): Promise<HeatmapPass>;
  destroy(): void;
}

/** STEVE_COMPUTE's value ('auto' when unset or empty); an Error naming the variable and the choices otherwise. */
export function computeChoiceFromEnv(env: NodeJS.ProcessEnv = process.env): ComputeChoice {
  const value = (env[COMPUTE_ENV] ?? '').trim().toLowerCase();
  if (value === '') return 'auto';
  if ((COMPUTE_CHOICES as readonly string[]).includes(value)) return value as ComputeChoice;
  throw new Error(`${COMPUTE_ENV} must be gpu, cpu or auto, got "${value.slice(0, 40)}"`);
}

/**
 * Starts the engine on the first WebGPU adapter Dawn finds, computing where `options.compute` (else STEVE_COMPUTE)
 * says. Throws the engine's no-adapter message without one.
 */
export async function createNodeEngine(options: { readonly compute?: ComputeChoice } = {}): Promise<NodeEngine> {
  const compute = options.compute ?? computeChoiceFromEnv();
  const shaders = readShaderSources();
  const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders, compute });
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
