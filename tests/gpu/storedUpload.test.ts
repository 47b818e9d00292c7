/**
 * Chunks uploaded as the file stores them (src/gpu/storedUpload.ts, shaders/compute/unpackStored.wgsl) against the
 * JS path they replace (readLayer/readHead decoding in src/data, then the float32 words or packFloat16Pairs), bit for
 * bit: every float16 and every bfloat16 bit pattern, odd element counts, data at offsets that are not 4-byte
 * aligned, chunks of some heads of a layer, many small pieces, and every fixture file through uploadChunk.
 */
import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { float16ToFloat32Table, packFloat16Pairs } from '../../src/data/float16.ts';
import { openAttention } from '../../src/data/openAttention.ts';
import type { AttentionSource } from '../../src/data/tensor.ts';
import { AttentionEngine } from '../../src/engine.ts';
import { readBufferBytes } from '../../src/gpu/buffers.ts';
import { getNodeGpu } from '../../src/node/dawn.ts';
import { workCountsOf } from '../../src/gpu/workCounters.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { canUploadStored, uploadStoredChunk, type StoredWordsPath } from '../../src/gpu/storedUpload.ts';
import { planChunks, readChunkValues, uploadChunk, type UploadChunk } from '../../src/gpu/upload.ts';
import { withDevice } from '../helpers/gpuDevice.ts';
import { fixtureSource, makeNpy, makeSafetensors } from '../helpers/tensorFixtures.ts';
import { SHADERS, makeRandom } from './support.ts';

/** The storage words the JS path makes for a chunk: decoded float32 values, then packed for float16 storage. */
async function expectedWords(source: AttentionSource, chunk: UploadChunk, format: StorageFormat): Promise<Uint32Array> {
  const values = await readChunkValues(source, chunk);
  return format === 'float32' ? new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) : packFloat16Pairs(values);
}

/** The chunk uploaded as stored (the kernel path, whatever uploadChunk would choose on this adapter). */
async function uploadedWords(device: GPUDevice, source: AttentionSource, chunk: UploadChunk, format: StorageFormat, maxPieceBytes?: number, words?: StoredWordsPath): Promise<Uint32Array> {
  const buffer = await uploadStoredChunk(device, 'test.stored', chunk, source.shape, source.stored!, format, () => false, SHADERS, maxPieceBytes, undefined, words);
  try {
    return new Uint32Array(await readBufferBytes(device, buffer));
  } finally {
    buffer.destroy();
  }
}

/**
 * A two-layer .safetensors holding the given 16-bit patterns in each layer (one map of 1 x n). With an odd n, layer 1
 * starts 2 bytes past a 4-byte boundary.
 */
async function sixteenBitFile(dtype: 'F16' | 'BF16', halves: Uint16Array): Promise<AttentionSource> {
  const data = new Uint8Array(2 * halves.byteLength);
  data.set(new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength));
  data.set(new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength), halves.byteLength);
  const bytes = makeSafetensors(
    {
      layer_0: { dtype, shape: [1, halves.length], data_offsets: [0, halves.byteLength] },
      layer_1: { dtype, shape: [1, halves.length], data_offsets: [halves.byteLength, 2 * halves.byteLength] },
    },
    data,
  );
  return openAttention(makeMemorySource(`all-${dtype}.safetensors`, bytes));
}

/** Every 16-bit pattern, plus one more so that the count is odd (65537 values). */
const ALL_PATTERNS = Uint16Array.from({ length: 0x10001 }, (_, index) => index & 0xffff);

function bitsOf(words: Uint32Array): number[] {
  return [...words];
}

