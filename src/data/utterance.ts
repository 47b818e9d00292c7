/**
 * One utterance as the viewer and the CLI see it: an attention tensor, optionally its audio, an alignment (real or
 * STEVE's dummy one) and the samples per frame that tie frames to time. assembleUtterance checks that the pieces fit
 * each other, wherever they were read from (files in Node, File objects in the browser).
 */
import type { Alignment } from './alignment.ts';
import { checkAlignmentFitsAudio } from './alignment.ts';
import type { SpfChoice } from './frames.ts';
import { chooseSamplesPerFrame, samplesAt16k } from './frames.ts';
import { InputError } from './inputError.ts';
import type { AttentionSource } from './tensor.ts';
import type { WavAudio } from './wav.ts';

export interface Utterance {
  /** A short name for menus and titles: the WAV's (or the tensor's) file name without extension. */
  readonly name: string;
  readonly attention: AttentionSource;
  readonly audio?: WavAudio;
  readonly audioFileName?: string;
  /** Length of the audio at 16 kHz, as STEVE (librosa.load(sr=16000)) counts it. */
  readonly audioSamples16k?: number;
  readonly spf?: SpfChoice;
  readonly alignment?: Alignment;
}

/** Frames may exceed the audio (Whisper pads to 30 s), but the audio may not run past the last frame by more than this. */
const FRAME_SLACK = 1;

export interface UtterancePieces {
  name: string;
  attention: AttentionSource;
  audio?: { audio: WavAudio; fileName: string };
  /** Builds the alignment once the audio's 16 kHz length is known (dummy segments need it). */
  makeAlignment?: (audioSamples16k: number) => Alignment | Promise<Alignment>;
  userSpf?: number;
}

/**
 * Chooses spf and checks the tensor's frames against the audio and the alignment against the audio, throwing an
 * InputError that names both files when they do not fit (wrong spf, or attention from another utterance).
 */
export async function assembleUtterance(pieces: UtterancePieces): Promise<Utterance> {
  const { name, attention, userSpf } = pieces;
  const frames = attention.shape.cols;
  if (!pieces.audio) {
    const spf = chooseSamplesPerFrame({ userSpf, metadataSpf: attention.metadata.spf, frames });
    return { name, attention, spf };
  }
  const { audio, fileName: audioFileName } = pieces.audio;
  const audioSamples16k = samplesAt16k(audio.samples.length, audio.sampleRate);
  const spf = chooseSamplesPerFrame({ userSpf, metadataSpf: attention.metadata.spf, frames, audioSamples16k });
  if (spf && audioSamples16k > 0 && audioSamples16k / spf.samplesPerFrame < 1) {
    // An spf this large (--spf 1e300, or a corrupt spf in the file) would squeeze the whole audio into no frame at all.
    const from = spf.source === 'user' ? 'given with --spf' : spf.source === 'metadata' ? `from ${attention.fileName}` : `(${spf.source})`;
    throw new InputError(
      spf.source === 'metadata' ? attention.fileName : audioFileName,
      'mismatch',
      `spf ${spf.samplesPerFrame} ${from} makes the ${audioSamples16k} samples of ${audioFileName} less than one frame; expected at most ${audioSamples16k} (typically 320 at 16 kHz)`,
    );
  }
  if (spf && audioSamples16k / spf.samplesPerFrame > frames + FRAME_SLACK) {
    throw new InputError(
      attention.fileName,
      'mismatch',
      `${frames} frames at spf ${spf.samplesPerFrame} cover ${((frames * spf.samplesPerFrame) / 16000).toFixed(2)} s, ` +
        `but ${audioFileName} lasts ${audio.durationSec.toFixed(2)} s (${(audioSamples16k / spf.samplesPerFrame).toFixed(1)} frames): ` +
        'wrong spf, or attention from another utterance?',
    );
  }
  const alignment = pieces.makeAlignment ? await pieces.makeAlignment(audioSamples16k) : undefined;
  if (alignment && alignment.source !== 'dummy') checkAlignmentFitsAudio(alignment, audio.durationSec, audioFileName);
  return { name, attention, audio, audioFileName, audioSamples16k, spf, alignment };
}
