/**
 * The view plan, one test per view kind, for both front ends: each spec is reached once through `steve render`'s
 * option values (parseViewSpec, as Commander hands them over) and once through the argument list the viewer keeps
 * in its URL hash and window.steve.setView (formatViewArgs -> parseViewArgs), and both must give the same plan.
 *
 * The utterance is synthetic: 16 frames at 320 samples per frame, phones h# p1 p2 | p3 p4 h# and words "a" (p1 p2)
 * and "b" (p3 p4), so every expected frame is counted by hand below.
 */
import { describe, expect, it } from 'vitest';
import { computeMapCpu } from '../../src/compute/mapRequest.cpu.ts';
import { segmentPoolCpu } from '../../src/compute/segmentPool.cpu.ts';
import type { Alignment } from '../../src/data/alignment.ts';
import type { AttentionShape } from '../../src/data/tensor.ts';
import type { SegmentPoolMapRequest } from '../../src/engine.ts';
import { figureAxesOf } from '../../src/figure/figureAxes.ts';
import type { MapMarks, PlanTensors, PlanUtterance, ViewPlan } from '../../src/view/plan.ts';
import { cellMarks, planView } from '../../src/view/plan.ts';
import type { ViewOptionValues, ViewSpec } from '../../src/view/spec.ts';
import { ViewError, formatViewArgs, parseViewArgs, parseViewSpec } from '../../src/view/spec.ts';

const SPF = 320;
const FRAMES = 16;
const SHAPE: AttentionShape = { layers: 3, heads: 2, rows: FRAMES, cols: FRAMES };
/** Phones as [label, startFrame, stopFrame): a phone's stop frame is where the next one starts. */
const PHONES: [string, number, number][] = [
  ['h#', 0, 2],
  ['p1', 2, 4],
  ['p2', 4, 6],
  ['p3', 6, 9],
  ['p4', 9, 12],
  ['h#', 12, 16],
];
const WORDS: [string, number, number][] = [
  ['a', 2, 6],
  ['b', 6, 12],
];
const segments = (list: [string, number, number][]) => list.map(([label, start, stop]) => ({ label, startSample: start * SPF, endSample: stop * SPF }));
const ALIGNMENT: Alignment = { source: 'timit', text: 'a b', phones: segments(PHONES), words: segments(WORDS) };

function utterance(name: string, shape: AttentionShape = SHAPE, withAlignment = true): PlanUtterance {
  return {
    name,
    attention: { fileName: `${name}.npy`, shape } as PlanUtterance['attention'],
    alignment: withAlignment ? ALIGNMENT : undefined,
    spf: withAlignment ? { samplesPerFrame: SPF, source: 'user' } : undefined,
    audioFileName: withAlignment ? `${name}.wav` : undefined,
  };
}

const TENSORS: PlanTensors = { tensorId: 'u' };

/** The plan of `options` through both front ends' spellings, checked to be the same. */
function planBoth(options: ViewOptionValues, subject = utterance('utt'), tensors = TENSORS): ViewPlan {
  const fromCli: ViewSpec = parseViewSpec(options);
  const fromViewer: ViewSpec = parseViewArgs(formatViewArgs(fromCli));
  expect(fromViewer).toEqual(fromCli);
  const plan = planView(fromCli, subject, tensors);
  expect(planView(fromViewer, subject, tensors)).toEqual(plan);
  return plan;
}

/** Phone index of each frame (-1 for none). */
function phoneOfFrame(): number[] {
  const of = new Array<number>(FRAMES).fill(-1);
  PHONES.forEach(([, start, stop], index) => {
    for (let f = start; f < stop; f++) of[f] = index;
  });
  return of;
}

/** A tensor constant within each phone x phone block: value 10 x row phone + column phone (+ layer, head). */
function blockTensor(): { shape: AttentionShape; layer(layer: number): Float32Array } {
  const of = phoneOfFrame();
  return {
    shape: SHAPE,
    layer: (layer) => {
      const values = new Float32Array(SHAPE.heads * FRAMES * FRAMES);
      for (let head = 0; head < SHAPE.heads; head++) {
        for (let row = 0; row < FRAMES; row++) {
          for (let col = 0; col < FRAMES; col++) values[(head * FRAMES + row) * FRAMES + col] = 10 * of[row] + of[col] + 100 * layer + 1000 * head;
        }
      }
      return values;
    },
  };
}

/**
 * Every boundary line of `marks` lies on an edge where the block tensor's value changes, never inside a uniform
 * block; and every change of value along the axis has a line.
 */
