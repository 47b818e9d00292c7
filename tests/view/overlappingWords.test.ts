/**
 * TIMIT's words may overlap (LDC93S1.wrd: "had" 5723-10337, "your" 9190-11517). Their labels stay in the blocks
 * between the lines drawn at the words' starts: on the map's axes (plan.ts word labels, by data/segment.ts labelEnd)
 * and on the word tier (strips.ts layoutTierLabels), instead of "had" sitting on the had|your line.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Alignment } from '../../src/data/alignment.ts';
import { selectWords } from '../../src/data/frames.ts';
import { STEVE_SAMPLE_RATE } from '../../src/data/segment.ts';
import { parseTimitSegments } from '../../src/data/timit.ts';
import { layoutTierLabels } from '../../src/ui/strips.ts';
import { marksOf } from '../../src/view/plan.ts';

const SAMPLES = new URL('../../demo/public/samples/timit/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, SAMPLES), 'utf8');
const words = parseTimitSegments(read('LDC93S1.wrd'), 'LDC93S1.wrd');
const alignment: Alignment = { source: 'timit', text: '', phones: parseTimitSegments(read('LDC93S1.phn'), 'LDC93S1.phn'), words };
/** Whisper's 320 samples (20 ms) a frame. */
const SPF = 320;

describe('labels of overlapping words (LDC93S1)', () => {
  it('centres each word label on the map between its own word line and the next', () => {
    const selection = selectWords(alignment, SPF, 0, 3);
    const { startFrame, frameCount } = selection.crop;
    const crop = { rowStart: startFrame, rowEnd: startFrame + frameCount, colStart: startFrame, colEnd: startFrame + frameCount };
    const marks = marksOf({ kind: 'frames', framesPerCell: 1 }, selection, crop, frameCount);
    const lines = marks.wordBoundaries;
    const had = marks.wordLabels.find((tick) => tick.label === 'had')!;
    // "had" runs into "your"'s frames: its block ends at your's line, and its label is that block's centre.
    const [hadLine, yourLine] = [lines[1], lines[2]];
    expect(selection.words[1].stopFrame - startFrame).toBeGreaterThan(yourLine);
    expect([had.from, had.to]).toEqual([hadLine, yourLine]);
    expect(had.position).toBe((hadLine + yourLine) / 2);
    // Every word label lies strictly between two neighbouring lines, clear of both.
    for (const tick of marks.wordLabels) {
      const block = lines.findIndex((line, i) => line < tick.position && tick.position < lines[i + 1]);
      expect(block, tick.label).toBeGreaterThanOrEqual(0);
    }
  });

  it('centres the word tier\'s "had" on the part before "your" starts', () => {
    const view = { startSec: 0, endSec: 46720 / STEVE_SAMPLE_RATE, x: 0, y: 0, width: 2920, height: 20 };
    const placed = layoutTierLabels(words, view, (label) => label.length * 7, 4);
    const px = (sample: number) => (sample / 46720) * 2920;
    const had = placed.find((label) => words[label.index].label === 'had')!;
    expect((had.start + had.end) / 2).toBeCloseTo((px(5723) + px(9190)) / 2, 6);
    // Clear of the line at "your"'s start.
    expect(had.end).toBeLessThan(px(9190));
  });

  it('writes a word the tier\'s edge cuts whole, with an ellipsis, or not at all: never "dar" for "dark"', () => {
    // "dark" 11517-16334; the view ends partway into it. 7 pixels a character.
    const at = (endSample: number) => {
      const view = { startSec: 9190 / STEVE_SAMPLE_RATE, endSec: endSample / STEVE_SAMPLE_RATE, x: 0, y: 0, width: (endSample - 9190) / 16, height: 20 };
      const dark = layoutTierLabels(words, view, (label) => label.length * 7, 4).find((label) => words[label.index].label === 'dark');
      return dark && { text: dark.text ?? 'dark', start: dark.start, end: dark.end, edge: view.width, from: (11517 - 9190) / 16 };
    };
    // 26 pixels of "dark" in view: "dark" needs 28, "da…" 21.
    const cut = at(11517 + 26 * 16)!;
    expect(cut.text).toBe('da…');
    expect(cut.end).toBeLessThanOrEqual(cut.edge);
    expect(cut.start).toBeGreaterThanOrEqual(cut.from);
    // 12 pixels: left out.
    expect(at(11517 + 12 * 16)).toBeUndefined();
    // All of it: the word itself.
    expect(at(16334)!.text).toBe('dark');
  });
});
