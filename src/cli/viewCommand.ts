/**
 * What `steve render` and `steve export` share: the options that name the files and choose the view (mirroring
 * the viewer's controls and STEVE's plot_attentions arguments), and the run over the call's utterances: load each,
 * plan its view, compute its maps on the engine, hand them to the command's writer, free them.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { AttentionShape } from '../data/tensor.ts';
import { openAttention } from '../data/openAttention.ts';
import type { Utterance } from '../data/utterance.ts';
import type { ComputedMap } from '../engine.ts';
import { makeFileSource } from '../node/fileSource.ts';
import { loadUtterance } from '../node/loadUtterance.ts';
import { loadModelUtterance } from '../node/loadModel.ts';
import { readShaderSources } from '../node/shaderFiles.ts';
import type { NodeEngine } from '../node/nodeEngine.ts';
import { createNodeEngine } from '../node/nodeEngine.ts';
import { runBatch } from './batch.ts';
import { addAlignmentOptions, parseAlignmentKind } from './alignmentOptions.ts';
import { CliError } from './cliError.ts';
import { expandInputs } from './inputs.ts';
import { collect, parsePositiveNumber } from './optionParsers.ts';
import type { OutputRequest } from './outputPath.ts';
import { outputPathFor } from './outputPath.ts';
import type { ViewPlan } from './viewPlan.ts';
import { planView } from './viewPlan.ts';
import type { ViewOptionValues, ViewSpec } from './viewSpec.ts';
import { parseViewSpec } from './viewSpec.ts';

/** Option values of render and export as Commander parses them. */
export interface ViewCommandOptions extends ViewOptionValues {
  attention: string[];
  model?: string;
  wav: string[];
  alignments: string;
  phoneTier?: string;
  wordTier?: string;
  textTier?: string;
  tgExt?: string;
  spf?: number;
  out?: string;
  format?: string;
}

/** One utterance's view, ready for a writer. */
export interface ViewOutput {
  readonly spec: ViewSpec;
  readonly plan: ViewPlan;
  /** One per plan cell, in order; freed after the writer returns. */
  readonly maps: readonly ComputedMap[];
  readonly utterance: Utterance;
  readonly files: { readonly attention: string; readonly wav?: string; readonly alignments: string };
  readonly path: string;
  readonly format: string;
  readonly node: NodeEngine;
}

/** Adds the options naming the files (repeatable for batches) and choosing the view. */
export function addViewOptions(command: Command): Command {
  command
    .option('--attention <file>', 'attention tensor (.npy, .npz, .safetensors); repeat, or a quoted glob, for several', collect, [])
    .option('--model <path>', 'instead of --attention: run this model (Hugging Face folder with config.json and model.safetensors) on each --wav')
    .option('--wav <file>', 'the utterance audio; repeat, or a quoted glob ("data/*.wav"), for several; without --attention, the tensor beside each WAV with its stem', collect, []);
  return addAlignmentOptions(command)
    .option('--spf <n>', 'audio samples (at 16 kHz) per model frame; default: file metadata, 320 for Whisper, or audio/frames', parsePositiveNumber)
    .option('--round-up', "round frame numbers up (STEVE's ceil mode) instead of to nearest")
    .option('--view <view>', 'map, heads, model (layers x heads), pooled, difference or rollout')
    .option('--layer <n>', 'layer index from 0, or "mean" (rollout: the last layer multiplied in; default all)')
    .option('--head <n>', 'head index from 0, "mean" (mean of the heads) or "all" (every head: --view heads)')
    .option('--words <A:B>', 'words A to B of the alignment, counted from 0, both included (the viewer\'s word slider); default every word')
    .option('--full', 'every frame of the tensor (Whisper: all 30 s) instead of the words\' crop')
    .option('--softmax <scope>', 'none (values as stored; use it for tensors already softmaxed), row (STEVE: whole row, then crop) or crop', 'row')
    .option('--pool <unit>', 'pool the map onto phones, words, or K x K blocks of frames (a number): --view pooled')
    .option('--pool-stat <stat>', 'mean or max of each pooled block', 'mean')
    .option('--compare-layer <n>', 'difference: the layer subtracted (index or "mean"; default --layer)')
    .option('--compare-head <n>', 'difference: the head subtracted (index or "mean"; default --head)')
    .option('--compare-attention <file>', 'difference: subtract a map of this tensor (same frames) instead of the same file')
    .option('-o, --out <file>', 'output file, a folder (ends with /), or a name with {name} (the WAV or tensor stem) for several utterances')
    .option('--format <ext>', 'output format when -o is a folder or not given');
}

/**
 * Runs a view command over the call's utterances with `write` producing each output. Returns the exit status:
 * 0, or 1 when any utterance failed (each reported on stderr as it happened).
 */
export async function runViewCommand(
  options: ViewCommandOptions,
  formats: readonly string[],
  write: (output: ViewOutput) => Promise<void>,
  /** Checks options against the output format (of the first utterance: -o gives all one format). */
  check?: (format: string) => void,
): Promise<number> {
  const spec = parseViewSpec(options);
  const alignments = parseAlignmentKind(options.alignments);
  const items = await expandInputs({ ...options, alignments });
  const request: OutputRequest = { out: options.out, format: options.format, formats, count: items.length };
  // -o problems are the same for every utterance: say so once, before the GPU starts.
  check?.(outputPathFor(request, items[0].name).format);
  const node = await startNodeEngine();
  let closeCompare = async () => {};
  try {
    let compare: { tensorId: string; fileName: string; shape: AttentionShape } | undefined;
    if (spec.compare?.attention) {
      const source = await makeFileSource(spec.compare.attention);
      closeCompare = () => source.close();
      const attention = await openAttention(source);
      node.engine.addTensor('compare', attention);
      compare = { tensorId: 'compare', fileName: attention.fileName, shape: attention.shape };
    }
    const result = await runBatch(items, async (item, say) => {
      const { model } = item.files;
      const utterance = model
        ? await loadModelUtterance({ ...item.files, model }, { device: node.engine.device, shaders: readShaderSources(), warn: (line) => process.stderr.write(`steve: ${line}\n`) })
        : await loadUtterance(item.files);
      const maps: ComputedMap[] = [];
      try {
        node.engine.addTensor('utterance', utterance.attention);
        const plan = planView(spec, utterance, { tensorId: 'utterance', compare });
        for (const cell of plan.cells) maps.push(await node.engine.computeMap(cell.request));
        const { path, format } = outputPathFor(request, item.name);
        await mkdir(dirname(path), { recursive: true });
        await write({ spec, plan, maps, utterance, files: { attention: item.files.attention, wav: item.files.wav, alignments }, path, format, node });
        say(path);
      } finally {
        maps.forEach((map) => map.destroy());
        node.engine.removeTensor('utterance');
        await utterance.close();
      }
    });
    return result.failed > 0 ? 1 : 0;
  } finally {
    node.destroy();
    await closeCompare();
  }
}

/** The Node engine, or a one-line CliError when there is no WebGPU adapter. */
export async function startNodeEngine(): Promise<NodeEngine> {
  try {
    return await createNodeEngine();
  } catch (error) {
    // No adapter: the engine's message says what to install; one line, as for any other input problem.
    throw new CliError((error as Error).message);
  }
}
