/**
 * `steve serve`: the viewer in the browser with the user's files loaded, as STEVE's plot_attentions opens them
 * (several WAVs with their attention tensors and spf, the alignment kind, tier names, TextGrid extension), or every
 * WAV + tensor pair under a folder. Each utterance is opened once first, so a bad file is reported as one line
 * and left out instead of failing in the browser.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { InputError } from '../data/inputError.ts';
import { boundText } from '../data/untrustedText.ts';
import { findSibling, listSiblings } from '../node/findAlignments.ts';
import type { AlignmentKind, UtteranceFiles } from '../node/loadUtterance.ts';
import { loadUtterance, withAlignmentKind } from '../node/loadUtterance.ts';
import { listModelFiles, openModelInput } from '../node/loadModel.ts';
import { expandPattern, findAttentionBeside, scanFolder } from '../node/pairFiles.ts';
import type { ServedFile, ServedUtterance } from '../node/servedFiles.ts';
import { addAlignmentOptions, parseAlignmentKind } from './alignmentOptions.ts';
import { CliError, warnLine } from './cliError.ts';
import type { BatchItem } from './inputs.ts';
import { expandInputs } from './inputs.ts';
import { collect, collectPositiveNumbers } from './optionParsers.ts';

/** The HTTP server's module, loaded when serving: node:http and the server are no part of the other commands' start. */
const serverModule = () => import('../node/steveServer.ts');

/** The repository root, where vite.config.ts and the app live. */
const APP_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Vite's own default port; the next free one is taken when it is busy. */
export const DEFAULT_PORT = 5173;

interface ServeOptions {
  attention: string[];
  model?: string;
  wav: string[];
  spf: number[];
  alignments?: string;
  phoneTier?: string;
  wordTier?: string;
  textTier?: string;
  tgExt?: string;
  port?: string;
}

