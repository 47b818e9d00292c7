/**
 * The options that say how to read each utterance's alignment, shared by every command that takes a WAV
 * (STEVE's plot_attentions arguments alignments, tg_phone, tg_word, tg_text and tg_ext).
 */
import type { Command } from 'commander';
import type { AlignmentKind } from '../node/loadUtterance.ts';
import { oneOf } from './viewSpec.ts';

/** The values of --alignments. */
export const ALIGNMENT_KINDS: readonly AlignmentKind[] = ['timit', 'textgrid', 'none'];

/**
 * Adds --alignments, --phone-tier, --word-tier, --text-tier and --tg-ext. Without `defaultKind`, --alignments left
 * out stays undefined: the kind is then found beside each WAV (src/node/findAlignments.ts chooseAlignmentKind).
 */
export function addAlignmentOptions(command: Command, defaultKind?: AlignmentKind): Command {
  const help = "alignment files beside each WAV, with its stem: timit, textgrid or none (STEVE's dummy 40 ms phones)";
  return command
    .option('--alignments <kind>', defaultKind === undefined ? `${help}; default: a TextGrid or TIMIT files found beside the WAV, else none` : help, defaultKind)
    .option('--phone-tier <name>', 'TextGrid tier with phones (default "phones"); for timit, the phone file extension (default phn)')
    .option('--word-tier <name>', 'TextGrid tier with words (default "words"); for timit, the word file extension (default wrd)')
    .option('--text-tier <name>', 'TextGrid tier with the sentence; for timit, the text file extension (default txt)')
    .option('--tg-ext <ext>', 'extension of the TextGrid files', 'TextGrid');
}

/** --alignments checked: timit, textgrid or none; undefined when not given (found beside each WAV). */
export function parseAlignmentKind(value: string | undefined): AlignmentKind | undefined {
  return value === undefined ? undefined : oneOf('--alignments', value, ALIGNMENT_KINDS);
}
