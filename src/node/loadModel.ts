/**
 * An utterance whose attention comes from running a model (--model PATH): the model folder's files (or a
 * .safetensors with config.json beside it), the WAV run through the encoder on the engine's device, and the
 * alignment beside the WAV as for any utterance.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { InputError } from '../data/inputError.ts';
import { assembleUtterance } from '../data/utterance.ts';
import { parseWav, type WavAudio } from '../data/wav.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { keepTensorsRead, openEncoderCheckpoint, selectModelFiles, type EncoderCheckpoint, type KeptTensorsCheckpoint } from '../model/checkpoint.ts';
import { prepareEncoderInput, type PreparedEncoderInput } from '../model/encoderInput.ts';
import { HostModelAttentionSource } from '../model/host/hostModelSource.ts';
import { ModelAttentionSource, type EncoderAttention, type ModelProgress } from '../model/modelSource.ts';
import type { ModelPasses } from '../model/ops/modelPasses.ts';
import { makeFileSource, type FileSource } from './fileSource.ts';
import { useGemmThreads } from './gemmThreads.ts';
import { loadAlignmentForWav } from './findAlignments.ts';
import type { LoadedUtterance, UtteranceFiles } from './loadUtterance.ts';

/** Files of a model folder we may read (weights are opened, never read whole). */
const MODEL_FILE = /^(config\.json|preprocessor_config\.json|model\.safetensors\.index\.json|.*\.safetensors|pytorch_model.*\.bin|.*\.(pt|pth|ckpt|h5|msgpack))$/;

/** Where the model runs, and who hears about it. */
export interface ModelRunContext {
  readonly device: GPUDevice;
  readonly shaders: ShaderSources;
  readonly onProgress?: (progress: ModelProgress) => void;
  /** One line for the user (the audio was trimmed). */
  readonly warn?: (line: string) => void;
  /** Compiled encoder kernels shared by many runs (the caller destroys them); by default each run compiles its own. */
  readonly passes?: ModelPasses;
  /**
   * Where the encoder runs: on the device ('gpu', the default), or on the host ('cpu', HostModelAttentionSource, its
   * matrix products on every core), as the engine computes maps (engine.compute: the host on a software adapter
   * unless STEVE_COMPUTE says otherwise).
   */
  readonly compute?: 'gpu' | 'cpu';
}

export interface LoadedModelUtterance extends LoadedUtterance {
  readonly model: EncoderAttention;
}

/** The paths of the model's files: PATH a folder, or a .safetensors file with config.json beside it. */
export async function listModelFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new InputError(path, 'not-found', 'no such model folder or .safetensors file');
  }
  const folder = info.isDirectory() ? path : dirname(path);
  if (!info.isDirectory() && extname(path) !== '.safetensors') {
    throw new InputError(path, 'unsupported-layout', 'give a model folder (config.json and model.safetensors) or a .safetensors file with config.json beside it');
  }
  let names = (await readdir(folder)).filter((name) => MODEL_FILE.test(name));
  // Other .safetensors beside the weights (another precision, an adapter) are not the model's: with model.safetensors
  // that file alone, with an index its shards alone.
  const isWeights = (name: string) => name.endsWith('.safetensors');
  if (names.includes('model.safetensors')) names = names.filter((name) => !isWeights(name) || name === 'model.safetensors');
  else if (names.includes('model.safetensors.index.json')) names = names.filter((name) => !isWeights(name) || /^model-\d+-of-\d+\.safetensors$/.test(name));
  // A single .safetensors file names the weights; its folder gives the configs.
  const chosen = info.isDirectory() ? names : names.filter((name) => !name.endsWith('.safetensors') && !name.endsWith('.index.json')).concat(basename(path));
  return chosen.map((name) => join(folder, name));
}

/** The model's files opened for reading by slices. */
export async function openModelFiles(path: string): Promise<FileSource[]> {
  const sources: FileSource[] = [];
  try {
    for (const file of await listModelFiles(path)) sources.push(await makeFileSource(file));
  } catch (error) {
    await Promise.all(sources.map((source) => source.close()));
    throw error;
  }
  return sources;
}

/** A model checkpoint opened and its audio prepared: everything checked that can be checked without a GPU. */
export interface OpenedModelInput {
  readonly checkpoint: EncoderCheckpoint;
  readonly audio: WavAudio;
  readonly prepared: PreparedEncoderInput;
  /** Closes the model's files (the model reads them again after a device loss: close when it is destroyed). */
  close(): Promise<void>;
}

/** A checkpoint opened once for many utterances (`steve atlas`): its files stay open until close(). */
export interface OpenedCheckpoint {
  readonly checkpoint: EncoderCheckpoint;
  close(): Promise<void>;
}

