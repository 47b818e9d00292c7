/**
 * Where `-o` puts each output: one file for one utterance; for several, a folder ("figs/") or a name with
 * "{name}" in it ("figs/{name}_L3.png"), {name} being the utterance's WAV (or tensor) stem. The format comes from
 * the extension, or from --format when -o is a folder or absent.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { CliError } from './cliError.ts';

/** What a command writes and how it was asked for. */
export interface OutputRequest {
  /** -o as given, if given. */
  readonly out?: string;
  /** --format as given, if given. */
  readonly format?: string;
  /** Formats the command writes, the default first. */
  readonly formats: readonly string[];
  /** How many utterances the call covers. */
  readonly count: number;
}

/** The path and format of the output for the utterance called `name`; a CliError when -o cannot serve the call. */
export function outputPathFor(request: OutputRequest, name: string): { path: string; format: string } {
  const { out, formats, count } = request;
  const chosen = request.format?.replace(/^\./, '').toLowerCase();
  if (chosen !== undefined && !formats.includes(chosen)) throw new CliError(`--format must be ${formats.join(' or ')}, got "${request.format}"`);
  const isFolder = out !== undefined && (/[\\/]$/.test(out) || (existsSync(out) && statSync(out).isDirectory()));
  if (out === undefined || isFolder) {
    const format = chosen ?? formats[0];
    return { path: join(out ?? '.', `${name}.${format}`), format };
  }
  if (count > 1 && !out.includes('{name}')) {
    throw new CliError(`-o ${out} names one file, but ${count} utterances were given: use a folder ("out/") or put {name} in the name`);
  }
  const path = out.replaceAll('{name}', name);
  const format = extname(path).slice(1).toLowerCase();
  if (!formats.includes(format)) throw new CliError(`-o ${out}: the extension must be .${formats.join(' or .')}`);
  return { path, format };
}
