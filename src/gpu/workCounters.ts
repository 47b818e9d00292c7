/**
 * Counts of the work a device was given, so that the cost of a control change can be judged without a GPU: command
 * buffers submitted, blocking readbacks (a mapAsync that the caller awaits), compute dispatches, and the bytes the
 * dispatched kernels read and write, as each pass declares them when it records a dispatch.
 *
 * The counters hang off the device (one set per GPUDevice, made on first use), so passes, the engine and the
 * benchmark's frame code count into the same place without being handed an object. Counting is a few additions per
 * dispatch; it is always on.
 */

/** What a device was given, since it was made (or since the counts were read: subtract two snapshots). */
export interface WorkCounts {
  /** Command buffers submitted (queue.submit calls that this code made; one per encoder). */
  readonly submits: number;
  /** Buffers mapped for reading and awaited: each is a round trip the caller waits for. */
  readonly blockingReadbacks: number;
  /** Compute dispatches recorded. */
  readonly dispatches: number;
  /** Bytes the recorded dispatches read and write, as their passes declare (the kernels' traffic as designed). */
  readonly kernelBytes: number;
}

const ZERO: WorkCounts = { submits: 0, blockingReadbacks: 0, dispatches: 0, kernelBytes: 0 };

const counters = new WeakMap<GPUDevice, { -readonly [K in keyof WorkCounts]: number }>();

function countsOf(device: GPUDevice): { -readonly [K in keyof WorkCounts]: number } {
  let counts = counters.get(device);
  if (!counts) {
    counts = { ...ZERO };
    counters.set(device, counts);
  }
  return counts;
}

/** A snapshot of `device`'s counts. */
export function workCountsOf(device: GPUDevice): WorkCounts {
  return { ...countsOf(device) };
}

/** `after` minus `before`, field by field. */
export function workSince(before: WorkCounts, after: WorkCounts): WorkCounts {
  return {
    submits: after.submits - before.submits,
    blockingReadbacks: after.blockingReadbacks - before.blockingReadbacks,
    dispatches: after.dispatches - before.dispatches,
    kernelBytes: after.kernelBytes - before.kernelBytes,
  };
}

/** Counts one dispatch that reads and writes `kernelBytes` bytes. Call it next to dispatchWorkgroups. */
export function countDispatch(device: GPUDevice, kernelBytes: number): void {
  const counts = countsOf(device);
  counts.dispatches++;
  counts.kernelBytes += kernelBytes;
}

/** Submits `commandBuffers` and counts them. */
export function submitCounted(device: GPUDevice, commandBuffers: GPUCommandBuffer[]): void {
  device.queue.submit(commandBuffers);
  countsOf(device).submits += commandBuffers.length;
}

/** Counts a readback whose mapAsync the caller awaits. */
export function countBlockingReadback(device: GPUDevice): void {
  countsOf(device).blockingReadbacks++;
}
