/**
 * The one place that requests a WebGPU device: adapter, limits, and the wiring of `device.lost` and
 * `uncapturederror` to the caller. Works with navigator.gpu in the browser and with getNodeGpu() in Node.
 */

/** Sizes that decide how attention is cut into GPU buffers (bytes). */
export interface BufferLimits {
  /** Largest buffer that can be bound as one storage binding. */
  readonly maxStorageBufferBindingSize: number;
  /** Largest buffer that can be created. */
  readonly maxBufferSize: number;
}

/** A device with the adapter it came from. */
export interface AcquiredDevice {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  /** One line naming the adapter, for logs, events and benchmark results. */
  readonly adapterDescription: string;
  readonly limits: BufferLimits;
}

/** Options for requestEngineDevice. */
export interface RequestDeviceOptions {
  readonly powerPreference?: GPUPowerPreference;
  /** Label of the device; Dawn prints it in its messages. */
  readonly label?: string;
}

/** Message thrown when there is no adapter at all. */
export const NO_WEBGPU_ADAPTER =
  'No WebGPU adapter: requestAdapter() returned null. In a browser, use one with WebGPU enabled (Chrome/Edge 113+, ' +
  'Firefox 141+, Safari 26+); in Node, use getNodeGpu() from src/node/dawn.ts, which needs a Vulkan driver ' +
  '(`apt-get install -y chromium libvulkan1` gives the SwiftShader software one).';

/**
 * Requests an adapter and a device with the adapter's largest buffer limits (the defaults, 128 MiB and 256 MiB,
 * would cut a large layer into more pieces than needed). Throws NO_WEBGPU_ADAPTER when there is no adapter.
 */
export async function requestEngineDevice(gpu: GPU, options: RequestDeviceOptions = {}): Promise<AcquiredDevice> {
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) throw new Error(NO_WEBGPU_ADAPTER);
  const device = await adapter.requestDevice({
    label: options.label ?? 'AttentionEngine.device',
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  return {
    adapter,
    device,
    adapterDescription: describeGpuAdapter(adapter),
    limits: {
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
    },
  };
}

/** One line naming an adapter ("google / swiftshader / ..."); 'unknown adapter' when the browser hides it. */
export function describeGpuAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((part) => part);
  return parts.join(' / ') || 'unknown adapter';
}

/** Callbacks for watchDevice. */
export interface DeviceWatchers {
  /** Called once when the device is lost, whatever the reason (destroy() included). */
  onLost(info: GPUDeviceLostInfo): void;
  /** Called for each error no error scope caught. */
  onUncapturedError(error: GPUError): void;
}

/**
 * Wires `device.lost` and `uncapturederror` to callbacks. Returns a function that detaches them (the lost
 * callback is then ignored when it fires), so an engine can let go of a device it no longer uses.
 */
export function watchDevice(device: GPUDevice, watchers: DeviceWatchers): () => void {
  let attached = true;
  const onError = (event: Event) => {
    if (attached) watchers.onUncapturedError((event as GPUUncapturedErrorEvent).error);
  };
  device.addEventListener('uncapturederror', onError);
  void device.lost.then((info) => {
    if (attached) watchers.onLost(info);
  });
  return () => {
    attached = false;
    device.removeEventListener('uncapturederror', onError);
  };
}
