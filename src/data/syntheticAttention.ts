/**
 * A synthetic attention tensor built from an utterance's alignment, for the viewer's default view until real model
 * attention ships with the project. It is NOT model output: the viewer says so plainly wherever it is shown.
 *
 * Each head gets one of the patterns the STEVE paper discusses in real Whisper/wav2vec 2.0 heads, as raw scores
 * (softmax applies): a local diagonal band, attention within the same phone, to the previous phone, within the same
 * word, and to silence. Heads are generated on demand, so a Whisper-shaped 6 x 8 x 1500 x 1500 tensor costs nothing
 * until a head is looked at.
 */
import type { Alignment } from './alignment.ts';
import { toFrameSegments } from './frames.ts';
import type { AttentionSource, AttentionShape } from './tensor.ts';

export const SYNTHETIC_PATTERNS = ['diagonal', 'same-phone', 'previous-phone', 'same-word', 'silence', 'broad'] as const;
export type SyntheticPattern = (typeof SYNTHETIC_PATTERNS)[number];

/** Labels treated as silence when building the 'silence' pattern (TIMIT, ARPAbet/MFA, and empty intervals). */
const SILENCE_LABELS = new Set(['h#', 'pau', 'epi', 'sil', 'sp', 'spn', '']);

export interface SyntheticOptions {
  layers?: number;
  heads?: number;
  /** Frames per map; 1500 (Whisper's 30 s window) by default. */
  frames?: number;
  samplesPerFrame?: number;
}

/** The pattern of a head: cycles through the patterns so every layer shows each of them. */
export function syntheticPatternOf(layer: number, head: number): SyntheticPattern {
  return SYNTHETIC_PATTERNS[(layer + head) % SYNTHETIC_PATTERNS.length];
}

export function makeSyntheticAttention(alignment: Alignment, fileName: string, options: SyntheticOptions = {}): AttentionSource {
  const shape: AttentionShape = {
    layers: options.layers ?? 6,
    heads: options.heads ?? 8,
    rows: options.frames ?? 1500,
    cols: options.frames ?? 1500,
  };
  const samplesPerFrame = options.samplesPerFrame ?? 320;
  const frames = shape.cols;
  const phoneOfFrame = segmentIndexPerFrame(toFrameSegments(alignment.phones, samplesPerFrame), frames);
  const wordOfFrame = segmentIndexPerFrame(toFrameSegments(alignment.words, samplesPerFrame), frames);
  const silent = new Uint8Array(frames).map((_, f) => {
    const phone = phoneOfFrame[f];
    return phone < 0 || SILENCE_LABELS.has(alignment.phones[phone].label) ? 1 : 0;
  });

  const makeHead = (layer: number, head: number): Float32Array => {
    const pattern = syntheticPatternOf(layer, head);
    // Deeper layers look further: the band widens and the same-segment preference softens.
    const width = 1.5 + layer * 0.8 + (head % 3);
    const map = new Float32Array(frames * frames);
    for (let row = 0; row < frames; row++) {
      const rowPhone = phoneOfFrame[row];
      const rowWord = wordOfFrame[row];
      for (let col = 0; col < frames; col++) {
        const distance = col - row;
        let score = -0.5 * (distance / (width * 4)) ** 2;
        switch (pattern) {
          case 'diagonal':
            score = -0.5 * (distance / width) ** 2;
            break;
          case 'same-phone':
            if (rowPhone >= 0 && phoneOfFrame[col] === rowPhone) score += 4;
            break;
          case 'previous-phone':
            if (rowPhone > 0 && phoneOfFrame[col] === rowPhone - 1) score += 4;
            break;
          case 'same-word':
            if (rowWord >= 0 && wordOfFrame[col] === rowWord) score += 3;
            break;
          case 'silence':
            if (silent[col]) score += 3 - layer * 0.2;
            break;
          case 'broad':
            score = -Math.abs(distance) / (frames / 8);
            break;
        }
        map[row * frames + col] = score;
      }
    }
    return map;
  };

  return {
    fileName,
    shape,
    dtype: 'float32',
    metadata: { spf: samplesPerFrame, model: 'synthetic (not model output)' },
    async readHead(layer, head) {
      return makeHead(layer, head);
    },
    async readLayer(layer) {
      const out = new Float32Array(shape.heads * frames * frames);
      for (let head = 0; head < shape.heads; head++) out.set(makeHead(layer, head), head * frames * frames);
      return out;
    },
  };
}

/** For each frame, the index of the segment covering it (the last one, where TIMIT words overlap), or -1. */
function segmentIndexPerFrame(segments: { startFrame: number; stopFrame: number }[], frames: number): Int32Array {
  const index = new Int32Array(frames).fill(-1);
  segments.forEach((segment, i) => {
    for (let f = Math.max(0, segment.startFrame); f < Math.min(frames, segment.stopFrame); f++) index[f] = i;
  });
  return index;
}
