/**
 * The head atlas on the GPU: per map, the sums over an utterance's query frames of entropy, attention distance,
 * local, same-phone and outside-speech shares, and the phone x phone and class x class attention masses.
 * Kernels: shaders/compute/atlasRows.wgsl (one workgroup per query row) and atlasReduce.wgsl (one thread per
 * output value); reference: atlas.cpu.ts. Only the sums leave the GPU.
 */
import { createStorageBuffer, createStorageBufferFrom, workgroupCount } from '../gpu/buffers.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { createAttentionPipelinesForAllFormats, createComputePipelineFromFiles } from '../gpu/pipeline.ts';
import type { AttentionView, StorageFormat } from '../gpu/storageFormat.ts';
import type { AtlasFrameTable, FrameRange } from './atlas.cpu.ts';
import { ATLAS_ROW_VALUES, atlasOutputWidth, labelQueryRanges } from './atlas.cpu.ts';
import { bindAttentionView, checkInteger, checkOutputSize, PassDestroyedError, UniformCache } from './passSupport.ts';

export { ATLAS_ROW_STATISTICS, ATLAS_ROW_VALUES, atlasOutputWidth, NO_SEGMENT, type AtlasFrameTable } from './atlas.cpu.ts';

const ROWS_KERNEL = 'compute/atlasRows.wgsl';
const REDUCE_KERNEL = 'compute/atlasReduce.wgsl';
const WORKGROUP_SIZE = 64;

/** An utterance's frame table on the GPU (AtlasPass.uploadTable), shared by every layer's encode. */
export interface AtlasTableBuffers {
  readonly table: AtlasFrameTable;
  readonly frameSegment: GPUBuffer;
  readonly keyRanges: GPUBuffer;
  readonly queryRanges: GPUBuffer;
  destroy(): void;
}

/** What AtlasPass.encode measures and where the sums go. */
export interface AtlasArgs {
  /** `maps` maps of frames x frames values back to back, map 0 at elementOffset. */
  readonly input: AttentionView;
  readonly maps: number;
  readonly tables: AtlasTableBuffers;
  /** True: P is each row's softmax (raw scores); false: P is the stored values (already softmaxed). */
  readonly softmax: boolean;
  /** Receives atlasOutputWidth(table) f32 per map, at records firstOutputMap .. firstOutputMap + maps - 1. */
  readonly output: GPUBuffer;
  readonly firstOutputMap?: number;
}

/** Label ranges as the kernels read them: labels + 1 offsets (in pairs), then the (start, end) pairs. */
export function encodeLabelRanges(ranges: readonly (readonly FrameRange[])[]): Uint32Array {
  const pairs = ranges.reduce((count, list) => count + list.length, 0);
  const words = new Uint32Array(ranges.length + 1 + 2 * pairs);
  let pair = 0;
  ranges.forEach((list, label) => {
    words[label] = pair;
    for (const [start, end] of list) {
      words[ranges.length + 1 + 2 * pair] = start;
      words[ranges.length + 2 + 2 * pair] = end;
      pair++;
    }
  });
  words[ranges.length] = pair;
  return words;
}

/**
 * Two dispatches per encode: one workgroup per (query frame, map) sweeps the row (max and Σ exp first when
 * softmaxing) into a record of its five statistics and its mass on every label, in a scratch buffer the pass owns
 * (grown on demand; a replaced one is left to the garbage collector since recorded commands may still use it);
 * then one thread per (output value, map) adds the records of its query frames.
 */
export class AtlasPass {
  readonly #device: GPUDevice;
  readonly #rowPipelines: Record<StorageFormat, GPUComputePipeline>;
  readonly #reducePipeline: GPUComputePipeline;
  readonly #uniforms: UniformCache;
  #rowRecords: GPUBuffer | undefined;
  #destroyed = false;

  private constructor(device: GPUDevice, rowPipelines: Record<StorageFormat, GPUComputePipeline>, reducePipeline: GPUComputePipeline) {
    this.#device = device;
    this.#rowPipelines = rowPipelines;
    this.#reducePipeline = reducePipeline;
    this.#uniforms = new UniformCache(device, 'AtlasPass.params');
  }

  static async create(device: GPUDevice, shaders: ShaderSources): Promise<AtlasPass> {
    const constants = { WorkgroupSize: WORKGROUP_SIZE };
    const [rows, reduce] = await Promise.all([
      createAttentionPipelinesForAllFormats(device, shaders, 'AtlasPass.rowPipeline', [ROWS_KERNEL], constants),
      createComputePipelineFromFiles(device, shaders, 'AtlasPass.reducePipeline', [REDUCE_KERNEL], constants),
    ]);
    return new AtlasPass(device, rows, reduce);
  }

  /** Bytes of an output holding `maps` records for `table`. */
  static outputSizeBytes(table: Pick<AtlasFrameTable, 'phones' | 'classes'>, maps: number): number {
    return maps * atlasOutputWidth(table) * 4;
  }

