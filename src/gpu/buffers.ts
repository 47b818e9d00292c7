/**
 * Buffer helpers shared by every pass: storage buffers, uniform writes and readback.
 */
import { countBlockingReadback, submitCounted } from './workCounters.ts';

/** A storage buffer of `byteLength` bytes (rounded up to 4, the WebGPU alignment), usable as copy source and target. */
export function createStorageBuffer(device: GPUDevice, label: string, byteLength: number, extraUsage = 0): GPUBuffer {
  return device.createBuffer({
    label,
    size: Math.max(4, Math.ceil(byteLength / 4) * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
  });
}

/** A storage buffer filled with `data`. */
export function createStorageBufferFrom(device: GPUDevice, label: string, data: ArrayBufferView): GPUBuffer {
  const buffer = createStorageBuffer(device, label, data.byteLength);
  writeBufferPadded(device, buffer, 0, data);
  return buffer;
}

/** writeBuffer requires a byte length that is a multiple of 4: pad a copy when it is not. */
export function writeBufferPadded(device: GPUDevice, buffer: GPUBuffer, byteOffset: number, data: ArrayBufferView): void {
  // Our views are always over plain ArrayBuffers (readers and GPU readbacks never make SharedArrayBuffers).
  const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength % 4 === 0) {
    device.queue.writeBuffer(buffer, byteOffset, bytes);
    return;
  }
  const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  padded.set(bytes);
  device.queue.writeBuffer(buffer, byteOffset, padded);
}

/** A uniform buffer for a params struct of `byteLength` bytes (rounded up to 16, WGSL's uniform struct alignment). */
export function createUniformBuffer(device: GPUDevice, label: string, byteLength: number): GPUBuffer {
  return device.createBuffer({
    label,
    size: Math.ceil(byteLength / 16) * 16,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
}

/** Copies `byteLength` bytes from `source` (at `byteOffset`) back to the CPU. The staging buffer is always destroyed. */
export async function readBufferBytes(
  device: GPUDevice,
  source: GPUBuffer,
  byteLength = source.size,
  byteOffset = 0,
): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 4) * 4;
  const staging = device.createBuffer({
    label: 'readBuffer.staging',
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder({ label: 'readBuffer.encoder' });
    encoder.copyBufferToBuffer(source, byteOffset, staging, 0, size);
    submitCounted(device, [encoder.finish()]);
    countBlockingReadback(device);
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange().slice(0, byteLength);
  } finally {
    staging.destroy();
  }
}

/** Reads `count` float32 values from `source` starting at element `elementOffset`. */
export async function readFloat32(device: GPUDevice, source: GPUBuffer, count: number, elementOffset = 0): Promise<Float32Array> {
  return new Float32Array(await readBufferBytes(device, source, count * 4, elementOffset * 4));
}

/** Number of workgroups to cover `items` with `workgroupSize` threads each. */
export function workgroupCount(items: number, workgroupSize: number): number {
  return Math.ceil(items / workgroupSize);
}
