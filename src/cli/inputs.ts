/**
 * The utterances one `render` or `export` call covers: --wav and --attention given once, several times in pairs
 * (the n-th --attention goes with the n-th --wav), or as glob patterns ("data/*.wav", quoted so the shell leaves
 * it alone); with --wav and no --attention, each WAV's tensor is the one beside it with its stem.
 */
import { basename, extname } from 'node:path';
import { InputError } from '../data/inputError.ts';
import type { UtteranceFiles } from '../node/loadUtterance.ts';
import { expandPattern, findAttentionBeside } from '../node/pairFiles.ts';
import { CliError } from './cliError.ts';

/** One utterance of the call, or the reason it cannot be one. */
export type BatchItem = { readonly name: string; readonly files: UtteranceFiles } | { readonly name: string; readonly problem: string };

/** The options of the call that name files, and how to read them (applied to every utterance). */
export interface InputOptions extends Omit<UtteranceFiles, 'attention' | 'wav'> {
  readonly attention: readonly string[];
  readonly wav: readonly string[];
  /** Run this model on every WAV instead of reading attention files (the items' `attention` names the model). */
  readonly model?: string;
}

/**
 * The call's utterances, in order. A WAV without a tensor beside it becomes a problem item (reported, the others
 * still run); counts that cannot be paired and patterns that match nothing are usage errors.
 */
export async function expandInputs(options: InputOptions): Promise<BatchItem[]> {
  const { attention: attentionArgs, wav: wavArgs, model, ...reading } = options;
  const expand = async (args: readonly string[]) => (await Promise.all(args.map(expandPattern))).flat();
  const wavs = await expand(wavArgs);
  const stem = (path: string) => basename(path, extname(path));
  if (model !== undefined) {
    if (attentionArgs.length > 0) throw new CliError('give --model or --attention, not both');
    if (wavs.length === 0) throw new CliError('--model needs audio: give --wav FILE (or a quoted glob)');
    return wavs.map((wav) => ({ name: stem(wav), files: { ...reading, wav, attention: model, model } }));
  }
  const attentions = await expand(attentionArgs);
  if (wavs.length === 0) {
    if (attentions.length === 0) throw new CliError('give --attention FILE (and --wav FILE for its audio and alignment), or --wav with the tensor beside it');
    return attentions.map((attention) => ({ name: stem(attention), files: { ...reading, attention } }));
  }
  if (attentions.length === wavs.length) {
    return wavs.map((wav, i) => ({ name: stem(wav), files: { ...reading, wav, attention: attentions[i] } }));
  }
  if (attentions.length > 0) {
    throw new CliError(
      `${wavs.length} WAV file(s) but ${attentions.length} attention file(s): give one --attention per --wav, in the same order, or none to use the tensor beside each WAV`,
    );
  }
  return Promise.all(
    wavs.map(async (wav): Promise<BatchItem> => {
      try {
        const attention = await findAttentionBeside(wav);
        if (attention) return { name: stem(wav), files: { ...reading, wav, attention } };
        return { name: stem(wav), problem: `${wav}: no attention file beside it (${stem(wav)}*.npy, .npz or .safetensors)` };
      } catch (error) {
        if (error instanceof InputError) return { name: stem(wav), problem: error.message };
        throw error;
      }
    }),
  );
}