  /** Uploads an utterance's frame table (once per utterance; every layer's encode reads it). */
  uploadTable(table: AtlasFrameTable): AtlasTableBuffers {
    checkInteger('AtlasPass', 'queryStart', table.queryStart, 0, table.frames - 1);
    checkInteger('AtlasPass', 'queryEnd', table.queryEnd, table.queryStart + 1, table.frames);
    if (table.frameSegment.length !== table.frames) throw new RangeError(`AtlasPass: frameSegment has ${table.frameSegment.length} frames, expected ${table.frames}`);
    if (table.labelKeyRanges.length !== table.phones + table.classes) throw new RangeError('AtlasPass: one key range list per label is needed');
    const device = this.#device;
    const buffers = [
      createStorageBufferFrom(device, 'AtlasPass.frameSegment', table.frameSegment),
      createStorageBufferFrom(device, 'AtlasPass.keyRanges', encodeLabelRanges(table.labelKeyRanges)),
      createStorageBufferFrom(
        device,
        'AtlasPass.queryRanges',
        encodeLabelRanges(labelQueryRanges(table).map((ranges) => ranges.map(([start, end]): FrameRange => [start - table.queryStart, end - table.queryStart]))),
      ),
    ];
    return { table, frameSegment: buffers[0], keyRanges: buffers[1], queryRanges: buffers[2], destroy: () => buffers.forEach((buffer) => buffer.destroy()) };
  }

  /** Records both dispatches into `encoder` (one compute pass); nothing is submitted. */
  encode(encoder: GPUCommandEncoder, args: AtlasArgs): void {
    if (this.#destroyed) throw new PassDestroyedError('AtlasPass');
    const { table } = args.tables;
    const firstOutputMap = args.firstOutputMap ?? 0;
    const queryFrames = table.queryEnd - table.queryStart;
    const limit = this.#device.limits.maxComputeWorkgroupsPerDimension;
    checkInteger('AtlasPass', 'maps', args.maps, 1, limit);
    checkInteger('AtlasPass', 'query frames', queryFrames, 1, limit);
    checkInteger('AtlasPass', 'firstOutputMap', firstOutputMap, 0);
    const labels = table.phones + table.classes;
    const recordWidth = ATLAS_ROW_VALUES + labels;
    const outputWidth = atlasOutputWidth(table);
    const outputBytes = AtlasPass.outputSizeBytes(table, firstOutputMap + args.maps);
    checkOutputSize('AtlasPass', 'output', args.output, outputBytes);

    const recordBytes = args.maps * queryFrames * recordWidth * 4;
    if (!this.#rowRecords || this.#rowRecords.size < recordBytes) {
      this.#rowRecords = createStorageBuffer(this.#device, 'AtlasPass.rowRecords', recordBytes);
    }
    const input = bindAttentionView(this.#device, args.input, args.maps * table.frames * table.frames, 'AtlasPass.input');
    // Params struct of atlasRows.wgsl, one u32 per field.
    const rowParams = this.#uniforms.get(
      new Uint32Array([
        input.elementOffset, // elementOffset
        table.frames, // frames
        table.queryStart, // queryStart
        table.queryEnd, // queryEnd
        args.softmax ? 1 : 0, // softmax
        labels, // labels
        recordWidth, // recordWidth
      ]),
    );
    // Params struct of atlasReduce.wgsl, one u32 per field.
    const reduceParams = this.#uniforms.get(
      new Uint32Array([
        queryFrames, // queryFrames
        recordWidth, // recordWidth
        table.phones, // phones
        table.classes, // classes
        outputWidth, // outputWidth
        firstOutputMap, // firstOutputMap
        args.maps, // maps
      ]),
    );
    const rowPipeline = this.#rowPipelines[args.input.format];
    const pass = encoder.beginComputePass({ label: 'AtlasPass.computePass' });
    pass.setPipeline(rowPipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'AtlasPass.rowBindGroup',
        layout: rowPipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: input.resource },
          { binding: 1, resource: { buffer: rowParams } },
          { binding: 2, resource: { buffer: args.tables.frameSegment } },
          { binding: 3, resource: { buffer: args.tables.keyRanges } },
          { binding: 4, resource: { buffer: this.#rowRecords, size: recordBytes } },
        ],
      }),
    );
    pass.dispatchWorkgroups(queryFrames, args.maps);
    pass.setPipeline(this.#reducePipeline);
    pass.setBindGroup(
      0,
      this.#device.createBindGroup({
        label: 'AtlasPass.reduceBindGroup',
        layout: this.#reducePipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: reduceParams } },
          { binding: 1, resource: { buffer: this.#rowRecords, size: recordBytes } },
          { binding: 2, resource: { buffer: args.tables.queryRanges } },
          { binding: 3, resource: { buffer: args.output, size: outputBytes } },
        ],
      }),
    );
    pass.dispatchWorkgroups(workgroupCount(outputWidth, WORKGROUP_SIZE), args.maps);
    pass.end();
  }

  /** Frees the scratch and uniform buffers. Safe to call twice; encode() afterwards throws PassDestroyedError. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#rowRecords?.destroy();
    this.#rowRecords = undefined;
    this.#uniforms.destroy();
  }
}
