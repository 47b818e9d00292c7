/**
 * `steve atlas`: the head atlas of a corpus (src/atlas), its sharded runs and their merge, and its figures.
 *
 *   steve atlas --wav "corpus/**\/*.wav" --alignments timit [--fold 61|49|40] -o OUT/   one run (or --shard i/N)
 *   steve atlas merge OUT_0 OUT_1 ... -o OUT/                                           add partial atlases
 *
 * Each utterance's tensor comes from a file (--attention, or beside the WAV) or from running a model on its WAV
 * (--model DIR): the checkpoint is opened and its weights read once (kept in memory), the encoder runs per WAV on the
 * atlas's device, and its raw scores
 * are written straight into the atlas pass's input (softmaxed there), never read back.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { Atlas } from '../atlas/atlas.ts';
import type { AtlasModelSummary, AtlasSettings, AtlasSoftmax, TensorProvenance } from '../atlas/atlas.ts';
import type { AtlasJson, ShardInfo } from '../atlas/atlasFile.ts';
import { atlasFromJson, atlasHeadsCsv, atlasToJson, matrixAverages, matrixSidecar } from '../atlas/atlasFile.ts';
import { makeAtlasFrameTable } from '../atlas/frameTable.ts';
import { AtlasRunner } from '../compute/atlasUtterance.ts';
import { resolveCompute } from '../compute/cpu/hostKinds.ts';
import { InputError } from '../data/inputError.ts';
import { isHeadSoftmaxed } from '../data/mapStats.ts';
import { encodeNpy } from '../data/npyWriter.ts';
import type { ClassScheme, PhoneSet } from '../data/phoneClasses.ts';
import { CLASS_SCHEMES } from '../data/phoneClasses.ts';
import { isSoftwareAdapter } from '../gpu/workgroupShape.ts';
import { handleInterrupts, writeFileAtomic, writeOutputs } from '../node/atomicWrite.ts';
import { requestNodeAdapter } from '../node/dawn.ts';
import { computeChoiceFromEnv, type ComputeChoice } from '../node/nodeEngine.ts';
import type { OpenedCheckpoint } from '../node/loadModel.ts';
import { modelSummary } from '../model/modelSource.ts';
import { openModelForCorpus, openModelInput, runModelUtterance, type ModelRunContext } from '../node/loadModel.ts';
import type { LoadedUtterance, UtteranceFiles } from '../node/loadUtterance.ts';
import { loadUtterance } from '../node/loadUtterance.ts';
import { ModelPasses } from '../model/ops/modelPasses.ts';
import { readShaderSources } from '../node/shaderFiles.ts';
import { addAlignmentOptions } from './alignmentOptions.ts';
import { plotAtlas } from './atlasPlot.ts';
import { CliError } from './cliError.ts';
import type { BatchItem } from './inputs.ts';
import { expandInputs } from './inputs.ts';
import { collect, parsePositiveNumber } from './optionParsers.ts';
import { oneOf } from './viewSpec.ts';

interface AtlasOptions {
  wav: string[];
  attention: string[];
  model?: string;
  alignments: string;
  phoneTier?: string;
  wordTier?: string;
  textTier?: string;
  tgExt?: string;
  spf?: number;
  roundUp?: boolean;
  fold: string;
  classes: string;
  softmax: string;
  shard?: ShardInfo;
  output?: string;
  plot?: string;
  layer: number;
  head: number;
}

function parseWholeNumber(value: string): number {
  if (!/^\s*\d+\s*$/.test(value)) throw new InvalidArgumentError(`expected a whole number >= 0, got "${value}"`);
  return Number(value);
}

/** "i/N" with 0 <= i < N: the i-th of N slices. */
export function parseShard(value: string): ShardInfo {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(count >= 1 && index >= 0 && index < count)) throw new InvalidArgumentError(`expected i/N with 0 <= i < N (e.g. 3/16), got "${value}"`);
  return { index, count };
}

