/**
 * Dawn in Node (src/node/dawn.ts): which Vulkan drivers the loader is given, and Dawn's polling while the GPU works,
 * which is paced so that the main thread does not spin for the whole of a long wait, while everything else scheduled
 * with setImmediate behaves as before.
 */
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DAWN_EAGER_POLL_MS, SWIFTSHADER_ICD, dawnPolls, vulkanDriverEnv } from '../../src/node/dawn.ts';
import { isSoftwareAdapter } from '../../src/gpu/workgroupShape.ts';
import { withDevice } from '../helpers/gpuDevice.ts';

/** A kernel that keeps SwiftShader busy for tens of milliseconds (a real GPU, well under one). */
const BUSY_KERNEL = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  var x = f32(id.x);
  for (var i = 0u; i < 64u; i++) { x = x * 1.0001 + 0.5; }
  data[id.y * 65536u + id.x] = x;
}`;

/** Counts the polls Dawn schedules through the global setImmediate while `wait` runs, however they are paced. */
async function countDawnPolls(wait: () => Promise<unknown>): Promise<{ polls: number; waitedMs: number }> {
  const scheduled = globalThis.setImmediate;
  let polls = 0;
  globalThis.setImmediate = Object.assign((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    if (callback.name === '' && Function.prototype.toString.call(callback).includes('[native code]')) polls++;
    return scheduled(callback, ...args);
  }, scheduled) as typeof globalThis.setImmediate;
  const startedAt = performance.now();
  try {
    await wait();
  } finally {
    globalThis.setImmediate = scheduled;
  }
  return { polls, waitedMs: performance.now() - startedAt };
}

describe("Dawn's polling", () => {
  it('on a software adapter, polls at most about once per millisecond after the first one of a long wait', async () => {
    await withDevice(async (device) => {
      const invocations = 65536 * 64;
      const buffer = device.createBuffer({ size: invocations * 4, usage: GPUBufferUsage.STORAGE });
      const pipeline = device.createComputePipeline({
        layout: 'auto',
        compute: { module: device.createShaderModule({ code: BUSY_KERNEL }), entryPoint: 'main' },
      });
      const bindGroup = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer } }],
      });
      const runKernel = () => {
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(65536 / 64, 64);
        pass.end();
        device.queue.submit([encoder.finish()]);
        return device.queue.onSubmittedWorkDone();
      };
      await runKernel(); // compiles the pipeline outside the counted wait

      const pacedBefore = dawnPolls.paced;
      const { polls, waitedMs } = await countDawnPolls(runKernel);
      buffer.destroy();
      const software = isSoftwareAdapter((device as GPUDevice & { adapterInfo: GPUAdapterInfo }).adapterInfo);
      expect(dawnPolls.pacing, 'paced exactly when the adapter is a software one').toBe(software && process.env.STEVE_DAWN_POLLING !== 'eager');
      if (!dawnPolls.pacing) {
        // A GPU's adapter: Dawn keeps polling back to back, for the shortest wait.
        expect(dawnPolls.paced).toBe(pacedBefore);
        return;
      }
      // Back to back, a poll takes microseconds: Dawn's own polling makes tens per millisecond for the whole wait
      // (thousands on SwiftShader). Paced: whatever fits in the eager first millisecond, then one per timer tick.
      const eagerPollsAtMost = 400 * DAWN_EAGER_POLL_MS;
      expect(polls, `${polls} polls in a ${waitedMs.toFixed(1)} ms wait`).toBeLessThanOrEqual(
        eagerPollsAtMost + Math.ceil(waitedMs) + 2,
      );
      if (waitedMs > 20) expect(polls).toBeGreaterThan(0);
    });
  });

  it('leaves every other setImmediate as it was: immediate, ordered, promisifiable', async () => {
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      setTimeout(() => order.push('timeout'), 5);
      const handle = setImmediate(() => order.push('immediate'));
      expect(handle.constructor.name).toBe('Immediate');
      const bound = (function named(this: { tag: string }) {
        order.push(this.tag);
      }).bind({ tag: 'bound' });
      setImmediate(bound);
      setImmediate(() => resolve());
    });
    expect(order).toEqual(['immediate', 'bound']);
    await expect(promisify(setImmediate)('value')).resolves.toBe('value');
  });
});

describe('vulkanDriverEnv', () => {
  const noGpu = { swiftShader: true, gpuDevices: [] };
  const nvidia = { swiftShader: true, gpuDevices: ['/dev/nvidia0'] };

  it('gives the loader SwiftShader alone on a machine without a GPU', () => {
    expect(vulkanDriverEnv({}, noGpu)).toEqual({ VK_ICD_FILENAMES: SWIFTSHADER_ICD });
  });

  it("adds SwiftShader beside a GPU's drivers instead of replacing them", () => {
    expect(vulkanDriverEnv({}, nvidia)).toEqual({ VK_ADD_DRIVER_FILES: SWIFTSHADER_ICD });
    expect(vulkanDriverEnv({ VK_ADD_DRIVER_FILES: '/opt/icd.json' }, { swiftShader: true, gpuDevices: ['/dev/dri/renderD128'] })).toEqual({
      VK_ADD_DRIVER_FILES: `/opt/icd.json:${SWIFTSHADER_ICD}`,
    });
  });

  it('keeps the drivers the caller chose, and changes nothing without SwiftShader', () => {
    expect(vulkanDriverEnv({ VK_ICD_FILENAMES: '/opt/nvidia_icd.json' }, noGpu)).toEqual({});
    expect(vulkanDriverEnv({ VK_DRIVER_FILES: '/opt/nvidia_icd.json' }, nvidia)).toEqual({});
    expect(vulkanDriverEnv({}, { swiftShader: false, gpuDevices: [] })).toEqual({});
  });
});
