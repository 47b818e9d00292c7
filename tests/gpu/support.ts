/**
 * Shared pieces of the GPU kernel tests: seeded random maps, uploads in either storage format, readback, and a
 * comparison with a stated tolerance that treats NaN and infinities exactly.
 */
import { float16BitsToFloat32, packFloat16Pairs } from '../../src/data/float16.ts';
import { readFloat32 } from '../../src/gpu/buffers.ts';
import type { AttentionShape, AttentionSource } from '../../src/data/tensor.ts';
import type { AttentionEngine, MapRequest } from '../../src/engine.ts';
import type { AttentionView, StorageFormat } from '../../src/gpu/storageFormat.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';

/** Every WGSL file, read from disk once. */
export const SHADERS = readShaderSources();

/** Relative tolerance by storage format: |gpu - ref| <= TOLERANCE * max(|ref|, ABSOLUTE_FLOOR). */
export const TOLERANCE: Record<StorageFormat, number> = { float32: 1e-5, float16: 1e-3 };
/**
 * Absolute floor of the relative comparison, by storage format. float32: 1e-12, so the comparison stays relative
 * for every value a map holds (softmax outputs go down to ~1e-7 and exp() is accurate to a few ulp relative), and
 * only values that are zero up to rounding (sums that cancel) use the floor. float16: 2^-14, the smallest normal
 * float16; below it float16 storage itself has an absolute step of 2^-24, so relative error means nothing there.
 */
export const ABSOLUTE_FLOOR: Record<StorageFormat, number> = { float32: 1e-12, float16: 2 ** -14 };

/** Deterministic random numbers in [0, 1) (mulberry32). */
export function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` values uniform in [low, high). */
export function randomValues(count: number, random: () => number, low = -4, high = 4): Float32Array {
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) values[index] = low + (high - low) * random();
  return values;
}

/** A storage buffer holding `values` in `format` (a copy source, so tests can read it back). */
export function uploadValues(device: GPUDevice, label: string, values: Float32Array, format: StorageFormat): AttentionView {
  const words = format === 'float32' ? new Uint32Array(values.buffer, values.byteOffset, values.length) : packFloat16Pairs(values);
  const buffer = device.createBuffer({
    label,
    size: Math.max(4, words.byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, words.buffer as ArrayBuffer, words.byteOffset, words.byteLength);
  return { buffer, format, elementOffset: 0 };
}

/** An f32 output buffer of `count` values. */
export function createOutput(device: GPUDevice, label: string, count: number): GPUBuffer {
  return device.createBuffer({
    label,
    size: Math.max(4, count * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
}

/** Records with `record`, submits, and reads `count` f32 values of `output` back. */
export async function runAndRead(
  device: GPUDevice,
  record: (encoder: GPUCommandEncoder) => void,
  output: GPUBuffer,
  count: number,
): Promise<Float32Array> {
  const encoder = device.createCommandEncoder({ label: 'test.encoder' });
  record(encoder);
  device.queue.submit([encoder.finish()]);
  return readFloat32(device, output, count);
}

/**
 * Throws with the first mismatches unless actual and expected agree: NaN where NaN, the same infinity where
 * infinite, otherwise |a - e| <= tolerance * max(|e|, floor).
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  floor: number,
): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length}, expected ${expected.length}`);
  const mismatches: string[] = [];
  let worst = 0;
  for (let index = 0; index < expected.length; index++) {
    const a = actual[index];
    const e = expected[index];
    let ok: boolean;
    if (Number.isNaN(e) || !Number.isFinite(e)) ok = Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e));
    else {
      const error = Math.abs(a - e) / Math.max(Math.abs(e), floor);
      worst = Math.max(worst, error);
      ok = error <= tolerance;
    }
    if (!ok && mismatches.length < 8) mismatches.push(`[${index}] got ${a}, expected ${e}`);
  }
  if (mismatches.length > 0) {
    throw new Error(`values differ beyond ${tolerance} (relative, floor ${floor}):\n  ${mismatches.join('\n  ')}`);
  }
}

/** Rounds values to float16 and back, the way float16 storage sees them. */
export function roundToFloat16(values: Float32Array): Float32Array {
  const packed = packFloat16Pairs(values);
  const rounded = new Float32Array(values.length);
  const halves = new Uint16Array(packed.buffer);
  // Little-endian: element 2k is the low half of word k, which is halves[2k].
  for (let index = 0; index < values.length; index++) rounded[index] = float16BitsToFloat32(halves[index]);
  return rounded;
}

/** An in-memory AttentionSource over layers x heads x rows x cols float32 values that records every read. */
export interface RecordingSource extends AttentionSource {
  /** 'layer 3' or 'head 3.1', in the order the engine asked. */
  readonly reads: string[];
  /** Values of one layer (heads x rows x cols). */
  layerValues(layer: number): Float32Array;
}

/** Random attention of the given shape (values in [low, high)) as a RecordingSource. */
export function makeRecordingSource(
  fileName: string,
  shape: AttentionShape,
  random: () => number,
  low = -4,
  high = 4,
): RecordingSource {
  const mapSize = shape.rows * shape.cols;
  const values = randomValues(shape.layers * shape.heads * mapSize, random, low, high);
  const reads: string[] = [];
  const layerValues = (layer: number) => values.subarray(layer * shape.heads * mapSize, (layer + 1) * shape.heads * mapSize);
  return {
    fileName,
    shape,
    dtype: 'float32',
    metadata: {},
    reads,
    layerValues,
    async readLayer(layer) {
      reads.push(`layer ${layer}`);
      return layerValues(layer).slice();
    },
    async readHead(layer, head) {
      reads.push(`head ${layer}.${head}`);
      return layerValues(layer).slice(head * mapSize, (head + 1) * mapSize);
    },
  };
}

/** `request` kept by `engine` (keepMap) and read back: its values and size; the pin is released. */
export async function readKeptMap(engine: AttentionEngine, request: MapRequest): Promise<{ values: Float32Array; rows: number; cols: number }> {
  const kept = await engine.keepMap(request);
  try {
    return { values: await readFloat32(engine.device, kept.buffer, kept.rows * kept.cols), rows: kept.rows, cols: kept.cols };
  } finally {
    kept.release();
  }
}