/** Shard i of N: the i-th of N contiguous, near-equal slices of `items` sorted by name and files. */
export function shardSlice<T>(items: readonly T[], shard: ShardInfo | undefined): T[] {
  if (!shard) return [...items];
  const start = Math.floor((shard.index * items.length) / shard.count);
  const end = Math.floor(((shard.index + 1) * items.length) / shard.count);
  return items.slice(start, end);
}

/** Sorts utterances by their WAV, then their tensor (a total order on the call's inputs, the same on every machine). */
export function sortItems(items: readonly BatchItem[]): BatchItem[] {
  const key = (item: BatchItem) => ('files' in item ? `${item.files.wav ?? ''}\u0000${item.files.attention}` : `${item.name}\u0000`);
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * Opens an utterance (attention, audio, alignment, spf). Today: the files (loadUtterance). The seam for --model DIR
 * (the model issue): a provider that reads the WAV and alignment the same way and runs the encoder for the attention.
 */
export type UtteranceProvider = (files: UtteranceFiles) => Promise<LoadedUtterance>;

export function addAtlasCommand(program: Command, outcome: { exitCode: number }): void {
  // Commander honours `atlas merge ... -o OUT` (the -o of merge, not of atlas) only when every command above merge
  // parses options positionally; the program has no options of its own, so this changes nothing else.
  program.enablePositionalOptions();
  const command = program
    .command('atlas')
    .description('phonetic statistics of every head over a corpus (sharded runs merge exactly); --plot draws an atlas')
    // `atlas merge ... -o OUT` gives -o to merge, not to atlas.
    .enablePositionalOptions()
    .option('--wav <file|glob>', 'utterance audio (repeatable; quote globs: "corpus/**/*.wav")', collect, [])
    .option('--attention <file|glob>', 'attention tensor per --wav, in the same order (default: the tensor beside each WAV)', collect, [])
    .option('--model <path>', 'instead of --attention: run this model (Hugging Face folder with config.json and model.safetensors) on each --wav');
  addAlignmentOptions(command, 'timit')
    .option('--spf <n>', 'audio samples (at 16 kHz) per model frame; default: file metadata, 320 for Whisper, or audio/frames', parsePositiveNumber)
    .option('--round-up', "round frame numbers up (STEVE's ceil mode) instead of to nearest")
    .option('--fold <set>', 'phone set: 61 (labels as written), 49 or 40 (TIMIT folded as Lee & Hon 1989)', '61')
    .option('--classes <scheme>', `phone classes of the class x class matrix: ${CLASS_SCHEMES.join(', ')}`, 'manner')
    .option('--softmax <mode>', 'auto (softmax raw scores, keep softmaxed tensors), row (always softmax) or none (values as stored)', 'auto')
    .option('--shard <i/N>', 'process only the i-th of N slices of the sorted utterance list (0-based)', parseShard)
    .option('-o, --output <dir>', 'output folder (atlas.json, heads.csv, phones.npy, classes.npy and sidecars)')
    .option('--plot <dir>', 'draw the figures of the atlas in <dir> (into -o when given): heat-tables per metric, matrices of --layer/--head')
    .option('--layer <n>', 'with --plot: the layer whose matrices are drawn', parseWholeNumber, 0)
    .option('--head <n>', 'with --plot: the head whose matrices are drawn', parseWholeNumber, 0)
    .addHelpText(
      'after',
      [
        '',
        'A bad utterance is reported on stderr and skipped; the total is printed at the end (exit 1 only if none was used).',
        '',
        'Examples:',
        '  steve atlas --wav "timit/**/*.wav" --alignments timit --fold 49 -o atlas/',
        '  steve atlas --wav "l2arctic/*/wav/*.wav" --alignments textgrid --shard 3/16 -o parts/3/',
        '  steve atlas --wav "timit/**/*.wav" --model whisper-base/ --alignments timit -o atlas-whisper/',
        '  steve atlas merge parts/* -o atlas/',
        '  steve atlas --plot atlas/ --layer 3 --head 5 -o figures/',
      ].join('\n'),
    )
    .action(async (options: AtlasOptions) => {
      handleInterrupts();
      if (options.plot !== undefined) {
        const written = await plotAtlas(options.plot, options.output, { layer: options.layer, head: options.head });
        for (const path of written) process.stdout.write(`${path}\n`);
        return;
      }
      outcome.exitCode = await runAtlas(options);
    });
  command
    .command('merge')
    .description('add partial atlases (from --shard runs) into one; exact and in any order')
    .argument('<dirs...>', 'atlas folders (each with atlas.json)')
    .requiredOption('-o, --output <dir>', 'output folder')
    .action(async (dirs: string[], options: { output: string }) => {
      handleInterrupts();
      await mergeAtlases(dirs, options.output);
    });
}

async function runAtlas(options: AtlasOptions): Promise<number> {
  if (!options.output) throw new CliError('give -o OUT/ (the folder for atlas.json and the rest)');
  const alignments = oneOf('--alignments', options.alignments, ['timit', 'textgrid'] as const);
  const fold = Number(oneOf('--fold', options.fold, ['61', '49', '40'] as const)) as PhoneSet;
  const classScheme = oneOf('--classes', options.classes, CLASS_SCHEMES) as ClassScheme;
  const softmax = oneOf('--softmax', options.softmax, ['auto', 'row', 'none'] as const) as AtlasSoftmax;
  if (options.wav.length === 0) throw new CliError('give --wav FILE or a quoted glob: the atlas needs each utterance\'s alignment');
  let compute: ComputeChoice;
  try {
    compute = computeChoiceFromEnv();
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const items = shardSlice(
    sortItems(
      await expandInputs({
        wav: options.wav,
        attention: options.attention,
        model: options.model,
        alignments,
        phoneTier: options.phoneTier,
        wordTier: options.wordTier,
        textTier: options.textTier,
        tgExt: options.tgExt,
        spf: options.spf,
      }),
    ),
    options.shard,
  );
  // A bad checkpoint is one error for the whole run, said before any utterance (not a skip per utterance).
  const checkpoint = options.model !== undefined ? await openModelForCorpus(options.model) : undefined;
  let device: GPUDevice | undefined;
  let runner: AtlasRunner | undefined;
  let passes: ModelPasses | undefined;
  try {
    await mkdir(options.output, { recursive: true });
    const adapter = await requestNodeAdapter();
    device = await adapter.requestDevice({
      label: 'steve.atlas',
      requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
    });
    // As for maps (STEVE_COMPUTE, auto: the CPU on a software adapter): a file's maps measured, and a model run, on
    // the host there.
    const host = resolveCompute(compute, isSoftwareAdapter(adapter.info)) === 'cpu';
    runner = await AtlasRunner.create(device, readShaderSources(), { host });
    if (checkpoint && !host) passes = await ModelPasses.create(device, readShaderSources());
    const openUtterance: UtteranceProvider = checkpoint ? modelProvider(checkpoint, host ? { device, compute: 'cpu' } : { device, compute: 'gpu', passes }) : loadUtterance;
    return await measureCorpus(options, items, { alignments, fold, classScheme, softmax }, openUtterance, runner, checkpoint ? atlasModelSummary(checkpoint) : undefined);
  } finally {
    passes?.destroy();
    runner?.destroy();
    device?.destroy();
    await checkpoint?.close();
  }
}

/** Runs the opened model on each utterance's WAV: on `device` with the kernels compiled once, or on the host. */
function modelProvider(checkpoint: OpenedCheckpoint, where: Pick<ModelRunContext, 'device' | 'compute' | 'passes'>): UtteranceProvider {
  const warn = (line: string) => process.stderr.write(`steve: ${line}\n`);
  return async (files) => {
    const model = files.model!;
    const modelFiles = { ...files, model };
    return runModelUtterance(modelFiles, await openModelInput(modelFiles, warn, checkpoint), { ...where, shaders: readShaderSources(), warn });
  };
}

/** What atlas.json says of the model: its summary less what varies by utterance (frames, bytes read). */
function atlasModelSummary({ checkpoint }: OpenedCheckpoint): AtlasModelSummary {
  const { frames: _frames, encoderBytes: _bytes, ...summary } = modelSummary(checkpoint, 0);
  return summary;
}

/** Every utterance through the atlas pass; writes the atlas. Returns the exit status. */
async function measureCorpus(
  options: AtlasOptions,
  items: readonly BatchItem[],
  { alignments, fold, classScheme, softmax }: { alignments: string; fold: PhoneSet; classScheme: ClassScheme; softmax: AtlasSoftmax },
  openUtterance: UtteranceProvider,
  runner: AtlasRunner,
  model: AtlasModelSummary | undefined,
): Promise<number> {
  let atlas: Atlas | undefined;
  const skipped: { utterance: string; reason: string }[] = [];
  const progress = makeProgress(items.length);
  try {
    for (const item of items) {
      progress.update(item.name);
      if ('problem' in item) {
        skipped.push({ utterance: item.name, reason: item.problem });
        progress.report(`steve: skipped ${item.problem}`);
        progress.done();
        continue;
      }
      try {
        const utterance = await openUtterance(item.files);
        try {
          if (!utterance.alignment || utterance.alignment.source === 'dummy' || !utterance.spf) {
            throw new CliError(`no ${alignments} alignment beside ${item.files.wav} (the atlas needs real phones and words)`);
          }
          const { shape } = utterance.attention;
          const settings: AtlasSettings = { layers: shape.layers, heads: shape.heads, fold, classScheme, softmax, roundUp: options.roundUp ?? false };
          // The atlas takes its layers x heads from the first utterance measured, not from one that fails.
          if (atlas && (shape.layers !== atlas.settings.layers || shape.heads !== atlas.settings.heads)) {
            throw new CliError(`${shape.layers} layers x ${shape.heads} heads, but the atlas has ${atlas.settings.layers} x ${atlas.settings.heads}`);
          }
          const spf = utterance.spf.samplesPerFrame;
          const frames = makeAtlasFrameTable(utterance.alignment, spf, shape.cols, { fold, classScheme }, options.roundUp);
          // A model gives raw scores: only --softmax none keeps them as they are.
          const softmaxed = softmax === 'none' || (softmax === 'auto' && !model && (await isHeadSoftmaxed(utterance.attention)));
          const sums = await runner.measure(utterance.attention, frames, !softmaxed);
          const provenance: TensorProvenance = {
            utterance: item.name,
            source: item.files.attention,
            dtype: utterance.attention.dtype,
            ...(utterance.attention.metadata.model ? { model: utterance.attention.metadata.model } : {}),
            ...(model ? { modelSummary: model } : {}),
            softmaxed,
            spf,
          };
          atlas ??= new Atlas(settings);
          atlas.addUtterance(frames, sums, spf, provenance);
        } finally {
          await utterance.close();
        }
      } catch (error) {
        if (!(error instanceof InputError || error instanceof CliError || error instanceof RangeError)) throw error;
        // An InputError names its file; the others are named by the tensor (several may share one WAV's name).
        const reason = error instanceof InputError ? error.message : `${item.files.attention ?? item.name}: ${error.message}`;
        skipped.push({ utterance: item.name, reason });
        progress.report(`steve: skipped ${reason}`);
      }
      progress.done();
    }
  } finally {
    progress.stop();
  }
  const used = atlas?.used.length ?? 0;
  process.stderr.write(`steve atlas: ${used} utterance(s) used, ${skipped.length} skipped${options.shard ? ` (shard ${options.shard.index}/${options.shard.count})` : ''}\n`);
  if (!atlas) {
    process.stderr.write('steve atlas: no utterance could be used; nothing written\n');
    return 1;
  }
  atlas.skipped.push(...skipped);
  await writeAtlas(atlas, options.output!, options.shard ? [options.shard] : []);
  return 0;
}

async function mergeAtlases(dirs: readonly string[], output: string): Promise<void> {
  let merged: Atlas | undefined;
  const shards: ShardInfo[] = [];
  for (const dir of dirs) {
    const path = join(dir, 'atlas.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new InputError(path, 'not-found', `cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
    let part: ReturnType<typeof atlasFromJson>;
    try {
      part = atlasFromJson(JSON.parse(text));
    } catch (error) {
      throw new InputError(path, 'parse', (error as Error).message.slice(0, 300));
    }
    shards.push(...part.shards);
    if (!merged) merged = part.atlas;
    else {
      try {
        merged.merge(part.atlas);
      } catch (error) {
        throw new InputError(path, 'mismatch', (error as Error).message);
      }
    }
  }
  if (!merged) throw new CliError('give at least one atlas folder to merge');
  checkShards(shards);
  await writeAtlas(merged, output, shards);
  process.stderr.write(`steve atlas merge: ${dirs.length} atlas(es), ${merged.used.length} utterance(s) used, ${merged.skipped.length} skipped\n`);
}

/** Warns (without failing) when merged shards of one N leave slices out or repeat one. */
function checkShards(shards: readonly ShardInfo[]): void {
  const counts = new Set(shards.map((shard) => shard.count));
  for (const count of counts) {
    const seen = shards.filter((shard) => shard.count === count).map((shard) => shard.index);
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.includes(i));
    const repeated = seen.filter((index, i) => seen.indexOf(index) !== i);
    if (missing.length > 0) process.stderr.write(`steve atlas merge: warning: shard(s) ${missing.join(', ')} of ${count} are missing\n`);
    if (repeated.length > 0) process.stderr.write(`steve atlas merge: warning: shard(s) ${repeated.join(', ')} of ${count} are merged twice\n`);
  }
}

/** Writes atlas.json, heads.csv, phones.npy, classes.npy and their sidecars into `dir`. */
export async function writeAtlas(atlas: Atlas, dir: string, shards: readonly ShardInfo[]): Promise<AtlasJson> {
  await mkdir(dir, { recursive: true });
  const json = atlasToJson(atlas, shards);
  // Each file whole or not at all (src/node/atomicWrite.ts); a matrix and its sidecar are renamed into place together.
  await writeFileAtomic(join(dir, 'atlas.json'), `${JSON.stringify(json)}\n`);
  await writeFileAtomic(join(dir, 'heads.csv'), atlasHeadsCsv(json));
  for (const kind of ['phones', 'classes'] as const) {
    const a = json[kind].labels.length;
    await writeOutputs([
      { path: join(dir, `${kind}.json`), produce: (file) => file.write(`${JSON.stringify(matrixSidecar(json, kind), null, 1)}\n`) },
      { path: join(dir, `${kind}.npy`), produce: (file) => file.write(encodeNpy(matrixAverages(json, kind), [json.settings.layers, json.settings.heads, a, a])) },
    ]);
  }
  return json;
}

/** A progress bar with ETA on a terminal; on a log (SLURM, a pipe) a line with the ETA every 5% of the utterances. */
function makeProgress(total: number) {
  const stderr = process.stderr;
  const bar = stderr.isTTY
    ? new SingleBar({ stream: stderr, format: 'steve atlas {bar} {value}/{total} ETA {eta_formatted} {name}', hideCursor: true, clearOnComplete: true, etaBuffer: 50 })
    : undefined;
  bar?.start(total, 0, { name: '' });
  const started = Date.now();
  let done = 0;
  const step = Math.max(1, Math.ceil(total / 20));
  return {
    update: (name: string) => bar?.update({ name }),
    report: (line: string) => stderr.write(bar ? `\r\x1b[K${line}\n` : `${line}\n`),
    done: () => {
      done++;
      bar?.increment();
      if (!bar && (done % step === 0 || done === total)) {
        const seconds = ((Date.now() - started) / 1000 / done) * (total - done);
        stderr.write(`steve atlas: ${done}/${total} utterances, ETA ${formatSeconds(seconds)}\n`);
      }
    },
    stop: () => bar?.stop(),
  };
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}
