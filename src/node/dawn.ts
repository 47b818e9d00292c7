/**
 * WebGPU in Node through Dawn's bindings (the `webgpu` npm package).
 *
 * Without a GPU, Dawn runs on SwiftShader's software Vulkan, which Debian's `chromium` package ships. The Vulkan
 * loader is pointed at it (`vulkanDriverEnv`) unless the caller chose drivers, and only added beside the system's
 * drivers where the machine has a GPU.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSoftwareAdapter } from '../gpu/workgroupShape.ts';

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
  Object.assign(process.env, vulkanDriverEnv(process.env, { swiftShader: existsSync(SWIFTSHADER_ICD), gpuDevices: gpuDeviceNodes() }));
  // Loaded here, not on import: the `steve` commands that draw nothing (help, inspect of a file) skip Dawn's addon.
  const { create, globals } = createRequire(import.meta.url)('webgpu') as typeof import('webgpu');
  Object.assign(globalThis, globals);
  paceDawnPolling();
  const gpu = create([]) as GPU;
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  // Polls are paced once a software adapter is in use: a real GPU keeps Dawn's own polling and its latency.
  gpu.requestAdapter = async (options?: GPURequestAdapterOptions) => {
    const adapter = await requestAdapter(options);
    if (adapter && pacingInstalled && isSoftwareAdapter(adapter.info)) dawnPolls.pacing = true;
    return adapter;
  };
  dawnInstance = gpu;
  return dawnInstance;
}

/** How long a wait on a software adapter is polled back to back before the polls are spaced out: short waits keep
 * their latency. */
export const DAWN_EAGER_POLL_MS = 1;
/** The spacing of Dawn's polls after that: one timer tick of Node's (1 ms). */
const DAWN_PACED_POLL_MS = 1;

/** Whether Dawn's polls are paced (a software adapter was handed out: for the rest of the process), and how many
 * were spaced out since. */
export const dawnPolls = { pacing: false, paced: 0 };

let pacingInstalled = false;

/**
 * Spaces out Dawn's event polling while a software adapter works.
 *
 * While any GPU promise is pending (`mapAsync`, `onSubmittedWorkDone`), dawn.node polls its instance from a
 * `setImmediate` callback that schedules the next one: the main thread spins at 100% of a core. On a CPU-only node
 * that core is one SwiftShader's workers need: on 2 cores a 430 ms kernel took 290 ms with the polls spaced
 * (bench/README.md, "Round 6"). The bindings look `setImmediate` up on the global object for every poll, so we
 * wrap it there: Dawn's poll (a native function without a name; ours and Node's own callbacks are JS functions or
 * bound ones, named "bound ...") runs at once for the first millisecond of a wait, then once per timer tick.
 * Everything else passed to `setImmediate` is scheduled exactly as before.
 */
function paceDawnPolling(): void {
  // STEVE_DAWN_POLLING=eager keeps Dawn's own back-to-back polls: the benchmarks' baseline for this change.
  if (pacingInstalled || process.env.STEVE_DAWN_POLLING === 'eager') return;
  pacingInstalled = true;
  // The timers as they are now: fake timers installed later (a test's setTimeout) do not stall the GPU's promises.
  const immediate = globalThis.setImmediate;
  const timeout = globalThis.setTimeout;
  let waitStartedAt = 0;
  // Dawn schedules each poll from inside the one before while anything is pending, and the first from outside any:
  // a poll scheduled outside a poll starts a wait. (Timing the gaps instead misread a late timer under load as a new
  // wait, and polled back to back again.)
  let insidePoll = false;
  const paced = function setImmediate(callback: (...args: unknown[]) => void, ...args: unknown[]) {
    if (!dawnPolls.pacing || !isDawnPoll(callback)) return immediate(callback, ...args);
    const now = performance.now();
    if (!insidePoll) waitStartedAt = now;
    const poll = () => {
      insidePoll = true;
      try {
        callback(...args);
      } finally {
        insidePoll = false;
      }
    };
    if (now - waitStartedAt < DAWN_EAGER_POLL_MS) return immediate(poll);
    dawnPolls.paced++;
    // A Timeout, not an Immediate: nothing in dawn.node keeps or clears the handle it gets back.
    return timeout(poll, DAWN_PACED_POLL_MS) as unknown as NodeJS.Immediate;
  };
  globalThis.setImmediate = Object.assign(paced, immediate) as typeof globalThis.setImmediate;
}

function isDawnPoll(callback: unknown): boolean {
  return (
    typeof callback === 'function' &&
    callback.name === '' &&
    Function.prototype.toString.call(callback).includes('[native code]')
  );
}

/**
 * The Vulkan loader variables to set so that Dawn finds SwiftShader without hiding a GPU.
 *
 * Drivers the caller chose (VK_ICD_FILENAMES, VK_DRIVER_FILES) are kept. Without a GPU device node, SwiftShader is
 * the only driver the loader is given: the system's other software driver, Mesa's lavapipe, is refused by Dawn (it
 * lacks a required feature) after loading LLVM and printing a warning. With one, SwiftShader is only added
 * (VK_ADD_DRIVER_FILES, loader 1.3.234 and later): Dawn ranks every GPU adapter ahead of a CPU one (its
 * SortAdapters), so the GPU is chosen and SwiftShader stays a fallback. Before, a GPU machine with chromium installed
 * was handed SwiftShader alone.
 */
export function vulkanDriverEnv(
  env: NodeJS.ProcessEnv,
  machine: { readonly swiftShader: boolean; readonly gpuDevices: readonly string[] },
): Record<string, string> {
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || !machine.swiftShader) return {};
  if (machine.gpuDevices.length === 0) return { VK_ICD_FILENAMES: SWIFTSHADER_ICD };
  const added = env.VK_ADD_DRIVER_FILES ? `${env.VK_ADD_DRIVER_FILES}:${SWIFTSHADER_ICD}` : SWIFTSHADER_ICD;
  return { VK_ADD_DRIVER_FILES: added };
}

/**
 * The device nodes through which Vulkan drivers reach a GPU: NVIDIA's (any index: a container given one GPU may see
 * only /dev/nvidia2), DRM render nodes (AMD, Intel; also virtual machines' display adapters, which then get the
 * system's drivers beside SwiftShader), WSL's.
 */
function gpuDeviceNodes(): string[] {
  const listed = (folder: string, pattern: RegExp) => {
    try {
      return readdirSync(folder).filter((name) => pattern.test(name)).map((name) => `${folder}/${name}`);
    } catch {
      return []; // no such folder: no such GPU
    }
  };
  return [...listed('/dev', /^(nvidia\d+|dxg)$/), ...listed('/dev/dri', /^renderD\d+$/)];
}

export const NO_ADAPTER_HELP =
  'No WebGPU adapter. On Debian, install the software Vulkan driver and loader with ' +
  '`apt-get install -y chromium libvulkan1` (SwiftShader ships with chromium), ' +
  `or set VK_ICD_FILENAMES to your GPU's Vulkan ICD (looked for ${SWIFTSHADER_ICD}). ` +
  `On a machine with a GPU but no Vulkan driver for it (or a Vulkan loader older than 1.3.234), ` +
  `VK_ICD_FILENAMES=${SWIFTSHADER_ICD} runs on SwiftShader.`;

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
