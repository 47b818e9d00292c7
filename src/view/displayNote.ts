/**
 * What the viewer says beside a view's title about how its maps are on screen right now, where the title (which is
 * also the exported figure's) would otherwise mislead: a zoom shows only part of the selection the title names, and
 * a grid drawn from map pyramids may show block means of f x f frames while the finer levels are still being built
 * (src/render/pyramidLevels.ts). Pure.
 */
import type { PlanAxes } from './plan.ts';

/** What a map's cells are counted in, in a zoom's note: frames (block-pooled maps too), or the pooled segments' unit. */
export function zoomUnit(axes: PlanAxes): string {
  return axes.kind === 'segments' ? axes.unit : 'frames';
}

/** The frames a zoom shows of a cell's map, in the map's own frame numbers (end exclusive). */
export interface VisibleFrames {
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly colStart: number;
  readonly colEnd: number;
}

/**
 * The frames in view under the viewer's shared zoom (unit coordinates over a cell: x_screen = scale * x + translate)
 * of a map of `rows` x `cols` cells whose first cell is frame `origin`, each cell `framesPerCell` frames wide.
 */
export function visibleFrames(
  zoom: { readonly scale: number; readonly translateX: number; readonly translateY: number },
  rows: number,
  cols: number,
  origin = 0,
  framesPerCell = 1,
): VisibleFrames {
  const span = (translate: number, cells: number): [number, number] => {
    const first = Math.max(0, Math.floor((-translate / zoom.scale) * cells));
    const end = Math.min(cells, Math.ceil(((1 - translate) / zoom.scale) * cells));
    return [origin + first * framesPerCell, origin + end * framesPerCell];
  };
  const [colStart, colEnd] = span(zoom.translateX, cols);
  const [rowStart, rowEnd] = span(zoom.translateY, rows);
  return { rowStart, rowEnd, colStart, colEnd };
}

/**
 * The part of the selection a zoom shows, as said on screen and in a zoomed single map's exported subtitle (its
 * title names the whole selection): 'zoomed to rows 120-209, columns 95-184 (frames)'.
 */
export function zoomedPart(visible: VisibleFrames, unit = 'frames'): string {
  return `zoomed to rows ${visible.rowStart}-${visible.rowEnd - 1}, columns ${visible.colStart}-${visible.colEnd - 1} (${unit})`;
}

/** How the maps were drawn in the last frame (MapScene's FrameReport). */
export interface DrawnResolution {
  readonly drawn: number;
  /** Cells whose wanted level was not on hand: a coarser one (or nothing) was drawn meanwhile. */
  readonly waiting: number;
  /** Cells drawn per level factor (f: means of f x f frames; 1: full resolution). */
  readonly levels: ReadonlyMap<number, number>;
}

/**
 * The note, or undefined when the maps are shown whole and as they are. `unit` names a cell of the map ('frames',
 * or a segment unit for pooled maps, whose zoom is reported in cells).
 */
export function displayNote(visible: VisibleFrames | undefined, resolution: DrawnResolution | undefined, unit = 'frames'): string | undefined {
  const parts: string[] = [];
  if (visible) parts.push(`${zoomedPart(visible, unit)}; double-click resets`);
  if (resolution && resolution.waiting > 0) {
    const coarsest = Math.max(1, ...[...resolution.levels.keys()]);
    const blocks = coarsest > 1 ? `, up to means of ${coarsest} x ${coarsest} ${unit}` : '';
    // Short enough to stay on the status line beside a zoom's note in a 1400-pixel window.
    parts.push(`refining: ${resolution.waiting} map(s) shown coarser than the zoom needs${blocks}, or not yet drawn`);
  }
  return parts.length > 0 ? parts.join(' | ') : undefined;
}
