/**
 * Synthetic attention for benchmarks: logits with a diagonal band plus noise (what a speech encoder's raw scores
 * look like before softmax, roughly), generated fast and deterministically, as maps, whole tensors in memory, or
 * .npy bytes. Timings do not depend on the values (no kernel branches on them), only on the shapes.
 */
import type { AttentionShape, AttentionSource } from '../../src/data/tensor.ts';

/** Layers, heads and frames of the models the issue names. */
export const WHISPER_BASE: AttentionShape = { layers: 6, heads: 8, rows: 1500, cols: 1500 };
export const WHISPER_LARGE_V3: AttentionShape = { layers: 32, heads: 20, rows: 1500, cols: 1500 };

/** A shape with another number of frames (rows = cols = frames). */
export function withFrames(shape: AttentionShape, frames: number): AttentionShape {
  return { ...shape, rows: frames, cols: frames };
}

/** "6 x 8 x 1500 x 1500". */
export function formatShape(shape: AttentionShape): string {
  return `${shape.layers} x ${shape.heads} x ${shape.rows} x ${shape.cols}`;
}

/** Values in a tensor. */
export function elementCountOf(shape: AttentionShape): number {
  return shape.layers * shape.heads * shape.rows * shape.cols;
}

/**
 * Fills `out` (rows x cols, row-major) with the logits of map number `seed`: -|i - j| / 40 for the diagonal band,
 * plus uniform noise in [0, 2), from a xorshift32 stream seeded by `seed` (so each head differs).
 */
export function fillSyntheticMap(out: Float32Array, rows: number, cols: number, seed: number): Float32Array {
  let state = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  for (let row = 0; row < rows; row++) {
    const base = row * cols;
    for (let col = 0; col < cols; col++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const noise = (state >>> 0) * (2 / 4294967296);
      out[base + col] = noise - Math.abs(row - col) / 40;
    }
  }
  return out;
}

/** Map number of (layer, head): the seed fillSyntheticMap gets, so every reader of a shape sees the same values. */
export function mapSeed(shape: AttentionShape, layer: number, head: number): number {
  return layer * shape.heads + head + 1;
}

/**
 * An AttentionSource that generates its maps on demand: the in-memory stand-in for a file when no file is wanted
 * (tests, kernels and render suites, the page). `fileName` says it is synthetic.
 */
export function makeSyntheticSource(shape: AttentionShape, fileName = 'synthetic.npy'): AttentionSource {
  const mapElements = shape.rows * shape.cols;
  return {
    fileName,
    shape,
    dtype: 'float32',
    metadata: { spf: 320, sampleRate: 16000, model: 'synthetic' },
    async readHead(layer, head) {
      return fillSyntheticMap(new Float32Array(mapElements), shape.rows, shape.cols, mapSeed(shape, layer, head));
    },
    async readLayer(layer) {
      const values = new Float32Array(shape.heads * mapElements);
      for (let head = 0; head < shape.heads; head++) {
        fillSyntheticMap(values.subarray(head * mapElements, (head + 1) * mapElements), shape.rows, shape.cols, mapSeed(shape, layer, head));
      }
      return values;
    },
  };
}

/** numpy dtype strings the writer supports. */
export type NpyDescr = '<f4' | '<f2';

/**
 * The preamble and header of a version 1.0 .npy file holding a `shape` array of `descr`, in STEVE's layout
 * layers x 1 x heads x rows x cols. The header is padded with spaces and ends in '\n' so that the data starts on a
 * 64-byte boundary, as np.save does.
 */
export function makeNpyHeader(shape: AttentionShape, descr: NpyDescr): Uint8Array {
  const dims = [shape.layers, 1, shape.heads, shape.rows, shape.cols];
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims.join(', ')}), }`;
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const text = dict + ' '.repeat(total - unpadded) + '\n';
  const bytes = new Uint8Array(total);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY, version 1.0
  new DataView(bytes.buffer).setUint16(8, text.length, true);
  for (let index = 0; index < text.length; index++) bytes[10 + index] = text.charCodeAt(index);
  return bytes;
}

/** A whole float32 .npy file in memory (for small shapes: tests, the page). */
export function makeNpyBytes(shape: AttentionShape): Uint8Array {
  const header = makeNpyHeader(shape, '<f4');
  const mapElements = shape.rows * shape.cols;
  const bytes = new Uint8Array(header.byteLength + elementCountOf(shape) * 4);
  bytes.set(header);
  const values = new Float32Array(bytes.buffer, header.byteLength, elementCountOf(shape));
  for (let layer = 0; layer < shape.layers; layer++) {
    for (let head = 0; head < shape.heads; head++) {
      const start = (layer * shape.heads + head) * mapElements;
      fillSyntheticMap(values.subarray(start, start + mapElements), shape.rows, shape.cols, mapSeed(shape, layer, head));
    }
  }
  return bytes;
}

/**
 * Segments of `size` frames with boundaries every `every` frames: stand-ins for phones (every ~5 frames of 20 ms)
 * and words (every ~20 frames), for pooling and boundary lines.
 */
export function makeSegments(frames: number, every: number): { start: number; end: number }[] {
  const segments: { start: number; end: number }[] = [];
  for (let start = 0; start < frames; start += every) segments.push({ start, end: Math.min(frames, start + every) });
  return segments;
}