function expectLinesOnBlockEdges(marks: MapMarks, rowValues: Float64Array | Float32Array, cols: number): void {
  const lines = [...marks.phoneBoundaries, ...marks.wordBoundaries];
  for (const line of lines) {
    expect(Number.isInteger(line), `line at ${line} is on a cell edge`).toBe(true);
    if (line <= 0 || line >= cols) continue;
    expect(rowValues[line - 1], `line at ${line} separates two blocks`).not.toBe(rowValues[line]);
  }
  for (let col = 1; col < cols; col++) {
    if (rowValues[col - 1] !== rowValues[col]) expect(lines, `a line where the block changes, at ${col}`).toContain(col);
  }
}

describe('planView: boundaries on cell edges', () => {
  it('draws no line inside a uniform phone x phone block: cropped to words, every frame, pooled onto phones', () => {
    const tensor = blockTensor();
    for (const options of [{ words: '0:1' }, { words: '1' }, { full: true }] as ViewOptionValues[]) {
      const plan = planBoth({ layer: '1', head: '0', softmax: 'none', ...options });
      const map = computeMapCpu(plan.cells[0].request, () => tensor);
      expect(map.cols).toBe(plan.marks.cells);
      for (let row = 0; row < map.rows; row += 3) expectLinesOnBlockEdges(plan.marks, map.values.subarray(row * map.cols, (row + 1) * map.cols), map.cols);
    }
    const pooled = planBoth({ pool: 'phones', layer: '1', softmax: 'none', words: '0:1' });
    const request = pooled.cells[0].request as SegmentPoolMapRequest;
    const source = computeMapCpu(request.source, () => tensor);
    const { mean, max } = segmentPoolCpu(Float32Array.from(source.values), source.rows, source.cols, request.rowSegments, request.colSegments);
    // Each pooled cell is one block's constant (mean = max): the pooling ranges are exactly the phones' frames.
    const phones = pooled.axes.kind === 'segments' ? pooled.axes.segments.map((s) => s.label) : [];
    expect(phones).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(Array.from(mean.subarray(0, 4))).toEqual([11, 12, 13, 14].map((v) => v + 100));
    expect(Array.from(mean)).toEqual(Array.from(max));
    expect(pooled.marks).toMatchObject({ cells: 4, wordBoundaries: [2], phoneBoundaries: [1, 3] });
  });

  it('puts a boundary at frame f on the edge between cells f-1 and f, in map cells, and in figure pixels', () => {
    const plan = planBoth({ words: '0:1' });
    // Words a b: frames 2 ..= 12 (STEVE's crop keeps the stop frame), so cell 0 is frame 2.
    expect(plan.crop).toEqual({ rowStart: 2, rowEnd: 13, colStart: 2, colEnd: 13 });
    expect(plan.marks.phoneBoundaries).toEqual([0, 2, 4, 7, 10]);
    expect(plan.marks.wordBoundaries).toEqual([0, 4, 10]);
    const axes = figureAxesOf(plan.marks, 110);
    expect(axes.wordBoundaries).toEqual([0, 40, 100]);
  });
});

