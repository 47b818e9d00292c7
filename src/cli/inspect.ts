/**
 * `steve inspect`: what is in an attention file and how it lines up with its audio and alignment.
 * With --json, exactly one JSON object on stdout (the shape is documented in the README).
 */
import type { Writable } from 'node:stream';
import type { Segment } from '../data/alignment.ts';
import { toFrameSegments } from '../data/frames.ts';
import { computeMapStats, isSoftmaxed, softmaxTolerance } from '../data/openAttention.ts';
import type { LoadedUtterance, UtteranceFiles } from '../node/loadUtterance.ts';
import { loadUtterance, withAlignmentKind } from '../node/loadUtterance.ts';
import { escapeControl, escapeControlInJson } from '../data/untrustedText.ts';
import { openModelInput, runModelUtterance } from '../node/loadModel.ts';
import { modelProgressLine } from './batch.ts';
import { readShaderSources } from '../node/shaderFiles.ts';
import { CliError, warnLine } from './cliError.ts';
import { startNodeEngine } from './viewCommand.ts';

/** The files to inspect and how to print the report. */
export interface InspectOptions extends Omit<UtteranceFiles, 'attention'> {
  attention?: string;
  /** A model folder (or .safetensors) to run on --wav instead of an attention file. */
  model?: string;
  roundUp?: boolean;
  json?: boolean;
}

interface HeadStats {
  min: number | null;
  max: number | null;
  mean: number | null;
  nonFinite: number;
}

interface SegmentReport {
  label: string;
  start: number;
  end: number;
  startFrame: number | null;
  endFrame: number | null;
}

/** What `steve inspect --json` prints (the shape is documented in the README). */
export interface InspectReport {
  attention: {
    file: string;
    layers: number;
    heads: number;
    /** A map's rows: the file's second-to-last axis, the query frames of model attention. */
    rows: number;
    /** A map's columns: the last axis, which softmax normalises, the key frames. */
    cols: number;
    /** The same as rows, by what they are (kept: earlier reports had only these two). */
    queries: number;
    /** The same as cols. */
    keys: number;
    dtype: string;
    softmaxed: boolean;
    heads_stats: HeadStats[][];
    model?: string;
  };
  audio: { sampleRate: number; channels: number; durationSec: number } | null;
  spf: number | null;
  spfSource: string | null;
  alignment: { source: string; text: string; phones: SegmentReport[]; words: SegmentReport[] } | null;
  /** With --model: the encoder that produced the (pre-softmax) scores. */
  model?: {
    name: string;
    model_type: string;
    hidden_size: number;
    layers: number;
    heads: number;
    head_dim: number;
    ffn_dim: number;
    weight_dtype: string;
  };
}

