/**
 * The encoder's weights from a Hugging Face model folder: config.json (+ preprocessor_config.json) and
 * model.safetensors, or shards listed by model.safetensors.index.json; failing those, pytorch_model.bin (or its
 * shards and pytorch_model.bin.index.json), read without running its pickle (pytorchBin.ts). Only the encoder's tensors are read, each
 * by its own slice of its file (a browser File or a Node file handle, both ByteSources); decoder, LM-head,
 * quantizer and other tensors are never read. F32, F16, BF16 (and F64) are widened to float32.
 *
 * Tensors are known by canonical names: the stored name less its prefix, which is `model.encoder.` or `encoder.`
 * for Whisper, `wav2vec2.`, `hubert.` or none for wav2vec 2.0 and HuBERT. The exact canonical names
 * (L = layers, i = 0..L-1, j = 0..convLayers-1) and shapes, as expectedEncoderTensors lists them:
 *
 * Whisper (D = d_model, F = encoder_ffn_dim, M = num_mel_bins, P = max_source_positions):
 *   conv1.weight [D, M, 3]   conv1.bias [D]   conv2.weight [D, D, 3]   conv2.bias [D]   embed_positions.weight [P, D]
 *   layers.i.self_attn_layer_norm.weight [D]   layers.i.self_attn_layer_norm.bias [D]
 *   layers.i.self_attn.q_proj.weight [D, D]   layers.i.self_attn.q_proj.bias [D]
 *   layers.i.self_attn.k_proj.weight [D, D]   (no k_proj bias: Whisper's k_proj has none)
 *   layers.i.self_attn.v_proj.weight [D, D]   layers.i.self_attn.v_proj.bias [D]
 *   layers.i.self_attn.out_proj.weight [D, D]   layers.i.self_attn.out_proj.bias [D]
 *   layers.i.final_layer_norm.weight [D]   layers.i.final_layer_norm.bias [D]
 *   layers.i.fc1.weight [F, D]   layers.i.fc1.bias [F]   layers.i.fc2.weight [D, F]   layers.i.fc2.bias [D]
 *   layer_norm.weight [D]   layer_norm.bias [D]
 *
 * wav2vec 2.0 / HuBERT (H = hidden_size, F = intermediate_size, C_j = conv_dim[j], C_-1 = 1, k_j = conv_kernel[j],
 * K = num_conv_pos_embeddings, G = num_conv_pos_embedding_groups):
 *   feature_extractor.conv_layers.j.conv.weight [C_j, C_j-1, k_j]   feature_extractor.conv_layers.j.conv.bias [C_j]  (conv_bias only)
 *   feature_extractor.conv_layers.0.layer_norm.weight [C_0]   ....bias [C_0]   (feat_extract_norm "group": the GroupNorm)
 *   feature_extractor.conv_layers.j.layer_norm.weight [C_j]   ....bias [C_j]   (feat_extract_norm "layer": every j)
 *   feature_projection.layer_norm.weight [C_last]   feature_projection.layer_norm.bias [C_last]   (HuBERT: feat_proj_layer_norm only)
 *   feature_projection.projection.weight [H, C_last]   feature_projection.projection.bias [H]
 *   encoder.pos_conv_embed.conv.weight [H, H/G, K]   encoder.pos_conv_embed.conv.bias [H]
 *   encoder.layer_norm.weight [H]   encoder.layer_norm.bias [H]
 *   encoder.layers.i.attention.q_proj.weight [H, H]   ....q_proj.bias [H]   (likewise k_proj, v_proj, out_proj)
 *   encoder.layers.i.layer_norm.weight [H]   ....bias [H]   encoder.layers.i.final_layer_norm.weight [H]   ....bias [H]
 *   encoder.layers.i.feed_forward.intermediate_dense.weight [F, H]   ....intermediate_dense.bias [F]
 *   encoder.layers.i.feed_forward.output_dense.weight [H, F]   ....output_dense.bias [H]
 *
 * The positional conv's weight is stored weight-normed, as `weight_g` [1, 1, K] and `weight_v` [H, H/G, K]
 * (torch.nn.utils.weight_norm) or `parametrizations.weight.original0` / `original1` (the same pair under
 * torch.nn.utils.parametrizations.weight_norm); a plain `weight` is also accepted. It is resolved here to the plain
 * weight, g[k] v[o, i, k] / ||v[:, :, k]||, the norm taken per kernel tap (weight_norm's dim=2) in float64.
 */
