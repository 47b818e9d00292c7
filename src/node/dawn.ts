/**
 * WebGPU in Node through Dawn's bindings (the `webgpu` npm package).
 *
 * Without a GPU, Dawn runs on SwiftShader's software Vulkan, which Debian's `chromium` package ships. We point the
 * Vulkan loader at it unless the caller already chose an ICD (a real GPU machine sets its own).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Dawn's instance. It must stay reachable for the whole run: if it is garbage-collected, Dawn tears down its
 * instance underneath live devices and the process aborts with errors that look like driver bugs. */
let dawnInstance: GPU | undefined;

/** Returns a navigator.gpu-like object backed by Dawn, creating it once per process. */
export function getNodeGpu(): GPU {
  if (dawnInstance) return dawnInstance;
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = join(tmpdir(), `steve-xdg-${process.getuid?.() ?? 0}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  // Loaded here, not on import: the `steve` commands that draw nothing (help, inspect of a file) skip Dawn's addon.
  const { create, globals } = createRequire(import.meta.url)('webgpu') as typeof import('webgpu');
  Object.assign(globalThis, globals);
  dawnInstance = create([]) as GPU;
  return dawnInstance;
}

export const NO_ADAPTER_HELP =
  'No WebGPU adapter. On Debian, install the software Vulkan driver and loader with ' +
  '`apt-get install -y chromium libvulkan1` (SwiftShader ships with chromium), ' +
  `or set VK_ICD_FILENAMES to your GPU's Vulkan ICD (looked for ${SWIFTSHADER_ICD}).`;

/** Requests an adapter, or throws an Error that says how to install one. */
export async function requestNodeAdapter(options?: GPURequestAdapterOptions): Promise<GPUAdapter> {
  const adapter = await getNodeGpu().requestAdapter(options);
  if (!adapter) throw new Error(NO_ADAPTER_HELP);
  return adapter;
}

/** One line naming the adapter, for logs and benchmark results. */
export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((part) => part);
  return parts.join(' / ') || 'unknown adapter';
}
