/**
 * Every file the CLI writes (.npy, .csv, .json, .png, .svg) appears whole or not at all: it is written under a
 * temporary name in the same folder (so the rename stays on one file system) and renamed into place once complete.
 * Files that belong together (an export and its sidecar) are renamed in one synchronous step, sidecar first, so no
 * signal handler can run between them and a reader never pairs a new sidecar with an old matrix.
 *
 * On SIGINT or SIGTERM (once handleInterrupts is on), the files still being written are removed, the ones already
 * in place are listed on stderr, and the process exits with 130: an earlier run's good file is never replaced by a
 * truncated one.
 */
import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Outputs opened and not yet renamed into place or discarded: what an interrupt removes. */
const pending = new Set<AtomicOutput>();
/** Paths renamed into place during this run, for the interrupt report. */
const written: string[] = [];

/** The exit status of a run stopped by SIGINT or SIGTERM (128 + SIGINT's 2, as shells report Ctrl+C). */
export const INTERRUPTED_EXIT_CODE = 130;

/** One output being written: chunks go to a temporary file beside `path`, which commitOutputs renames to `path`. */
export class AtomicOutput {
  private constructor(
    readonly path: string,
    readonly temporaryPath: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the temporary file for `path` (its folder must exist). */
  static async open(path: string): Promise<AtomicOutput> {
    const temporaryPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
    const output = new AtomicOutput(path, temporaryPath, await open(temporaryPath, 'wx'));
    pending.add(output);
    return output;
  }

  /** Appends `chunk` (a string is written as UTF-8). */
  async write(chunk: Uint8Array | string): Promise<void> {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (let done = 0; done < bytes.length; ) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done);
      done += bytesWritten;
    }
  }

  /** Flushes the bytes to disk and closes the temporary file (commitOutputs does this). */
  async finish(): Promise<void> {
    await this.handle.datasync();
    await this.handle.close();
  }

  /** Closes and deletes the temporary file; the file at `path` is left as it was. */
  async discard(): Promise<void> {
    pending.delete(this);
    await this.handle.close().catch(() => {});
    removeQuietly(this.temporaryPath);
  }
}

/** Finishes `outputs` and renames them into place in this order, with nothing able to run between the renames. */
export async function commitOutputs(outputs: readonly AtomicOutput[]): Promise<void> {
  for (const output of outputs) await output.finish();
  for (const output of outputs) {
    renameSync(output.temporaryPath, output.path);
    pending.delete(output);
    written.push(output.path);
  }
}

/**
 * Writes each file whole through `produce` (which writes its chunks) and renames them all into place together;
 * on any error the temporary files are removed and the old files kept.
 */
export async function writeOutputs(files: readonly { path: string; produce: (output: AtomicOutput) => Promise<void> }[]): Promise<void> {
  const outputs: AtomicOutput[] = [];
  try {
    for (const file of files) {
      const output = await AtomicOutput.open(file.path);
      outputs.push(output);
      await file.produce(output);
    }
    await commitOutputs(outputs);
  } catch (error) {
    await Promise.all(outputs.filter((output) => pending.has(output)).map((output) => output.discard()));
    throw error;
  }
}

/** Writes `data` to `path` atomically. */
export function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  return writeOutputs([{ path, produce: (output) => output.write(data) }]);
}

let interruptsHandled = false;

/**
 * From now on, SIGINT and SIGTERM remove the files being written, report on `stderr` what was written and what was
 * not, and exit with 130. Idempotent.
 */
export function handleInterrupts(stderr: NodeJS.WritableStream = process.stderr): void {
  if (interruptsHandled) return;
  interruptsHandled = true;
  const stop = (signal: NodeJS.Signals) => {
    const removed = [...pending].map((output) => {
      removeQuietly(output.temporaryPath);
      return output.path;
    });
    pending.clear();
    // A long batch is summed up: its count and the last few files.
    const wrote = written.length === 0 ? 'wrote nothing' : written.length <= 5 ? `wrote ${written.join(', ')}` : `wrote ${written.length} files (the last: ${written.slice(-3).join(', ')})`;
    const dropped = removed.length ? `; ${removed.join(', ')} not written (any earlier file there is unchanged)` : '';
    stderr.write(`steve: interrupted (${signal}): ${wrote}${dropped}\n`);
    process.exit(INTERRUPTED_EXIT_CODE);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