import type { ByteSource } from '../data/byteSource.ts';
import { float16ToFloat32Table } from '../data/float16.ts';
import { InputError, check } from '../data/inputError.ts';
import { readBytes } from '../data/safeRead.ts';
import { readSafetensorsHeader, type SafetensorsTensor } from '../data/safetensors.ts';
import { MAX_CONFIG_BYTES, parseModelConfig, type ModelConfig, type Wav2Vec2Config, type WhisperConfig } from './config.ts';
import { readPytorchBinTensors } from './pytorchBin.ts';
import { printable } from './untrustedText.ts';

/** One encoder tensor, widened to float32, row-major (C order) as stored. */
export interface EncoderTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A tensor the encoder needs, by canonical name, and the shape the config implies. */
export interface ExpectedTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/** The files of a model folder, as selectModelFiles picks them out. */
export interface ModelFiles {
  readonly config: ByteSource;
  readonly preprocessor?: ByteSource;
  /** model.safetensors, a single *.safetensors file, or the shards; or pytorch_model.bin (or its shards). */
  readonly weights: readonly ByteSource[];
  /** model.safetensors.index.json (or pytorch_model.bin.index.json), which maps each tensor to its shard. */
  readonly index?: ByteSource;
  /** Names the model when config.json has no _name_or_path (the folder's name). */
  readonly folderName?: string;
}

/** Stored dtypes of weights we widen to float32. */
export type WeightDType = 'F32' | 'F16' | 'BF16' | 'F64';

/** An opened checkpoint: the config, and each encoder tensor readable on its own. */
export interface EncoderCheckpoint {
  readonly config: ModelConfig;
  /** Canonical names of the encoder's tensors, in expectedEncoderTensors' order, with their shapes. */
  readonly tensors: readonly ExpectedTensor[];
  /** The encoder tensors' stored dtype, or 'mixed' when they differ. */
  readonly storedDtype: WeightDType | 'mixed';
  /** Bytes of stored encoder tensors (what reading every tensor reads). */
  readonly encoderBytes: number;
  /** Reads one tensor by canonical name and widens it to float32. */
  readTensor(name: string): Promise<EncoderTensor>;
}

/** All encoder tensors in memory. */
export interface EncoderWeights {
  readonly config: ModelConfig;
  readonly storedDtype: WeightDType | 'mixed';
  readonly tensors: ReadonlyMap<string, EncoderTensor>;
}

const WEIGHT_DTYPE_BYTES: Readonly<Record<WeightDType, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
/** An index of a few thousand tensors is ~100 kB; refuse anything absurd before reading it. */
const MAX_INDEX_BYTES = 32_000_000;
const POS_CONV_WEIGHT = 'encoder.pos_conv_embed.conv.weight';

const CONVERT_HINT =
  'STEVE reads safetensors and torch.save zips (pytorch_model.bin); convert the folder with python: ' +
  `from transformers import AutoModel; AutoModel.from_pretrained('DIR').save_pretrained('DIR', safe_serialization=True)`;

/** Base name of a path or File name (either separator). */
export function baseName(path: string): string {
  return path.split(/[\\/]/).filter((part) => part !== '').pop() ?? path;
}

/**
 * Picks a model's files out of a list (a folder's files, or files dropped together): config.json,
 * preprocessor_config.json and the weights, in this order of preference: model.safetensors; the .safetensors
 * shards (with model.safetensors.index.json, only the shards it names are opened); pytorch_model.bin; its shards
 * (pytorch_model-0000i-of-0000n.bin with pytorch_model.bin.index.json). Files of other kinds
 * are ignored. Throws InputError when config.json or the weights are missing, and for a TF, Flax or other
 * checkpoint alone, saying how to convert it.
 */
