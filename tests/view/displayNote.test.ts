/**
 * The viewer's note beside the title (src/view/displayNote.ts): the frames a zoom shows, computed from the shared
 * unit-square zoom, and the "refining" line while pyramid cells are drawn coarser than the zoom needs.
 */
import { describe, expect, it } from 'vitest';
import { readableBoundaries } from '../../src/view/axisLabels.ts';
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
  it('drops phone lines in a model-view thumbnail and keeps them on a figure-sized map', () => {
    // 62 pixels for 37 phone and 10 word boundaries (the reviewer's 1024 x 700 model view): 1.3 px apart.
    expect(readableBoundaries(37, 10, 62)).toEqual({ phones: false, words: false });
    expect(readableBoundaries(37, 10, 100)).toEqual({ phones: false, words: true });
    expect(readableBoundaries(37, 10, 640)).toEqual({ phones: true, words: true });
    expect(readableBoundaries(0, 0, 1)).toEqual({ phones: true, words: true });
  });
});