describe('planView: one test per view kind', () => {
  it('map: one attention request, cropped to the words, named in the title and subtitle', () => {
    const plan = planBoth({ layer: '2', head: '1', words: '1' });
    expect(plan.cells).toHaveLength(1);
    expect(plan.cells[0]).toMatchObject({
      title: 'L2 H1',
      request: { kind: 'attention', tensorId: 'u', layer: 2, head: 1, softmax: 'row', crop: { rowStart: 6, rowEnd: 13 } },
    });
    expect(plan.title).toBe("Word(s): 'b'");
    expect(plan.subtitle).toBe('Utterance: utt | Encoder attention layer 2, head 1 | softmax over rows | linear scale');
    expect(plan.colorbar).toEqual({ label: 'attention (softmax)', colormap: 'viridis', diverging: false });
    expect(plan.range).toEqual({ scale: 'linear', clip: [1, 99], symmetric: false, shared: true });
    expect(planBoth({ softmax: 'none' }).colorbar.label).toBe('raw score');
  });

  it('heads: every head and their mean on one shared colour scale, or per-map when asked and said', () => {
    const plan = planBoth({ head: 'all', layer: '1' });
    expect(plan.cells.map((cell) => cell.title)).toEqual(['L1 H0', 'L1 H1', 'L1 mean']);
    expect(plan.columns).toBe(2);
    expect(plan.range.shared).toBe(true);
    const perMap = planBoth({ view: 'heads', layer: '1', colorRange: 'per-map' });
    expect(perMap.range.shared).toBe(false);
    expect(perMap.subtitle).toContain('each map its own range');
  });

  it('model: every layer x head, in rows of heads', () => {
    const plan = planBoth({ view: 'model', scale: 'log' });
    expect(plan.cells.map((cell) => cell.title)).toEqual(['L0 H0', 'L0 H1', 'L1 H0', 'L1 H1', 'L2 H0', 'L2 H1']);
    expect(plan.columns).toBe(2);
    expect(plan.subtitle).toContain('log scale');
  });

  it('pooled: segment axes and edges, pooling and statistic in the title and colour bar', () => {
    const words = planBoth({ pool: 'words', poolStat: 'max', head: 'mean' });
    expect(words.axes).toMatchObject({ kind: 'segments', unit: 'words' });
    expect(words.marks).toMatchObject({ cells: 2, wordLabels: [{ position: 0.5, label: 'a' }, { position: 1.5, label: 'b' }], wordBoundaries: [1] });
    expect(words.subtitle).toContain('pooled: max over each word');
    expect(words.colorbar.label).toBe('attention (softmax), max over each word');
    expect(words.cells[0].title).toBe('L0 mean, max over each word');
    const block = planBoth({ pool: '4' });
    expect(block.axes).toEqual({ kind: 'frames', framesPerCell: 4 });
    expect(block.cells[0].request).toMatchObject({ kind: 'blockPool', block: 4, stat: 'mean' });
    expect(block.marks.cells).toBe(3); // 11 frames in blocks of 4
    // The last block holds 3 frames: the axis spans 2.75 cells, so in a 110-pixel figure a frame is 10 pixels.
    expect(block.marks.span).toBe(2.75);
    expect(figureAxesOf(block.marks, 110).wordBoundaries).toEqual([0, 40, 100]);
  });

  it('pooled with every frame: every segment of the tier, leading and trailing silences included', () => {
    const plan = planBoth({ pool: 'phones', full: true });
    expect(plan.title).toBe('All frames');
    expect(plan.axes.kind === 'segments' && plan.axes.segments.map((s) => s.label)).toEqual(['h#', 'p1', 'p2', 'p3', 'p4', 'h#']);
    const request = plan.cells[0].request as SegmentPoolMapRequest;
    expect(request.rowSegments).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 4 },
      { start: 4, end: 6 },
      { start: 6, end: 9 },
      { start: 9, end: 12 },
      { start: 12, end: 16 },
    ]);
    // Every frame labels the whole utterance, not only the selected words.
    const frames = planBoth({ full: true });
    expect(frames.marks.phoneLabels.map((tick) => tick.label)).toEqual(['h#', 'p1', 'p2', 'p3', 'p4', 'h#']);
    expect(frames.marks.wordLabels.map((tick) => tick.label)).toEqual(['a', 'b']);
  });

  it('puts each phone label midway between the boundary lines on its edges, as both front ends draw them', () => {
    const plan = planBoth({ full: true });
    const edges = [0, ...plan.marks.phoneBoundaries, FRAMES];
    expect(plan.marks.phoneBoundaries).toEqual([2, 4, 6, 9, 12]);
    // p3 covers cells 6, 7, 8 (edges 6 and 9): its label at 7.5, not at 8 (half a frame late).
    expect(plan.marks.phoneLabels.map((tick) => tick.position)).toEqual(edges.slice(1).map((stop, i) => (edges[i] + stop) / 2));
    const words = planBoth({ words: '1:1' });
    expect(words.marks.phoneLabels).toEqual([
      { position: 1.5, label: 'p3', from: 0, to: 3 },
      { position: 4.5, label: 'p4', from: 3, to: 6 },
    ]);
    expect(words.marks.phoneBoundaries).toEqual([0, 3, 6]);
  });

  it('difference: names both maps and the other utterance, diverging and symmetric', () => {
    const same = planBoth({ layer: '1', head: '0', compareHead: '1' });
    expect(same.cells[0].title).toBe('L1 H0 − L1 H1');
    expect(same.colorbar).toEqual({ label: 'difference of attention (softmax)', colormap: 'diverging', diverging: true });
    expect(same.range.symmetric).toBe(true);
    const other = utterance('other');
    const tensors: PlanTensors = { tensorId: 'u', compare: { tensorId: 'o', utterance: other } };
    const across = planBoth({ view: 'difference', compareAttention: 'other.npy' }, utterance('utt'), tensors);
    expect(across.cells[0].title).toBe('L0 H0 − L0 H0 of other');
    expect(across.cells[0].request).toMatchObject({ kind: 'difference', subtrahend: { tensorId: 'o' } });
    const small = { tensorId: 'o', utterance: utterance('small', { ...SHAPE, rows: 8, cols: 8 }) };
    expect(() => planView(parseViewSpec({ view: 'difference', compareAttention: 'small.npy' }), utterance('utt'), { tensorId: 'u', compare: small })).toThrow(
      /small\.npy has 8 x 8 maps but utt\.npy has 16 x 16/,
    );
  });

  it('pair: the same layer and head of two utterances, each cropped to its own words', () => {
    const other = utterance('other');
    const plan = planBoth({ view: 'pair', compareAttention: 'other.npy', layer: '1', words: '1' }, utterance('utt'), { tensorId: 'u', compare: { tensorId: 'o', utterance: other } });
    expect(plan.cells.map((cell) => cell.title)).toEqual(['utt L1 H0', 'other L1 H0']);
    expect(plan.cells[1].request).toMatchObject({ tensorId: 'o', crop: { rowStart: 6, rowEnd: 13 } });
    expect(plan.cells[1].other?.marks.wordBoundaries).toEqual([0, 6]);
    // The title names both utterances and the words each shows; each map's labels are its own utterance's.
    expect(plan.title).toBe("utt: word 1 'b' | other: word 1 'b'");
    expect(cellMarks(plan, 0)).toBe(plan.marks);
    expect(cellMarks(plan, 1)).toBe(plan.cells[1].other?.marks);
    expect(cellMarks(plan, 1).phoneLabels.map((tick) => tick.label)).toEqual(['p3', 'p4']);
    const wide = planBoth({ view: 'pair', compareAttention: 'other.npy', words: '0:1' }, utterance('utt'), { tensorId: 'u', compare: { tensorId: 'o', utterance: other } });
    expect(wide.title).toBe("utt: words 0–1 'a b' | other: words 0–1 'a b'");
    const bare = { tensorId: 'o', utterance: utterance('bare', SHAPE, false) };
    expect(planBoth({ view: 'pair', compareAttention: 'bare.npy', full: true }, utterance('utt'), { tensorId: 'u', compare: bare }).title).toBe('utt: all frames | bare: all frames');
    expect(() => planBoth({ view: 'pair' })).toThrow(/--view pair needs the other utterance/);
  });

  it('refuses to label a non-square map with the alignment (rows and columns would be different frames)', () => {
    const wide = utterance('cross', { ...SHAPE, rows: FRAMES, cols: FRAMES - 2 });
    expect(() => planView(parseViewSpec({ view: 'map' }), wide, TENSORS)).toThrow(/cross\.npy: its maps are 16 x 14; phone and word labels need square/);
    expect(() => planView(parseViewSpec({ view: 'map', full: true }), wide, TENSORS)).toThrow(ViewError);
    // Without an alignment nothing is labelled, and the map is shown as it is.
    expect(planView(parseViewSpec({ view: 'map' }), utterance('bare', { ...SHAPE, cols: FRAMES - 2 }, false), TENSORS).cells.length).toBe(1);
  });

  it('rollout: through the chosen layer, head mean by default, titled and labelled "rollout"', () => {
    const plan = planBoth({ view: 'rollout', layer: '1', words: '0:1' });
    expect(plan.cells[0].title).toBe('rollout L0–L1');
    expect(plan.cells[0].request).toMatchObject({ kind: 'rollout', layerEnd: 2, heads: 'mean', cropMode: 'after', crop: { rowStart: 2 } });
    expect(plan.colorbar.label).toBe('rollout');
    expect(plan.subtitle).toContain('Attention rollout through layers 0–1, mean of heads');
    expect(planBoth({ view: 'rollout' }).cells[0].request).toMatchObject({ layerEnd: 3 });
    expect(planBoth({ view: 'rollout', softmax: 'crop', words: '0' }).cells[0].request).toMatchObject({ cropMode: 'within', softmax: 'crop' });
  });
});

describe('planView: what does not fit the data', () => {
  it('says which file and which range, as a ViewError', () => {
    const check = (options: ViewOptionValues, pattern: RegExp, subject = utterance('utt')) => {
      expect(() => planView(parseViewSpec(options), subject, TENSORS)).toThrow(ViewError);
      expect(() => planView(parseViewSpec(options), subject, TENSORS)).toThrow(pattern);
    };
    check({ layer: '3' }, /--layer 3: utt\.npy has 3 layers \(0\.\.2\)/);
    check({ head: '2' }, /--head 2: utt\.npy has 2 heads/);
    check({ words: '0:2' }, /--words 0:2: utt\.wav has 2 words \(0\.\.1\)/);
    check({ words: '0' }, /--words needs an alignment/, utterance('bare', SHAPE, false));
    check({ pool: 'phones' }, /--pool phones needs an alignment/, utterance('bare', SHAPE, false));
    check({ view: 'rollout', layer: 'mean' }, /--layer mean does not apply/);
    check({ view: 'difference', compareAttention: 'x.npy' }, /that utterance is not loaded/);
  });
});
