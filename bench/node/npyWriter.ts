/**
 * Synthetic attention written to .npy files in streaming fashion: the header, then one map at a time, so that a
 * 5.8 GB Whisper large-v3 tensor never has to exist in memory. Node only.
 */
import { open } from 'node:fs/promises';
import type { AttentionShape } from '../../src/data/tensor.ts';
import { elementCountOf, fillSyntheticMap, makeNpyHeader, mapSeed } from '../core/synthetic.ts';

/** Distinct maps generated per file; later maps repeat them (timings do not depend on values, generating does). */
const DISTINCT_MAPS = 16;
/** Maps gathered per write call: fewer, larger writes. */
const MAPS_PER_WRITE = 4;

/**
 * Writes a float32 .npy of `shape` (layers x 1 x heads x rows x cols) at `path`, map by map. Returns the file size.
 * Maps cycle through DISTINCT_MAPS synthetic maps, so a big file costs mostly the disk write.
 */
export async function writeSyntheticNpy(path: string, shape: AttentionShape): Promise<number> {
  const header = makeNpyHeader(shape, '<f4');
  const mapElements = shape.rows * shape.cols;
  const maps = shape.layers * shape.heads;
  const distinct = Array.from({ length: Math.min(DISTINCT_MAPS, maps) }, (_, index) =>
    fillSyntheticMap(new Float32Array(mapElements), shape.rows, shape.cols, mapSeed(shape, Math.floor(index / shape.heads), index % shape.heads)),
  );
  const chunk = new Float32Array(mapElements * MAPS_PER_WRITE);
  const file = await open(path, 'w');
  try {
    await file.write(header, 0, header.byteLength, 0);
    let position = header.byteLength;
    for (let first = 0; first < maps; first += MAPS_PER_WRITE) {
      const count = Math.min(MAPS_PER_WRITE, maps - first);
      for (let index = 0; index < count; index++) chunk.set(distinct[(first + index) % distinct.length], index * mapElements);
      const bytes = new Uint8Array(chunk.buffer, 0, count * mapElements * 4);
      await file.write(bytes, 0, bytes.byteLength, position);
      position += bytes.byteLength;
    }
    return position;
  } finally {
    await file.close();
  }
}

/** Size in bytes of the file writeSyntheticNpy writes for `shape`. */
export function syntheticNpyBytes(shape: AttentionShape): number {
  return makeNpyHeader(shape, '<f4').byteLength + elementCountOf(shape) * 4;
}
