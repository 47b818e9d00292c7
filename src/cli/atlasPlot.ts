/**
 * `steve atlas --plot ATLAS/`: the atlas's figures, as SVG and PNG (resvg, as `render`): one layers x heads
 * heat-table per metric, and the phone x phone and class x class matrices of one head (--layer, --head).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ATLAS_METRICS, METRIC_UNITS } from '../atlas/atlas.ts';
import type { AtlasJson } from '../atlas/atlasFile.ts';
import { atlasFromJson, matrixAverages } from '../atlas/atlasFile.ts';
import { InputError } from '../data/inputError.ts';
import { makeHeatTableSvg, makeLabelMatrixSvg } from '../figure/atlasFigures.ts';
import { makeColormapLut } from '../render/colormaps.ts';
import { writeFileAtomic } from '../node/atomicWrite.ts';
import { svgToPng } from '../node/svgToPng.ts';
import { CliError } from './cliError.ts';

export interface AtlasPlotOptions {
  readonly layer: number;
  readonly head: number;
}

/** Reads ATLAS/atlas.json and writes the figures into `output` (default: ATLAS itself). Returns the paths written. */
export async function plotAtlas(atlasDir: string, output: string | undefined, options: AtlasPlotOptions): Promise<string[]> {
  const path = join(atlasDir, 'atlas.json');
  let json: AtlasJson;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as AtlasJson;
    atlasFromJson(json);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(path, code ? 'not-found' : 'parse', code ? `cannot read it (${code})` : (error as Error).message.slice(0, 300));
  }
  const { layers, heads } = json.settings;
  if (options.layer >= layers || options.head >= heads) {
    throw new CliError(`--layer ${options.layer} --head ${options.head} is outside the atlas's ${layers} layers x ${heads} heads`);
  }
  const dir = output ?? atlasDir;
  await mkdir(dir, { recursive: true });
  const lut = makeColormapLut('viridis');
  const subtitle = `${json.utterances.used.length} utterances, ${json.queryFrames} query frames; phones folded to ${json.settings.fold}`;
  const written: string[] = [];
  const write = async (name: string, svg: string) => {
    for (const [file, bytes] of [[`${name}.svg`, svg], [`${name}.png`, svgToPng(svg)]] as const) {
      await writeFileAtomic(join(dir, file), bytes);
      written.push(join(dir, file));
    }
  };
  for (const metric of ATLAS_METRICS) {
    await write(`heat_${metric}`, makeHeatTableSvg({ title: `${metric} (${METRIC_UNITS[metric]}) per head`, subtitle, values: json.metrics[metric].mean, unit: METRIC_UNITS[metric], lut }));
  }
  const { layer, head } = options;
  for (const kind of ['phones', 'classes'] as const) {
    const labels = json[kind].labels;
    const a = labels.length;
    const averages = matrixAverages(json, kind).subarray((layer * heads + head) * a * a, (layer * heads + head + 1) * a * a);
    await write(
      `${kind}_L${layer}_H${head}`,
      makeLabelMatrixSvg({
        title: `Layer ${layer}, head ${head}: ${kind === 'phones' ? 'phone' : json.settings.classScheme} x ${kind === 'phones' ? 'phone' : json.settings.classScheme}`,
        subtitle: `${subtitle}; mean attention mass a query frame of the row gives to the column`,
        labels,
        groups: kind === 'phones' ? json.phones.classes : labels,
        values: averages,
        lut,
        colorbarLabel: 'mass per query frame',
      }),
    );
  }
  return written;
}
