/**
 * Runs one command over many utterances: a bad file is reported on stderr as one line and the others still run;
 * the call fails (exit 1) when any did. A progress bar is drawn on stderr only when stderr is a terminal, so logs
 * and pipes get plain lines.
 */
import type { ModelProgress } from '../model/modelSource.ts';
import { SingleBar } from 'cli-progress';
import { MapRequestError } from '../compute/requestError.ts';
import { InputError } from '../data/inputError.ts';
import { boundText } from '../data/untrustedText.ts';
import { CliError } from './cliError.ts';
import type { BatchItem } from './inputs.ts';

/** How many utterances failed. */
export interface BatchResult {
  readonly failed: number;
  readonly done: number;
}

/**
 * Calls `work` on each item in order. Errors of the input (InputError, CliError, and the MapRequestError sentences the
 * engine throws for requests that do not fit the data) are one line each; anything else is a bug and propagates.
 */
export async function runBatch(
  items: readonly BatchItem[],
  work: (item: Extract<BatchItem, { files: unknown }>, say: (line: string) => void) => Promise<void>,
  stderr: NodeJS.WriteStream = process.stderr,
  stdout: NodeJS.WriteStream = process.stdout,
): Promise<BatchResult> {
  const bar = stderr.isTTY && items.length > 1 ? new SingleBar({ stream: stderr, format: 'steve {bar} {value}/{total} {name}', hideCursor: true, clearOnComplete: true }) : undefined;
  bar?.start(items.length, 0, { name: '' });
  // A line for the user goes above the bar: clear the bar's line first (when both go to the terminal), and the next
  // update redraws the bar below it.
  // Lines quote file names found on disk: escaped and bounded, so none can act on the terminal.
  const lineTo = (stream: NodeJS.WriteStream) => (text: string) => {
    const line = boundText(text, 2000);
    return stream.write(bar && stream.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`);
  };
  const report = lineTo(stderr);
  const say = lineTo(stdout);
  let failed = 0;
  try {
    for (const item of items) {
      bar?.update({ name: item.name });
      if ('problem' in item) {
        failed++;
        report(`steve: ${item.problem}`);
      } else {
        try {
          await work(item, say);
        } catch (error) {
          if (!(error instanceof InputError || error instanceof CliError || error instanceof MapRequestError)) throw error;
          failed++;
          // InputErrors name their file; the others are about the utterance as a whole.
          report(`steve: ${error instanceof InputError ? '' : `${item.name}: `}${error.message}`);
        }
      }
      bar?.increment();
    }
  } finally {
    bar?.stop();
  }
  return { failed, done: items.length - failed };
}

/**
 * On a terminal, one line on `stream` that follows a model's forward pass ("steve: running the encoder, layer 5 of
 * 32"), redrawn in place and cleared when it ends: a large model on the host runs for minutes. Nothing on a log.
 */
export function modelProgressLine(stream: NodeJS.WriteStream): ((progress: ModelProgress) => void) | undefined {
  if (!stream.isTTY) return undefined;
  return ({ stage, layersDone, layers }) => {
    const done = stage === 'encoder' && layersDone >= layers;
    stream.write(done ? '\r\x1b[K' : `\r\x1b[Ksteve: ${stage === 'weights' ? 'reading weights' : 'running the encoder'}, layer ${layersDone} of ${layers} done`);
  };
}
