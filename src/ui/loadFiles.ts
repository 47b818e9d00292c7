/**
 * Loading utterances in the browser: the bundled samples (fetched from the demo's public folder) and files the
 * user drops or picks. Attention tensors are read by slices from the File itself (makeBlobSource), so a 6 GB file
 * opens without being read whole; audio and alignments are small and read at once.
 */
import type { Alignment } from '../data/alignment.ts';
import { alignmentFromTextGrid, alignmentFromTimit } from '../data/alignment.ts';
import { makeBlobSource, makeMemorySource, withReadProgress } from '../data/byteSource.ts';
import { makeDummyAlignment } from '../data/dummyAlignment.ts';
import { samplesAt16k } from '../data/frames.ts';
import { InputError } from '../data/inputError.ts';
import { isHeadSoftmaxed, openAttention } from '../data/openAttention.ts';
import { makeSyntheticAttention } from '../data/syntheticAttention.ts';
import { parseTextGrid } from '../data/textgrid.ts';
import type { Utterance } from '../data/utterance.ts';
import { assembleUtterance } from '../data/utterance.ts';
import { parseWav } from '../data/wav.ts';
import type { FileGroup } from '../data/fileGroups.ts';
import { ALIGNMENT_EXTENSIONS, groupFiles, splitName } from '../data/fileGroups.ts';
import type { ShaderSources } from '../gpu/pipeline.ts';
import { openEncoderCheckpoint, selectModelFiles } from '../model/checkpoint.ts';
import { prepareEncoderInput } from '../model/encoderInput.ts';
import { ModelAttentionSource, type ModelProgress } from '../model/modelSource.ts';

/** An utterance in the viewer, and whether its attention is the synthetic stand-in rather than model output. */
export interface LoadedUtterance extends Utterance {
  readonly synthetic: boolean;
  /**
   * Whether the first map's rows already sum to 1 (wav2vec 2.0 attention from `transformers` does): the viewer then
   * starts with softmax off, as applying it again would flatten the map.
   */
  readonly softmaxed: boolean;
}

export interface TierNames {
  phoneTier: string;
  wordTier: string;
  textTier?: string;
}

export const DEFAULT_TIERS: TierNames = { phoneTier: 'phones', wordTier: 'words' };

