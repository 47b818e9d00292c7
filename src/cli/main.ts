/**
 * The `steve` command line: one Commander program, one module per command.
 * Errors in the user's input (InputError, CliError) print one line and exit 1; anything else is a bug and prints
 * its stack.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { InputError } from '../data/inputError.ts';
import { CliError } from './cliError.ts';
import { runInspect } from './inspect.ts';

/** Parses a positive number option ("--spf 320"), or says what was wrong with it. */
export function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return number;
}

export function makeProgram(): Command {
  const program = new Command('steve')
    .description('STEVE for the web: speech-transformer self-attention over phone and word alignments')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) });

  program
    .command('inspect')
    .description('summarise an attention tensor, its audio, spf and alignment')
    .requiredOption('--attention <file>', 'attention tensor (.npy, .npz or .safetensors)')
    .option('--wav <file>', 'the utterance audio (WAV); alignment files are looked for beside it')
    .option('--alignments <kind>', 'alignment files beside the WAV: timit, textgrid or none', 'timit')
    .option('--phone-tier <name>', 'TextGrid tier with phones (default "phones"); for timit, the phone file extension (default phn)')
    .option('--word-tier <name>', 'TextGrid tier with words (default "words"); for timit, the word file extension (default wrd)')
    .option('--text-tier <name>', 'TextGrid tier with the sentence text; for timit, the text file extension (default txt)')
    .option('--tg-ext <ext>', 'extension of the TextGrid file', 'TextGrid')
    .option('--spf <n>', 'audio samples (at 16 kHz) per model frame; default: file metadata, 320 for Whisper, or audio/frames', parsePositiveNumber)
    .option('--round-up', "round frame numbers up (STEVE's ceil mode) instead of to nearest")
    .option('--json', 'print exactly one JSON object')
    .addHelpText(
      'after',
      '\nExample:\n  steve inspect --attention whisper_base.npy --wav LDC93S1.wav --alignments timit --json',
    )
    .action(async (options) => {
      const kind = String(options.alignments);
      if (!['timit', 'textgrid', 'none'].includes(kind)) {
        throw new CliError(`--alignments must be timit, textgrid or none, got "${kind}"`);
      }
      await runInspect({ ...options, alignments: kind as 'timit' | 'textgrid' | 'none' }, process.stdout);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = makeProgram().exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof InputError || error instanceof CliError) {
      process.stderr.write(`steve: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && /steve(\.mjs)?$|cli[\\/]main\.ts$/.test(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