describe('stored uploads', () => {
  it('every float16 pattern widens to float32 exactly as the JS table, NaNs with sign and payload', async () => {
    await withDevice(async (device) => {
      const source = await sixteenBitFile('F16', ALL_PATTERNS);
      const chunk = { layer: 1, firstHead: 0, headCount: 1, byteLength: ALL_PATTERNS.length * 4 };
      const words = await uploadedWords(device, source, chunk, 'float32', 4096);
      const table = new Uint32Array(float16ToFloat32Table().buffer);
      const expected = Uint32Array.from(ALL_PATTERNS, (half) => table[half]);
      // The IEEE widening for NaNs, written out (the table went through JS numbers, which may quiet signalling NaNs).
      for (let half = 0x7c01; half <= 0x7fff; half++) {
        expected[half] = 0x7f800000 | ((half & 0x3ff) << 13);
        expected[half | 0x8000] = 0xff800000 | ((half & 0x3ff) << 13);
      }
      expect(bitsOf(words)).toEqual(bitsOf(expected));
      // And the JS decode agrees for every non-NaN value.
      const decoded = new Uint32Array((await source.readLayer(1)).buffer);
      const finite = (half: number) => (half & 0x7c00) !== 0x7c00 || (half & 0x3ff) === 0;
      expect(bitsOf(words.filter((_, index) => finite(ALL_PATTERNS[index])))).toEqual(bitsOf(decoded.filter((_, index) => finite(ALL_PATTERNS[index]))));
    });
  });

  it('a float16 file into float16 storage is its bytes, the odd last half word zero', async () => {
    await withDevice(async (device) => {
      const source = await sixteenBitFile('F16', ALL_PATTERNS);
      const chunk = { layer: 1, firstHead: 0, headCount: 1, byteLength: Math.ceil(ALL_PATTERNS.length / 2) * 4 };
      const padded = new Uint16Array(ALL_PATTERNS.length + 1);
      padded.set(ALL_PATTERNS);
      // Both ways of taking the bytes as they are (staging slabs and a GPU copy, queue.writeBuffer), in one piece and many.
      for (const words of ['staging', 'writeBuffer'] as const) {
        for (const pieces of [undefined, 4096]) {
          expect(bitsOf(await uploadedWords(device, source, chunk, 'float16', pieces, words)), `${words} ${pieces}`).toEqual(bitsOf(new Uint32Array(padded.buffer)));
        }
      }
    });
  });

  it('a float32 layer of more than one 4 MiB read goes whole by both paths (writeBuffer in 1 MiB pieces of each read)', async () => {
    await withDevice(async (device) => {
      const random = makeRandom(41);
      // 1.6 M values (6.4 MB): two reads of the writeBuffer path, the second partial; two staged pieces.
      const values = new Float32Array(1_600_001).map(() => random() - 0.5);
      const bytes = makeNpy(`{'descr': '<f4', 'fortran_order': False, 'shape': (1, ${values.length}), }`, new Uint8Array(values.buffer));
      const source = await openAttention(makeMemorySource('big.npy', bytes));
      const chunk = { layer: 0, firstHead: 0, headCount: 1, byteLength: values.length * 4 };
      for (const words of ['writeBuffer', 'staging'] as const) {
        const got = await uploadedWords(device, source, chunk, 'float32', undefined, words);
        expect(bitsOf(got).every((word, index) => word === new Uint32Array(values.buffer)[index]), words).toBe(true);
        expect(got.length).toBe(values.length);
      }
    });
  });

  it('every bfloat16 pattern: float32 storage is the shift, float16 storage the JS narrowing (numpy\'s for NaNs)', async () => {
    await withDevice(async (device) => {
      const source = await sixteenBitFile('BF16', ALL_PATTERNS);
      const chunk32 = { layer: 1, firstHead: 0, headCount: 1, byteLength: ALL_PATTERNS.length * 4 };
      const words32 = await uploadedWords(device, source, chunk32, 'float32', 4096);
      expect(bitsOf(words32)).toEqual(bitsOf(Uint32Array.from(ALL_PATTERNS, (half) => half << 16)));
      const chunk16 = { ...chunk32, byteLength: Math.ceil(ALL_PATTERNS.length / 2) * 4 };
      const words16 = await uploadedWords(device, source, chunk16, 'float16', 4096);
      // NaNs narrowed as numpy does (sign and top payload bits kept, signalling ones too); the JS packer goes through
      // JS numbers, which quiet signalling NaNs, so for NaNs the expectation is written out.
      const js = await expectedWords(source, chunk16, 'float16');
      const halves = new Uint16Array(js.buffer);
      ALL_PATTERNS.forEach((bits, index) => {
        if ((bits & 0x7f80) === 0x7f80 && (bits & 0x7f) !== 0) halves[index] = (bits & 0x8000) | 0x7c00 | ((bits & 0x7f) << 3);
      });
      expect(bitsOf(words16)).toEqual(bitsOf(js));
    });
  });

  it('every fixture file the path takes, chunked by heads, equals the JS path in both storage formats', async () => {
    await withDevice(async (device) => {
      const names = ['steve5d_f2_le.npy', 'steve5d_f4_le.npy', 'nonfinite_f4.npy', 'random_f2.npy', 'npz_layers12_compressed.npz', 'npz_stacked.npz', 'st_stacked_bf16.safetensors', 'st_layers12_f16.safetensors'];
      for (const name of names) {
        const source = await openAttention(fixtureSource(name));
        for (const format of ['float32', 'float16'] as const) {
          expect(canUploadStored(source.stored, format, true)).toBe(true);
          // Two heads per chunk at most: chunks that start inside a layer, and odd-sized maps (7 x 5).
          const mapBytes = format === 'float32' ? source.shape.rows * source.shape.cols * 4 : Math.ceil((source.shape.rows * source.shape.cols * 2) / 2) * 2;
          const plan = planChunks(source.shape, format, Math.max(4, Math.ceil((mapBytes * 2) / 4) * 4));
          // And what the engine's uploadChunk picks on this adapter gives the same words.
          const chosen = await uploadChunk(device, 'test.chosen', plan.chunkOf(0, 0), source, format, () => false, SHADERS);
          expect(bitsOf(new Uint32Array(await readBufferBytes(device, chosen)))).toEqual(bitsOf(await expectedWords(source, plan.chunkOf(0, 0), format)));
          chosen.destroy();
          for (let layer = 0; layer < source.shape.layers; layer++) {
            for (const chunk of plan.chunksOfLayer(layer)) {
              const got = await uploadedWords(device, source, chunk, format);
              expect(bitsOf(got), `${name} ${format} layer ${layer} heads ${chunk.firstHead}+${chunk.headCount}`).toEqual(bitsOf(await expectedWords(source, chunk, format)));
            }
          }
        }
      }
    });
  });

  it('float32 values of every magnitude narrow to float16 storage as packFloat16Pairs does, in many pieces', async () => {
    await withDevice(async (device) => {
      const random = makeRandom(12);
      const values = new Float32Array(40001).map(() => (random() - 0.5) * 2 ** (random() * 60 - 30));
      values.set([Infinity, -Infinity, 65504, 65520, -65519.99, 2 ** -25, 3 * 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -0, 5.96e-8]);
      const bytes = makeNpy(`{'descr': '<f4', 'fortran_order': False, 'shape': (1, ${values.length}), }`, new Uint8Array(values.buffer));
      const source = await openAttention(makeMemorySource('magnitudes.npy', bytes));
      const chunk = { layer: 0, firstHead: 0, headCount: 1, byteLength: Math.ceil(values.length / 2) * 4 };
      expect(bitsOf(await uploadedWords(device, source, chunk, 'float16', 4096))).toEqual(bitsOf(packFloat16Pairs(values)));
    });
  });

  it('submits once per staged piece and nothing by writeBuffer for bytes that are the storage words, once for a decoded chunk of four pieces, and fills a recycled buffer', async () => {
    await withDevice(async (device) => {
      // Finite patterns only: the JS decode that gives the expected words quiets NaNs.
      const source = await sixteenBitFile('F16', ALL_PATTERNS.map((half) => half % 0x7c00));
      const submitsOf = async (format: StorageFormat, maxPieceBytes: number, recycled?: GPUBuffer, path?: StoredWordsPath) => {
        const chunk = { layer: 1, firstHead: 0, headCount: 1, byteLength: format === 'float32' ? ALL_PATTERNS.length * 4 : Math.ceil(ALL_PATTERNS.length / 2) * 4 };
        const before = workCountsOf(device).submits;
        const buffer = await uploadStoredChunk(device, 'test.submits', chunk, source.shape, source.stored!, format, () => false, SHADERS, maxPieceBytes, recycled, path);
        const submits = workCountsOf(device).submits - before;
        const words = new Uint32Array(await readBufferBytes(device, buffer));
        expect(bitsOf(words), `${format} in pieces of ${maxPieceBytes}`).toEqual(bitsOf(await expectedWords(source, chunk, format)));
        return { submits, buffer };
      };
      // float16 into float16 storage: 33 pieces of 4 KiB (65537 halves), staged: one submit each; by queue.writeBuffer: none.
      expect((await submitsOf('float16', 4096)).submits).toBe(33);
      expect((await submitsOf('float16', 4096, undefined, 'writeBuffer')).submits).toBe(0);
      // float16 widened to float32: 4 pieces of 20480 values (40 KiB), one encoder; 9 pieces take a submit per 4 slabs.
      const widened = await submitsOf('float32', 40960);
      expect(widened.submits).toBe(1);
      // A recycled buffer (filled with something else first) is the one returned, holding the new words.
      device.queue.writeBuffer(widened.buffer, 0, new Uint32Array(widened.buffer.size / 4).fill(0xdeadbeef));
      const refilled = await submitsOf('float32', 16384, widened.buffer);
      expect(refilled.buffer).toBe(widened.buffer);
      expect(refilled.submits).toBeGreaterThanOrEqual(2);
      refilled.buffer.destroy();
    });
  });

  it('the engine stages a float32 file when prefetching (a submit per piece) and writes it by writeBuffer for a map\'s own load (no submit)', async () => {
    const shape = { layers: 2, heads: 2, rows: 16, cols: 24 };
    const random = makeRandom(31);
    const values = new Float32Array(shape.layers * shape.heads * shape.rows * shape.cols).map(() => random() - 0.5);
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.layers}, ${shape.heads}, ${shape.rows}, ${shape.cols}), }`;
    const source = await openAttention(makeMemorySource('staged.npy', makeNpy(header, new Uint8Array(values.buffer))));
    const engine = await AttentionEngine.create({ gpu: getNodeGpu(), shaders: SHADERS, budgetBytes: 1 << 20 });
    const mapOf = (layer: number, head: number) => {
      const size = shape.rows * shape.cols;
      return values.subarray((layer * shape.heads + head) * size, (layer * shape.heads + head + 1) * size);
    };
    try {
      engine.addTensor('prefetched', source);
      let before = engine.workCounts.submits;
      await engine.prefetch('prefetched');
      // Two layers of one piece each (3 KiB), each its own submit.
      expect(engine.workCounts.submits - before).toBe(2);
      expect([...(await engine.readMap({ tensorId: 'prefetched', layer: 1, head: 1, softmax: 'none' }))]).toEqual([...mapOf(1, 1)]);
      // The same map as a new tensor (into the pooled buffers), loaded by the map's own request: the same submits as a
      // map of a layer already resident.
      engine.removeTensor('prefetched');
      engine.addTensor('onDemand', source);
      before = engine.workCounts.submits;
      expect([...(await engine.readMap({ tensorId: 'onDemand', layer: 0, head: 1, softmax: 'none' }))]).toEqual([...mapOf(0, 1)]);
      const loading = engine.workCounts.submits - before;
      before = engine.workCounts.submits;
      await engine.readMap({ tensorId: 'onDemand', layer: 0, head: 0, softmax: 'none' });
      expect(loading).toBe(engine.workCounts.submits - before);
    } finally {
      engine.destroy();
    }
  });

  it('big-endian and float64 files are left to the JS path', async () => {
    for (const name of ['steve5d_f2_be.npy', 'steve5d_f4_be.npy', 'steve5d_f8_le.npy']) {
      const source = await openAttention(fixtureSource(name));
      expect(canUploadStored(source.stored, 'float32', true)).toBe(false);
    }
    // Without shaders only the formats that need no decoding go as stored.
    const f16 = await openAttention(fixtureSource('steve5d_f2_le.npy'));
    expect(canUploadStored(f16.stored, 'float16', false)).toBe(true);
    expect(canUploadStored(f16.stored, 'float32', false)).toBe(false);
    // On a software adapter widening to float32 is left to JS (faster there); narrowing stays on the GPU.
    expect(canUploadStored(f16.stored, 'float32', true, true)).toBe(false);
    expect(canUploadStored(f16.stored, 'float16', true, true)).toBe(true);
    const f32 = await openAttention(fixtureSource('steve5d_f4_le.npy'));
    expect(canUploadStored(f32.stored, 'float16', true, true)).toBe(true);
    expect(canUploadStored(f32.stored, 'float32', false, true)).toBe(true);
  });

  it('a read that fails destroys nothing twice and rejects with the reader error', async () => {
    await withDevice(async (device) => {
      const source = await openAttention(fixtureSource('steve5d_f4_le.npy'));
      const broken: AttentionSource = {
        ...source,
        stored: { ...source.stored!, readInto: async () => Promise.reject(new Error('disk went away')) },
      };
      const chunk = planChunks(source.shape, 'float32', 1 << 20).chunkOf(0, 0);
      // Both paths: float32 storage takes the bytes as they are, float16 storage decodes (both through slabs).
      for (const format of ['float32', 'float16'] as const) {
        const formatChunk = planChunks(source.shape, format, 1 << 20).chunkOf(0, 0);
        await expect(uploadChunk(device, 'test.broken', formatChunk, broken, format, () => false, SHADERS)).rejects.toThrow('disk went away');
        // The buffers went back to their pools: the next upload works.
        expect(bitsOf(await uploadedWords(device, source, formatChunk, format))).toEqual(bitsOf(await expectedWords(source, formatChunk, format)));
      }
      expect(chunk.byteLength).toBeGreaterThan(0);
    });
  });
});
