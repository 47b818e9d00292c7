/**
 * `steve export`: the matrix behind a view (after softmax, averaging, pooling and crop) as .npy or .csv, with a
 * JSON sidecar (FILE.json) saying what its rows, columns and maps are.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { readFloat32 } from '../gpu/buffers.ts';
import { describeAxis, encodeViewCsv, encodeViewNpy, makeSidecar } from './exportMatrix.ts';
import type { ViewCommandOptions } from './viewCommand.ts';
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
        'One map is rows x cols (rows: key frames, the file\'s second-to-last axis; cols: query frames); --head all',
        'is maps x rows x cols (every head, then their mean); --view model is layers x heads x rows x cols.',
        '',
        'Examples:',
        '  steve export --attention LDC93S1.npy --wav LDC93S1.wav --layer 3 --head 5 --words 0:2 -o map.npy',
        '  steve export --attention LDC93S1.npy --wav LDC93S1.wav --pool words --head mean -o words.csv',
        '  steve export --wav "data/*.wav" --view model -o out/',
      ].join('\n'),
    )
    .action(async (options: ViewCommandOptions) => {
      outcome.exitCode = await runViewCommand(options, ['npy', 'csv'], async (output) => {
        const { maps, plan, spec, path, format } = output;
        const device = output.node.engine.device;
        const values = [];
        for (const map of maps) values.push(await readFloat32(device, map.buffer, map.rows * map.cols));
        const matrix = { maps: values, rows: maps[0].rows, cols: maps[0].cols };
        await writeFile(path, format === 'npy' ? encodeViewNpy(plan, spec, matrix) : encodeViewCsv(plan, matrix, describeAxis(plan, matrix)));
        const sidecar = makeSidecar({ file: path, format: format as 'npy' | 'csv', plan, spec, matrix, utterance: output.utterance, files: output.files });
        await writeFile(`${path}.json`, JSON.stringify(sidecar, null, 1) + '\n');
      });
    });
}
