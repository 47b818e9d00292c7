/** An attention tensor held in memory, for tests of code that reads AttentionSources. */
import type { AttentionSource } from '../../src/data/tensor.ts';

/**
 * frames x frames maps of `values` (layers x heads of them); with `stored`, their bytes readable as a float32 file's;
 * `headReads` counts whole-map reads.
 */
export function memorySource(values: Float32Array, layers: number, heads: number, frames: number, stored = false): AttentionSource & { headReads: number } {
  const map = frames * frames;
  const source = {
    fileName: 'memory.npy',
    shape: { layers, heads, rows: frames, cols: frames },
    dtype: 'float32' as const,
    metadata: {},
    headReads: 0,
    readHead: async (layer: number, head: number) => {
      source.headReads++;
      return values.slice((layer * heads + head) * map, (layer * heads + head + 1) * map);
    },
    readLayer: async (layer: number) => values.slice(layer * heads * map, (layer + 1) * heads * map),
    ...(stored
      ? {
          stored: {
            dtype: 'float32' as const,
            littleEndian: true,
            readInto: async (layer: number, firstValue: number, target: Uint8Array) => {
              const bytes = new Uint8Array(values.buffer, (layer * heads * map + firstValue) * 4, target.byteLength);
              target.set(bytes);
            },
          },
        }
      : {}),
  };
  return source;
}
