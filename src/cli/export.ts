/**
 * `steve export`: the matrix behind a view (after softmax, averaging, pooling and crop) as .npy or .csv, with a
 * JSON sidecar (FILE.json) saying what its rows, columns and maps are.
 *
 * The maps are computed, read back and written one at a time, so memory holds one map and a piece of text, whatever
 * the export's size; the size is known from the plan, and checked against the free disk space before any map is
 * computed. Both files are written atomically (src/node/atomicWrite.ts): an interrupted export leaves the previous
 * pair as it was.
 */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { readFloat32 } from '../gpu/buffers.ts';
import { handleInterrupts, writeOutputs } from '../node/atomicWrite.ts';
import { CliError } from './cliError.ts';
import { csvMatrixWriter, describeAxis, makeSidecar, npyMatrixWriter, type MatrixWriter, type ViewMatrix } from './exportMatrix.ts';
import type { ViewCommandOptions, ViewOutput } from './viewCommand.ts';
import { addViewOptions, runViewCommand } from './viewCommand.ts';

/** Adds `export` to the program; its exit status goes to `outcome`. */
export function addExportCommand(program: Command, outcome: { exitCode: number }): void {
  const command = program.command('export').description("write the matrix behind a view as .npy or .csv, with a JSON sidecar (FILE.json) describing its axes");
  addViewOptions(command, false)
    .addHelpText(
      'after',
      [
        '',
        'The format is the extension of -o: .npy (default; float32, C order, numpy.load reads it) or .csv.',
        'One map is rows x cols: rows are query frames (the file\'s second-to-last axis), cols key frames (the last,',
        'which softmax normalises). --head all is maps x rows x cols (every head, then their mean); --view model is',
        'layers x heads x rows x cols.',
        'Each file appears whole or not at all; Ctrl+C removes the one being written and exits with 130.',
        '',
        'Examples:',
        '  steve export --attention LDC93S1.npy --wav LDC93S1.wav --layer 3 --head 5 --words 0:2 -o map.npy',
        '  steve export --attention LDC93S1.npy --wav LDC93S1.wav --pool words --head mean -o words.csv',
        '  steve export --wav "data/*.wav" --view model -o out/',
      ].join('\n'),
    )
    .action(async (options: ViewCommandOptions) => {
      handleInterrupts();
      outcome.exitCode = await runViewCommand(options, ['npy', 'csv'], writeExport, undefined, false);
    });
}

/** Plans the files' sizes, checks the disk, then computes, reads back and writes the maps one at a time. */
async function writeExport(output: ViewOutput): Promise<void> {
  const { plan, spec, path, format, node } = output;
  const engine = node.engine;
  const { rows, cols } = await engine.outputShape(plan.cells[0].request);
  const matrix: ViewMatrix = { count: plan.cells.length, rows, cols };
  const axis = describeAxis(plan, matrix);
  const writer: MatrixWriter = format === 'npy' ? npyMatrixWriter(plan, spec, matrix) : csvMatrixWriter(plan, matrix, axis);
  const sidecar = JSON.stringify(makeSidecar({ file: path, format: format as 'npy' | 'csv', plan, spec, matrix, utterance: output.utterance, files: output.files }), null, 1) + '\n';
  await checkFreeSpace(path, writer.maxBytes + Buffer.byteLength(sidecar));
  await writeOutputs([
    // The sidecar first: renamed into place just before its matrix, in the same step.
    { path: `${path}.json`, produce: (file) => file.write(sidecar) },
    {
      path,
      produce: async (file) => {
        await file.write(writer.header);
        for (const [index, cell] of plan.cells.entries()) {
          const map = await engine.computeMap(cell.request);
          try {
            // A map the host path computed is read where it is, without a GPU buffer or a read-back.
            const values = engine.hostValuesOf(map) ?? (await readFloat32(map.device, map.buffer, rows * cols));
            for (const piece of writer.mapPieces(index, values)) await file.write(piece);
          } finally {
            map.destroy();
          }
        }
      },
    },
  ]);
}

/** Refuses, before anything is computed, an export that the disk holding `path` has no room for. */
export async function checkFreeSpace(path: string, bytes: number): Promise<void> {
  const disk = await statfs(dirname(path)).catch(() => undefined);
  if (!disk) return; // A file system that cannot say: the write itself will report a full disk.
  const free = disk.bavail * disk.bsize;
  if (bytes > free) {
    throw new CliError(`${path}: this export needs up to ${formatBytes(bytes)} but its disk has ${formatBytes(free)} free; export fewer maps (--layer, --head, --words) or write elsewhere`);
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${bytes} bytes`;
}
