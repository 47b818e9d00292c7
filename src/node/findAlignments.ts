/**
 * Finds the alignment files beside a WAV file the way STEVE does (same path, other extension) and builds the
 * Alignment. Node only: it lists the WAV's folder and reads files; the parsing is in src/data.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Alignment, TimitFileNames, TimitTexts } from '../data/alignment.ts';
import { alignmentFromTextGrid, alignmentFromTimit, checkAlignmentFitsAudio } from '../data/alignment.ts';
import { dummyAlignmentNote, makeDummyAlignment } from '../data/dummyAlignment.ts';
import { InputError } from '../data/inputError.ts';
import { STEVE_SAMPLE_RATE } from '../data/frames.ts';
import { parseTextGrid } from '../data/textgrid.ts';
import { parseTimitText } from '../data/timit.ts';

/** Which alignment files to look for and how to read them. */
export interface AlignmentLookup {
  /** 'timit': .phn/.wrd/.txt files; 'textgrid': a Praat TextGrid; 'none': STEVE's dummy grid. */
  readonly alignments: 'timit' | 'textgrid' | 'none';
  /** TIMIT: the phone file's extension (default "phn"). TextGrid: the phone tier's name. */
  readonly phoneTier?: string;
  /** TIMIT: the word file's extension (default "wrd"). TextGrid: the word tier's name. */
  readonly wordTier?: string;
  /** TIMIT: the text file's extension (default "txt"). TextGrid: the text tier's name. */
  readonly textTier?: string;
  /** The TextGrid's extension (default "TextGrid"), matched case-insensitively. */
  readonly tgExt?: string;
  /** The audio's length at 16 kHz (librosa.load(sr=16000)), for the dummy grid and phones made from words. */
  readonly audioSamples16k: number;
}

/**
 * Loads the alignment of `wavPath`. TIMIT (timitdata_reader): `<stem>.phn`, `.wrd`, `.txt` or the given
 * extensions, in either case (the TIMIT CD writes .PHN/.WRD/.TXT); missing files fall back as STEVE does (phones
 * from words, words from phones, the dummy grid when both are missing). TextGrid (textgrid_reader): `<stem>.<tgExt>`
 * must exist (InputError 'not-found' otherwise); without a text tier, the sentence comes from `<stem>.txt` if present.
 */
export async function loadAlignmentForWav(wavPath: string, lookup: AlignmentLookup): Promise<Alignment> {
  if (lookup.alignments === 'none') return makeDummyAlignment(lookup.audioSamples16k, wavPath);
  const siblings = await listSiblings(wavPath);
  if (lookup.alignments === 'timit') return loadTimit(wavPath, siblings, lookup);
  return loadTextGrid(wavPath, siblings, lookup);
}

async function loadTimit(wavPath: string, siblings: readonly string[], lookup: AlignmentLookup): Promise<Alignment> {
  const find = (extension: string | undefined, fallback: string) => findSibling(wavPath, siblings, extension ?? fallback);
  const fileNames: TimitFileNames = {
    phn: find(lookup.phoneTier, 'phn'),
    wrd: find(lookup.wordTier, 'wrd'),
    txt: find(lookup.textTier, 'txt'),
  };
  const texts: TimitTexts = {
    phn: fileNames.phn === undefined ? undefined : await readText(fileNames.phn),
    wrd: fileNames.wrd === undefined ? undefined : await readText(fileNames.wrd),
    txt: fileNames.txt === undefined ? undefined : await readText(fileNames.txt),
  };
  if (fileNames.phn === undefined && fileNames.wrd === undefined) {
    // STEVE's dummy grid, as alignmentFromTimit would make it, but any complaint about it names the WAV.
    const text = texts.txt === undefined ? '' : parseTimitText(texts.txt, fileNames.txt!).text;
    return { ...makeDummyAlignment(lookup.audioSamples16k, wavPath), text };
  }
  const alignment = alignmentFromTimit(texts, fileNames, lookup.audioSamples16k);
  // Segments past the audio are the alignment file's fault: name the file each tier came from.
  checkFitsAudio(alignment, lookup.audioSamples16k, fileNames.phn ?? fileNames.wrd!, fileNames.wrd ?? fileNames.phn!);
  return alignment;
}

/** Refuses phones or words that end past the audio, naming the file of the tier at fault. */
function checkFitsAudio(alignment: Alignment, audioSamples16k: number, phonesFile: string, wordsFile: string): void {
  const durationSec = audioSamples16k / STEVE_SAMPLE_RATE;
  checkAlignmentFitsAudio({ ...alignment, words: [] }, durationSec, phonesFile);
  checkAlignmentFitsAudio({ ...alignment, phones: [] }, durationSec, wordsFile);
}

