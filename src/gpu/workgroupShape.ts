/**
 * Workgroup sizes chosen per adapter, for the kernels whose threads cooperate through workgroup memory and barriers
 * (row softmax, head mean, min/max, histogram, pooling, head statistics). The kernels declare their size as a WGSL
 * `override WorkgroupSize`; the passes fill it from here when they compile.
 *
 * Why two shapes. On a GPU a workgroup of 64 to 256 threads per row or block is right: neighbouring threads load
 * neighbouring values (coalesced), the reduction tree is log2(threads) steps of a few cycles each, and a barrier is a
 * hardware instruction. On a software adapter (SwiftShader, and any adapter that says it is a fallback) a workgroup
 * runs on one CPU thread, its invocations as SIMD groups of `subgroupMinSize` lanes (4 on SwiftShader), and every
 * barrier switches between all of the workgroup's SIMD groups as coroutines: a 256-thread row softmax pays
 * 64 switches at each of its ~10 barriers, per row. Measured on SwiftShader (2 cores, 1500 x 1500 softmax, one
 * dispatch): 256 threads 7.6 s, 64 threads 1.3 s, 16 threads 0.6 s, 4 threads 0.44 s, 1 thread 1.9 s (no SIMD).
 * So there a workgroup is one SIMD group: its barriers cost nothing, and the parallelism comes from the workgroups,
 * which SwiftShader spreads over the cores.
 *
 * Some kernels change more than their size on a software adapter, for the same reason (emulated barriers, costly
 * per-invocation and per-load overheads, CPU caches): head mean with softmax sums map by map (headMean.ts), block
 * pooling walks whole blocks in one pass instead of two separable stages (blockPool.ts), row softmax runs one
 * invocation per row on 16-byte quads (softmax.ts), and region reductions use 64 workgroups, each streaming one
 * contiguous block (minMax.ts).
 */

/** Lanes of one SIMD group on a software adapter when the adapter does not say (SwiftShader's width). */
const SOFTWARE_SIMD_WIDTH = 4;

/**
 * Workgroups a reduction over a whole region (min/max, histogram) spreads over on a software adapter, each reading
 * one contiguous block: enough for the cores of a large machine, few enough that the per-workgroup flush (one
 * global atomic per quantity or bin) stays small next to the values read.
 */
const SOFTWARE_REDUCTION_WORKGROUPS = 64;
/** The same on a GPU: enough workgroups to fill every multiprocessor several times over. */
const HARDWARE_REDUCTION_WORKGROUPS = 1024;

/** What a pass needs to know about the adapter to size its workgroups. */
export interface WorkgroupShape {
  /** Whether the adapter emulates a GPU on the CPU (fallback adapter, or SwiftShader by name). */
  readonly software: boolean;
  /** Lanes per SIMD group on a software adapter (subgroupMinSize when reported). */
  readonly simdWidth: number;
  /** Most workgroups a whole-region reduction (min/max, histogram) should use. */
  readonly reductionWorkgroups: number;
}

const shapes = new WeakMap<GPUDevice, WorkgroupShape>();

/** Whether `info` describes a CPU emulation of a GPU. */
export function isSoftwareAdapter(info: Partial<GPUAdapterInfo> & { readonly isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter) return true;
  const names = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`.toLowerCase();
  return /swiftshader|llvmpipe|lavapipe|warp|software/.test(names);
}

/** The shape for `device`, from `device.adapterInfo` (hardware when the device does not expose it). */
export function workgroupShapeOf(device: GPUDevice): WorkgroupShape {
  let shape = shapes.get(device);
  if (!shape) {
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const software = info ? isSoftwareAdapter(info) : false;
    const reported = (info as (GPUAdapterInfo & { subgroupMinSize?: number }) | undefined)?.subgroupMinSize;
    const simdWidth = reported && reported > 0 && Number.isInteger(Math.log2(reported)) ? reported : SOFTWARE_SIMD_WIDTH;
    shape = { software, simdWidth, reductionWorkgroups: software ? SOFTWARE_REDUCTION_WORKGROUPS : HARDWARE_REDUCTION_WORKGROUPS };
    shapes.set(device, shape);
  }
  return shape;
}

/**
 * Threads for a workgroup that reduces one row or block together: `hardwareThreads` (a power of two) on a GPU, one
 * SIMD group on a software adapter (see the module comment for why).
 */
export function cooperativeThreads(device: GPUDevice, hardwareThreads: number): number {
  const shape = workgroupShapeOf(device);
  return shape.software ? Math.min(hardwareThreads, shape.simdWidth) : hardwareThreads;
}

/** The shape of a GPU (also what a device without adapterInfo gets). */
export const HARDWARE_SHAPE: WorkgroupShape = { software: false, simdWidth: SOFTWARE_SIMD_WIDTH, reductionWorkgroups: HARDWARE_REDUCTION_WORKGROUPS };
/** The shape of SwiftShader. */
export const SOFTWARE_SHAPE: WorkgroupShape = { software: true, simdWidth: SOFTWARE_SIMD_WIDTH, reductionWorkgroups: SOFTWARE_REDUCTION_WORKGROUPS };

/**
 * Overrides the shape for `device`. Passes read it when they compile, so call it before the first pass is made on
 * the device: tests run the GPU shape on SwiftShader and the software shape on a GPU this way.
 */
export function setWorkgroupShape(device: GPUDevice, shape: WorkgroupShape): void {
  shapes.set(device, shape);
}
