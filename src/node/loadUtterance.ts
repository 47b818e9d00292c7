/**
 * Opens one utterance from files on disk, as STEVE's plot_attentions takes it: an attention tensor, optionally its
 * WAV with alignment files beside it, and spf. Checks that the pieces fit each other before anything is drawn.
 */
import { readFile } from 'node:fs/promises';
import type { Alignment } from '../data/alignment.ts';
import { checkAlignmentFitsAudio } from '../data/alignment.ts';
import type { SpfChoice } from '../data/frames.ts';
import { chooseSamplesPerFrame, samplesAt16k } from '../data/frames.ts';
import { InputError } from '../data/inputError.ts';
import { openAttention } from '../data/openAttention.ts';
import type { AttentionSource } from '../data/tensor.ts';
import type { WavAudio } from '../data/wav.ts';
import { parseWav } from '../data/wav.ts';
import { makeFileSource } from './fileSource.ts';
import { loadAlignmentForWav } from './findAlignments.ts';

export type AlignmentKind = 'timit' | 'textgrid' | 'none';

export interface UtteranceFiles {
  attention: string;
  wav?: string;
  alignments?: AlignmentKind;
  phoneTier?: string;
  wordTier?: string;
  textTier?: string;
  tgExt?: string;
  spf?: number;
}

export interface LoadedUtterance {
  readonly attention: AttentionSource;
  /** Closes the attention file handle; the source must not be read afterwards. */
  close(): Promise<void>;
  readonly audio?: WavAudio;
  /** Length of the audio at 16 kHz, as STEVE (librosa.load(sr=16000)) counts it. */
  readonly audioSamples16k?: number;
  readonly spf?: SpfChoice;
  readonly alignment?: Alignment;
}

/** Frames may exceed the audio (Whisper pads to 30 s) but the audio must not run past the last frame by more than this. */
const FRAME_SLACK = 1;

export async function loadUtterance(files: UtteranceFiles): Promise<LoadedUtterance> {
  const source = await makeFileSource(files.attention);
  try {
    const attention = await openAttention(source);
    const frames = attention.shape.cols;
    if (!files.wav) {
      const spf = chooseSamplesPerFrame({ userSpf: files.spf, metadataSpf: attention.metadata.spf, frames });
      return { attention, close: () => source.close(), spf };
    }
    const audio = parseWav(await readWavBytes(files.wav), files.wav);
    const audioSamples16k = samplesAt16k(audio.samples.length, audio.sampleRate);
    const spf = chooseSamplesPerFrame({ userSpf: files.spf, metadataSpf: attention.metadata.spf, frames, audioSamples16k });
    if (spf && audioSamples16k / spf.samplesPerFrame > frames + FRAME_SLACK) {
      throw new InputError(
        files.attention,
        'mismatch',
        `${frames} frames at spf ${spf.samplesPerFrame} cover ${((frames * spf.samplesPerFrame) / 16000).toFixed(2)} s, ` +
          `but ${files.wav} lasts ${audio.durationSec.toFixed(2)} s (${(audioSamples16k / spf.samplesPerFrame).toFixed(1)} frames): ` +
          'wrong spf, or attention from another utterance?',
      );
    }
    const alignments = files.alignments ?? 'none';
    // Tier names default to what Praat users and the Montreal Forced Aligner call them; for TIMIT the same options
    // are file extensions, which loadAlignmentForWav defaults itself.
    const textGrid = alignments === 'textgrid';
    const alignment = await loadAlignmentForWav(files.wav, {
      alignments,
      phoneTier: files.phoneTier ?? (textGrid ? 'phones' : undefined),
      wordTier: files.wordTier ?? (textGrid ? 'words' : undefined),
      textTier: files.textTier,
      tgExt: files.tgExt,
      audioSamples16k,
    });
    if (alignment.source !== 'dummy') checkAlignmentFitsAudio(alignment, audio.durationSec, files.wav);
    return { attention, close: () => source.close(), audio, audioSamples16k, spf, alignment };
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
