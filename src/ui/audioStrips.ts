/**
 * The audio beside the map, as Praat shows it: spectrogram, waveform, and phone and word tiers along the top (the
 * map's columns), tiers down the left (its rows), all following zoom and pan. Clicking a segment plays it; clicking a
 * map cell plays its query span (the phone of its row, or a pooled cell's own frames), then its key span (its column's).
 * A pooled map's cells are blocks of frames or segments: the strips show each cell's stretch of audio over it.
 * The tiers' boundaries lie on the frame edges where the map draws its lines (the waveform and spectrogram stay in
 * the audio's time), so each boundary continues from tier to map.
 */
import type { Segment } from '../data/alignment.ts';
import type { Spectrogram } from '../data/spectrogram.ts';
import { computeSpectrogram, PRAAT_BROADBAND_HANN_SEC } from '../data/spectrogram.ts';
import { AudioPlayer } from './audioPlayer.ts';
import { STRIP } from './layout.ts';
import type { LoadedUtterance } from './loadFiles.ts';
import type { PageAxis, TierView } from './strips.ts';
import { drawSpectrogram, drawTier, drawWaveform, hitTestTier, segmentsOnFrameEdges, visibleStretches } from './strips.ts';
import type { Viewer } from './viewer.ts';
import type { AxisPiece, FrameSpan } from './axisFrames.ts';
import { axisPieces, joinPieces } from './axisFrames.ts';


/** Each strip as one view per stretch of frames drawn evenly (see axisFrames.ts): one for frames, one per segment. */
interface Layout {
  spectrogram: TierView[];
  waveform: TierView[];
  /** The left strips, in page coordinates; drawn rotated so that time runs down. */
  spectrogramLeft: TierView[];
  waveformLeft: TierView[];
  phonesTop: TierView[];
  wordsTop: TierView[];
  phonesLeft: TierView[];
  wordsLeft: TierView[];
  /** The tiers' segments with their ends on the frame edges where the map draws its lines, as they are drawn. */
  phonesOnFrames: readonly Segment[];
  wordsOnFrames: readonly Segment[];
  /** From the first frame in view to the last: what a click on the waveform or spectrogram plays. */
  shown: { startSec: number; endSec: number };
}

