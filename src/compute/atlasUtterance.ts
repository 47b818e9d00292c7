/**
 * One utterance through the atlas pass: every layer of its tensor uploaded a chunk at a time (a whole layer when the
 * device can bind it), measured, and only the sums read back. The next chunk is read from the file while the GPU
 * works on the current one.
 *
 * On the host (`host`: the CLI's choice on a software adapter, as for its maps) a file's maps are measured in
 * TypeScript instead (src/compute/cpu/atlasHost.ts), reading only each map's query rows, the next map's while the
 * current one is measured. A model's scores (computed on the GPU) always go through the pass.
 */
import { readRowsInto, type AttentionSource } from '../data/tensor.ts';
import { createStorageBuffer, readBufferBytes } from '../gpu/buffers.ts';
import { isGpuProducedSource } from '../gpu/producedChunks.ts';
import { planChunks, readChunkValues } from '../gpu/upload.ts';
import type { AtlasFrameTable } from './atlas.ts';
import { AtlasPass, atlasOutputWidth } from './atlas.ts';
import { addAtlasMapSums, makeHostAtlasTable } from './cpu/atlasHost.ts';

/** A pass and the input buffer it reuses across utterances (grown on demand). */
export class AtlasRunner {
  readonly #device: GPUDevice;
  readonly #pass: AtlasPass;
  readonly #host: boolean;
  #input: GPUBuffer | undefined;

  private constructor(device: GPUDevice, pass: AtlasPass, host: boolean) {
    this.#device = device;
    this.#pass = pass;
    this.#host = host;
  }

  /** With `host`, files' maps are measured on the CPU (see the file comment). */
  static async create(device: GPUDevice, shaders: Readonly<Record<string, string>>, options: { readonly host?: boolean } = {}): Promise<AtlasRunner> {
    return new AtlasRunner(device, await AtlasPass.create(device, shaders), options.host ?? false);
  }

  /**
   * The sums of every map of `source` (layers x heads x atlasOutputWidth(table), float32, layer-major): see
   * atlasSumsCpu for what they are. Throws a RangeError when the maps are not square or do not match the table.
   */
  async measure(source: AttentionSource, table: AtlasFrameTable, softmax: boolean): Promise<Float32Array> {
    const { layers, heads, rows, cols } = source.shape;
    if (rows !== cols) throw new RangeError(`the maps are ${rows} x ${cols}; the atlas needs square self-attention maps`);
    if (cols !== table.frames) throw new RangeError(`the maps have ${cols} frames, the frame table ${table.frames}`);
    if (this.#host && !isGpuProducedSource(source)) return measureOnHost(source, table, softmax);
    const device = this.#device;
    const limits = device.limits;
    const plan = planChunks(source.shape, 'float32', Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize));
    const chunks = Array.from({ length: layers }, (_, layer) => plan.chunksOfLayer(layer)).flat();
    const outputBytes = AtlasPass.outputSizeBytes(table, layers * heads);
    const output = createStorageBuffer(device, 'AtlasRunner.output', outputBytes);
    const tables = this.#pass.uploadTable(table);
    // A source computed on the GPU (a model) writes each chunk straight into the input buffer: its scores never
    // leave the GPU. A file's chunks are read on the CPU, the next while the GPU works on the current one.
    const produced = isGpuProducedSource(source) ? source : undefined;
    try {
      let next = produced ? undefined : readChunkValues(source, chunks[0]);
      for (let index = 0; index < chunks.length; index++) {
        const chunk = chunks[index];
        if (!this.#input || this.#input.size < chunk.byteLength) {
          this.#input?.destroy();
          this.#input = createStorageBuffer(device, 'AtlasRunner.input', plan.chunkOf(0, 0).byteLength);
        }
        if (produced) await produced.writeChunk(device, chunk, 'float32', this.#input);
        else {
          const values = await next!;
          if (index + 1 < chunks.length) next = readChunkValues(source, chunks[index + 1]);
          device.queue.writeBuffer(this.#input, 0, values.buffer, values.byteOffset, values.byteLength);
        }
        const encoder = device.createCommandEncoder({ label: 'AtlasRunner.encoder' });
        this.#pass.encode(encoder, {
          input: { buffer: this.#input, format: 'float32', elementOffset: 0 },
          maps: chunk.headCount,
          tables,
          softmax,
          output,
          firstOutputMap: chunk.layer * heads + chunk.firstHead,
        });
        device.queue.submit([encoder.finish()]);
      }
      return new Float32Array(await readBufferBytes(device, output, layers * heads * atlasOutputWidth(table) * 4));
    } finally {
      tables.destroy();
      output.destroy();
    }
  }

  destroy(): void {
    this.#pass.destroy();
    this.#input?.destroy();
    this.#input = undefined;
  }
}

/** The sums of every map of `source`, as AtlasRunner.measure gives them, computed on the CPU from the query rows. */
async function measureOnHost(source: AttentionSource, table: AtlasFrameTable, softmax: boolean): Promise<Float32Array> {
  const { layers, heads, cols } = source.shape;
  const host = makeHostAtlasTable(table);
  const width = atlasOutputWidth(table);
  const queryValues = (table.queryEnd - table.queryStart) * cols;
  const maps = layers * heads;
  const output = new Float32Array(maps * width);
  const sums = new Float64Array(width);
  const scratch = new Float64Array(cols);
  // Two row buffers: the next map's rows are read into one while the other's are measured.
  const buffers = [new Float32Array(queryValues), new Float32Array(queryValues)];
  const read = (map: number) => readRowsInto(source, Math.floor(map / heads), map % heads, table.queryStart, buffers[map % 2]);
  let next = read(0);
  for (let map = 0; map < maps; map++) {
    const rows = await next;
    if (map + 1 < maps) next = read(map + 1);
    sums.fill(0);
    addAtlasMapSums(rows, host, softmax, sums, 0, scratch);
    output.set(sums, map * width);
  }
  return output;
}