/** The bundled samples, relative to the page. */
export const SAMPLE_UTTERANCES = [
  { name: 'LDC93S1', wav: 'samples/timit/LDC93S1.wav', timit: 'samples/timit/LDC93S1' },
  { name: 'arctic_a0001', wav: 'samples/arctic/arctic_a0001.wav', textGrid: 'samples/arctic/arctic_a0001.TextGrid' },
] as const;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new InputError(url, 'not-found', `could not be fetched (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * The bundled TIMIT and L2-ARCTIC samples with synthetic Whisper-shaped attention (6 layers x 8 heads x 1500 x 1500,
 * spf 320) made from their alignments, until real model attention ships with the project.
 */
export async function loadSampleUtterances(baseUrl: string): Promise<LoadedUtterance[]> {
  return Promise.all(
    SAMPLE_UTTERANCES.map(async (sample) => {
      const wavBytes = await fetchBytes(baseUrl + sample.wav);
      const audio = parseWav(wavBytes, sample.wav);
      const samples16k = samplesAt16k(audio.samples.length, audio.sampleRate);
      let alignment: Alignment;
      if ('timit' in sample) {
        const [phn, wrd, txt] = await Promise.all(['phn', 'wrd', 'txt'].map((ext) => fetchText(`${baseUrl}${sample.timit}.${ext}`)));
        const stem = sample.name;
        alignment = alignmentFromTimit({ phn, wrd, txt }, { phn: `${stem}.phn`, wrd: `${stem}.wrd`, txt: `${stem}.txt` }, samples16k);
      } else {
        const grid = parseTextGrid(await fetchBytes(baseUrl + sample.textGrid), sample.textGrid);
        alignment = alignmentFromTextGrid(grid, DEFAULT_TIERS, sample.textGrid, samples16k);
      }
      const attention = makeSyntheticAttention(alignment, `${sample.name} (synthetic attention)`);
      const utterance = await assembleUtterance({
        name: sample.name,
        attention,
        audio: { audio, fileName: sample.wav },
        makeAlignment: () => alignment,
      });
      return { ...utterance, synthetic: true, softmaxed: false };
    }),
  );
}

async function fetchText(url: string): Promise<string> {
  return new TextDecoder().decode(await fetchBytes(url));
}

export interface DroppedLoad {
  utterances: LoadedUtterance[];
  /** One line per file that could not be used; the rest still load. */
  problems: string[];
}

/**
 * Utterances from dropped or picked files, grouped by stem (see fileGroups.ts). A bad file becomes a problem line
 * naming it; it never takes down the others or what was loaded before.
 */
/** Hears how much of each attention file has been read so far (files are read by slices, as maps are asked for). */
export type ReadProgress = (bytesRead: number, byteLength: number, fileName: string) => void;

/** Where a dropped model runs (the engine's device, so its scores stay there) and who hears its progress. */
export interface ModelRunner {
  readonly device: GPUDevice;
  readonly shaders: ShaderSources;
  readonly onProgress?: (progress: ModelProgress, modelName: string) => void;
}

export async function loadDroppedFiles(
  files: readonly File[],
  tiers: TierNames = DEFAULT_TIERS,
  userSpf?: number,
  onProgress?: ReadProgress,
  runner?: ModelRunner,
): Promise<DroppedLoad> {
  // A config.json among the files means a model folder: its WAVs are run through the model.
  if (files.some((file) => file.name === 'config.json')) return loadWithModel(files, tiers, userSpf, runner);
  const { groups, unmatched } = groupFiles(files);
  const problems = unmatched.map(({ file, reason }) => `${file.name}: ${reason}`);
  const utterances: LoadedUtterance[] = [];
  for (const group of groups) {
    try {
      utterances.push(await loadGroup(group, tiers, userSpf, onProgress));
    } catch (error) {
      if (error instanceof InputError) problems.push(error.message);
      else problems.push(`${group.stem}: ${(error as Error).message}`);
    }
  }
  return { utterances, problems };
}

async function loadGroup(group: FileGroup<File>, tiers: TierNames, userSpf?: number, onProgress?: ReadProgress): Promise<LoadedUtterance> {
  const attentionFile = group.attention!;
  const blob = makeBlobSource(attentionFile, attentionFile.name);
  const attention = await openAttention(onProgress ? withReadProgress(blob, onProgress) : blob);
  const wav = group.wav;
  const audio = wav ? parseWav(new Uint8Array(await wav.arrayBuffer()), wav.name) : undefined;
  const utterance = await assembleUtterance({
    name: group.stem,
    attention,
    userSpf,
    audio: audio && wav ? { audio, fileName: wav.name } : undefined,
    makeAlignment: (samples16k) => alignmentFromGroup(group, tiers, samples16k),
  });
  return { ...utterance, synthetic: false, softmaxed: await isHeadSoftmaxed(attention) };
}

/** Files of a model folder (weights are read by slices, only the encoder's). */
const MODEL_FILE = /^(config\.json|preprocessor_config\.json|model\.safetensors\.index\.json|.*\.safetensors|.*\.(bin|pt|pth|ckpt|h5|msgpack))$/;

/**
 * Runs the model in `files` (config.json, model.safetensors or shards, preprocessor_config.json) on each WAV among
 * them, with the alignment files beside each WAV. The scores are computed on the runner's device.
 */
async function loadWithModel(files: readonly File[], tiers: TierNames, userSpf: number | undefined, runner: ModelRunner | undefined): Promise<DroppedLoad> {
  const modelFiles = files.filter((file) => MODEL_FILE.test(file.name));
  const rest = files.filter((file) => !MODEL_FILE.test(file.name));
  const problems: string[] = [];
  const utterances: LoadedUtterance[] = [];
  const wavs = rest.filter((file) => splitName(file.name).extension === 'wav');
  if (!runner) return { utterances, problems: ['config.json: a model was dropped, but no GPU device is available to run it'] };
  if (wavs.length === 0) return { utterances, problems: ['config.json: drop a WAV together with the model folder\'s files'] };
  const config = files.find((file) => file.name === 'config.json')!;
  // A picked folder gives each file its path inside the folder: the folder's name names the model without _name_or_path.
  const folderName = config.webkitRelativePath ? config.webkitRelativePath.split('/').slice(-2)[0] : 'model';
  let checkpoint;
  try {
    checkpoint = await openEncoderCheckpoint(selectModelFiles(modelFiles.map((file) => makeBlobSource(file, file.name)), folderName));
  } catch (error) {
    return { utterances, problems: [(error as Error).message] };
  }
  const modelName = checkpoint.config.name;
  for (const wav of wavs) {
    const { stem } = splitName(wav.name);
    try {
      let audio = parseWav(new Uint8Array(await wav.arrayBuffer()), wav.name);
      const prepared = prepareEncoderInput(checkpoint.config, audio.samples, audio.sampleRate, wav.name);
      if (prepared.trimmed) {
        if (prepared.notice) problems.push(prepared.notice);
        const samples = audio.samples.slice(0, Math.round(prepared.secondsUsed * audio.sampleRate));
        audio = { ...audio, samples, durationSec: samples.length / audio.sampleRate };
      }
      const attention = await ModelAttentionSource.run(runner.device, runner.shaders, checkpoint, prepared.input, {
        fileName: modelName,
        onProgress: (progress) => runner.onProgress?.(progress, modelName),
      });
      const alignments: FileGroup<File>['alignments'] = {};
      for (const file of rest) {
        const parts = splitName(file.name);
        if (parts.stem === stem && ALIGNMENT_EXTENSIONS.includes(parts.extension)) alignments[parts.extension] = file;
      }
      const group: FileGroup<File> = { stem, wav, alignments };
      try {
        const utterance = await assembleUtterance({
          name: stem,
          attention,
          userSpf,
          audio: { audio, fileName: wav.name },
          makeAlignment: (samples16k) => alignmentFromGroup(group, tiers, samples16k),
        });
        utterances.push({ ...utterance, synthetic: false, softmaxed: false });
      } catch (error) {
        attention.destroy();
        throw error;
      }
    } catch (error) {
      problems.push(error instanceof InputError ? error.message : `${wav.name}: ${(error as Error).message}`);
    }
  }
  return { utterances, problems };
}

async function alignmentFromGroup(group: FileGroup<File>, tiers: TierNames, samples16k: number): Promise<Alignment> {
  const { textgrid, phn, wrd, txt } = group.alignments;
  if (textgrid) {
    const grid = parseTextGrid(new Uint8Array(await textgrid.arrayBuffer()), textgrid.name);
    return alignmentFromTextGrid(grid, tiers, textgrid.name, samples16k);
  }
  if (phn || wrd) {
    const read = async (file?: File) => (file ? await file.text() : undefined);
    return alignmentFromTimit(
      { phn: await read(phn), wrd: await read(wrd), txt: await read(txt) },
      { phn: phn?.name, wrd: wrd?.name, txt: txt?.name },
      samples16k,
    );
  }
  return makeDummyAlignment(samples16k, group.stem);
}

/** An in-memory tensor (tests, the synthetic sample) opened as the viewer opens files. */
export function openBytesAsAttention(name: string, bytes: Uint8Array) {
  return openAttention(makeMemorySource(name, bytes));
}

/** What `steve serve` lists at steve-files.json (see src/node/servedFiles.ts). */
interface ServedManifest {
  version: number;
  utterances: {
    name: string;
    files: { role: 'attention' | 'wav' | 'phones' | 'words' | 'text' | 'textgrid' | 'model'; name: string; url: string }[];
    tiers: { phoneTier: string | null; wordTier: string | null; textTier: string | null };
    spf: number | null;
  }[];
}

/** Alignment files are renamed to the WAV's stem with the standard extension, so they pair as dropped files do. */
const SERVED_EXTENSIONS: Record<string, string> = { phones: 'phn', words: 'wrd', text: 'txt', textgrid: 'TextGrid' };

/**
 * The utterances `steve serve` was started with, or undefined when the page is not served by it (no manifest).
 * Each is loaded as a drop of its files would be, with its own tiers and spf; problems are reported per file.
 */
export async function loadServedUtterances(baseUrl: string, runner?: ModelRunner): Promise<DroppedLoad | undefined> {
  // `steve serve` prints the page's URL with a per-run token, which its file routes require (the manifest's URLs carry it).
  const token = new URLSearchParams(location.search).get('token');
  const response = await fetch(`${baseUrl}steve-files.json${token ? `?token=${encodeURIComponent(token)}` : ''}`).catch(() => undefined);
  if (response?.status === 403) {
    return { utterances: [], problems: ['steve serve needs the token of the URL it printed (open that URL as it is)'] };
  }
  if (!response?.ok || !(response.headers.get('content-type') ?? '').includes('json')) return undefined;
  const manifest = (await response.json()) as ServedManifest;
  const result: DroppedLoad = { utterances: [], problems: [] };
  for (const utterance of manifest.utterances) {
    const wav = utterance.files.find((file) => file.role === 'wav');
    const stem = wav ? wav.name.replace(/\.[^.]*$/, '') : utterance.name;
    const files = await Promise.all(
      utterance.files.map(async (file) => {
        const blob = await (await fetch(file.url)).blob();
        const extension = SERVED_EXTENSIONS[file.role];
        return new File([blob], extension ? `${stem}.${extension}` : file.name);
      }),
    );
    const tiers: TierNames = {
      phoneTier: utterance.tiers.phoneTier ?? DEFAULT_TIERS.phoneTier,
      wordTier: utterance.tiers.wordTier ?? DEFAULT_TIERS.wordTier,
      textTier: utterance.tiers.textTier ?? undefined,
    };
    const loaded = await loadDroppedFiles(files, tiers, utterance.spf ?? undefined, undefined, runner);
    result.utterances.push(...loaded.utterances);
    result.problems.push(...loaded.problems);
  }
  return result;
}

/**
 * The utterances with names that tell them apart: a name already taken (two folders with the same stem, or the
 * same files dropped twice) gets " (2)", " (3)", ... in load order, so the utterance list never shows two alike.
 */
export function withDistinctNames(utterances: readonly LoadedUtterance[]): LoadedUtterance[] {
  const taken = new Set<string>();
  return utterances.map((utterance) => {
    let name = utterance.name;
    for (let n = 2; taken.has(name); n++) name = `${utterance.name} (${n})`;
    taken.add(name);
    return name === utterance.name ? utterance : { ...utterance, name };
  });
}
