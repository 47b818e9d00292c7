/**
 * A figure's title and subtitle fitted to its width, by one rule for every figure (single map, grid, pair, atlas):
 * a heading that fits over the figure's own content stays as it is; a subtitle too long for it wraps at its " | "
 * separators onto the lines the figure's layout has room for (a single map's 190-pixel top margin has room for two);
 * only what still does not fit widens the figure. A paper figure of one zoomed map wants the map, its labels and its
 * colour bar at the size of the map, not 600 pixels of white beside a narrow map to hold a one-line subtitle; and a
 * subtitle cut off at both ends loses what it is there for (the utterance, the zoom).
 */
import { SUBTITLE_SEPARATOR } from '../view/titles.ts';

/** Font sizes of the title (bold) and subtitle, in figure pixels, as every figure draws them. */
const TITLE_FONT_SIZE = 15;
const SUBTITLE_FONT_SIZE = 12;
/** Baseline of the title, of the subtitle's first line, and the step to its next line. */
const TITLE_Y = 22;
const SUBTITLE_Y = 40;
const SUBTITLE_LINE_STEP = 15;

/**
 * Advance widths of DejaVu Sans (regular, then bold) for the printable ASCII characters (space .. tilde), in
 * thousandths of an em, read from the fonts' own metrics (FreeType, unhinted). DejaVu Sans is the first of the
 * figures' fonts and the widest of them (Liberation Sans and Arial are narrower), so text measured by it fits.
 */
const DEJAVU_SANS_ADVANCE = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337,
  838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989,
  685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521,
  392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];
const DEJAVU_SANS_BOLD_ADVANCE = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400,
  838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103,
  771, 724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595,
  478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
];
/** A character outside printable ASCII: a wide letter's advance (an em for CJK and other wide scripts). */
const OTHER_ADVANCE = 800;
const WIDE_ADVANCE = 1000;
/** Room for rendering differences (hinting, kerning, a fallback font): 3%. */
const WIDTH_MARGIN = 1.03;

/** Width of a line of text in the figure font, in figure pixels: DejaVu Sans's advances, a little over. */
export function textWidth(text: string, fontSize: number, bold = false): number {
  const advances = bold ? DEJAVU_SANS_BOLD_ADVANCE : DEJAVU_SANS_ADVANCE;
  let thousandths = 0;
  for (const character of text) {
    const code = character.codePointAt(0)!;
    thousandths += code >= 32 && code < 127 ? advances[code - 32] : code >= 0x2e80 ? WIDE_ADVANCE : OTHER_ADVANCE;
  }
  return (thousandths / 1000) * fontSize * WIDTH_MARGIN;
}

/** Where a figure's heading goes and how wide the figure must be for it. */
export interface FittedHeading {
  /** The figure's width: its content's, or wider where the heading needed it. */
  readonly width: number;
  /** x of the heading's centre: the content's centre, or the figure's when it was widened. */
  readonly centre: number;
  /** The subtitle's lines (none without a subtitle). */
  readonly subtitleLines: readonly string[];
}

/**
 * Fits a heading over content `contentWidth` wide whose heading is centred at `centre`, keeping `pad` pixels from
 * the figure's edges, with at most `maxSubtitleLines` lines of subtitle (see the file comment).
 */
export function fitHeading(
  heading: { readonly title: string; readonly subtitle?: string },
  contentWidth: number,
  centre: number,
  pad: number,
  maxSubtitleLines: number,
): FittedHeading {
  const room = 2 * Math.min(centre, contentWidth - centre) - 2 * pad;
  const subtitle = heading.subtitle ?? '';
  const titleWidth = textWidth(heading.title, TITLE_FONT_SIZE, true);
  // The subtitle's lines when the heading fits in `width`: the title within it, the subtitle wrapped onto the lines
  // there are, each within it.
  const linesIfFits = (width: number): string[] | undefined => {
    const lines = subtitle ? wrapSubtitle(subtitle, width) : [];
    return titleWidth <= width && lines.length <= maxSubtitleLines && lines.every((line) => textWidth(line, SUBTITLE_FONT_SIZE) <= width) ? lines : undefined;
  };
  const inRoom = linesIfFits(room);
  if (inRoom) return { width: contentWidth, centre, subtitleLines: inRoom };
  // The narrowest text width at which the heading fits: one of the widths of the subtitle's lines as the wrap would
  // break them, so try each run of its parts (the whole subtitle on one line, the widest, always fits).
  const parts = subtitle ? subtitle.split(SUBTITLE_SEPARATOR) : [];
  const candidates = new Set<number>([titleWidth]);
  for (let start = 0; start < parts.length; start++) {
    for (let end = start + 1; end <= parts.length; end++) candidates.add(textWidth(parts.slice(start, end).join(SUBTITLE_SEPARATOR), SUBTITLE_FONT_SIZE));
  }
  for (const textRoom of [...candidates].sort((a, b) => a - b)) {
    const lines = linesIfFits(textRoom);
    if (!lines) continue;
    const width = Math.ceil(Math.max(contentWidth, textRoom + 2 * pad));
    return { width, centre: width / 2, subtitleLines: lines };
  }
  throw new Error(`fitHeading: no width fits the heading "${heading.title}" in ${maxSubtitleLines} subtitle line(s)`);
}

/** The subtitle broken at its separators into lines of at most `width` pixels where a part allows (greedy). */
function wrapSubtitle(subtitle: string, width: number): string[] {
  const lines: string[] = [];
  for (const part of subtitle.split(SUBTITLE_SEPARATOR)) {
    const last = lines.length - 1;
    const joined = last >= 0 ? lines[last] + SUBTITLE_SEPARATOR + part : part;
    if (last >= 0 && textWidth(joined, SUBTITLE_FONT_SIZE) <= width) lines[last] = joined;
    else lines.push(part);
  }
  return lines;
}

/** The title and subtitle lines as SVG text elements (see fitHeading). */
export function headingSvg(title: string, fitted: FittedHeading): string[] {
  return [
    `<text x="${fitted.centre}" y="${TITLE_Y}" font-size="${TITLE_FONT_SIZE}" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
    ...fitted.subtitleLines.map(
      (line, i) =>
        `<text x="${fitted.centre}" y="${SUBTITLE_Y + i * SUBTITLE_LINE_STEP}" font-size="${SUBTITLE_FONT_SIZE}" text-anchor="middle" fill="#444">${escapeXml(line)}</text>`,
    ),
  ];
}

/** Text made safe inside SVG elements and attribute values. */
export const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
