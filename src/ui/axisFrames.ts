/**
 * Which frames of the utterance lie under a position on a map's axis. A map cell is one frame, a block of k frames
 * (--pool k) or one phone or word (pooled onto segments), so the axis is cut into pieces, each a run of consecutive
 * frames stretched evenly over a run of cells: one piece for frames and blocks, one per cell for segments. The audio
 * strips draw each piece's stretch of audio over its cells, and a click plays the frames of the cell under it.
 * Pure: tested in Node (tests/ui/axisFrames.test.ts).
 */
import type { Crop } from '../compute/region.ts';
import type { PlanAxes } from '../view/plan.ts';

/**
 * Cells [fromCell, toCell) of the axis show frames [startFrame, endFrame) of the utterance, evenly spread, and the
 * audio from startSec to endSec: the frames' times, or for a phone or word its own times (its frames are rounded to
 * whole frames, so the audio strips over its cell show exactly that segment and none of its neighbours).
 */
export interface AxisPiece {
  readonly fromCell: number;
  readonly toCell: number;
  readonly startFrame: number;
  readonly endFrame: number;
  readonly startSec: number;
  readonly endSec: number;
}

/** Frames [startFrame, endFrame) of the utterance, and the audio they stand for (a segment's own times). */
export interface FrameSpan {
  readonly startFrame: number;
  readonly endFrame: number;
  readonly startSec: number;
  readonly endSec: number;
}

/**
 * The pieces of an axis of a map with these axes, cropped to `crop` (the plan's; maps are square, so rows and
 * columns share it); frame f starts at f * secondsPerFrame. A block map's last block may hold fewer than k frames:
 * its piece ends where the frames do, at cell frames / k, as the map is drawn (MapMarks.span).
 */
export function axisPieces(axes: PlanAxes, crop: Crop, secondsPerFrame: number): AxisPiece[] {
  const first = crop.colStart;
  const end = crop.colEnd;
  const firstSec = first * secondsPerFrame;
  const endSec = end * secondsPerFrame;
  if (axes.kind === 'frames') {
    return end > first ? [{ fromCell: 0, toCell: (end - first) / axes.framesPerCell, startFrame: first, endFrame: end, startSec: firstSec, endSec }] : [];
  }
  // A segment runs from its start frame to its stop frame (where the next one starts), clamped to the frames shown,
  // as the plan pools it; its audio is its own, clamped to the frames shown.
  const clamp = (value: number, low: number, high: number) => Math.min(Math.max(value, low), high);
  return axes.segments.map((segment, cell) => {
    const startFrame = clamp(segment.startFrame, first, end);
    const startSec = clamp(segment.startSec, firstSec, endSec);
    return {
      fromCell: cell,
      toCell: cell + 1,
      startFrame,
      endFrame: clamp(segment.stopFrame, startFrame, end),
      startSec,
      endSec: clamp(segment.endSec, startSec, endSec),
    };
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

/** The time of the audio at `position` in a piece (seconds), on the straight line through its ends. */
export function secondsInPiece(piece: AxisPiece, position: number): number {
  return piece.startSec + ((position - piece.fromCell) / (piece.toCell - piece.fromCell)) * (piece.endSec - piece.startSec);
}

/** The frames behind map cell `index` (a row or column index): one frame, a block of k, or a segment's frames and time. */
export function cellFrames(pieces: readonly AxisPiece[], index: number): FrameSpan | undefined {
  const piece = pieceAt(pieces, index);
  if (!piece) return undefined;
  const end = Math.min(index + 1, piece.toCell);
  const startFrame = Math.round(frameInPiece(piece, index));
  const endFrame = Math.min(Math.round(frameInPiece(piece, end)), piece.endFrame);
  return { startFrame, endFrame, startSec: secondsInPiece(piece, index), endSec: secondsInPiece(piece, end) };
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
      joined[joined.length - 1] = { ...last, toCell: piece.toCell, endFrame: piece.endFrame, endSec: piece.endSec };
    } else {
      joined.push(piece);
    }
  }
  return joined;
}
