/**
 * The viewer's note beside the title (src/view/displayNote.ts): the frames a zoom shows, computed from the shared
 * unit-square zoom, and the "refining" line while pyramid cells are drawn coarser than the zoom needs; and what a
 * zoomed grid's cell says of its frames beside its title (src/view/axisLabels.ts zoomedCellFrames).
 */
import { describe, expect, it } from 'vitest';
import { boundaryGaps, readableBoundaries, zoomedCellFrames } from '../../src/view/axisLabels.ts';
import { displayNote, visibleFrames } from '../../src/view/displayNote.ts';

describe(visibleFrames.name, () => {
  it('is the whole map at no zoom, and the zoomed quarter at 4x in the middle', () => {
    expect(visibleFrames({ scale: 1, translateX: 0, translateY: 0 }, 100, 200)).toEqual({ rowStart: 0, rowEnd: 100, colStart: 0, colEnd: 200 });
    // x_screen = 4 x - 1.5: the screen's [0, 1] shows x in [0.375, 0.625].
    expect(visibleFrames({ scale: 4, translateX: -1.5, translateY: -1.5 }, 100, 200)).toEqual({ rowStart: 37, rowEnd: 63, colStart: 75, colEnd: 125 });
  });

  it('adds the crop origin and widens block-pooled cells to frames', () => {
    // A 60-frame crop from frame 300, and a map of 4-frame blocks: cells 10..20 of 40 are frames 40..80.
    expect(visibleFrames({ scale: 2, translateX: 0, translateY: -1 }, 60, 60, 300)).toEqual({ rowStart: 330, rowEnd: 360, colStart: 300, colEnd: 330 });
    expect(visibleFrames({ scale: 4, translateX: -1, translateY: -1 }, 40, 40, 0, 4)).toEqual({ rowStart: 40, rowEnd: 80, colStart: 40, colEnd: 80 });
  });
});

describe(displayNote.name, () => {
  const whole = { drawn: 48, waiting: 0, levels: new Map([[1, 48]]) };
  it('says nothing for an unzoomed view drawn at the resolution it needs', () => {
    expect(displayNote(undefined, whole)).toBeUndefined();
  });

  it('names the zoomed rows and columns (end inclusive)', () => {
    const note = displayNote({ rowStart: 37, rowEnd: 63, colStart: 75, colEnd: 125 }, whole)!;
    expect(note).toBe('zoomed to rows 37-62, columns 75-124 (frames); double-click resets');
  });

  it('says how many maps are still coarse and the coarsest block drawn', () => {
    const note = displayNote(undefined, { drawn: 40, waiting: 12, levels: new Map([[1, 28], [8, 12]]) })!;
    expect(note).toMatch(/^refining: 12 map\(s\) shown coarser than the zoom needs, up to means of 8 x 8 frames/);
  });
});

describe(readableBoundaries.name, () => {
  // 37 phone and 10 word boundaries over 130 frames (the reviewer's model view): phones every ~2.8 frames, words ~13.
  const phones = Array.from({ length: 37 }, (_, i) => Math.round((i * 130) / 37));
  const words = Array.from({ length: 10 }, (_, i) => i * 13 + 1);
  const gaps = boundaryGaps(phones, words);

  it('drops phone lines in a model-view thumbnail and keeps them on a figure-sized map', () => {
    expect(readableBoundaries(gaps, 62 / 130)).toEqual({ phones: false, words: false });
    expect(readableBoundaries(gaps, 100 / 130)).toEqual({ phones: false, words: true });
    expect(readableBoundaries(gaps, 640 / 130)).toEqual({ phones: true, words: true });
    expect(readableBoundaries(boundaryGaps([], []), 0.01)).toEqual({ phones: true, words: true });
  });

  it('counts lines bunched in part of the map as dense (an utterance at the start of 1500 padded frames)', () => {
    // The same lines in a 1500-frame map drawn 220 px wide: on average 220 / 48 = 4.6 px apart, but 0.4 px at the median.
    expect(readableBoundaries(gaps, 220 / 1500)).toEqual({ phones: false, words: false });
  });
});

describe(zoomedCellFrames.name, () => {
  const span = (text: string) => text.length * 6;
  const diagonal = { rowStart: 656, rowEnd: 844, colStart: 656, colEnd: 844 };
  const offDiagonal = { rowStart: 656, rowEnd: 844, colStart: 700, colEnd: 888 };

  it('names the frames (end inclusive) when the cell has room, shorter when it has less, nothing when it has none', () => {
    expect(zoomedCellFrames(diagonal, 'frames', 200, span)).toBe('frames 656-843');
    // "frames 656-843" takes 84 px here, "656-843" 42.
    expect(zoomedCellFrames(diagonal, 'frames', 60, span)).toBe('656-843');
    expect(zoomedCellFrames(diagonal, 'frames', 30, span)).toBeUndefined();
  });

  it('names rows and columns apart when they show different frames, and a pooled map its unit', () => {
    expect(zoomedCellFrames(offDiagonal, 'frames', 300, span)).toBe('rows 656-843, cols 700-887');
    expect(zoomedCellFrames(offDiagonal, 'frames', 110, span)).toBe('656-843 × 700-887');
    expect(zoomedCellFrames({ rowStart: 2, rowEnd: 5, colStart: 2, colEnd: 5 }, 'words', 200, span)).toBe('words 2-4');
  });
});
