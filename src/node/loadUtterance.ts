/**
 * Opens one utterance from files on disk, as STEVE's plot_attentions takes it: an attention tensor, optionally its
 * WAV with alignment files beside it, and spf. The checks that the pieces fit are in src/data/utterance.ts.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { InputError } from '../data/inputError.ts';
import { openAttention } from '../data/openAttention.ts';
import type { Utterance } from '../data/utterance.ts';
import { assembleUtterance } from '../data/utterance.ts';
import { parseWav } from '../data/wav.ts';
import { makeFileSource } from './fileSource.ts';
import { chooseAlignmentKind, loadAlignmentForWav } from './findAlignments.ts';

export type AlignmentKind = 'timit' | 'textgrid' | 'none';

export interface UtteranceFiles {
  /** The attention file; with `model`, the model path (what outputs name as the attention's source). */
  attention: string;
  /** A model folder (or .safetensors) to run on `wav` instead of reading `attention` (src/node/loadModel.ts). */
  model?: string;
  wav?: string;
  alignments?: AlignmentKind;
  phoneTier?: string;
  wordTier?: string;
  textTier?: string;
  tgExt?: string;
  spf?: number;
}

export interface LoadedUtterance extends Utterance {
  /** Closes the attention file handle; the tensor must not be read afterwards. */
  close(): Promise<void>;
}

/**
 * `files` with the alignment kind decided (chooseAlignmentKind): unchanged without a WAV, else the given kind or the
 * one the files beside the WAV call for, `warn` told when it is the dummy grid nobody asked for.
 */
export async function withAlignmentKind<T extends Pick<UtteranceFiles, 'wav' | 'alignments' | 'tgExt' | 'phoneTier' | 'wordTier'>>(
  files: T,
  warn: (line: string) => void,
): Promise<T> {
  if (files.wav === undefined) return files;
  return { ...files, alignments: await chooseAlignmentKind(files.wav, files.alignments, files, warn) };
}

export async function loadUtterance(files: UtteranceFiles): Promise<LoadedUtterance> {
  const source = await makeFileSource(files.attention);
  try {
    const attention = await openAttention(source);
    const wav = files.wav;
    const alignments = files.alignments ?? 'none';
    // Tier names default to what Praat users and the Montreal Forced Aligner call them; for TIMIT the same options
    // are file extensions, which loadAlignmentForWav defaults itself.
    const textGrid = alignments === 'textgrid';
    const utterance = await assembleUtterance({
      name: basename(wav ?? files.attention, extname(wav ?? files.attention)),
      attention,
      userSpf: files.spf,
      audio: wav ? { audio: parseWav(await readWavBytes(wav), wav), fileName: wav } : undefined,
      makeAlignment: wav
        ? (audioSamples16k) =>
            loadAlignmentForWav(wav, {
              alignments,
              phoneTier: files.phoneTier ?? (textGrid ? 'phones' : undefined),
              wordTier: files.wordTier ?? (textGrid ? 'words' : undefined),
              textTier: files.textTier,
              tgExt: files.tgExt,
              audioSamples16k,
            })
        : undefined,
    });
    return { ...utterance, close: () => source.close() };
  } catch (error) {
    await source.close();
    throw error;
  }
}

async function readWavBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InputError(path, 'not-found', `cannot read the WAV file (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}
