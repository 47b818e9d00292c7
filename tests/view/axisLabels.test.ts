/**
 * Zoomed axis labels name the right words (src/view/axisLabels.ts layoutAxisLabels): the word filling most of the
 * view is labelled before a sliver at its edge, and no label leaves its segment's visible part or the map.
 * The reviewer's case (/tmp/review5/b100-z4-model-1024x700.png): a cell zoomed to frames 58-91 labelled "wash"
 * (frames 88-91) over the columns of "greasy" (55% of the view), and "suit" and the next row's "wash" ran together.
 */
import { describe, expect, it } from 'vitest';
import type { AxisTick } from '../../src/data/frames.ts';
import { MAX_LABEL_OVER_SEGMENT, layoutAxisLabels, type AxisLayout } from '../../src/view/axisLabels.ts';

/** Words of LDC93S1 by frame (as plan.ts gives them: centre and extent), 2 pixels a frame, zoomed to frames 58-91. */
const word = (label: string, from: number, to: number): AxisTick => ({ label, position: (from + to) / 2, from, to });
const WORDS = [word('suit', 47, 60), word('in', 60, 64), word('greasy', 64, 82), word('an', 82, 88), word('wash', 88, 100)];
const ZOOMED: AxisLayout = { toPx: (frame) => (frame - 58) * 2, startPx: 0, endPx: 66, labelSpan: (text) => text.length * 7 + 6 };

/** Where a tick's segment shows in the view, in pixels. */
const visiblePart = (tick: AxisTick, layout: AxisLayout) => [
  Math.max(layout.toPx(tick.from!), layout.startPx),
  Math.min(layout.toPx(tick.to!), layout.endPx),
];

describe(layoutAxisLabels.name, () => {
  it('labels the word covering most of the view first, not the first word from the left', () => {
    const placed = layoutAxisLabels(WORDS, [], ZOOMED);
    expect(placed.map((l) => l.text)).toContain('greasy');
    // "greasy" stays over its own frames, at its centre.
    expect(placed.find((l) => l.text === 'greasy')!.px).toBe(ZOOMED.toPx(73));
  });

  it('keeps every label inside the view, and a cut segment\'s label inside its part in view', () => {
    for (const endPx of [66, 80, 120]) {
      const layout = { ...ZOOMED, endPx };
      for (const label of layoutAxisLabels(WORDS, [], layout)) {
        const half = layout.labelSpan(label.text) / 2;
        expect(label.px - half, label.text).toBeGreaterThanOrEqual(layout.startPx);
        expect(label.px + half, label.text).toBeLessThanOrEqual(layout.endPx);
        const tick = WORDS.find((w) => label.text === w.label || (label.text.endsWith('…') && w.label.startsWith(label.text.slice(0, -1))))!;
        const [low, high] = visiblePart(tick, layout);
        expect(label.px, label.text).toBeGreaterThanOrEqual(low);
        expect(label.px, label.text).toBeLessThanOrEqual(high);
        if (layout.toPx(tick.to!) > layout.endPx || layout.toPx(tick.from!) < layout.startPx) {
          expect(label.px - half, label.text).toBeGreaterThanOrEqual(low);
          expect(label.px + half, label.text).toBeLessThanOrEqual(high);
        }
      }
    }
  });

  it('shortens a cut word with an ellipsis, or leaves it out: never a different word', () => {
    // "dark" over frames 20-40, 2 pixels a frame: 40..80 px, cut by the view's end.
    const dark = [word('dark', 20, 40)];
    const layout = (endPx: number): AxisLayout => ({ toPx: (frame) => frame * 2, startPx: 0, endPx, labelSpan: (text) => text.length * 7 + 6 });
    // 28 pixels of "dark" in view: "dark" needs 34, "da…" 27.
    expect(layoutAxisLabels(dark, [], layout(68)).map((l) => l.text)).toEqual(['da…']);
    // 20 pixels: not even "da…": left out rather than "d…" or a clipped "da".
    expect(layoutAxisLabels(dark, [], layout(60))).toEqual([]);
    // Whole in view: the word itself.
    expect(layoutAxisLabels(dark, [], layout(200)).map((l) => l.text)).toEqual(['dark']);
  });

  it('keeps a whole segment\'s label off the map\'s end, moving it in along its own segment', () => {
    // "wash" 88-91 ends the view exactly: its 34-pixel label centred at its 3 frames would hang past the end.
    const placed = layoutAxisLabels([word('wash', 80, 91)], [], { ...ZOOMED, endPx: 66 });
    expect(placed).toHaveLength(1);
    expect(placed[0].px + ZOOMED.labelSpan('wash') / 2).toBeLessThanOrEqual(66);
  });

  it('leaves out a label many times wider than its word, where it would read as a heading over other words', () => {
    // The heads grid of all 1500 frames at 220 pixels a cell (the reviewer's case): LDC93S1's words fill frames
    // 5-146, the first 21 pixels, and "greasy", kept first for its length, was drawn over the cell's first 45.
    const ALL_FRAMES: AxisLayout = { toPx: (frame) => (frame * 220) / 1500, startPx: 0, endPx: 220, labelSpan: (text) => text.length * 7 + 6 };
    const utterance = [word('she', 5, 20), word('had', 20, 33), word('your', 33, 45), word('dark', 45, 60), ...WORDS.slice(1), word('water', 100, 118), word('all', 118, 130), word('year', 130, 146)];
    expect(layoutAxisLabels(utterance, [], ALL_FRAMES)).toEqual([]);
    // Wider (1.5 pixels a frame), the words get labels again, none over 3x its word.
    const wider = { ...ALL_FRAMES, toPx: (frame: number) => frame * 1.5 };
    const placed = layoutAxisLabels(utterance, [], wider);
    expect(placed.length).toBeGreaterThan(3);
    for (const label of placed) {
      const tick = utterance.find((w) => label.text === w.label || (label.text.endsWith('…') && w.label.startsWith(label.text.slice(0, -1))))!;
      const [low, high] = visiblePart(tick, wider);
      expect(wider.labelSpan(label.text), label.text).toBeLessThanOrEqual(MAX_LABEL_OVER_SEGMENT * (high - low));
    }
  });

  it('keeps a narrow word\'s label that overhangs it by a little, and shortens one that would overhang by more', () => {
    const layout: AxisLayout = { toPx: (frame) => frame * 2, startPx: 0, endPx: 400, labelSpan: (text) => text.length * 7 + 6 };
    // "in" over 8 pixels with a 20-pixel label: kept whole, centred on its frames.
    expect(layoutAxisLabels([word('in', 60, 64)], [], layout)).toEqual([{ text: 'in', px: 124, kind: 'major' }]);
    // "greasy" over 12 pixels: its 48-pixel label is over 3x; "gre…" (34 pixels) is not.
    expect(layoutAxisLabels([word('greasy', 64, 70)], [], layout).map((l) => l.text)).toEqual(['gre…']);
  });
});