/** Opens the model's files and its checkpoint (config, tensor headers and shapes); InputErrors name the file. */
export async function openModelCheckpoint(path: string): Promise<OpenedCheckpoint> {
  const sources = await openModelFiles(path);
  const close = () => Promise.all(sources.map((source) => source.close())).then(() => {});
  try {
    const folder = (await stat(path)).isDirectory() ? path : dirname(path);
    return { checkpoint: await openEncoderCheckpoint(selectModelFiles(sources, folder)), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * A checkpoint opened once for a corpus (`steve atlas --model`): each weight is read from the files once and kept in
 * memory as float32 for every utterance (src/model/checkpoint.ts keepTensorsRead).
 */
export async function openModelForCorpus(path: string): Promise<OpenedCheckpoint & { readonly checkpoint: KeptTensorsCheckpoint }> {
  const opened = await openModelCheckpoint(path);
  return { checkpoint: keepTensorsRead(opened.checkpoint), close: opened.close };
}

/**
 * Opens the model (config, tensor headers and shapes) and reads and prepares the WAV. Errors in the checkpoint or the
 * audio are InputErrors naming the file, before any GPU work. With `shared`, that checkpoint is used and left open
 * (its owner closes it).
 */
export async function openModelInput(
  files: UtteranceFiles & { readonly model: string },
  warn: (line: string) => void = () => {},
  shared?: OpenedCheckpoint,
): Promise<OpenedModelInput> {
  if (!files.wav) throw new InputError(files.model, 'not-found', 'a model needs audio: give --wav');
  const wavPath = files.wav;
  const opened = shared ?? (await openModelCheckpoint(files.model));
  const close = shared ? async () => {} : opened.close;
  try {
    const checkpoint = opened.checkpoint;
    let audio = parseWav(await readWavBytes(wavPath), wavPath);
    const prepared = prepareEncoderInput(checkpoint.config, audio.samples, audio.sampleRate, wavPath);
    if (prepared.trimmed) {
      if (prepared.notice) warn(prepared.notice);
      audio = trimAudio(audio, prepared.secondsUsed);
    }
    return { checkpoint, audio, prepared, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Runs the opened model on its audio and assembles the utterance (alignment beside the WAV, spf from the model).
 * The model's files stay open until the utterance is closed: after a device loss the encoder runs again from them.
 */
export async function runModelUtterance(
  files: UtteranceFiles & { readonly model: string },
  opened: OpenedModelInput,
  context: ModelRunContext,
): Promise<LoadedModelUtterance> {
  const wavPath = files.wav!;
  const config = opened.checkpoint.config;
  let model: EncoderAttention | undefined;
  try {
    const run = { fileName: config.name, onProgress: context.onProgress };
    if (context.compute === 'cpu') useGemmThreads();
    model =
      context.compute === 'cpu'
        ? await HostModelAttentionSource.run(opened.checkpoint, opened.prepared.input, run)
        : await ModelAttentionSource.run(context.device, context.shaders, opened.checkpoint, opened.prepared.input, { ...run, passes: context.passes });
    const alignments = files.alignments ?? 'none';
    const textGrid = alignments === 'textgrid';
    const utterance = await assembleUtterance({
      name: basename(wavPath, extname(wavPath)),
      attention: model,
      userSpf: files.spf,
      audio: { audio: opened.audio, fileName: wavPath },
      makeAlignment: (audioSamples16k) =>
        loadAlignmentForWav(wavPath, {
          alignments,
          phoneTier: files.phoneTier ?? (textGrid ? 'phones' : undefined),
          wordTier: files.wordTier ?? (textGrid ? 'words' : undefined),
          textTier: files.textTier,
          tgExt: files.tgExt,
          audioSamples16k,
        }),
    });
    const loaded = model;
    return {
      ...utterance,
      model: loaded,
      close: async () => {
        loaded.destroy();
        await opened.close();
      },
    };
  } catch (error) {
    model?.destroy();
    await opened.close();
    throw error;
  }
}

/** openModelInput then runModelUtterance. */
export async function loadModelUtterance(files: UtteranceFiles & { readonly model: string }, context: ModelRunContext): Promise<LoadedModelUtterance> {
  return runModelUtterance(files, await openModelInput(files, context.warn), context);
}

/** The first `seconds` of the audio (what Whisper saw). */
function trimAudio(audio: WavAudio, seconds: number): WavAudio {
  const samples = audio.samples.slice(0, Math.round(seconds * audio.sampleRate));
  return { ...audio, samples, durationSec: samples.length / audio.sampleRate };
}

async function readWavBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InputError(path, 'not-found', `cannot read the WAV file (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}
