/**
 * Audio -> what an encoder reads, decided once for the viewer and the CLI: mono samples at any rate are resampled to
 * 16 kHz (src/model/audio.ts); Whisper gets its log-mel of the first 30 s (longer audio is trimmed, as Whisper
 * does), wav2vec 2.0 / HuBERT the (normalised) waveform.
 */
import { prepareModelAudio } from './audio.ts';
import { encoderFrames, type ModelConfig } from './config.ts';
import type { EncoderInput } from './modelSource.ts';
import { whisperLogMel, whisperTrimNotice } from './whisperFeatures.ts';

export interface PreparedEncoderInput {
  readonly input: EncoderInput;
  /** The line to show when Whisper trimmed the audio (whisperTrimNotice), else undefined. */
  readonly notice?: string;
  /** Whisper only: the audio was longer than the model's window and its end was not used. */
  readonly trimmed: boolean;
  /** Seconds of audio the model saw. */
  readonly secondsUsed: number;
}

export function prepareEncoderInput(config: ModelConfig, samples: Float32Array, sampleRate: number, audioName: string): PreparedEncoderInput {
  const audio = prepareModelAudio(samples, sampleRate, config);
  if (config.family === 'whisper') {
    const mel = whisperLogMel(audio.samples, config.features);
    return {
      input: { kind: 'log-mel', values: mel.data },
      notice: whisperTrimNotice(audioName, mel, config.features),
      trimmed: mel.trimmed,
      secondsUsed: mel.audioSamples / audio.sampleRate,
    };
  }
  // Audio too short for one frame is an InputError naming the WAV, before any forward pass.
  encoderFrames(config, audio.samples.length, audioName);
  return { input: { kind: 'waveform', samples: audio.samples }, trimmed: false, secondsUsed: audio.samples.length / audio.sampleRate };
}