async function loadTextGrid(wavPath: string, siblings: readonly string[], lookup: AlignmentLookup): Promise<Alignment> {
  const extension = lookup.tgExt ?? 'TextGrid';
  const gridPath = findSibling(wavPath, siblings, extension);
  if (gridPath === undefined) {
    throw new InputError(`${stemPath(wavPath)}.${stripDot(extension)}`, 'not-found', `no TextGrid beside ${basename(wavPath)} (looked for any case of .${stripDot(extension)})`);
  }
  const grid = parseTextGrid(await readBytes(gridPath), gridPath);
  const tiers = { phoneTier: lookup.phoneTier, wordTier: lookup.wordTier, textTier: lookup.textTier };
  const alignment = alignmentFromTextGrid(grid, tiers, gridPath, lookup.audioSamples16k);
  checkFitsAudio(alignment, lookup.audioSamples16k, gridPath, gridPath);
  const textPath = lookup.textTier === undefined ? findSibling(wavPath, siblings, 'txt') : undefined;
  return textPath === undefined ? alignment : { ...alignment, text: firstLineText(await readText(textPath)) };
}

/**
 * The alignment kind the files beside a WAV call for, for `steve serve` when --alignments is not given: a TextGrid
 * (`<stem>.<tgExt>`) makes 'textgrid', a TIMIT .phn or .wrd makes 'timit', and nothing makes 'none' (STEVE's dummy
 * grid), which the manifest and the viewer's banner then say.
 */
export async function detectAlignmentKind(wavPath: string, tgExt = 'TextGrid'): Promise<'timit' | 'textgrid' | 'none'> {
  const siblings = await listSiblings(wavPath);
  if (findSibling(wavPath, siblings, tgExt) !== undefined) return 'textgrid';
  if (findSibling(wavPath, siblings, 'phn') !== undefined || findSibling(wavPath, siblings, 'wrd') !== undefined) return 'timit';
  return 'none';
}

/**
 * The alignment kind to read for `wavPath`, decided once for every command that reads a WAV's alignment (render,
 * export, inspect, serve): the given kind, or without one the kind the files beside it call for
 * (detectAlignmentKind). `warn` gets one line when the
 * result is STEVE's dummy grid that the user did not ask for: nothing beside the WAV, or `timit` given with neither
 * a .phn nor a .wrd file (STEVE then falls back to the dummy grid). A missing TextGrid stays loadAlignmentForWav's error.
 */
export async function chooseAlignmentKind(
  wavPath: string,
  given: 'timit' | 'textgrid' | 'none' | undefined,
  lookup: { readonly tgExt?: string; readonly phoneTier?: string; readonly wordTier?: string },
  warn: (line: string) => void,
): Promise<'timit' | 'textgrid' | 'none'> {
  // No WAV to read: loading it reports that, and a warning about its alignment would only add noise.
  const wavIsFile = (await stat(wavPath).catch(() => undefined))?.isFile() ?? false;
  if (!wavIsFile) return given ?? 'none';
  const dummy = `${dummyAlignmentNote(basename(wavPath))} (--alignments none asks for them)`;
  if (given === undefined) {
    const detected = await detectAlignmentKind(wavPath, lookup.tgExt);
    if (detected === 'none') warn(dummy);
    return detected;
  }
  if (given === 'timit') {
    const siblings = await listSiblings(wavPath);
    const found = findSibling(wavPath, siblings, lookup.phoneTier ?? 'phn') ?? findSibling(wavPath, siblings, lookup.wordTier ?? 'wrd');
    if (found === undefined) warn(`${basename(wavPath)}: --alignments timit, but no .${stripDot(lookup.phoneTier ?? 'phn')} or .${stripDot(lookup.wordTier ?? 'wrd')} beside it; using STEVE's dummy 40 ms phones`);
  }
  return given;
}

/** STEVE's text from a .txt beside a TextGrid: every field of the first row, joined by single spaces. */
function firstLineText(text: string): string {
  const line = text.split(/\r\n|\r|\n/).find((candidate) => candidate.trim() !== '') ?? '';
  return line.trim().split(/\s+/).join(' ');
}

/**
 * The file `<stem>.<extension>` beside the WAV, the extension matched in any case; an exact-case match wins when the
 * file system holds several.
 */
export function findSibling(wavPath: string, siblings: readonly string[], extension: string): string | undefined {
  const stem = basename(stemPath(wavPath));
  const wanted = stripDot(extension);
  const sameStem = siblings.filter((name) => name.startsWith(`${stem}.`));
  const match =
    sameStem.find((name) => name.slice(stem.length + 1) === wanted) ??
    sameStem.find((name) => name.slice(stem.length + 1).toLowerCase() === wanted.toLowerCase());
  return match === undefined ? undefined : join(dirname(wavPath), match);
}

function stemPath(wavPath: string): string {
  return wavPath.slice(0, wavPath.length - extname(wavPath).length);
}

function stripDot(extension: string): string {
  return extension.replace(/^\./, '');
}

/** Names of the files in the WAV's folder; InputError when it cannot be listed. */
export async function listSiblings(wavPath: string): Promise<string[]> {
  try {
    return await readdir(dirname(wavPath) || '.');
  } catch (error) {
    throw new InputError(wavPath, 'not-found', `cannot list the folder of the WAV file (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InputError(path, 'not-found', `cannot read the alignment file (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

async function readText(path: string): Promise<string> {
  return new TextDecoder('utf-8').decode(await readBytes(path));
}
