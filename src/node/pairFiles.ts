/**
 * Finds files on disk the way the viewer pairs dropped files (src/data/fileGroups.ts): an attention tensor belongs
 * to the WAV whose stem starts its name ("LDC93S1.npy", "LDC93S1_whisper_base.safetensors"). Used for
 * `--wav "data/*.wav"` without --attention, and for `steve serve DIR`.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ATTENTION_EXTENSIONS, groupFiles, splitName } from '../data/fileGroups.ts';
import { InputError } from '../data/inputError.ts';

/** A WAV (when there is one) and its attention tensor. */
export interface FilePair {
  readonly attention: string;
  readonly wav?: string;
}

/**
 * Characters without which no pattern is a glob (tinyglobby's isDynamicPattern): a plain path is taken as it is
 * without loading tinyglobby, whose fdir looks for picomatch in node_modules when it loads (~10 ms of every call).
 */
const GLOB_CHARACTERS = /[*?[\]{}()!+@\\]/;

async function loadGlobber(): Promise<typeof import('tinyglobby')> {
  return import('tinyglobby');
}

/**
 * The files a command-line argument names: itself, or the files a glob pattern ("data/*.wav", "**\/*.npy")
 * matches, sorted. Throws InputError when a pattern matches nothing (the shell leaves unmatched patterns as they
 * are, so the user sees what was looked for).
 */
export async function expandPattern(pattern: string): Promise<string[]> {
  if (!GLOB_CHARACTERS.test(pattern)) return [pattern];
  const { glob, isDynamicPattern } = await loadGlobber();
  if (!isDynamicPattern(pattern)) return [pattern];
  const matches = await glob(pattern, { onlyFiles: true, expandDirectories: false, absolute: false });
  if (matches.length === 0) throw new InputError(pattern, 'not-found', 'the pattern matches no file');
  return matches.sort();
}

/** The attention tensor beside `wavPath` with its stem, or undefined when there is none. */
export async function findAttentionBeside(wavPath: string): Promise<string | undefined> {
  const folder = dirname(wavPath);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    throw new InputError(wavPath, 'not-found', `cannot list its folder (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  const wavName = basename(wavPath);
  // Only this WAV and the tensors competing for it: every WAV of the folder, so "a1" does not take "a10_x.npy".
  const candidates = names.filter((name) => {
    const extension = splitName(name).extension;
    return extension === 'wav' || ATTENTION_EXTENSIONS.includes(extension);
  });
  const group = groupFiles(candidates.map((name) => ({ name }))).groups.find((g) => g.wav?.name === wavName);
  return group?.attention ? join(folder, group.attention.name) : undefined;
}

/**
 * Every WAV + tensor pair under `root` (sub-folders included; pairs never cross folders), and tensors without a
 * WAV, as absolute paths sorted by path.
 */
export async function scanFolder(root: string): Promise<FilePair[]> {
  const patterns = ['wav', ...ATTENTION_EXTENSIONS].map((extension) => `**/*.${extension}`);
  const { glob } = await loadGlobber();
  const files = await glob(patterns, { cwd: root, onlyFiles: true, caseSensitiveMatch: false, expandDirectories: false });
  const byFolder = new Map<string, string[]>();
  for (const file of files) {
    const folder = dirname(file);
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), basename(file)]);
  }
  const pairs: FilePair[] = [];
  for (const [folder, names] of byFolder) {
    for (const group of groupFiles(names.map((name) => ({ name }))).groups) {
      const path = (name: string) => resolve(root, folder, name);
      pairs.push({ attention: path(group.attention!.name), wav: group.wav ? path(group.wav.name) : undefined });
    }
  }
  return pairs.sort((a, b) => (a.wav ?? a.attention).localeCompare(b.wav ?? b.attention));
}
