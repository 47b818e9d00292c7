/**
 * The compute pipelines of one kernel, one per storage format, created on first use and cached.
 * Pipeline creation is asynchronous (compile errors are reported through an error scope), while encode() must
 * record synchronously: a pass awaits ready(format) once, then get(format) inside encode().
 */
import { createAttentionPipelineFromFiles, createComputePipelineFromFiles, type ShaderSources } from '../gpu/pipeline.ts';
import type { StorageFormat } from '../gpu/storageFormat.ts';

/** Pipelines of a kernel made of `paths` (after the load prefix when `withLoadPrefix`), keyed by storage format. */
export class KernelPipelines {
  readonly #device: GPUDevice;
  readonly #shaders: ShaderSources;
  readonly #label: string;
  readonly #paths: string[];
  readonly #constants: Record<string, number> | undefined;
  readonly #withLoadPrefix: boolean;
  readonly #pending = new Map<string, Promise<GPUComputePipeline>>();
  readonly #ready = new Map<string, GPUComputePipeline>();

  /** `label` names the pipelines ('SoftmaxPass.pipeline'); `constants` fill the kernel's WGSL overrides. */
  constructor(
    device: GPUDevice,
    shaders: ShaderSources,
    label: string,
    paths: string[],
    options: { constants?: Record<string, number>; withLoadPrefix?: boolean } = {},
  ) {
    this.#device = device;
    this.#shaders = shaders;
    this.#label = label;
    this.#paths = paths;
    this.#constants = options.constants;
    this.#withLoadPrefix = options.withLoadPrefix ?? true;
  }

  /** Creates (once) the pipeline for `format`; rejects with the compile messages when the WGSL is invalid. */
  ready(format: StorageFormat): Promise<GPUComputePipeline> {
    const key = this.#withLoadPrefix ? format : 'any';
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = (
        this.#withLoadPrefix
          ? createAttentionPipelineFromFiles(this.#device, this.#shaders, this.#label, this.#paths, format, this.#constants)
          : createComputePipelineFromFiles(this.#device, this.#shaders, this.#label, this.#paths, this.#constants)
      ).then((pipeline) => {
        this.#ready.set(key, pipeline);
        return pipeline;
      });
      pending.catch(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** The pipeline for `format`. Precondition: ready(format) has resolved. */
  get(format: StorageFormat): GPUComputePipeline {
    const pipeline = this.#ready.get(this.#withLoadPrefix ? format : 'any');
    if (!pipeline) throw new Error(`${this.#label}: await ready('${format}') before encode()`);
    return pipeline;
  }
}
