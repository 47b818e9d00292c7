/**
 * Attention tensors as the rest of the engine sees them, whatever file they came from.
 *
 * Every supported file layout (N x 1 x M x K x Q, N x M x K x Q, M x K x Q, K x Q) is normalised to
 * layers x heads x rows x cols. A map's rows are the file's second-to-last axis and its columns the last axis, the
 * one softmax normalises (STEVE's softmax(dim=-1)): for model attention (q . k^T) rows are queries, columns keys.
 */
import { isNativeFloat32 } from './elements.ts';

/** Element types as stored in the file. Everything is widened to float32 when read. */
export type StoredDType = 'float16' | 'bfloat16' | 'float32' | 'float64';

export interface AttentionShape {
  readonly layers: number;
  readonly heads: number;
  /** Second-to-last axis of the file (query frames of model attention): the map's rows. */
  readonly rows: number;
  /** Last axis of the file (key frames): the map's columns, the softmax axis. */
  readonly cols: number;
}

/** Facts a file may carry beside the numbers (safetensors __metadata__, .npz side arrays). */
export interface AttentionMetadata {
  /** Audio samples per model frame, at 16 kHz. */
  readonly spf?: number;
  readonly sampleRate?: number;
  readonly model?: string;
}

/**
 * A readable attention tensor. Reads are by slice so that a file larger than memory can be browsed:
 * the first map can be shown before the rest of the file has been read.
 */
export interface AttentionSource {
  /** The file's name as the user gave it. */
  readonly fileName: string;
  readonly shape: AttentionShape;
  readonly dtype: StoredDType;
  readonly metadata: AttentionMetadata;
  /** One map, rows x cols, row-major float32. */
  readHead(layer: number, head: number): Promise<Float32Array>;
  /** All heads of one layer, heads x rows x cols, row-major float32. */
  readLayer(layer: number): Promise<Float32Array>;
  /**
   * The values as the file stores them, for an upload that decodes on the GPU instead of in JS (src/gpu/storedUpload.ts).
   * Present when each layer's values lie densely in C order in the file (every reader in src/data); absent for sources
   * that compute their values.
   */
  readonly stored?: StoredValues;
}

/** A tensor's values as stored: element type, byte order, and reads of raw bytes into memory the caller holds. */
export interface StoredValues {
  readonly dtype: StoredDType;
  readonly littleEndian: boolean;
  /**
   * Copies the stored bytes of layer `layer`'s values, from value `firstValue` of its heads x rows x cols (C order) on,
   * into `target`, whose length must be a whole number of elements within the layer. Errors are InputErrors.
   */
  readInto(layer: number, firstValue: number, target: Uint8Array): Promise<void>;
}

/**
 * Head `head` of layer `layer` (rows x cols float32) read into `into`, memory the caller holds: a file of float32 in
 * this machine's byte order has its bytes read straight into it (no array of its own), any other through readHead.
 */
export async function readHeadInto(source: AttentionSource, layer: number, head: number, into: Float32Array): Promise<Float32Array> {
  const { rows, cols } = source.shape;
  if (into.length !== rows * cols) throw new RangeError(`readHeadInto: ${into.length} values cannot hold a ${rows} x ${cols} map`);
  return readRowsInto(source, layer, head, 0, into);
}

/**
 * Rows firstRow .. firstRow + into.length / cols of one map read into `into` (whole rows), as readHeadInto reads a
 * whole map: straight from the file's bytes where it stores native float32, else the map through readHead.
 */
export async function readRowsInto(source: AttentionSource, layer: number, head: number, firstRow: number, into: Float32Array): Promise<Float32Array> {
  const { rows, cols } = source.shape;
  const stored = source.stored;
  if (stored && isNativeFloat32(stored)) {
    await stored.readInto(layer, head * rows * cols + firstRow * cols, new Uint8Array(into.buffer, into.byteOffset, into.byteLength));
  } else into.set((await source.readHead(layer, head)).subarray(firstRow * cols, firstRow * cols + into.length));
  return into;
}

/** Number of float values in one map. */
export function mapSize(shape: AttentionShape): number {
  return shape.rows * shape.cols;
}
