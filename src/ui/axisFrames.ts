/**
 * Which frames of the utterance lie under a position on a map's axis. A map cell is one frame, a block of k frames
 * (--pool k) or one phone or word (pooled onto segments), so the axis is cut into pieces, each a run of consecutive
 * frames stretched evenly over a run of cells: one piece for frames and blocks, one per cell for segments. The audio
 * strips draw each piece's stretch of audio over its cells, and a click plays the frames of the cell under it.
 * Pure: tested in Node (tests/ui/axisFrames.test.ts).
 */
import type { Crop } from '../compute/region.ts';
import type { PlanAxes } from '../view/plan.ts';

/** Cells [fromCell, toCell) of the axis show frames [startFrame, endFrame) of the utterance, evenly spread. */
export interface AxisPiece {
  readonly fromCell: number;
  readonly toCell: number;
  readonly startFrame: number;
  readonly endFrame: number;
}

/** Frames [startFrame, endFrame) of the utterance. */
export interface FrameSpan {
  readonly startFrame: number;
  readonly endFrame: number;
}

/**
 * The pieces of an axis of a map with these axes, cropped to `crop` (the plan's; maps are square, so rows and
 * columns share it). A block map's last block may hold fewer than k frames: its piece ends where the frames do,
 * at cell frames / k, as the map is drawn (MapMarks.span).
 */
export function axisPieces(axes: PlanAxes, crop: Crop): AxisPiece[] {
  const first = crop.colStart;
  const end = crop.colEnd;
  if (axes.kind === 'frames') {
    return end > first ? [{ fromCell: 0, toCell: (end - first) / axes.framesPerCell, startFrame: first, endFrame: end }] : [];
  }
  // A segment runs from its start frame to its stop frame (where the next one starts), clamped to the frames shown,
  // as the plan pools it.
  return axes.segments.map((segment, cell) => {
    const startFrame = Math.min(Math.max(segment.startFrame, first), end);
    return { fromCell: cell, toCell: cell + 1, startFrame, endFrame: Math.min(Math.max(segment.stopFrame, startFrame), end) };
  });
}

/** The piece that holds `position` (in cells), or undefined off the axis; a piece's end belongs to the next one. */
export function pieceAt(pieces: readonly AxisPiece[], position: number): AxisPiece | undefined {
  return pieces.find((piece) => position >= piece.fromCell && position < piece.toCell);
}

/** The frame (fractional: frame f covers [f, f + 1)) at `position` in cells, or undefined off the axis. */
export function frameAt(pieces: readonly AxisPiece[], position: number): number | undefined {
  const piece = pieceAt(pieces, position);
  return piece && frameInPiece(piece, position);
}

/** The frame at `position` on the straight line through a piece's ends (also for positions outside it). */
export function frameInPiece(piece: AxisPiece, position: number): number {
  const framesPerCell = (piece.endFrame - piece.startFrame) / (piece.toCell - piece.fromCell);
  return piece.startFrame + (position - piece.fromCell) * framesPerCell;
}

/** The frames behind map cell `index` (a row or column index): one frame, a block of k, or a segment's frames. */
export function cellFrames(pieces: readonly AxisPiece[], index: number): FrameSpan | undefined {
  const piece = pieceAt(pieces, index);
  if (!piece) return undefined;
  const startFrame = Math.round(frameInPiece(piece, index));
  const endFrame = Math.min(Math.round(frameInPiece(piece, Math.min(index + 1, piece.toCell))), piece.endFrame);
  return { startFrame, endFrame };
}

/**
 * Joins neighbouring pieces (next to each other in cells and in frames) except where a frame in `boundaries` parts
 * them: over phone cells, the words tier is drawn once per word (its label once, over the word's phones), not once
 * per phone.
 */
export function joinPieces(pieces: readonly AxisPiece[], boundaries: ReadonlySet<number>): AxisPiece[] {
  const joined: AxisPiece[] = [];
  for (const piece of pieces) {
    const last = joined[joined.length - 1];
    if (last && last.toCell === piece.fromCell && last.endFrame === piece.startFrame && !boundaries.has(piece.startFrame)) {
      joined[joined.length - 1] = { ...last, toCell: piece.toCell, endFrame: piece.endFrame };
    } else {
      joined.push(piece);
    }
  }
  return joined;
}
