/**
 * Rectangles of a map, and which columns a softmax normalises. Shared by the passes, their CPU references and the
 * engine's requests.
 */
import { MapRequestError } from './requestError.ts';

/** A rectangle of a map: rows [rowStart, rowEnd) and columns [colStart, colEnd), ends exclusive (Python slices). */
export interface Crop {
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly colStart: number;
  readonly colEnd: number;
}

/**
 * Which columns a softmax normalises. 'none': no softmax (the values as stored). 'row': the whole row (the last
 * axis) and then the crop, as STEVE does (torch softmax(dim=-1), then slicing). 'crop': only the crop's columns, so
 * each cropped row sums to 1.
 */
export type SoftmaxScope = 'none' | 'row' | 'crop';

/** The crop covering a whole rows x cols map. */
export function fullCrop(rows: number, cols: number): Crop {
  return { rowStart: 0, rowEnd: rows, colStart: 0, colEnd: cols };
}

/** Whether `crop` covers the whole rows x cols map. */
export function isFullCrop(crop: Crop, rows: number, cols: number): boolean {
  return crop.rowStart === 0 && crop.colStart === 0 && crop.rowEnd === rows && crop.colEnd === cols;
}

/** Rows of a crop. */
export function cropRows(crop: Crop): number {
  return crop.rowEnd - crop.rowStart;
}

/** Columns of a crop. */
export function cropCols(crop: Crop): number {
  return crop.colEnd - crop.colStart;
}

/** Throws a MapRequestError naming `owner` unless `crop` is a non-empty integer rectangle inside a rows x cols map. */
export function checkCrop(owner: string, crop: Crop, rows: number, cols: number): void {
  const { rowStart, rowEnd, colStart, colEnd } = crop;
  const integers = [rowStart, rowEnd, colStart, colEnd].every(Number.isInteger);
  if (!integers || rowStart < 0 || colStart < 0 || rowEnd > rows || colEnd > cols || rowStart >= rowEnd || colStart >= colEnd) {
    throw new MapRequestError(
      `${owner}: crop rows ${rowStart}..${rowEnd}, columns ${colStart}..${colEnd} (ends exclusive) is not a ` +
        `non-empty rectangle inside the ${rows} x ${cols} map`,
    );
  }
}

/** Source columns [start, end) that the softmax normalises for `scope` ('none' gives the crop's, unused). */
export function normalisedColumns(scope: SoftmaxScope, crop: Crop, cols: number): [number, number] {
  return scope === 'row' ? [0, cols] : [crop.colStart, crop.colEnd];
}
