/**
 * A WebGPU device for tests: Dawn in Node on whatever adapter the machine has (SwiftShader on CI).
 * A missing adapter FAILS the test with install instructions; it is never a silent skip.
 *
 * `withDevice(fn)` runs fn inside a validation error scope and fails the test on any validation error,
 * so a kernel that silently does nothing because of a binding mistake cannot pass.
 */
import { describeAdapter, requestNodeAdapter } from '../../src/node/dawn.ts';

let devicePromise: Promise<GPUDevice> | undefined;
let adapterLogged = false;

/** One device per test worker, with the limits the adapter offers and shader-f16 when available. */
export function getTestDevice(): Promise<GPUDevice> {
  devicePromise ??= (async () => {
    const adapter = await requestNodeAdapter();
    if (!adapterLogged) {
      adapterLogged = true;
      console.log(`[gpu tests] adapter: ${describeAdapter(adapter)}`);
    }
    const requiredFeatures: GPUFeatureName[] = adapter.features.has('shader-f16') ? ['shader-f16'] : [];
    return adapter.requestDevice({
      label: 'tests.device',
      requiredFeatures,
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
  })();
  return devicePromise;
}

export async function withDevice<T>(fn: (device: GPUDevice) => Promise<T>): Promise<T> {
  return withValidation(await getTestDevice(), fn);
}

/** Runs `fn` on `device` inside a validation error scope; a validation error fails the test. */
export async function withValidation<T>(device: GPUDevice, fn: (device: GPUDevice) => Promise<T>): Promise<T> {
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn(device);
  } finally {
    const error = await device.popErrorScope();
    if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  }
  return result;
}