export class AudioStrips {
  #utterance?: LoadedUtterance;
  #spectrogram?: Spectrogram;
  #player?: AudioPlayer;
  #layout?: Layout;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** The segments behind the strips, for hit tests. */
  #tiers(): { phones: readonly Segment[]; words: readonly Segment[] } {
    const alignment = this.#utterance?.alignment;
    return { phones: alignment?.phones ?? [], words: alignment?.words ?? [] };
  }

  /** Redraws for the viewer's current single map; clears when there is none (grids) or no audio. */
  draw(viewer: Viewer): void {
    const context = this.canvas.getContext('2d');
    if (!context) return;
    const dpr = globalThis.devicePixelRatio || 1;
    this.canvas.width = Math.round(this.canvas.clientWidth * dpr);
    this.canvas.height = Math.round(this.canvas.clientHeight * dpr);
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    context.clearRect(0, 0, this.canvas.clientWidth, this.canvas.clientHeight);
    this.#layout = undefined;
    const info = viewer.info;
    // Strips follow the time axis of one map: of frames, of blocks of frames, or of segments (each cell its own stretch).
    const cell = viewer.cells.length === 1 && !viewer.cells[0].other ? viewer.cells[0] : undefined;
    const spf = info?.utterance.spf?.samplesPerFrame;
    if (!info || !cell || !spf) return;
    this.#setUtterance(info.utterance);
    const audio = info.utterance.audio;
    // The visible stretches of the map and their times: frame f starts at f * spf samples at 16 kHz.
    const secondsPerFrame = spf / 16000;
    const pieces = axisPieces(info.plan.axes, info.plan.crop, secondsPerFrame);
    // Over phone cells, the words tier runs once per word.
    const wordEdges = new Set((info.selection?.words ?? []).flatMap((word) => [word.startFrame, word.stopFrame]));
    const wordPieces = joinPieces(pieces, wordEdges);
    const transform = viewer.mapToCanvas(cell);
    const { rect } = cell;
    const acrossAxis: PageAxis = { offset: transform[6], scale: transform[0], from: rect.x, to: rect.x + rect.width };
    const downAxis: PageAxis = { offset: transform[7], scale: transform[4], from: rect.y, to: rect.y + rect.height };
    // The waveform and spectrogram show the audio's own time; the tiers the frames' (their boundaries on cell edges).
    type Clock = 'audio' | 'frames';
    const across = (list: readonly AxisPiece[], clock: Clock = 'audio') => visibleStretches(list, acrossAxis, clock, secondsPerFrame);
    const down = (list: readonly AxisPiece[], clock: Clock = 'audio') => visibleStretches(list, downAxis, clock, secondsPerFrame);
    let top = 0;
    const row = (height: number, list: readonly AxisPiece[] = pieces, clock: Clock = 'audio'): TierView[] => {
      const y = top;
      top += height + 2;
      return across(list, clock).map((s) => ({ startSec: s.startSec, endSec: s.endSec, x: s.at, width: s.length, y, height, orientation: 'horizontal' as const }));
    };
    const column = (x: number, width: number, list: readonly AxisPiece[] = pieces, clock: Clock = 'audio'): TierView[] =>
      down(list, clock).map((s) => ({ startSec: s.startSec, endSec: s.endSec, x, width, y: s.at, height: s.length, orientation: 'vertical' as const }));
    const visible = across(pieces);
    if (visible.length === 0) return;
    const { phones, words } = this.#tiers();
    const roundUp = info.selection?.roundUp ?? false;
    const layout: Layout = {
      spectrogram: row(STRIP.spectrogram),
      waveform: row(STRIP.waveform),
      phonesTop: row(STRIP.tier, pieces, 'frames'),
      wordsTop: row(STRIP.tier, wordPieces, 'frames'),
      spectrogramLeft: column(0, STRIP.spectrogram),
      waveformLeft: column(STRIP.spectrogram + 2, STRIP.waveform),
      wordsLeft: column(STRIP.spectrogram + STRIP.waveform + 4, STRIP.leftTier, wordPieces, 'frames'),
      phonesLeft: column(STRIP.spectrogram + STRIP.waveform + STRIP.leftTier + 8, STRIP.leftTier, pieces, 'frames'),
      phonesOnFrames: segmentsOnFrameEdges(phones, spf, roundUp),
      wordsOnFrames: segmentsOnFrameEdges(words, spf, roundUp),
      shown: { startSec: visible[0].startSec, endSec: visible[visible.length - 1].endSec },
    };
    this.#layout = layout;
    if (audio && this.#spectrogram) {
      const spectrogram = this.#spectrogram;
      for (const view of layout.spectrogram) drawSpectrogram(context, spectrogram, view);
      for (const view of layout.waveform) drawWaveform(context, audio, view, { pixelRatio: dpr });
      for (const area of layout.spectrogramLeft) drawRotated(context, area, (view) => drawSpectrogram(context, spectrogram, view));
      for (const area of layout.waveformLeft) drawRotated(context, area, (view) => drawWaveform(context, audio, view, { pixelRatio: dpr }));
    }
    for (const view of layout.phonesTop) drawTier(context, layout.phonesOnFrames, view);
    for (const view of layout.wordsTop) drawTier(context, layout.wordsOnFrames, view);
    for (const view of layout.wordsLeft) drawTier(context, layout.wordsOnFrames, view);
    for (const view of layout.phonesLeft) drawTier(context, layout.phonesOnFrames, view);
  }

  #setUtterance(utterance: LoadedUtterance): void {
    if (this.#utterance === utterance) return;
    this.#utterance = utterance;
    this.#player?.stop();
    this.#player = utterance.audio ? new AudioPlayer(utterance.audio) : undefined;
    // A broadband spectrogram (Praat's default look: formants, not harmonics).
    this.#spectrogram = utterance.audio
      ? computeSpectrogram(utterance.audio.samples, utterance.audio.sampleRate, { windowSec: PRAAT_BROADBAND_HANN_SEC })
      : undefined;
  }

  /**
   * The time under a point of the waveform or spectrogram strips (either axis), or undefined elsewhere: where a
   * drag selects a stretch of audio to play instead of panning the map.
   */
  timeAt(x: number, y: number): number | undefined {
    const layout = this.#layout;
    if (!layout || !this.#player) return undefined;
    for (const view of [...layout.waveform, ...layout.spectrogram, ...layout.waveformLeft, ...layout.spectrogramLeft]) {
      if (x < view.x || x >= view.x + view.width || y < view.y || y >= view.y + view.height) continue;
      const fraction = view.orientation === 'vertical' ? (y - view.y) / view.height : (x - view.x) / view.width;
      return view.startSec + fraction * (view.endSec - view.startSec);
    }
    return undefined;
  }

  /** Plays the stretch between two times (a drag over the waveform or spectrogram), in either order. */
  playRange(fromSec: number, toSec: number): void {
    void this.#player?.play(Math.min(fromSec, toSec), Math.max(fromSec, toSec));
  }

  /** Shades a selected stretch over the top and left strips while it is being dragged. */
  showSelection(fromSec: number, toSec: number): void {
    const layout = this.#layout;
    const context = this.canvas.getContext('2d');
    if (!layout || !context) return;
    const start = Math.min(fromSec, toSec);
    const end = Math.max(fromSec, toSec);
    context.fillStyle = 'rgba(40, 100, 220, 0.25)';
    // Each stretch shades the part of the selection it shows.
    const part = (view: TierView) => ({ from: Math.max(start, view.startSec), to: Math.min(end, view.endSec) });
    for (const view of [...layout.spectrogram, ...layout.waveform]) {
      const { from, to } = part(view);
      const scale = view.width / (view.endSec - view.startSec);
      if (to > from) context.fillRect(view.x + (from - view.startSec) * scale, view.y, (to - from) * scale, view.height);
    }
    for (const view of [...layout.spectrogramLeft, ...layout.waveformLeft]) {
      const { from, to } = part(view);
      const scale = view.height / (view.endSec - view.startSec);
      if (to > from) context.fillRect(view.x, view.y + (from - view.startSec) * scale, view.width, (to - from) * scale);
    }
  }

  /** Plays the segment under a click on a tier; returns false when the click was not on one. */
  clickTier(x: number, y: number): boolean {
    const layout = this.#layout;
    if (!layout || !this.#player) return false;
    const { phones, words } = this.#tiers();
    const inside = (view: TierView) => x >= view.x && x < view.x + view.width && y >= view.y && y < view.y + view.height;
    // Hit tests on the segments as drawn (on frame edges); a hit plays the segment's own audio (same index).
    const tiers: [TierView[], readonly Segment[], readonly Segment[]][] = [
      [layout.phonesTop, layout.phonesOnFrames, phones],
      [layout.wordsTop, layout.wordsOnFrames, words],
      [layout.phonesLeft, layout.phonesOnFrames, phones],
      [layout.wordsLeft, layout.wordsOnFrames, words],
      [layout.waveform, [], []],
      [layout.spectrogram, [], []],
      [layout.waveformLeft, [], []],
      [layout.spectrogramLeft, [], []],
    ];
    for (const [views, drawn, segments] of tiers) {
      const view = views.find(inside);
      if (!view) continue;
      if (drawn.length === 0) {
        // The waveform and spectrogram play what is in view.
        void this.#player.play(layout.shown.startSec, layout.shown.endSec);
        return true;
      }
      const index = hitTestTier(drawn, view, view.orientation === 'vertical' ? y : x);
      if (index >= 0) void this.#player.play(segments[index].startSample / 16000, segments[index].endSample / 16000);
      return index >= 0;
    }
    return false;
  }

  /**
   * Plays a map cell's query span, then its key span (its row's, then its column's: see axisFrames.ts cellFrames).
   * A cell of one frame plays the phone around it; a pooled cell plays its block of frames, or its phone or word.
   */
  playCell(query: FrameSpan, key: FrameSpan): void {
    const utterance = this.#utterance;
    const spf = utterance?.spf?.samplesPerFrame;
    if (!this.#player || !spf) return;
    const span = ({ startFrame, endFrame, startSec, endSec }: FrameSpan) => {
      const sample = (startFrame + 0.5) * spf;
      const phone = endFrame - startFrame === 1 ? utterance?.alignment?.phones.find((p) => p.startSample <= sample && sample < p.endSample) : undefined;
      return phone ? { startSec: phone.startSample / 16000, endSec: phone.endSample / 16000 } : { startSec, endSec };
    };
    void this.#player.playSequence([span(query), span(key)]);
  }

  stop(): void {
    this.#player?.stop();
  }
}

/**
 * Draws a horizontal strip into a vertical area, turned a quarter clockwise: time runs down the page and the strip's
 * top edge (high frequencies, positive samples) faces the map on the right.
 */
function drawRotated(context: CanvasRenderingContext2D, area: TierView, draw: (view: TierView) => void): void {
  context.save();
  // After translate + rotate(+90 degrees), a point (u, v) lands at page (area.x + area.width - v, area.y + u).
  context.translate(area.x + area.width, area.y);
  context.rotate(Math.PI / 2);
  draw({ startSec: area.startSec, endSec: area.endSec, x: 0, y: 0, width: area.height, height: area.width, orientation: 'horizontal' });
  context.restore();
}
