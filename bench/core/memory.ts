/**
 * Memory snapshots: the JS heap (process.memoryUsage() in Node, Chrome's performance.memory in the page) and the GPU
 * bytes the engine keeps resident (engine.memory) plus what the benchmark itself holds on the GPU. WebGPU cannot
 * report a device's free memory, so GPU numbers are what we allocated, not what the driver used.
 */
import type { MemoryReport } from '../../src/engine.ts';

/** Host-side memory, bytes. Fields a platform does not report are absent. */
export interface HostMemory {
  readonly jsHeapUsedBytes?: number;
  readonly jsHeapTotalBytes?: number;
  /** Node: resident set size of the process (Dawn's SwiftShader "GPU memory" lives here too). */
  readonly rssBytes?: number;
  /** Node: memory of C++ objects bound to JS, ArrayBuffers included. */
  readonly externalBytes?: number;
  readonly arrayBuffersBytes?: number;
}

/** One labelled snapshot. */
export interface MemorySnapshot {
  readonly label: string;
  readonly host: HostMemory;
  /** engine.memory at that moment: uploaded attention only (maps, stats and scratch buffers are not counted). */
  readonly engine?: { readonly residentBytes: number; readonly budgetBytes: number; readonly chunks: number };
  /** GPU bytes the benchmark holds outside the engine (computed maps of a scene, kernel inputs). */
  readonly benchGpuBytes?: number;
}

/** Reads host memory; each platform supplies its own. */
export type HostMemorySampler = () => HostMemory;

/** Chrome's non-standard performance.memory (quantised unless Chrome runs with --enable-precise-memory-info). */
export function samplePageMemory(): HostMemory {
  const memory = (performance as unknown as { memory?: { usedJSHeapSize: number; totalJSHeapSize: number } }).memory;
  return memory ? { jsHeapUsedBytes: memory.usedJSHeapSize, jsHeapTotalBytes: memory.totalJSHeapSize } : {};
}

/** A snapshot with the engine's report when given. */
export function snapshot(label: string, sample: HostMemorySampler, engineMemory?: MemoryReport, benchGpuBytes?: number): MemorySnapshot {
  return {
    label,
    host: sample(),
    engine: engineMemory && { residentBytes: engineMemory.residentBytes, budgetBytes: engineMemory.budgetBytes, chunks: engineMemory.entries.length },
    benchGpuBytes,
  };
}
