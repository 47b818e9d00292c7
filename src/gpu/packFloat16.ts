/**
 * float32 values -> float16 storage on the GPU (shaders/compute/packFloat16.wgsl): the values are written as they
 * were read, into a staging buffer, and a kernel narrows them into the chunk's buffer. Narrowing in JS
 * (packFloat16Pairs) ran at about 200 MB/s and held the upload of a float16 engine back; on the GPU it is one more
 * read and write of the layer at memory speed. Bit for bit the same words as packFloat16Pairs.
 *
 * Large chunks go through in slices, so the staging buffer stays small and within the binding limits; the queue
 * keeps each slice's write, dispatch and the next write in order.
 */
import { createComputePipelineFromFiles, type ShaderSources } from './pipeline.ts';
import { countDispatch, submitCounted } from './workCounters.ts';

const KERNEL = 'compute/packFloat16.wgsl';
const WORKGROUP_SIZE = 256;
/** Values per slice at most: 64 MiB of float32 staging (an even number, so slices start on whole words). */
const MAX_SLICE_VALUES = 16 * 1024 * 1024;

const pipelines = new WeakMap<GPUDevice, Promise<GPUComputePipeline>>();

function pipelineFor(device: GPUDevice, shaders: ShaderSources): Promise<GPUComputePipeline> {
  let pipeline = pipelines.get(device);
  if (!pipeline) {
    pipeline = createComputePipelineFromFiles(device, shaders, 'PackFloat16.pipeline', [KERNEL], { WorkgroupSize: WORKGROUP_SIZE });
    pipeline.catch(() => pipelines.delete(device));
    pipelines.set(device, pipeline);
  }
  return pipeline;
}

/**
 * Writes `values` as float16 pairs into `target` from byte 0 (at least ceil(values.length / 2) * 4 bytes, STORAGE).
 * Submits its own command buffers; resolves once they are submitted (not done: later commands are ordered after).
 * `maxSliceValues` (at least 512) bounds the staging buffer; tests make it small to run several slices.
 */
export async function packFloat16OnGpu(
  device: GPUDevice,
  shaders: ShaderSources,
  values: Float32Array,
  target: GPUBuffer,
  maxSliceValues = MAX_SLICE_VALUES,
): Promise<void> {
  const pipeline = await pipelineFor(device, shaders);
  const bindingLimit = Math.min(maxSliceValues, Math.floor(device.limits.maxStorageBufferBindingSize / 8) * 2);
  // Slices after the first start at a multiple of 512 values: 1 KiB of output, a legal storage binding offset.
  const whole = values.length + (values.length % 2);
  const sliceValues = whole <= Math.min(MAX_SLICE_VALUES, bindingLimit) ? Math.max(2, whole) : Math.floor(Math.min(MAX_SLICE_VALUES, bindingLimit) / 512) * 512;
  const staging = device.createBuffer({ label: 'PackFloat16.staging', size: sliceValues * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const params = device.createBuffer({ label: 'PackFloat16.params', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  try {
    for (let first = 0; first < values.length; first += sliceValues) {
      const count = Math.min(sliceValues, values.length - first);
      const pairs = Math.ceil(count / 2);
      device.queue.writeBuffer(staging, 0, values.buffer, values.byteOffset + first * 4, count * 4);
      device.queue.writeBuffer(params, 0, new Uint32Array([pairs, count, 0, 0]));
      const encoder = device.createCommandEncoder({ label: 'PackFloat16.encoder' });
      const pass = encoder.beginComputePass({ label: 'PackFloat16.computePass' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          label: 'PackFloat16.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: staging, size: count * 4 + (count % 2) * 4 } },
            { binding: 1, resource: { buffer: params } },
            { binding: 2, resource: { buffer: target, offset: (first / 2) * 4, size: pairs * 4 } },
          ],
        }),
      );
      const workgroups = Math.ceil(pairs / WORKGROUP_SIZE);
      const x = Math.min(workgroups, device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(x, Math.ceil(workgroups / x));
      pass.end();
      countDispatch(device, count * 4 + pairs * 4);
      submitCounted(device, [encoder.finish()]);
    }
  } finally {
    // Safe right after the submits: WebGPU keeps what submitted work uses alive.
    staging.destroy();
    params.destroy();
  }
}
