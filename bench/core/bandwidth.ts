/**
 * Memory bandwidth of GPUs we may be run on, from their makers' data sheets, so that effective GB/s can be read as a
 * share of what the device could move. Matched on the adapter description (vendor / architecture / device /
 * description); anything not listed, SwiftShader included, is "unknown" with a reason.
 */

interface KnownDevice {
  readonly pattern: RegExp;
  readonly gbPerSec: number;
  readonly source: string;
}

// Peak DRAM bandwidth in 10^9 bytes per second. Order matters: more specific names first.
const KNOWN_DEVICES: readonly KnownDevice[] = [
  { pattern: /H200/i, gbPerSec: 4800, source: 'NVIDIA H200 data sheet: 4.8 TB/s HBM3e' },
  { pattern: /H100.*(PCIe|NVL)/i, gbPerSec: 2000, source: 'NVIDIA H100 PCIe data sheet: 2.0 TB/s HBM2e' },
  { pattern: /H100/i, gbPerSec: 3350, source: 'NVIDIA H100 SXM5 data sheet: 3.35 TB/s HBM3' },
  { pattern: /A100.*80/i, gbPerSec: 2039, source: 'NVIDIA A100 80GB SXM data sheet: 2,039 GB/s' },
  { pattern: /A100/i, gbPerSec: 1555, source: 'NVIDIA A100 40GB data sheet: 1,555 GB/s' },
  { pattern: /L40S?\b/i, gbPerSec: 864, source: 'NVIDIA L40/L40S data sheet: 864 GB/s' },
  { pattern: /RTX 4090/i, gbPerSec: 1008, source: 'NVIDIA GeForce RTX 4090 specifications: 1,008 GB/s' },
  { pattern: /RTX 3090/i, gbPerSec: 936, source: 'NVIDIA GeForce RTX 3090 specifications: 936 GB/s' },
  { pattern: /\bT4\b/i, gbPerSec: 320, source: 'NVIDIA T4 data sheet: 320 GB/s' },
];

/** The device's peak memory bandwidth when its name is known, else a sentence saying why it is not. */
export function knownBandwidth(adapterDescription: string): { gbPerSec?: number; source: string } {
  if (/swiftshader/i.test(adapterDescription)) {
    return { source: 'unknown: SwiftShader is a CPU emulation of a GPU; its "device memory" is host RAM shared with the emulating threads' };
  }
  const known = KNOWN_DEVICES.find((device) => device.pattern.test(adapterDescription));
  return known ? { gbPerSec: known.gbPerSec, source: known.source } : { source: `unknown: no data sheet figure for "${adapterDescription}"` };
}
