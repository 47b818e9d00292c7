/**
 * What `steve render` and `steve export` share: the options that name the files and choose the view (mirroring
 * the viewer's controls and STEVE's plot_attentions arguments), and the run over the call's utterances: load each,
 * plan its view, compute its maps on the engine, hand them to the command's writer, free them.
 */
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Command } from 'commander';
import type { Utterance } from '../data/utterance.ts';
import type { ComputedMap } from '../engine.ts';
import type { LoadedUtterance, UtteranceFiles } from '../node/loadUtterance.ts';
import { loadUtterance, withAlignmentKind } from '../node/loadUtterance.ts';
import { loadModelUtterance } from '../node/loadModel.ts';
import { readShaderSources } from '../node/shaderFiles.ts';
import type { NodeEngine } from '../node/nodeEngine.ts';
import { createNodeEngine } from '../node/nodeEngine.ts';
import { modelProgressLine, runBatch } from './batch.ts';
import { addAlignmentOptions, parseAlignmentKind } from './alignmentOptions.ts';
import { CliError, warnLine } from './cliError.ts';
import { expandInputs } from './inputs.ts';
import { collect, parsePositiveNumber } from './optionParsers.ts';
import type { OutputRequest } from './outputPath.ts';
import { outputPathFor } from './outputPath.ts';
import type { PlanTensors, ViewPlan } from '../view/plan.ts';
import { planView } from '../view/plan.ts';
import { ViewError, ignoredViewOptions } from '../view/spec.ts';
import { resolveSoftmax, storedSoftmaxNote } from '../view/storedSoftmax.ts';
import { isHeadSoftmaxed } from '../data/openAttention.ts';
import type { ViewOptionValues, ViewSpec } from './viewSpec.ts';
import { addViewSpecOptions, parseViewSpec } from './viewSpec.ts';

/** Option values of render and export as Commander parses them. */
export interface ViewCommandOptions extends ViewOptionValues {
  attention: string[];
  model?: string;
  wav: string[];
  alignments?: string;
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
  /** One per plan cell, in order; freed after the writer returns. Empty when the writer computes them (computeMaps false). */
  readonly maps: readonly ComputedMap[];
  readonly utterance: Utterance;
  readonly files: { readonly attention: string; readonly wav?: string; readonly alignments: string };
  readonly path: string;
  readonly format: string;
  readonly node: NodeEngine;
}

/**
 * Adds the options naming the files (repeatable for batches) and choosing the view (src/view/spec.ts's
 * VIEW_OPTIONS; `looks`: also those choosing how it is drawn).
 */
export function addViewOptions(command: Command, looks: boolean): Command {
  command
    .option('--attention <file>', 'attention tensor (.npy, .npz, .safetensors); repeat, or a quoted glob, for several', collect, [])
    .option('--model <path>', 'instead of --attention: run this model (Hugging Face folder with config.json and model.safetensors) on each --wav')
    .option('--wav <file>', 'the utterance audio; repeat, or a quoted glob ("data/*.wav"), for several; without --attention, the tensor beside each WAV with its stem', collect, []);
  addAlignmentOptions(command).option('--spf <n>', 'audio samples (at 16 kHz) per model frame; default: file metadata, 320 for Whisper, or audio/frames', parsePositiveNumber);
  return addViewSpecOptions(command, looks)
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
  /** False: the writer computes each cell's map itself, one at a time (export streams maps larger than memory). */
  computeMaps = true,
): Promise<number> {
  const spec = parseViewSpec(options);
  for (const ignored of ignoredViewOptions(options, spec)) warnLine(ignored.message);
  const alignments = parseAlignmentKind(options.alignments);
  const items = await expandInputs({ ...options, alignments });
  const request: OutputRequest = { out: options.out, format: options.format, formats, count: items.length };
  // -o problems are the same for every utterance: say so once, before the GPU starts.
  check?.(outputPathFor(request, items[0].name).format);
  const node = await startNodeEngine();
  let other: LoadedUtterance | undefined;
  try {
    let compare: PlanTensors['compare'];
    if (spec.compare?.attention) {
      const { phoneTier, wordTier, textTier, tgExt, spf } = options;
      // The other utterance may come from another corpus (TIMIT beside an ARCTIC TextGrid): its alignment is the one
      // found beside its WAV, whatever --alignments says of the call's utterances (but for none: no alignment at all).
      const otherKind = alignments === 'none' ? 'none' : undefined;
      other = await loadUtterance(await withAlignmentKind(await compareFiles(spec.compare.attention, { alignments: otherKind, phoneTier, wordTier, textTier, tgExt, spf }), warnLine));
      node.engine.addTensor('compare', other.attention);
      compare = { tensorId: 'compare', utterance: other };
    }
    const result = await runBatch(items, async (item, say) => {
      const files = await withAlignmentKind(item.files, warnLine);
      const { model } = files;
      const utterance = model
        ? await loadModelUtterance({ ...files, model }, { device: node.engine.device, compute: node.engine.compute, shaders: readShaderSources(), warn: (line) => process.stderr.write(`steve: ${line}\n`), onProgress: modelProgressLine(process.stderr) })
        : await loadUtterance(files);
      const maps: ComputedMap[] = [];
      try {
        node.engine.addTensor('utterance', utterance.attention);
        // A model's scores are pre-softmax by construction; a file's rows are checked (one map read).
        const softmaxed = !model && (await isHeadSoftmaxed(utterance.attention));
        const shown = resolveSoftmax(spec, { softmaxGiven: options.softmax !== undefined, softmaxed });
        const plan = planOrExplain(shown, utterance, { tensorId: 'utterance', compare, softmaxed });
        // After planning, so a view that does not fit is still one line.
        if (shown !== spec) warnLine(storedSoftmaxNote(item.files.attention));
        if (computeMaps) for (const cell of plan.cells) maps.push(await node.engine.computeMap(cell.request));
        const { path, format } = outputPathFor(request, item.name);
        await mkdir(dirname(path), { recursive: true });
        await write({ spec: shown, plan, maps, utterance, files: { attention: files.attention, wav: files.wav, alignments: files.alignments ?? 'none' }, path, format, node });
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
    await other?.close();
  }
}

/** The plan, or the spec's sentence about why it does not fit this utterance as a CliError. */
function planOrExplain(spec: ViewSpec, utterance: LoadedUtterance, tensors: PlanTensors): ViewPlan {
  try {
    return planView(spec, utterance, tensors);
  } catch (error) {
    if (error instanceof ViewError) throw new CliError(error.message);
    throw error;
  }
}

/**
 * How to read the other utterance of a difference or pair: its tensor, read as the call's utterances are, with the
 * WAV of the same stem beside it (for its audio and alignment) when there is one.
 */
async function compareFiles(attention: string, reading: Omit<UtteranceFiles, 'attention' | 'wav'>): Promise<UtteranceFiles> {
  const wav = join(dirname(attention), `${basename(attention, extname(attention))}.wav`);
  const found = (await stat(wav).catch(() => undefined))?.isFile() ?? false;
  return found ? { ...reading, attention, wav } : { ...reading, attention };
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