export function selectModelFiles(sources: readonly ByteSource[], folderName = 'model folder'): ModelFiles {
  const byName = (name: string) => sources.find((s) => baseName(s.name) === name);
  const listed = () => sources.map((s) => baseName(s.name)).join(', ') || 'no files';
  const config = byName('config.json');
  check(config, folderName, 'not-found', () => `no config.json among ${listed()}`);
  const preprocessor = byName('preprocessor_config.json');
  const folder = baseName(folderName);
  // A folder may hold the same weights twice (whisper-large-v3 has model.safetensors and fp32 shards): the single
  // file wins, then the shards its index lists.
  const single = byName('model.safetensors');
  if (single) return { config, preprocessor, weights: [single], folderName: folder };
  const safetensors = sources.filter((s) => baseName(s.name).endsWith('.safetensors'));
  if (safetensors.length > 0) return { config, preprocessor, weights: safetensors, index: byName('model.safetensors.index.json'), folderName: folder };
  const singleBin = byName('pytorch_model.bin');
  if (singleBin) return { config, preprocessor, weights: [singleBin], folderName: folder };
  const pickles = sources.filter((s) => /^pytorch_model-\d+-of-\d+\.bin$/.test(baseName(s.name)));
  if (pickles.length > 0) return { config, preprocessor, weights: pickles, index: byName('pytorch_model.bin.index.json'), folderName: folder };
  const other = sources.find((s) => /\.(bin|pt|pth|ckpt|h5|msgpack)$/.test(baseName(s.name)));
  if (other) throw new InputError(other.name, 'unsupported-layout', `is not a safetensors or pytorch_model.bin checkpoint. ${CONVERT_HINT}`);
  throw new InputError(folderName, 'not-found', `no model.safetensors (or shards) among ${listed()}`);
}

/** The encoder tensors `config` implies, by canonical name, in the order a forward pass uses them. */
export function expectedEncoderTensors(config: ModelConfig): ExpectedTensor[] {
  return config.family === 'whisper' ? whisperTensors(config) : wav2vec2Tensors(config);
}

function whisperTensors(config: WhisperConfig): ExpectedTensor[] {
  const { hiddenSize: d, ffnDim: f, numMelBins: m, maxSourcePositions: p } = config;
  const list: ExpectedTensor[] = [
    { name: 'conv1.weight', shape: [d, m, 3] },
    { name: 'conv1.bias', shape: [d] },
    { name: 'conv2.weight', shape: [d, d, 3] },
    { name: 'conv2.bias', shape: [d] },
    { name: 'embed_positions.weight', shape: [p, d] },
  ];
  for (let i = 0; i < config.layers; i++) {
    const layer = `layers.${i}`;
    list.push(
      { name: `${layer}.self_attn_layer_norm.weight`, shape: [d] },
      { name: `${layer}.self_attn_layer_norm.bias`, shape: [d] },
      { name: `${layer}.self_attn.q_proj.weight`, shape: [d, d] },
      { name: `${layer}.self_attn.q_proj.bias`, shape: [d] },
      { name: `${layer}.self_attn.k_proj.weight`, shape: [d, d] },
      { name: `${layer}.self_attn.v_proj.weight`, shape: [d, d] },
      { name: `${layer}.self_attn.v_proj.bias`, shape: [d] },
      { name: `${layer}.self_attn.out_proj.weight`, shape: [d, d] },
      { name: `${layer}.self_attn.out_proj.bias`, shape: [d] },
      { name: `${layer}.final_layer_norm.weight`, shape: [d] },
      { name: `${layer}.final_layer_norm.bias`, shape: [d] },
      { name: `${layer}.fc1.weight`, shape: [f, d] },
      { name: `${layer}.fc1.bias`, shape: [f] },
      { name: `${layer}.fc2.weight`, shape: [d, f] },
      { name: `${layer}.fc2.bias`, shape: [d] },
    );
  }
  list.push({ name: 'layer_norm.weight', shape: [d] }, { name: 'layer_norm.bias', shape: [d] });
  return list;
}

