/**
 * .safetensors files (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N, N bytes
 * of JSON mapping tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the end of the
 * header), an optional "__metadata__" string-to-string map, then the data, always little-endian.
 *
 * Tensor names follow the same rule as .npz arrays (see attentionLayout.orderLayerNames): one tensor is the
 * stacked attention; several are one per layer, each name ending in its layer number. __metadata__ may carry
 * spf, sample_rate (or sampling_rate) and model; numbers are parsed from their strings.
 */
import type { ByteSource } from './byteSource.ts';
import { elementCount, formatShape, normaliseShape, orderLayerNames, stackLayerShapes } from './attentionLayout.ts';
import { makeDenseAttentionSource } from './denseAttention.ts';
import { ELEMENT_BYTES } from './elements.ts';
import { InputError, check } from './inputError.ts';
import { readBytes } from './safeRead.ts';
import type { AttentionMetadata, AttentionShape, AttentionSource, StoredDType } from './tensor.ts';
import { describeUntrusted, quoteUntrusted } from './untrustedText.ts';

/** One tensor entry of the header, with offsets made absolute (from the start of the file). */
export interface SafetensorsTensor {
  readonly name: string;
  /** The dtype as written: 'F32', 'F16', 'BF16', ... */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte offset of the first value. */
  readonly begin: number;
  /** Absolute byte offset just past the last value. */
  readonly end: number;
}

/** A parsed and validated .safetensors header. */
export interface SafetensorsHeader {
  readonly tensors: readonly SafetensorsTensor[];
  /** The __metadata__ map, or {} when absent. */
  readonly metadata: Readonly<Record<string, string>>;
}

// The reference implementation refuses headers over 100 MB; so do we, before reading them.
const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of every dtype the format defines, so that byte lengths can be checked for all tensors. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

const ATTENTION_DTYPES: Readonly<Record<string, StoredDType>> = { F16: 'float16', BF16: 'bfloat16', F32: 'float32', F64: 'float64' };

/**
 * Length of the JSON header from the file's first 8 bytes, checked against the file size and a 100 MB limit.
 * Throws InputError('truncated') when the file is shorter than the header it announces.
 */
export function safetensorsHeaderLength(first8: Uint8Array, fileSize: number, fileName: string): number {
  check(first8.length >= 8, fileName, 'truncated', () => `file has ${first8.length} bytes; a .safetensors file starts with an 8-byte header length`);
  const length = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  check(length <= BigInt(MAX_HEADER_BYTES), fileName, 'bad-header', () => `.safetensors header claims ${length} bytes; expected at most ${MAX_HEADER_BYTES}`);
  check(Number(length) <= fileSize - 8, fileName, 'truncated', () => `.safetensors header claims ${length} bytes but the file has ${fileSize - 8} after the length field`);
  return Number(length);
}

/**
 * Parses and validates the JSON header (`json` = the N header bytes) of a file of `fileSize` bytes: every tensor
 * has a known dtype, a shape of non-negative integers, offsets inside the file, a byte length equal to
 * product(shape) x dtype size, and no two tensors overlap.
 */
export function parseSafetensorsHeader(json: Uint8Array, fileSize: number, fileName: string): SafetensorsHeader {
  const dataStart = 8 + json.length;
  const root = parseJson(json, fileName);
  const metadata = parseMetadataMap(root.__metadata__, fileName);
  const tensors = Object.entries(root)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, value]) => parseTensor(name, value, dataStart, fileSize, fileName));
  checkNoOverlap(tensors, fileName);
  return { tensors, metadata };
}

function parseJson(json: Uint8Array, fileName: string): Record<string, unknown> {
  let root: unknown;
  try {
    root = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (error) {
    throw new InputError(fileName, 'bad-header', `.safetensors header is not valid UTF-8 JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  check(isObject(root), fileName, 'bad-header', () => `.safetensors header is not a JSON object`);
  return root;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMetadataMap(value: unknown, fileName: string): Record<string, string> {
  if (value === undefined) return {};
  check(
    isObject(value) && Object.values(value).every((v) => typeof v === 'string'),
    fileName,
    'bad-header',
    () => `.safetensors __metadata__ must map strings to strings`,
  );
  return value as Record<string, string>;
}

function parseTensor(name: string, value: unknown, dataStart: number, fileSize: number, fileName: string): SafetensorsTensor {
  check(isObject(value), fileName, 'bad-header', () => `.safetensors entry ${quoteUntrusted(name)} is not an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = value;
  check(typeof dtype === 'string', fileName, 'bad-header', () => `.safetensors tensor ${quoteUntrusted(name)} has no dtype string`);
  const size = DTYPE_BYTES[dtype];
  check(Object.hasOwn(DTYPE_BYTES, dtype), fileName, 'unsupported-dtype', () => `.safetensors tensor ${quoteUntrusted(name)} has unknown dtype ${quoteUntrusted(dtype)}`);
  check(Array.isArray(shape) && shape.every((d) => typeof d === 'number'), fileName, 'bad-header', () => `.safetensors tensor ${quoteUntrusted(name)} has no shape array of integers`);
  check(
    Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isSafeInteger(o) && o >= 0) && offsets[0] <= offsets[1],
    fileName,
    'bad-header',
    () => `.safetensors tensor ${quoteUntrusted(name)} has data_offsets ${describeUntrusted(offsets)}; expected [begin, end] with 0 <= begin <= end`,
  );
  const [begin, end] = [dataStart + offsets[0], dataStart + offsets[1]];
  check(end <= fileSize, fileName, 'truncated', () => `.safetensors tensor ${quoteUntrusted(name)} needs bytes ${begin}..${end} but the file has ${fileSize}`);
  const bytes = elementCount(shape, fileName) * size;
  check(bytes === end - begin, fileName, 'bad-header', () => `.safetensors tensor ${quoteUntrusted(name)} (${dtype}, shape ${formatShape(shape)}) needs ${bytes} bytes but its data_offsets span ${end - begin}`);
  return { name, dtype, shape, begin, end };
}

function checkNoOverlap(tensors: readonly SafetensorsTensor[], fileName: string): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const [previous, current] = [sorted[i - 1], sorted[i]];
    check(current.begin >= previous.end, fileName, 'bad-header', () => `.safetensors tensors ${quoteUntrusted(previous.name)} and ${quoteUntrusted(current.name)} overlap`);
  }
}

