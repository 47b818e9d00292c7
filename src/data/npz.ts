/**
 * numpy .npz files: a zip of .npy files, as np.savez (stored) and np.savez_compressed (deflate) write them.
 *
 * What the arrays mean, by name (a trailing ".npy" is ignored, as np.load does):
 *   spf, sample_rate (or sampling_rate), model   single values that become AttentionMetadata
 *   every other array                            attention
 * One attention array is the stacked tensor, in any layout attentionLayout accepts. Several attention arrays
 * are one array per layer: every name must end in an integer (layer_0, layer1, layers.2, or arr_0, arr_1, ...
 * as np.savez(path, *list_of_layers) writes), they are stacked in numeric order and must share shape and dtype.
 *
 * Memory: stored entries are read a slice at a time straight from the file. A deflated entry cannot be read
 * from the middle, so it is inflated whole when first needed, and only the most recently inflated entry is
 * kept: a compressed per-layer .npz costs one layer of memory, a compressed single-array .npz the whole array
 * (plus up to 64 KiB per entry, the inflated start that holds each .npy header; see zip.ts).
 */
import type { ByteSource } from './byteSource.ts';
import { orderLayerNames, stackLayerShapes } from './attentionLayout.ts';
import { makeDenseAttentionSource } from './denseAttention.ts';
import type { ElementEncoding } from './elements.ts';
import { check } from './inputError.ts';
import { npyAttentionEncoding, openNpy, readNpyArrayInfo, readNpyScalar, type NpyArrayInfo } from './npy.ts';
import type { AttentionMetadata, AttentionSource } from './tensor.ts';
import { listZipEntries, openZipEntry, type InflateCache, type ZipEntry } from './zip.ts';
import { describeUntrusted, listUntrusted, quoteUntrusted } from './untrustedText.ts';

/** Array names that carry metadata rather than attention, and the metadata field each one fills. */
export const NPZ_METADATA_NAMES: Readonly<Record<string, keyof AttentionMetadata>> = {
  spf: 'spf',
  sample_rate: 'sampleRate',
  sampling_rate: 'sampleRate',
  model: 'model',
};

/** Opens a .npz attention file. Reads the zip directory and the .npy headers now; values later, per slice. */
export async function openNpz(source: ByteSource): Promise<AttentionSource> {
  const arrays = arrayEntries(await listZipEntries(source), source.name);
  const cache: InflateCache = {};
  const open = (entry: ZipEntry): Promise<ByteSource> => openZipEntry(source, entry, cache);
  const metadata = await readMetadata(arrays, open, source.name);
  const attentionNames = [...arrays.keys()].filter((name) => !(name in NPZ_METADATA_NAMES));
  check(attentionNames.length > 0, source.name, 'unsupported-layout', () => `.npz holds no attention array, only ${listUntrusted([...arrays.keys()]) || 'nothing'}`);
  if (attentionNames.length === 1) return openStacked(source.name, await open(arrays.get(attentionNames[0]) as ZipEntry), metadata);
  return openPerLayer(source.name, orderLayerNames(attentionNames, source.name), arrays, open, metadata);
}

/** Entries by array name (".npy" dropped), skipping directories; duplicate names are refused. */
function arrayEntries(entries: readonly ZipEntry[], fileName: string): Map<string, ZipEntry> {
  const arrays = new Map<string, ZipEntry>();
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue;
    const name = entry.name.replace(/\.npy$/, '');
    check(!arrays.has(name), fileName, 'bad-header', () => `.npz holds two arrays named ${quoteUntrusted(name)}`);
    arrays.set(name, entry);
  }
  return arrays;
}

async function readMetadata(arrays: Map<string, ZipEntry>, open: (entry: ZipEntry) => Promise<ByteSource>, fileName: string): Promise<AttentionMetadata> {
  const metadata: { spf?: number; sampleRate?: number; model?: string } = {};
  for (const [name, field] of Object.entries(NPZ_METADATA_NAMES)) {
    const entry = arrays.get(name);
    if (!entry) continue;
    const value = await readNpyScalar(await open(entry));
    if (field === 'model') {
      metadata.model = String(value);
    } else {
      check(typeof value === 'number' && Number.isFinite(value) && value > 0, fileName, 'bad-header', () => `array ${quoteUntrusted(name)} holds ${describeUntrusted(value)}; expected a positive number`);
      metadata[field] = value;
    }
  }
  return metadata;
}

async function openStacked(fileName: string, entry: ByteSource, metadata: AttentionMetadata): Promise<AttentionSource> {
  const attention = await openNpy(entry, metadata);
  // Errors from slices still name the entry; the tensor itself is known by the file the user opened.
  return { ...attention, fileName };
}

async function openPerLayer(
  fileName: string,
  names: readonly string[],
  arrays: Map<string, ZipEntry>,
  open: (entry: ZipEntry) => Promise<ByteSource>,
  metadata: AttentionMetadata,
): Promise<AttentionSource> {
  const layers: { name: string; source: ByteSource; info: NpyArrayInfo; encoding: ElementEncoding }[] = [];
  for (const name of names) {
    const source = await open(arrays.get(name) as ZipEntry);
    const info = await readNpyArrayInfo(source);
    layers.push({ name, source, info, encoding: npyAttentionEncoding(info, source.name) });
  }
  const shape = stackLayerShapes(layers.map(({ name, info }) => ({ name, dims: info.header.shape })), fileName);
  const { encoding } = layers[0];
  for (const layer of layers) {
    check(
      layer.encoding.dtype === encoding.dtype && layer.encoding.littleEndian === encoding.littleEndian,
      fileName,
      'unsupported-dtype',
      () => `per-layer arrays must share one dtype: ${quoteUntrusted(layers[0].name)} is ${quoteUntrusted(layers[0].info.header.descr)} but ${quoteUntrusted(layer.name)} is ${quoteUntrusted(layer.info.header.descr)}`,
    );
  }
  // Every layer's bytes were checked against its entry's size by readNpyArrayInfo.
  return makeDenseAttentionSource({
    fileName,
    shape,
    encoding,
    metadata,
    locateLayer: (layer) => ({ source: layers[layer].source, offset: layers[layer].info.header.dataOffset }),
  });
}
