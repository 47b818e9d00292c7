/**
 * Compute pipelines from the WGSL files under shaders/, with compile errors turned into readable messages.
 */
import type { StorageFormat } from './storageFormat.ts';
import { LOAD_PREFIX } from './storageFormat.ts';

/** WGSL sources keyed by path under shaders/ (shaders/index.ts in the browser, src/node/shaderFiles.ts in Node). */
export type ShaderSources = Readonly<Record<string, string>>;

export function shaderSource(sources: ShaderSources, ...paths: string[]): string {
  return paths
    .map((path) => {
      const code = sources[path];
      if (code === undefined) throw new Error(`shader ${path} not found among ${Object.keys(sources).length} sources`);
      return code;
    })
    .join('\n');
}

/**
 * Creates a compute pipeline from WGSL files concatenated in order (e.g. a load prefix, then the kernel).
 * Compilation errors are reported with the shader paths and line numbers, then rethrown.
 */
export async function createComputePipelineFromFiles(
  device: GPUDevice,
  sources: ShaderSources,
  label: string,
  paths: string[],
  constants?: Record<string, number>,
): Promise<GPUComputePipeline> {
  const code = shaderSource(sources, ...paths);
  const module = device.createShaderModule({ label: `${label}.module`, code });
  device.pushErrorScope('validation');
  const pipeline = device.createComputePipeline({
    label,
    layout: 'auto',
    compute: { module, entryPoint: 'main', constants },
  });
  const error = await device.popErrorScope();
  if (error) {
    const info = await module.getCompilationInfo();
    const lines = code.split('\n');
    const details = info.messages
      .map((m) => `  ${m.type} at line ${m.lineNum}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1] ?? ''}`)
      .join('\n');
    throw new Error(`${label} (${paths.join(' + ')}) failed to compile: ${error.message}\n${details}`);
  }
  return pipeline;
}

/**
 * Pipeline for a kernel that reads attention through loadAttention(), specialised for a storage format: the format's
 * load prefix, then the kernel's files (e.g. ['common/finite.wgsl', 'common/rowSoftmax.wgsl', 'compute/softmax.wgsl']).
 */
export function createAttentionPipelineFromFiles(
  device: GPUDevice,
  sources: ShaderSources,
  label: string,
  paths: string[],
  format: StorageFormat,
  constants?: Record<string, number>,
): Promise<GPUComputePipeline> {
  return createComputePipelineFromFiles(device, sources, `${label}.${format}`, [LOAD_PREFIX[format], ...paths], constants);
}

/**
 * A kernel's pipelines for both storage formats, compiled together up front: for passes that record synchronously
 * and so cannot wait for a pipeline inside encode() (KernelPipelines is the lazy alternative).
 */
export async function createAttentionPipelinesForAllFormats(
  device: GPUDevice,
  sources: ShaderSources,
  label: string,
  paths: string[],
  constants?: Record<string, number>,
): Promise<Record<StorageFormat, GPUComputePipeline>> {
  const [float32, float16] = await Promise.all([
    createAttentionPipelineFromFiles(device, sources, label, paths, 'float32', constants),
    createAttentionPipelineFromFiles(device, sources, label, paths, 'float16', constants),
  ]);
  return { float32, float16 };
}