function wav2vec2Tensors(config: Wav2Vec2Config): ExpectedTensor[] {
  const { hiddenSize: h, ffnDim: f, convLayers } = config;
  const list: ExpectedTensor[] = [];
  convLayers.forEach(({ dim, kernel }, j) => {
    const conv = `feature_extractor.conv_layers.${j}`;
    list.push({ name: `${conv}.conv.weight`, shape: [dim, j === 0 ? 1 : convLayers[j - 1].dim, kernel] });
    if (config.convBias) list.push({ name: `${conv}.conv.bias`, shape: [dim] });
    if (config.featExtractNorm === 'layer' || j === 0) {
      list.push({ name: `${conv}.layer_norm.weight`, shape: [dim] }, { name: `${conv}.layer_norm.bias`, shape: [dim] });
    }
  });
  const convOut = convLayers[convLayers.length - 1].dim;
  if (config.featureProjectionLayerNorm) {
    list.push({ name: 'feature_projection.layer_norm.weight', shape: [convOut] }, { name: 'feature_projection.layer_norm.bias', shape: [convOut] });
  }
  list.push(
    { name: 'feature_projection.projection.weight', shape: [h, convOut] },
    { name: 'feature_projection.projection.bias', shape: [h] },
    { name: POS_CONV_WEIGHT, shape: [h, h / config.posConvGroups, config.posConvKernel] },
    { name: 'encoder.pos_conv_embed.conv.bias', shape: [h] },
    { name: 'encoder.layer_norm.weight', shape: [h] },
    { name: 'encoder.layer_norm.bias', shape: [h] },
  );
  for (let i = 0; i < config.layers; i++) {
    const layer = `encoder.layers.${i}`;
    for (const projection of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      list.push({ name: `${layer}.attention.${projection}.weight`, shape: [h, h] }, { name: `${layer}.attention.${projection}.bias`, shape: [h] });
    }
    list.push(
      { name: `${layer}.layer_norm.weight`, shape: [h] },
      { name: `${layer}.layer_norm.bias`, shape: [h] },
      { name: `${layer}.feed_forward.intermediate_dense.weight`, shape: [f, h] },
      { name: `${layer}.feed_forward.intermediate_dense.bias`, shape: [f] },
      { name: `${layer}.feed_forward.output_dense.weight`, shape: [h, f] },
      { name: `${layer}.feed_forward.output_dense.bias`, shape: [h] },
      { name: `${layer}.final_layer_norm.weight`, shape: [h] },
      { name: `${layer}.final_layer_norm.bias`, shape: [h] },
    );
  }
  return list;
}

/** A stored tensor and the file it lives in. */
interface StoredTensor {
  readonly source: ByteSource;
  readonly entry: SafetensorsTensor;
}

/** Where a canonical tensor's bytes are: one stored tensor, or the weight-norm pair it is computed from. */
type TensorLocation = { readonly kind: 'plain'; readonly tensor: StoredTensor } | { readonly kind: 'weight-norm'; readonly g: StoredTensor; readonly v: StoredTensor };

/** Reads config.json (+ preprocessor_config.json) and parses it. */
export async function readModelConfig(files: Pick<ModelFiles, 'config' | 'preprocessor' | 'folderName'>): Promise<ModelConfig> {
  const config = { name: files.config.name, text: await readSmallFile(files.config, MAX_CONFIG_BYTES, 'model config') };
  const preprocessor = files.preprocessor
    ? { name: files.preprocessor.name, text: await readSmallFile(files.preprocessor, MAX_CONFIG_BYTES, 'preprocessor config') }
    : undefined;
  return parseModelConfig(config, preprocessor, files.folderName ?? 'model');
}

/**
 * Opens a checkpoint: parses the config, reads the safetensors headers (of only the shards that hold encoder
 * tensors when an index is given), finds every encoder tensor and checks its shape and dtype against the config.
 * No tensor data is read until readTensor. Throws InputError naming the file for a missing tensor, a shape that
 * does not fit the config, or an unsupported dtype.
 */
export async function openEncoderCheckpoint(files: ModelFiles): Promise<EncoderCheckpoint> {
  return (await openCheckpoint(files)).checkpoint;
}

