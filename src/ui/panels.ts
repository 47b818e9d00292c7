/**
 * The viewer's side panels: colour bar, hover readout and the debug panel (STEVE's debug=True printout).
 */
import { dummyAlignmentNote } from '../data/dummyAlignment.ts';
import { makeColormapLut } from '../render/colormaps.ts';
import { formatValue } from '../view/formatValue.ts';
import type { ColormapName } from '../render/colormaps.ts';
import type { AttentionEngine } from '../engine.ts';
import type { LoadedUtterance } from './loadFiles.ts';
import type { ViewInfo } from './viewer.ts';

/** The segment (phone or word) covering a frame, by STEVE's frame numbers. */
export function segmentAtFrame(segments: readonly { label: string; startFrame: number; stopFrame: number }[], frame: number): string {
  const found = segments.filter((s) => frame >= s.startFrame && frame < Math.max(s.stopFrame, s.startFrame + 1));
  return found.map((s) => s.label).join(' / ') || '-';
}

/** The debug panel: words and phones with their frames, the crop, spf, and the tensor's shape and dtype. */
export function renderDebug(root: HTMLElement, info: ViewInfo | undefined, engine?: AttentionEngine): void {
  root.replaceChildren();
  if (!info) return;
  const { utterance, selection } = info;
  const { shape, dtype, fileName } = utterance.attention;
  const memory = engine?.memory;
  const lines = [
    `tensor: ${fileName}: ${shape.layers} x ${shape.heads} x ${shape.rows} x ${shape.cols} ${dtype}`,
    ...(engine && memory
      ? [
          `GPU: ${engine.adapterDescription}, ${engine.storage} storage, ${(memory.residentBytes / 2 ** 20).toFixed(0)} of ${(memory.budgetBytes / 2 ** 20).toFixed(0)} MiB budget resident`,
          `resident: ${memory.entries.map((e) => `${e.tensorId} L${e.layer}${e.headCount < shape.heads ? ` H${e.firstHead}-${e.firstHead + e.headCount - 1}` : ''}`).join(' ')}`,
        ]
      : []),
    `spf: ${utterance.spf ? `${utterance.spf.samplesPerFrame} (${utterance.spf.source})` : 'unknown'}`,
    `map: ${info.rows} x ${info.cols} frames from frame ${info.frameOrigin}`,
  ];
  if (selection) {
    lines.push(`crop: frames ${selection.crop.startFrame}..${selection.crop.stopFrame} (${selection.crop.frameCount})`);
    lines.push('word         start stop');
    for (const word of selection.words) lines.push(`${word.label.padEnd(12)} ${String(word.startFrame).padEnd(5)} ${word.stopFrame}`);
    lines.push('phone        start stop');
    for (const phone of selection.phones) lines.push(`${phone.label.padEnd(12)} ${String(phone.startFrame).padEnd(5)} ${phone.stopFrame}`);
  }
  const pre = document.createElement('pre');
  pre.textContent = lines.join('\n');
  root.append(pre);
}

/**
 * A sentence about where the data came from; loud when it is the synthetic stand-in. `softmaxNote`: what was decided
 * about the softmax of a tensor whose rows already sum to 1 (main.ts, after resolveSoftmax).
 */
export function describeData(utterance: LoadedUtterance, softmaxNote?: string): string {
  if (utterance.synthetic) {
    return `${utterance.name}: SYNTHETIC attention made from the alignment (not model output) — drop your own .npy/.npz/.safetensors with the WAV to see a real model.`;
  }
  // A model run in the viewer is named by its model already: said once.
  const modelName = utterance.attention.metadata.model;
  const model = modelName && modelName !== utterance.attention.fileName ? ` (${modelName})` : '';
  const softmaxed = softmaxNote ? ` — ${softmaxNote}` : '';
  // Never a silent fallback: segments made up for want of alignment files are said to be so, as the CLI says it.
  const dummy = utterance.alignment?.source === 'dummy' ? ` — ${dummyAlignmentNote(utterance.audioFileName ?? utterance.name)}` : '';
  return `${utterance.name}: ${utterance.attention.fileName}${model}${softmaxed}${dummy}`;
}

/**
 * A small heat-table of one statistic per head (rows: layers, columns: heads), as the head statistics kernel
 * returns it: the cell colour follows the colormap over the table's own range, and each cell has its value
 * written in (black or white, whichever reads on that colour).
 */
export function drawStatsTable(
  canvas: HTMLCanvasElement,
  values: Float32Array,
  layers: readonly number[],
  heads: number,
  title: string,
  colormap: ColormapName,
): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const cell = Math.max(14, Math.min(34, Math.floor((canvas.width - 30) / heads)));
  const top = 18;
  canvas.height = top + 12 + layers.length * 16;
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.font = '11px sans-serif';
  context.fillStyle = '#222';
  context.fillText(title, 0, 12);
  const finite = Array.from(values).filter(Number.isFinite);
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const lut = makeColormapLut(colormap);
  // The numbers as text too: a tooltip, and what tests read.
  canvas.title = layers.map((layer, row) => `L${layer}: ${Array.from({ length: heads }, (_, head) => statText(values[row * heads + head])).join(' ')}`).join('\n');
  context.font = '9px sans-serif';
  for (let head = 0; head < heads; head++) context.fillText(`H${head}`, 28 + head * cell, top + 8);
  layers.forEach((layer, row) => {
    const y = top + 12 + row * 16;
    context.fillStyle = '#222';
    context.fillText(`L${layer}`, 0, y + 11);
    for (let head = 0; head < heads; head++) {
      const value = values[row * heads + head];
      const index = Number.isFinite(value) && high > low ? Math.round(((value - low) / (high - low)) * 255) : 0;
      context.textAlign = 'left';
      context.fillStyle = Number.isFinite(value) ? `rgb(${lut[index * 4]},${lut[index * 4 + 1]},${lut[index * 4 + 2]})` : '#888';
      context.fillRect(26 + head * cell, y, cell - 2, 15);
      context.textAlign = 'center';
      const [r, g, b] = Number.isFinite(value) ? [lut[index * 4], lut[index * 4 + 1], lut[index * 4 + 2]] : [136, 136, 136];
      context.fillStyle = 0.299 * r + 0.587 * g + 0.114 * b > 140 ? '#000' : '#fff';
      context.fillText(statText(value), 26 + head * cell + (cell - 2) / 2, y + 11, cell - 3);
      context.textAlign = 'left';
    }
  });
}

/** A table value in at most 3 significant digits ("2.31", "143", "0.052"), short enough for a 20-pixel cell. */
export function statText(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return Math.abs(value) >= 100 ? Math.round(value).toString() : Number(value.toPrecision(3)).toString();
}
