/**
 * The `steve` command line: one Commander program, one module per command (inspect, render, export, serve).
 * Errors in the user's input (InputError, CliError) print one line and exit 1; usage errors Commander finds
 * (unknown options, missing values) and option values wrong in themselves (CliError exit code 2) print one line and
 * exit 2; anything else is a bug and prints its stack.
 */
import { Command, CommanderError } from 'commander';
import { InputError } from '../data/inputError.ts';
import { addAlignmentOptions, parseAlignmentKind } from './alignmentOptions.ts';
import { addAtlasCommand } from './atlas.ts';
import { CliError } from './cliError.ts';
import { addExportCommand } from './export.ts';
import { runInspect } from './inspect.ts';
import { parsePositiveNumber } from './optionParsers.ts';
import { addRenderCommand } from './render.ts';
import { addServeCommand } from './serve.ts';

/** The program; commands that decide their own exit status (batches, serve) set `outcome.exitCode`. */
export function makeProgram(outcome: { exitCode: number } = { exitCode: 0 }): Command {
  const program = new Command('steve')
    .description('STEVE for the web: speech-transformer self-attention over phone and word alignments')
    // Subcommands inherit these (Commander copies them to commands made with .command()): errors throw a
    // CommanderError that main() turns into exit status 2, after one line on stderr.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`steve: ${oneLine(text)} (see --help)\n`) })
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  steve inspect --attention attn.npy --wav LDC93S1.wav --json',
        '  steve inspect --model whisper-base/ --wav LDC93S1.wav --json',
        '  steve render --attention attn.npy --wav LDC93S1.wav --layer 3 --head 5 --words 0:2 -o map.png',
        '  steve export --attention attn.npy --wav LDC93S1.wav --head all -o heads.npy',
        '  steve serve --wav LDC93S1.wav --attention attn.npy',
        '',
        'Run "steve <command> --help" for every option of a command.',
      ].join('\n'),
    );

  const inspect = program
    .command('inspect')
    .description('summarise an attention tensor, its audio, spf and alignment')
    .option('--attention <file>', 'attention tensor (.npy, .npz or .safetensors)')
    .option('--model <path>', 'instead of --attention: run this model on --wav (a Hugging Face folder with config.json and model.safetensors, or a .safetensors with config.json beside it)')
    .option('--wav <file>', 'the utterance audio (WAV); alignment files are looked for beside it');
  addAlignmentOptions(inspect)
    .option('--spf <n>', 'audio samples (at 16 kHz) per model frame; default: file metadata, 320 for Whisper, or audio/frames', parsePositiveNumber)
    .option('--round-up', "round frame numbers up (STEVE's ceil mode) instead of to nearest")
    .option('--json', 'print exactly one JSON object (attention.rows and .cols: a map\'s size; .queries and .keys: the same by what they are)')
    .addHelpText(
      'after',
      [
        '',
        "A map's rows are the file's second-to-last axis, the query frames, and its columns the last, the key frames",
        '(softmax normalises each row).',
        '',
        'Example:',
        '  steve inspect --attention whisper_base.npy --wav LDC93S1.wav --alignments timit --json',
      ].join('\n'),
    )
    .action(async (options) => {
      await runInspect({ ...options, alignments: parseAlignmentKind(options.alignments) }, process.stdout);
    });

  addRenderCommand(program, outcome);
  addExportCommand(program, outcome);
  addServeCommand(program, outcome);
  addAtlasCommand(program, outcome);
  return program;
}

/** Commander's messages may span lines ("error: ...\n(Did you mean ...?)"): one line, without its "error:" prefix. */
function oneLine(text: string): string {
  return text.trim().replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ');
}

/** Runs the program on `argv` (without node and the script) and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const outcome = { exitCode: 0 };
  const program = makeProgram(outcome);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof InputError || error instanceof CliError) {
      process.stderr.write(`steve: ${error.message}\n`);
      return error instanceof CliError ? error.exitCode : 1;
    }
    throw error;
  }
}

if (process.argv[1] && /steve(\.mjs)?$|cli[\\/]main\.ts$/.test(process.argv[1])) {
  // `steve render --help | head` closes the pipe early: that is the reader's choice, not an error to report.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  // Not a top-level await: the bundle is a script (scripts/buildCli.mjs), compiled with V8's code cache. A bug's
  // error is an unhandled rejection: Node prints its stack and exits 1.
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