/** Reads every head once (a slice at a time, so any file size works) for its statistics and the softmax check. */
export async function makeInspectReport(utterance: LoadedUtterance, roundUp = false): Promise<InspectReport> {
  const { attention } = utterance;
  const { layers, heads, rows, cols } = attention.shape;
  const tolerance = softmaxTolerance(attention.dtype);
  let softmaxed = true;
  const headsStats: HeadStats[][] = [];
  for (let layer = 0; layer < layers; layer++) {
    const layerStats: HeadStats[] = [];
    for (let head = 0; head < heads; head++) {
      const map = await attention.readHead(layer, head);
      const stats = computeMapStats(map);
      layerStats.push({ min: finiteOrNull(stats.min), max: finiteOrNull(stats.max), mean: finiteOrNull(stats.mean), nonFinite: stats.nonFinite });
      softmaxed &&= isSoftmaxed(map, rows, cols, tolerance);
    }
    headsStats.push(layerStats);
  }
  const spf = utterance.spf?.samplesPerFrame;
  const segments = (list: readonly Segment[]): SegmentReport[] => {
    const frames = spf === undefined ? undefined : toFrameSegments(list, spf, roundUp);
    return list.map((segment, i) => ({
      label: segment.label,
      start: segment.startSample / 16000,
      end: segment.endSample / 16000,
      startFrame: frames ? frames[i].startFrame : null,
      endFrame: frames ? frames[i].stopFrame : null,
    }));
  };
  const { audio, alignment } = utterance;
  return {
    attention: {
      file: attention.fileName,
      layers,
      heads,
      rows,
      cols,
      queries: rows,
      keys: cols,
      dtype: attention.dtype,
      softmaxed,
      heads_stats: headsStats,
      ...(attention.metadata.model ? { model: attention.metadata.model } : {}),
    },
    audio: audio ? { sampleRate: audio.sampleRate, channels: audio.channels, durationSec: audio.durationSec } : null,
    spf: spf ?? null,
    spfSource: utterance.spf?.source ?? null,
    alignment: alignment
      ? { source: alignment.source, text: alignment.text, phones: segments(alignment.phones), words: segments(alignment.words) }
      : null,
  };
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** The report as readable lines, for a terminal. */
export function formatInspectReport(report: InspectReport): string {
  const { attention: a, audio, alignment } = report;
  const lines = [
    `${a.file}: ${a.layers} layers x ${a.heads} heads x ${a.rows} queries x ${a.cols} keys (rows x columns), ${a.dtype}` +
      (a.model ? `, model ${a.model}` : ''),
    `  rows ${a.softmaxed ? 'already sum to 1 (softmaxed)' : 'are raw scores (softmax applies)'}`,
  ];
  const nonFinite = a.heads_stats.flat().reduce((sum, s) => sum + s.nonFinite, 0);
  if (nonFinite > 0) lines.push(`  warning: ${nonFinite} NaN or infinite values`);
  for (const [layer, heads] of a.heads_stats.entries()) {
    const range = heads.map((s) => `${fmt(s.min)}..${fmt(s.max)}`).join('  ');
    lines.push(`  layer ${layer}: ${range}`);
  }
  lines.push(audio ? `audio: ${audio.sampleRate} Hz, ${audio.channels} channel(s), ${audio.durationSec.toFixed(3)} s` : 'audio: none');
  lines.push(report.spf === null ? 'spf: unknown (give --spf or --wav)' : `spf: ${report.spf} (${report.spfSource})`);
  if (alignment) {
    lines.push(`alignment: ${alignment.source}, ${alignment.words.length} words, ${alignment.phones.length} phones`);
    if (alignment.text) lines.push(`  "${alignment.text}"`);
    lines.push(`  words: ${alignment.words.map((w) => `${w.label}[${w.startFrame}-${w.endFrame}]`).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

function fmt(value: number | null): string {
  return value === null ? 'n/a' : Number(value.toPrecision(4)).toString();
}

/** Opens the utterance (running the model with --model), reports on it to `out`, and closes it. */
export async function runInspect(given: InspectOptions, out: Writable): Promise<void> {
  const options = await withAlignmentKind(given, warnLine);
  if (options.model) {
    await inspectModel({ ...options, model: options.model }, out);
    return;
  }
  if (!options.attention) throw new CliError('give --attention FILE, or --model PATH with --wav FILE');
  const utterance = await loadUtterance({ ...options, attention: options.attention });
  try {
    const report = await makeInspectReport(utterance, options.roundUp);
    writeInspectReport(report, options.json, out);
  } finally {
    await utterance.close();
  }
}

/**
 * Writes the report as one JSON object or as text (after `firstLine`, if any). The report quotes the files (model
 * name, words, text): nothing in it may act on the terminal.
 */
function writeInspectReport(report: InspectReport, json: boolean | undefined, out: Writable, firstLine?: string): void {
  if (json) {
    out.write(escapeControlInJson(JSON.stringify(report)) + '\n');
    return;
  }
  const text = (firstLine === undefined ? '' : firstLine + '\n') + formatInspectReport(report);
  out.write(text.split('\n').map(escapeControl).join('\n'));
}

async function inspectModel(options: InspectOptions & { model: string }, out: Writable): Promise<void> {
  if (options.attention) throw new CliError('give --model or --attention, not both');
  const files = { ...options, attention: options.model };
  // The checkpoint and the audio are checked before the GPU starts.
  const opened = await openModelInput(files, (line) => process.stderr.write(`steve: ${line}\n`));
  let node;
  try {
    node = await startNodeEngine();
  } catch (error) {
    await opened.close();
    throw error;
  }
  try {
    const utterance = await runModelUtterance(files, opened, { device: node.engine.device, compute: node.engine.compute, shaders: readShaderSources(), onProgress: modelProgressLine(process.stderr) });
    try {
      const summary = utterance.model.summary;
      const report: InspectReport = {
        ...(await makeInspectReport(utterance, options.roundUp)),
        model: {
          name: summary.name,
          model_type: summary.modelType,
          hidden_size: summary.hiddenSize,
          layers: summary.layers,
          heads: summary.heads,
          head_dim: summary.headDim,
          ffn_dim: summary.ffnDim,
          weight_dtype: summary.weightDtype,
        },
      };
      const modelLine = `model: ${summary.name} (${summary.modelType}), ${summary.layers} layers, ${summary.heads} heads of ${summary.headDim}, width ${summary.hiddenSize}, weights ${summary.weightDtype}`;
      writeInspectReport(report, options.json, out, modelLine);
    } finally {
      await utterance.close();
    }
  } finally {
    node.destroy();
  }
}
