/**
 * `steve render`: the figure of a view (one map, the heads of a layer, the model, a pooled map, a difference, a
 * pair, a rollout) as SVG or PNG, headless: the maps are drawn by the viewer's render pass on Dawn, the figure is the
 * viewer's export SVG, and PNG is that SVG rasterised by resvg.
 */
import type { Command } from 'commander';
import { handleInterrupts, writeFileAtomic } from '../node/atomicWrite.ts';
import { svgToPng } from '../node/svgToPng.ts';
import { DEFAULT_PAIR_MAP_SIZE } from '../figure/pairSvg.ts';
import { CliError } from './cliError.ts';
import { makeViewFigureSvg } from './figure.ts';
import { integerInRange } from './optionParsers.ts';
import type { ViewCommandOptions } from './viewCommand.ts';
import { addViewOptions, runViewCommand } from './viewCommand.ts';

/** Side of one map when --size is not given, as the viewer's export draws it. */
export const DEFAULT_MAP_SIZE = 640;
/** Side of each map of a grid when --size is not given: 8 heads of Whisper base fit a page's width. */
export const DEFAULT_GRID_CELL_SIZE = 160;
/** SVG pixels per inch (CSS): --dpi N renders the PNG at N / 96 pixels per SVG pixel. */
const CSS_DPI = 96;
/**
 * --size range: below 64 pixels a map has no room for its phone labels (13 pixels each) and a grid cell shows
 * nothing; above 4096 the figure outgrows any page.
 */
export const MAP_SIZE_RANGE = { min: 64, max: 4096 } as const;
/** --dpi range: screen resolution (72) to the finest print resolution journals ask for (1200). */
export const DPI_RANGE = { min: 72, max: 1200 } as const;
/** Largest side of a map's raster: WebGPU's guaranteed texture size (maxTextureDimension2D). */
const MAX_RASTER_SIDE = 8192;

interface RenderOptions extends ViewCommandOptions {
  size?: number;
  dpi?: number;
}

/** Adds `render` to the program; its exit status goes to `outcome`. */
export function addRenderCommand(program: Command, outcome: { exitCode: number }): void {
  const command = program.command('render').description('draw a view of the attention as a PNG or SVG figure, headless');
  addViewOptions(command, true)
    .option(
      '--size <px>',
      `side of the map in SVG pixels, ${MAP_SIZE_RANGE.min} to ${MAP_SIZE_RANGE.max} (default ${DEFAULT_MAP_SIZE}; each map of a grid: ${DEFAULT_GRID_CELL_SIZE}; of a pair: ${DEFAULT_PAIR_MAP_SIZE})`,
      integerInRange(MAP_SIZE_RANGE.min, MAP_SIZE_RANGE.max),
    )
    .option('--dpi <n>', `PNG: render at n/96 pixels per SVG pixel and record n DPI in the file (${DPI_RANGE.min} to ${DPI_RANGE.max})`, integerInRange(DPI_RANGE.min, DPI_RANGE.max))
    .addHelpText(
      'after',
      [
        '',
        'The format is the extension of -o: .png (default) or .svg. --words A:B counts words from 0, both ends included.',
        '',
        'Examples:',
        '  steve render --attention LDC93S1.npy --wav LDC93S1.wav --layer 3 --head 5 --words 0:2 -o map.png',
        '  steve render --attention LDC93S1.npy --wav LDC93S1.wav --layer 3 --head all -o heads.svg',
        '  steve render --attention LDC93S1.npy --wav LDC93S1.wav --view model --dpi 300 -o model.png',
        '  steve render --attention LDC93S1.npy --wav LDC93S1.wav --pool phones --head mean -o phones.png',
        '  steve render --attention a.npy --wav a.wav --view difference --layer 3 --compare-layer 4 -o diff.png',
        '  steve render --wav "data/*.wav" --alignments textgrid --view rollout -o "figs/{name}_rollout.png"',
      ].join('\n'),
    )
    .action(async (options: RenderOptions) => {
      handleInterrupts();
      outcome.exitCode = await runViewCommand(
        options,
        ['png', 'svg'],
        async (output) => {
          const grid = output.plan.cells.length > 1;
          const png = output.format === 'png';
          const look = {
            size: options.size ?? (output.plan.spec.view === 'pair' ? DEFAULT_PAIR_MAP_SIZE : grid ? DEFAULT_GRID_CELL_SIZE : DEFAULT_MAP_SIZE),
            rasterScale: png && options.dpi ? options.dpi / CSS_DPI : 1,
          };
          const svg = await makeViewFigureSvg(output.node, output.plan, output.maps, look);
          await writeFileAtomic(output.path, png ? svgToPng(svg, { scale: look.rasterScale, dpi: options.dpi }) : svg);
        },
        (format) => {
          if (options.dpi !== undefined && format === 'svg') throw new CliError('--dpi sets the resolution of PNG output; SVG is resolution-free');
          const side = ((options.size ?? DEFAULT_MAP_SIZE) * (options.dpi ?? CSS_DPI)) / CSS_DPI;
          if (side > MAX_RASTER_SIDE) {
            throw new CliError(`--size ${options.size ?? DEFAULT_MAP_SIZE} at --dpi ${options.dpi}: each map would be ${Math.round(side)} pixels wide, over ${MAX_RASTER_SIDE}; lower one of them`, 2);
          }
        },
      );
    });
}
