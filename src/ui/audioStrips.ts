/**
 * The audio beside the map, as Praat shows it: spectrogram, waveform, and phone and word tiers along the top (the
 * map's columns), tiers down the left (its rows), all following zoom and pan. Clicking a segment plays it; clicking a
 * map cell plays its query span (the phone of its row), then its key span (the phone of its column).
 */
import type { Segment } from '../data/alignment.ts';
import type { Spectrogram } from '../data/spectrogram.ts';
import { computeSpectrogram, PRAAT_BROADBAND_HANN_SEC } from '../data/spectrogram.ts';
import { AudioPlayer } from './audioPlayer.ts';
import { STRIP } from './layout.ts';
import type { LoadedUtterance } from './loadFiles.ts';
import type { TierView } from './strips.ts';
import { drawSpectrogram, drawTier, drawWaveform, hitTestTier } from './strips.ts';
import type { Viewer } from './viewer.ts';


interface Layout {
  spectrogram: TierView;
  waveform: TierView;
  /** The left strips, in page coordinates; drawn rotated so that time runs down. */
  spectrogramLeft: TierView;
  waveformLeft: TierView;
  phonesTop: TierView;
  wordsTop: TierView;
  phonesLeft: TierView;
  wordsLeft: TierView;
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
    // Strips follow the time axis of one map of frames; a pooled map's rows and columns are segments, not time.
    const cell = viewer.cells.length === 1 && !viewer.cells[0].segmentLabels ? viewer.cells[0] : undefined;
    const spf = info?.utterance.spf?.samplesPerFrame;
    if (!info || !cell || !spf) return;
    this.#setUtterance(info.utterance);
    const audio = info.utterance.audio;
    // The visible frames of the map, then their times: frame f starts at f * spf samples at 16 kHz.
    const transform = viewer.mapToCanvas(cell);
    const frameAtX = (x: number) => (x - transform[6]) / transform[0] + info.frameOrigin;
    const frameAtY = (y: number) => (y - transform[7]) / transform[4] + info.frameOrigin;
    const seconds = (frame: number) => (frame * spf) / 16000;
    const { rect } = cell;
    const across = { startSec: seconds(frameAtX(rect.x)), endSec: seconds(frameAtX(rect.x + rect.width)), x: rect.x, width: rect.width };
    const down = { startSec: seconds(frameAtY(rect.y)), endSec: seconds(frameAtY(rect.y + rect.height)), y: rect.y, height: rect.height };
    let top = 0;
    const row = (height: number): TierView => {
      const view = { ...across, y: top, height, orientation: 'horizontal' as const };
      top += height + 2;
      return view;
    };
    const layout: Layout = {
      spectrogram: row(STRIP.spectrogram),
      waveform: row(STRIP.waveform),
      phonesTop: row(STRIP.tier),
      wordsTop: row(STRIP.tier),
      spectrogramLeft: { ...down, x: 0, width: STRIP.spectrogram, orientation: 'vertical' },
      waveformLeft: { ...down, x: STRIP.spectrogram + 2, width: STRIP.waveform, orientation: 'vertical' },
      wordsLeft: { ...down, x: STRIP.spectrogram + STRIP.waveform + 4, width: STRIP.leftTier, orientation: 'vertical' },
      phonesLeft: { ...down, x: STRIP.spectrogram + STRIP.waveform + STRIP.leftTier + 8, width: STRIP.leftTier, orientation: 'vertical' },
    };
    this.#layout = layout;
    if (audio && this.#spectrogram) {
      const spectrogram = this.#spectrogram;
      drawSpectrogram(context, spectrogram, layout.spectrogram);
      drawWaveform(context, audio, layout.waveform, { pixelRatio: dpr });
      drawRotated(context, layout.spectrogramLeft, (view) => drawSpectrogram(context, spectrogram, view));
      drawRotated(context, layout.waveformLeft, (view) => drawWaveform(context, audio, view, { pixelRatio: dpr }));
    }
    const { phones, words } = this.#tiers();
    drawTier(context, phones, layout.phonesTop);
    drawTier(context, words, layout.wordsTop);
    drawTier(context, words, layout.wordsLeft);
    drawTier(context, phones, layout.phonesLeft);
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
    for (const view of [layout.waveform, layout.spectrogram, layout.waveformLeft, layout.spectrogramLeft]) {
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
    for (const view of [layout.spectrogram, layout.waveform]) {
      const scale = view.width / (view.endSec - view.startSec);
      context.fillRect(view.x + (start - view.startSec) * scale, view.y, (end - start) * scale, view.height);
    }
    for (const view of [layout.spectrogramLeft, layout.waveformLeft]) {
      const scale = view.height / (view.endSec - view.startSec);
      context.fillRect(view.x, view.y + (start - view.startSec) * scale, view.width, (end - start) * scale);
    }
  }

  /** Plays the segment under a click on a tier; returns false when the click was not on one. */
  clickTier(x: number, y: number): boolean {
    const layout = this.#layout;
    if (!layout || !this.#player) return false;
    const { phones, words } = this.#tiers();
    const inside = (view: TierView) => x >= view.x && x < view.x + view.width && y >= view.y && y < view.y + view.height;
    const tiers: [TierView, readonly Segment[]][] = [
      [layout.phonesTop, phones],
      [layout.wordsTop, words],
      [layout.phonesLeft, phones],
      [layout.wordsLeft, words],
      [layout.waveform, []],
      [layout.spectrogram, []],
      [layout.waveformLeft, []],
      [layout.spectrogramLeft, []],
    ];
    for (const [view, segments] of tiers) {
      if (!inside(view)) continue;
      if (segments.length === 0) {
        // The waveform and spectrogram play what is in view.
        void this.#player.play(view.startSec, view.endSec);
        return true;
      }
      const index = hitTestTier(segments, view, view.orientation === 'vertical' ? y : x);
      if (index >= 0) void this.#player.play(segments[index].startSample / 16000, segments[index].endSample / 16000);
      return index >= 0;
    }
    return false;
  }

  /** Plays a map cell's query span, then its key span (the phones covering its row's and its column's frames). */
  playCell(queryFrame: number, keyFrame: number): void {
    const utterance = this.#utterance;
    const spf = utterance?.spf?.samplesPerFrame;
    if (!this.#player || !spf) return;
    const span = (frame: number) => {
      const sample = (frame + 0.5) * spf;
      const phone = utterance?.alignment?.phones.find((p) => p.startSample <= sample && sample < p.endSample);
      return phone
        ? { startSec: phone.startSample / 16000, endSec: phone.endSample / 16000 }
        : { startSec: (frame * spf) / 16000, endSec: ((frame + 1) * spf) / 16000 };
    };
    void this.#player.playSequence([span(queryFrame), span(keyFrame)]);
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