async function openCheckpoint(files: ModelFiles): Promise<{ checkpoint: EncoderCheckpoint; storedBytes: Map<string, number> }> {
  const config = await readModelConfig(files);
  const stored = await readStoredTensors(files, config);
  const prefix = findPrefix(config, stored, files);
  const expected = expectedEncoderTensors(config);
  const weightsName = files.index?.name ?? files.weights[0].name;
  const locations = new Map<string, TensorLocation>();
  for (const tensor of expected) locations.set(tensor.name, locate(tensor, prefix, stored, weightsName));

  const dtypes = new Set<string>();
  const storedBytes = new Map<string, number>();
  let encoderBytes = 0;
  for (const [name, location] of locations) {
    for (const part of location.kind === 'plain' ? [location.tensor] : [location.g, location.v]) {
      check(
        Object.hasOwn(WEIGHT_DTYPE_BYTES, part.entry.dtype),
        part.source.name,
        'unsupported-dtype',
        () => `tensor '${part.entry.name}' has dtype ${printable(part.entry.dtype)}; encoder weights must be F32, F16, BF16 or F64`,
      );
      dtypes.add(part.entry.dtype);
      encoderBytes += part.entry.end - part.entry.begin;
      storedBytes.set(name, (storedBytes.get(name) ?? 0) + part.entry.end - part.entry.begin);
    }
  }
  const storedDtype = dtypes.size === 1 ? ([...dtypes][0] as WeightDType) : 'mixed';
  const checkpoint: EncoderCheckpoint = {
    config,
    tensors: expected,
    storedDtype,
    encoderBytes,
    async readTensor(name) {
      const location = locations.get(name);
      const tensor = expected.find((t) => t.name === name);
      if (!location || !tensor) throw new RangeError(`'${name}' is not an encoder tensor of ${config.name}`);
      if (location.kind === 'plain') return { shape: tensor.shape, data: await readFloat32(location.tensor) };
      return { shape: tensor.shape, data: resolveWeightNorm(await readFloat32(location.g), await readFloat32(location.v), tensor.shape) };
    },
  };
  return { checkpoint, storedBytes };
}

/** A checkpoint that reads each tensor from its files once and keeps it, as float32, for every later run. */
export interface KeptTensorsCheckpoint extends EncoderCheckpoint {
  /** Tensors read from the files so far (each at most once). */
  readonly tensorsRead: number;
}

/**
 * `checkpoint` with every tensor kept in memory after its first read, for running the encoder on many utterances
 * (`steve atlas --model`): the files are read once, at the cost of the encoder's weights as float32 in memory
 * (Whisper base ~80 MB, large-v3 ~2.5 GB). Concurrent first reads of a tensor share one read.
 */
export function keepTensorsRead(checkpoint: EncoderCheckpoint): KeptTensorsCheckpoint {
  const kept = new Map<string, Promise<EncoderTensor>>();
  let tensorsRead = 0;
  return {
    config: checkpoint.config,
    tensors: checkpoint.tensors,
    storedDtype: checkpoint.storedDtype,
    encoderBytes: checkpoint.encoderBytes,
    get tensorsRead() {
      return tensorsRead;
    },
    readTensor(name) {
      let tensor = kept.get(name);
      if (!tensor) {
        tensorsRead += 1;
        tensor = checkpoint.readTensor(name);
        kept.set(name, tensor);
        tensor.catch(() => kept.delete(name));
      }
      return tensor;
    },
  };
}

/**
 * Opens the checkpoint and reads every encoder tensor. `onProgress(bytesRead, encoderBytes)` hears each tensor read
 * (the viewer's progress bar).
 */
export async function loadEncoderWeights(files: ModelFiles, onProgress?: (bytesRead: number, totalBytes: number) => void): Promise<EncoderWeights> {
  const { checkpoint, storedBytes } = await openCheckpoint(files);
  const tensors = new Map<string, EncoderTensor>();
  let bytesRead = 0;
  for (const { name } of checkpoint.tensors) {
    const tensor = await checkpoint.readTensor(name);
    tensors.set(name, tensor);
    bytesRead += storedBytes.get(name) ?? 0;
    onProgress?.(bytesRead, checkpoint.encoderBytes);
  }
  return { config: checkpoint.config, storedDtype: checkpoint.storedDtype, tensors };
}