/** Adds `serve` to the program; its exit status goes to `outcome`. */
export function addServeCommand(program: Command, outcome: { exitCode: number }): void {
  const command = program
    .command('serve')
    .description('open the viewer in your browser with these files loaded (serves on 127.0.0.1 only)')
    .argument('[paths...]', 'folders to scan for WAV + tensor pairs (by stem, sub-folders included), WAVs (tensor beside each), or tensors')
    .option('--attention <file>', 'attention tensor; repeat, in the order of the --wav files', collect, [])
    .option('--model <path>', 'instead of --attention: a model folder (config.json, model.safetensors) the viewer runs on each --wav')
    .option('--wav <file>', 'utterance audio; repeat for several (quoted globs work)', collect, [])
    .option('--spf <n>', 'samples per frame: once for every utterance, or once per --wav in order', collectPositiveNumbers, []);
  addAlignmentOptions(command)
    .option('--port <n>', `port on 127.0.0.1 (default ${DEFAULT_PORT}, or the next free one; 0: any free port)`)
    .addHelpText(
      'after',
      [
        '',
        'Prints the URL to open. The viewer lists the files at /steve-files.json and reads them from /files/...;',
        'nothing else on disk is served. Stop with Ctrl+C.',
        '',
        'Examples:',
        '  steve serve --wav LDC93S1.wav --attention LDC93S1_whisper.npy --alignments timit',
        '  steve serve --wav a.wav --attention a.npy --spf 320 --wav b.wav --attention b.npy --spf 320',
        '  steve serve data/ --alignments textgrid --tg-ext TextGrid',
      ].join('\n'),
    )
    .action(async (paths: string[], options: ServeOptions) => {
      // Without --alignments, each utterance's kind is found from the files beside its WAV, as render and export do.
      const alignments = parseAlignmentKind(options.alignments);
      const port = parsePort(options.port);
      const reading = { alignments, phoneTier: options.phoneTier, wordTier: options.wordTier, textTier: options.textTier, tgExt: options.tgExt };
      const items = [
        ...(options.wav.length || options.attention.length || options.model
          ? await expandInputs({ ...reading, wav: options.wav, attention: options.attention, model: options.model })
          : []),
        ...(await itemsFromPaths(paths, reading)),
      ];
      if (items.length === 0) throw new CliError('nothing to serve: give a folder, WAV or tensor files, or --wav/--attention');
      const spfs = spreadSpf(options.spf, items.length);
      const utterances: ServedUtterance[] = [];
      let failed = 0;
      for (const [i, item] of items.entries()) {
        let files = 'files' in item ? { ...item.files, spf: spfs[i] } : undefined;
        // The dummy grid nobody asked for is said once per utterance served (chooseAlignmentKind's line).
        const notes: string[] = [];
        if (files) files = await withAlignmentKind(files, (line) => notes.push(line));
        const problem = 'problem' in item ? item.problem : ((await symlinkProblem(item)) ?? (await checkUtterance(files!)));
        if (problem) {
          failed++;
          process.stderr.write(`steve: ${boundText(problem, 2000)} (left out)\n`);
          continue;
        }
        notes.forEach(warnLine);
        utterances.push(await describeServed(item.name, files!, (item as ServeItem).root));
      }
      if (utterances.length === 0) throw new CliError('no utterance could be opened; nothing to serve');
      const { startSteveServer } = await serverModule();
      const server = await startSteveServer({ utterances, port: port ?? DEFAULT_PORT, tryNextPorts: port === undefined, appRoot: APP_ROOT });
      process.stdout.write(`STEVE is serving ${utterances.length} utterance(s) at ${server.url}\n`);
      await new Promise<void>((done) => {
        const stop = () => void server.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      outcome.exitCode = failed > 0 ? 1 : 0;
    });
}

/** An utterance to serve; `root` is the real path of the folder it was found by scanning, if it was. */
type ServeItem = BatchItem & { readonly root?: string };

/** Positional paths: a folder is scanned, a WAV gets the tensor beside it, anything else is a tensor. */
async function itemsFromPaths(paths: readonly string[], reading: Omit<UtteranceFiles, 'attention' | 'wav'>): Promise<ServeItem[]> {
  const items: ServeItem[] = [];
  for (const path of (await Promise.all(paths.map(expandPattern))).flat()) {
    const isFolder = await stat(path).then((s) => s.isDirectory(), () => false);
    const stem = (file: string) => basename(file, extname(file));
    if (isFolder) {
      const pairs = await scanFolder(path);
      if (pairs.length === 0) throw new InputError(path, 'not-found', 'no attention files (.npy, .npz, .safetensors) in this folder');
      const root = await realpath(path);
      items.push(...pairs.map((pair) => ({ name: stem(pair.wav ?? pair.attention), files: { ...reading, ...pair }, root })));
    } else if (extname(path).toLowerCase() === '.wav') {
      const attention = await findAttentionBeside(path);
      items.push(attention ? { name: stem(path), files: { ...reading, wav: path, attention } } : { name: stem(path), problem: `${path}: no attention file beside it` });
    } else {
      items.push({ name: stem(path), files: { ...reading, attention: path } });
    }
  }
  return items;
}

/** A scanned file that is a symbolic link out of its folder is not served: what to report, or undefined. */
async function symlinkProblem(item: ServeItem): Promise<string | undefined> {
  if (!('files' in item)) return undefined;
  for (const path of [item.files.attention, item.files.wav]) {
    if (path !== undefined && !(await (await serverModule()).staysInside(path, item.root))) return `${path}: links to a file outside the folder being served`;
  }
  return undefined;
}

/** Opens the utterance as the viewer will (tensor header, audio, alignment, spf): undefined, or what is wrong. */
async function checkUtterance(files: UtteranceFiles): Promise<string | undefined> {
  try {
    const { model } = files;
    // A model is checked as far as the CPU can (config, tensor shapes, audio); the viewer runs it.
    const opened = model ? await openModelInput({ ...files, model }) : await loadUtterance(files);
    await opened.close();
    return undefined;
  } catch (error) {
    if (error instanceof InputError || error instanceof CliError) return error.message;
    throw error;
  }
}

/**
 * The utterance's files with their roles: the tensor (or the model's files), the WAV, and the alignment files beside
 * the WAV (those that are links out of the scanned folder `root` are left out).
 */
async function describeServed(name: string, files: UtteranceFiles, root: string | undefined): Promise<ServedUtterance> {
  const served: ServedFile[] = files.model
    ? (await listModelFiles(files.model)).map((path) => ({ role: 'model' as const, path: resolve(path) }))
    : [{ role: 'attention', path: resolve(files.attention), root }];
  const alignments: AlignmentKind = files.wav ? (files.alignments ?? 'none') : 'none';
  if (files.wav) {
    served.push({ role: 'wav', path: resolve(files.wav), root });
    const siblings = await listSiblings(files.wav);
    const add = async (role: ServedFile['role'], extension: string | undefined) => {
      const path = extension === undefined ? undefined : findSibling(files.wav!, siblings, extension);
      if (path && (await (await serverModule()).staysInside(path, root))) served.push({ role, path: resolve(path), root });
    };
    if (alignments === 'timit') {
      await add('phones', files.phoneTier ?? 'phn');
      await add('words', files.wordTier ?? 'wrd');
      await add('text', files.textTier ?? 'txt');
    } else if (alignments === 'textgrid') {
      await add('textgrid', files.tgExt ?? 'TextGrid');
      // Without a text tier, STEVE takes the sentence from the .txt beside the TextGrid.
      if (files.textTier === undefined) await add('text', 'txt');
    }
  }
  const textGrid = alignments === 'textgrid';
  // --alignments timit with neither .phn nor .wrd beside the WAV falls back to STEVE's dummy grid: say so, as for none.
  const timitFound = served.some((file) => file.role === 'phones' || file.role === 'words');
  return {
    name,
    files: served,
    alignments: alignments === 'timit' && !timitFound ? 'none' : alignments,
    phoneTier: files.phoneTier ?? (textGrid ? 'phones' : undefined),
    wordTier: files.wordTier ?? (textGrid ? 'words' : undefined),
    textTier: files.textTier,
    spf: files.spf,
  };
}

/** --spf given once applies to every utterance; given per utterance, in order. */
function spreadSpf(spfs: readonly number[], count: number): (number | undefined)[] {
  if (spfs.length === 0) return Array(count).fill(undefined);
  if (spfs.length === 1) return Array(count).fill(spfs[0]);
  if (spfs.length === count) return [...spfs];
  throw new CliError(`--spf was given ${spfs.length} times for ${count} utterances: give it once for all, or once per utterance`);
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new CliError(`--port must be 0..65535, got "${text}"`);
  return port;
}
