/**
 * The figure of a pair view as SVG: one map of each of two utterances side by side, each with its own phone and word
 * labels on both axes and its own boundary lines (the two utterances have different frames and words), a title over
 * each map naming its utterance, one colour bar and the figure's title. The maps are drawn as figureSvg.ts draws one
 * map (mapPanelSvg), so a pair reads like two single-map figures. Pure: `steve render` and the viewer's export both
 * build it.
 */
import type { FigureColorbar, MapPanel } from './figureSvg.ts';
import { FIGURE_MARGIN, escapeXml, makeColorbar, mapPanelSvg } from './figureSvg.ts';
import { fitHeading, headingSvg, type FittedHeading } from './figureHeading.ts';

/** Side of each map of a pair when no size is given: two maps with their labels fit a page's width. */
export const DEFAULT_PAIR_MAP_SIZE = 400;

/** One side of the pair: its map's title ("LDC93S1 L0 H0") and the map with its labels and lines. */
export interface PairPanel extends Omit<MapPanel, 'mapSize' | 'darkLines'> {
  readonly title: string;
}

/** What makePairSvg draws. */
export interface PairSpec {
  readonly title: string;
  readonly subtitle?: string;
  /** Side of each (square) map in figure pixels. */
  readonly mapSize: number;
  readonly panels: readonly [PairPanel, PairPanel];
  readonly colorbar: FigureColorbar;
  readonly darkLines?: boolean;
}

/** Where the maps' top-left corners are, and the figure's size. */
export interface PairLayout {
  readonly width: number;
  readonly height: number;
  readonly maps: readonly [{ readonly x: number; readonly y: number }, { readonly x: number; readonly y: number }];
}

/** Baseline of the maps' titles: between the subtitle (40) and the column word labels (FIGURE_MARGIN.top - 100). */
const PANEL_TITLE_Y = 66;

/** The layout of a pair figure: each map with the margins of a single-map figure, the colour bar right of the second. */
export function pairLayout(spec: Pick<PairSpec, 'mapSize' | 'title' | 'subtitle'>): PairLayout {
  const m = FIGURE_MARGIN;
  const first = { x: m.left, y: m.top };
  const second = { x: m.left + spec.mapSize + m.left, y: m.top };
  return {
    width: pairHeading(spec).width,
    height: m.top + spec.mapSize + m.bottom,
    maps: [first, second],
  };
}

/** The pair's heading, centred over its two maps; one line of subtitle, as the maps' titles are right under it. */
function pairHeading(spec: Pick<PairSpec, 'mapSize' | 'title' | 'subtitle'>): FittedHeading {
  const m = FIGURE_MARGIN;
  const contentWidth = m.left + spec.mapSize + m.left + spec.mapSize + m.right;
  return fitHeading(spec, contentWidth, m.left + spec.mapSize + m.left / 2, 16, 1);
}

/**
 * The pair figure as an SVG document. A panel without rasterHref leaves its map area empty, and with neither the
 * background is transparent: the vector layer alone, as makeFigureSvg does for the browser's PNG export.
 */
export function makePairSvg(spec: PairSpec): string {
  const { width, height, maps } = pairLayout(spec);
  const size = spec.mapSize;
  const opaque = spec.panels.some((panel) => panel.rasterHref !== undefined);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">`,
    opaque ? `<rect width="${width}" height="${height}" fill="#ffffff"/>` : '',
    ...headingSvg(spec.title, pairHeading(spec)),
  ];
  spec.panels.forEach((panel, i) => {
    const { x, y } = maps[i];
    parts.push(`<g class="pair-map">`);
    parts.push(`<text class="map-title" x="${x + size / 2}" y="${PANEL_TITLE_Y}" font-size="13" text-anchor="middle">${escapeXml(panel.title)}</text>`);
    // Each map's row words end beside its own phone labels: the second map's would otherwise sit at the first's edge.
    parts.push(...mapPanelSvg({ ...panel, mapSize: size, darkLines: spec.darkLines }, x, y, true));
    parts.push('</g>');
  });
  parts.push(makeColorbar(spec.colorbar, maps[1].x + size + 24, maps[1].y, Math.min(size, 320)));
  parts.push('</svg>');
  return parts.join('\n');
}