/** Header entries of every stored tensor that might be an encoder tensor, by stored name. */
async function readStoredTensors(files: ModelFiles, config: ModelConfig): Promise<Map<string, StoredTensor>> {
  let shards: readonly ByteSource[] = files.weights;
  if (files.index) {
    const weightMap = await readIndex(files.index);
    const wanted = new Set<string>();
    for (const [name, file] of weightMap) if (isEncoderName(name, config)) wanted.add(file);
    check(wanted.size > 0, files.index.name, 'mismatch', () => `weight_map lists no ${config.family === 'whisper' ? 'Whisper' : 'wav2vec 2.0'} encoder tensors`);
    shards = [...wanted].map((file) => {
      const source = files.weights.find((s) => baseName(s.name) === file);
      check(source, files.index!.name, 'not-found', () => `weight_map names shard ${printable(file)}, which is not among the files given (${files.weights.map((s) => baseName(s.name)).join(', ')})`);
      return source;
    });
  }
  const stored = new Map<string, StoredTensor>();
  for (const shard of shards) {
    for (const { source, entry } of await listTensors(shard)) {
      if (!isEncoderName(entry.name, config)) continue;
      const earlier = stored.get(entry.name);
      check(!earlier, shard.name, 'bad-header', () => `tensor '${printable(entry.name)}' is also in ${earlier!.source.name}`);
      stored.set(entry.name, { source, entry });
    }
  }
  return stored;
}

/** Every tensor of one weights file: a safetensors header, or a torch.save zip's state dict. */
async function listTensors(file: ByteSource): Promise<StoredTensor[]> {
  if (baseName(file.name).endsWith('.bin')) {
    try {
      return (await readPytorchBinTensors(file)).map(({ source, ...entry }) => ({ source, entry }));
    } catch (error) {
      if (error instanceof InputError && error.kind === 'unsupported-layout') throw new InputError(error.file, error.kind, `${error.reason} ${CONVERT_HINT}`);
      throw error;
    }
  }
  return (await readSafetensorsHeader(file)).tensors.map((entry) => ({ source: file, entry }));
}

/** Whether a stored name can be an encoder tensor (whatever its prefix); decoders, heads and the like are skipped. */
function isEncoderName(name: string, config: ModelConfig): boolean {
  if (config.family === 'whisper') return name.startsWith('model.encoder.') || name.startsWith('encoder.');
  return /^(wav2vec2\.|hubert\.)?(feature_extractor|feature_projection|encoder)\./.test(name);
}

/** model.safetensors.index.json's weight_map: stored tensor name -> shard file name. */
async function readIndex(index: ByteSource): Promise<Map<string, string>> {
  const text = await readSmallFile(index, MAX_INDEX_BYTES, 'index');
  let root: unknown;
  try {
    root = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text));
  } catch (error) {
    throw new InputError(index.name, 'parse', `is not valid JSON (${printable(error instanceof Error ? error.message : String(error))})`);
  }
  const weightMap = (root as { weight_map?: unknown } | null)?.weight_map;
  check(
    typeof weightMap === 'object' && weightMap !== null && !Array.isArray(weightMap) && Object.values(weightMap).every((v) => typeof v === 'string'),
    index.name,
    'bad-header',
    () => 'has no weight_map object mapping tensor names to shard files',
  );
  return new Map(Object.entries(weightMap as Record<string, string>));
}

/** The prefix the checkpoint's encoder names carry, found from one tensor every encoder has. */
function findPrefix(config: ModelConfig, stored: Map<string, StoredTensor>, files: ModelFiles): string {
  const probe = config.family === 'whisper' ? 'conv1.weight' : 'feature_projection.projection.weight';
  const prefixes = config.family === 'whisper' ? ['model.encoder.', 'encoder.'] : ['wav2vec2.', 'hubert.', ''];
  const prefix = prefixes.find((p) => stored.has(p + probe));
  const weightsName = files.index?.name ?? files.weights.map((s) => s.name).join(', ');
  check(
    prefix !== undefined,
    weightsName,
    'mismatch',
    () => `holds no ${config.modelType} encoder: none of ${prefixes.map((p) => `'${p}${probe}'`).join(', ')} is present`,
  );
  return prefix;
}