/** Reads and validates the header of a .safetensors file (reads only the header). */
export async function readSafetensorsHeader(source: ByteSource): Promise<SafetensorsHeader> {
  const first8 = await readBytes(source, 0, Math.min(8, source.byteLength), '.safetensors header length');
  const length = safetensorsHeaderLength(first8, source.byteLength, source.name);
  return parseSafetensorsHeader(await readBytes(source, 8, length, '.safetensors header'), source.byteLength, source.name);
}

/** Opens a .safetensors attention file. Reads the header now and one slice per readHead/readLayer call. */
export async function openSafetensors(source: ByteSource): Promise<AttentionSource> {
  const header = await readSafetensorsHeader(source);
  const fileName = source.name;
  check(header.tensors.length > 0, fileName, 'unsupported-layout', () => `.safetensors file holds no tensors`);
  const ordered = orderTensors(header.tensors, fileName);
  const dtype = attentionDtype(ordered, fileName);
  const shape: AttentionShape =
    ordered.length === 1 ? normaliseShape(ordered[0].shape, fileName) : stackLayerShapes(ordered.map((t) => ({ name: t.name, dims: t.shape })), fileName);
  const layerBytes = shape.heads * shape.rows * shape.cols * ELEMENT_BYTES[dtype];
  return makeDenseAttentionSource({
    fileName,
    shape,
    encoding: { dtype, littleEndian: true },
    metadata: parseAttentionMetadata(header.metadata, fileName),
    // One tensor: layers follow each other inside it. Several: each tensor is a layer.
    locateLayer: (layer) => (ordered.length === 1 ? { source, offset: ordered[0].begin + layer * layerBytes } : { source, offset: ordered[layer].begin }),
  });
}

function orderTensors(tensors: readonly SafetensorsTensor[], fileName: string): SafetensorsTensor[] {
  if (tensors.length === 1) return [...tensors];
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return orderLayerNames([...byName.keys()], fileName).map((name) => byName.get(name) as SafetensorsTensor);
}

function attentionDtype(tensors: readonly SafetensorsTensor[], fileName: string): StoredDType {
  for (const tensor of tensors) {
    check(Object.hasOwn(ATTENTION_DTYPES, tensor.dtype), fileName, 'unsupported-dtype', () => `.safetensors tensor ${quoteUntrusted(tensor.name)} has dtype ${tensor.dtype}; attention must be F16, BF16, F32 or F64`);
    check(tensor.dtype === tensors[0].dtype, fileName, 'unsupported-dtype', () => `per-layer tensors must share one dtype: ${quoteUntrusted(tensors[0].name)} is ${tensors[0].dtype} but ${quoteUntrusted(tensor.name)} is ${tensor.dtype}`);
  }
  return ATTENTION_DTYPES[tensors[0].dtype];
}

/** spf, sample_rate / sampling_rate and model from a __metadata__ map; numbers must parse as positive numbers. */
export function parseAttentionMetadata(map: Readonly<Record<string, string>>, fileName: string): AttentionMetadata {
  const number = (key: string): number | undefined => {
    if (!Object.hasOwn(map, key)) return undefined;
    const text = map[key].trim();
    const value = /^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
    check(Number.isFinite(value) && value > 0, fileName, 'bad-header', () => `__metadata__ ${key} is ${quoteUntrusted(map[key])}; expected a positive number`);
    return value;
  };
  const metadata: { spf?: number; sampleRate?: number; model?: string } = {};
  const spf = number('spf');
  const sampleRate = number('sample_rate') ?? number('sampling_rate');
  if (spf !== undefined) metadata.spf = spf;
  if (sampleRate !== undefined) metadata.sampleRate = sampleRate;
  if (Object.hasOwn(map, 'model')) metadata.model = map.model;
  return metadata;
}