function locate(tensor: ExpectedTensor, prefix: string, stored: Map<string, StoredTensor>, weightsName: string): TensorLocation {
  const full = prefix + tensor.name;
  const plain = stored.get(full);
  if (plain) {
    checkShape(plain, tensor.shape, tensor.name);
    return { kind: 'plain', tensor: plain };
  }
  if (tensor.name === POS_CONV_WEIGHT) {
    const stem = full.slice(0, -'weight'.length);
    for (const [gName, vName] of [
      ['weight_g', 'weight_v'],
      ['parametrizations.weight.original0', 'parametrizations.weight.original1'],
    ]) {
      const [g, v] = [stored.get(stem + gName), stored.get(stem + vName)];
      if (!g && !v) continue;
      check(g && v, (g ?? v)!.source.name, 'mismatch', () => `has '${stem}${g ? gName : vName}' without '${stem}${g ? vName : gName}'`);
      const kernel = tensor.shape[2];
      checkShape(g, [1, 1, kernel], `${tensor.name} (weight norm g)`);
      checkShape(v, tensor.shape, `${tensor.name} (weight norm v)`);
      return { kind: 'weight-norm', g, v };
    }
  }
  throw new InputError(weightsName, 'mismatch', `missing encoder tensor '${full}'`);
}

function checkShape(tensor: StoredTensor, shape: readonly number[], what: string): void {
  const found = tensor.entry.shape;
  check(
    found.length === shape.length && found.every((d, i) => d === shape[i]),
    tensor.source.name,
    'mismatch',
    () => `tensor '${tensor.entry.name}' has shape [${printable(found.join(', '))}] but the config implies [${shape.join(', ')}] for ${what}`,
  );
}

/** A stored tensor's values as float32 (one read of exactly its bytes). */
async function readFloat32(tensor: StoredTensor): Promise<Float32Array> {
  const { entry, source } = tensor;
  const bytes = await readBytes(source, entry.begin, entry.end - entry.begin, `tensor '${entry.name}'`);
  // Copy into an aligned buffer: a tensor's offset in the file need not be a multiple of its element size.
  const aligned = new Uint8Array(bytes.byteLength);
  aligned.set(bytes);
  const count = bytes.byteLength / WEIGHT_DTYPE_BYTES[entry.dtype as WeightDType];
  let values: Float32Array;
  switch (entry.dtype as WeightDType) {
    case 'F32':
      values = littleEndian() ? new Float32Array(aligned.buffer) : decodeBigEndianHost(aligned, count);
      break;
    case 'F64': {
      values = new Float32Array(count);
      const view = new DataView(aligned.buffer);
      for (let i = 0; i < count; i++) values[i] = view.getFloat64(8 * i, true);
      break;
    }
    case 'F16': {
      const table = float16ToFloat32Table();
      const view = new DataView(aligned.buffer);
      values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = table[view.getUint16(2 * i, true)];
      break;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32: shifting the bits up is exact.
      const view = new DataView(aligned.buffer);
      const words = new Uint32Array(count);
      for (let i = 0; i < count; i++) words[i] = view.getUint16(2 * i, true) << 16;
      values = new Float32Array(words.buffer);
      break;
    }
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new InputError(source.name, 'non-finite', `tensor '${entry.name}' holds a NaN or infinite value at index ${i}`);
  }
  return values;
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function decodeBigEndianHost(bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = view.getFloat32(4 * i, true);
  return values;
}

/**
 * weight = g v / ||v||, the norm over every axis but the kernel tap (torch's weight_norm with dim=2):
 * weight[o, i, k] = g[k] v[o, i, k] / sqrt(sum over o, i of v[o, i, k]^2), in float64, rounded once to float32.
 */
export function resolveWeightNorm(g: Float32Array, v: Float32Array, shape: readonly number[]): Float32Array {
  const [outChannels, inChannels, kernel] = shape;
  const squares = new Float64Array(kernel);
  for (let row = 0; row < outChannels * inChannels; row++) {
    for (let k = 0; k < kernel; k++) squares[k] += v[row * kernel + k] * v[row * kernel + k];
  }
  const scale = Float64Array.from(squares, (sum, k) => g[k] / Math.sqrt(sum));
  const weight = new Float32Array(v.length);
  for (let row = 0; row < outChannels * inChannels; row++) {
    for (let k = 0; k < kernel; k++) weight[row * kernel + k] = v[row * kernel + k] * scale[k];
  }
  return weight;
}

async function readSmallFile(source: ByteSource, maxBytes: number, what: string): Promise<Uint8Array> {
  check(source.byteLength <= maxBytes, source.name, 'bad-header', () => `${source.byteLength} bytes is too large for a ${what} file (at most ${maxBytes})`);
  return readBytes(source, 0, source.byteLength, what);
}
