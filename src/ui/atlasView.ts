/**
 * The atlas view: opens a `steve atlas` result (atlas.json), shows the layers x heads heat-table of a metric and a
 * table of every head sortable by any metric; clicking a head shows its phone x phone matrix and, with an utterance
 * loaded, opens that head's map in it (through `onHead`). A panel of its own over the page; the figures are the same
 * SVG as `steve atlas --plot` (src/figure/atlasFigures.ts).
 */
import type { AtlasMetric } from '../atlas/atlas.ts';
import { ATLAS_METRICS, METRIC_UNITS } from '../atlas/atlas.ts';
import type { AtlasJson } from '../atlas/atlasFile.ts';
import { atlasFromJson, matrixAverages } from '../atlas/atlasFile.ts';
import { makeHeatTableSvg, makeLabelMatrixSvg } from '../figure/atlasFigures.ts';
import { makeColormapLut } from '../render/colormaps.ts';
import { formatValue } from '../view/formatValue.ts';

export interface AtlasViewOptions {
  /** Called when a head is clicked: the page opens that head's map in the utterance on screen. */
  readonly onHead: (layer: number, head: number) => void;
}

/** Whether a dropped file looks like an atlas (its name ends in .json); the view checks its content when opening. */
export function isAtlasFile(file: File): boolean {
  return /\.json$/i.test(file.name);
}

export class AtlasView {
  readonly element: HTMLElement;
  readonly #options: AtlasViewOptions;
  readonly #lut = makeColormapLut('viridis');
  #atlas: AtlasJson | undefined;
  #metric: AtlasMetric = 'samePhoneShare';
  #sortDescending = true;
  #selected: { layer: number; head: number } | undefined;

  constructor(host: HTMLElement, options: AtlasViewOptions) {
    this.#options = options;
    const doc = host.ownerDocument;
    this.element = doc.createElement('section');
    this.element.id = 'atlas-view';
    this.element.hidden = true;
    this.element.setAttribute(
      'style',
      'position:fixed;right:12px;top:60px;bottom:40px;width:min(760px,60vw);overflow:auto;background:#fff;color:#000;' +
        'border:1px solid #888;box-shadow:0 4px 24px rgba(0,0,0,.35);padding:10px 14px;z-index:20;font:13px sans-serif',
    );
    host.append(this.element);
    this.element.addEventListener('click', (event) => this.#click(event));
  }

  /** The atlas on show, if any. */
  get atlas(): AtlasJson | undefined {
    return this.#atlas;
  }

  /** Reads and shows an atlas.json file; resolves to a one-line problem when it is not one. */
  async openFile(file: File): Promise<string | undefined> {
    try {
      this.show(JSON.parse(await file.text()));
      return undefined;
    } catch (error) {
      return `${file.name}: ${(error as Error).message}`;
    }
  }

  /** Shows an atlas (the parsed atlas.json). Throws an Error naming what is wrong when it is not an atlas. */
  show(json: unknown): void {
    atlasFromJson(json);
    this.#atlas = json as AtlasJson;
    this.#selected = undefined;
    this.element.hidden = false;
    this.#render();
  }

  /** Sorts the table by `metric` (again: reverses the order), as clicking its header does. */
  sortBy(metric: AtlasMetric): void {
    this.#sortDescending = metric === this.#metric ? !this.#sortDescending : true;
    this.#metric = metric;
    this.#render();
  }

  /** Selects a head: its phone matrix is shown and the page is asked to open its map. */
  selectHead(layer: number, head: number): void {
    this.#selected = { layer, head };
    this.#render();
    this.#options.onHead(layer, head);
  }

  /** The table's rows in their current order, as "layer:head". */
  rowOrder(): string[] {
    return [...this.element.querySelectorAll<HTMLTableRowElement>('tbody tr')].map((row) => `${row.dataset.layer}:${row.dataset.head}`);
  }

  #click(event: MouseEvent): void {
    const target = event.target as Element;
    if (target.closest('[data-action="close"]')) {
      this.element.hidden = true;
      return;
    }
    const header = target.closest<HTMLElement>('th[data-metric]');
    if (header) {
      this.sortBy(header.dataset.metric as AtlasMetric);
      return;
    }
    const head = target.closest<HTMLElement | SVGElement>('[data-layer][data-head]');
    if (head) this.selectHead(Number(head.dataset.layer), Number(head.dataset.head));
  }

  #render(): void {
    const atlas = this.#atlas;
    if (!atlas) return;
    const doc = this.element.ownerDocument;
    const { layers, heads } = atlas.settings;
    const metric = this.#metric;
    const rows = Array.from({ length: layers * heads }, (_, map) => ({ layer: Math.floor(map / heads), head: map % heads }));
    const valueOf = (row: { layer: number; head: number }, m: AtlasMetric) => atlas.metrics[m].mean[row.layer][row.head] ?? NaN;
    rows.sort((a, b) => (this.#sortDescending ? valueOf(b, metric) - valueOf(a, metric) : valueOf(a, metric) - valueOf(b, metric)));

    const parts: string[] = [
      '<div style="display:flex;justify-content:space-between;align-items:center">',
      `<strong>Head atlas</strong><span>${atlas.utterances.used.length} utterances, ${atlas.queryFrames} query frames, phones folded to ${atlas.settings.fold}</span>`,
      '<button data-action="close" title="close the atlas view">×</button></div>',
      `<div class="atlas-heat">${makeHeatTableSvg({ title: `${metric} (${METRIC_UNITS[metric]})`, subtitle: 'click a head', values: atlas.metrics[metric].mean, unit: METRIC_UNITS[metric], lut: this.#lut, cellSize: Math.max(28, Math.min(56, 560 / heads)) })}</div>`,
    ];
    if (this.#selected) {
      const { layer, head } = this.#selected;
      const labels = atlas.phones.labels;
      const a = labels.length;
      const map = layer * heads + head;
      parts.push(
        `<div class="atlas-matrix" data-selected="${layer}:${head}">${makeLabelMatrixSvg({
          title: `Layer ${layer}, head ${head}: phone x phone`,
          subtitle: 'mean attention mass a query frame of the row gives to the column',
          labels,
          groups: atlas.phones.classes,
          values: matrixAverages(atlas, 'phones').subarray(map * a * a, (map + 1) * a * a),
          lut: this.#lut,
          colorbarLabel: 'mass per query frame',
          cellSize: a > 40 ? 9 : 14,
        })}</div>`,
      );
    }
    parts.push('<table style="border-collapse:collapse;margin-top:8px"><thead><tr><th>layer</th><th>head</th>');
    for (const m of ATLAS_METRICS) {
      const arrow = m === metric ? (this.#sortDescending ? ' ▼' : ' ▲') : '';
      parts.push(`<th data-metric="${m}" style="cursor:pointer;padding:2px 6px" title="sort by ${m}">${m}${arrow}</th>`);
    }
    parts.push('</tr></thead><tbody>');
    for (const row of rows) {
      const selected = this.#selected?.layer === row.layer && this.#selected?.head === row.head;
      parts.push(`<tr data-layer="${row.layer}" data-head="${row.head}" style="cursor:pointer${selected ? ';background:#ffe9a8' : ''}"><td>${row.layer}</td><td>${row.head}</td>`);
      for (const m of ATLAS_METRICS) parts.push(`<td style="text-align:right;padding:1px 6px">${formatValue(valueOf(row, m))}</td>`);
      parts.push('</tr>');
    }
    parts.push('</tbody></table>');
    // Everything above is built from numbers and from labels escaped by the figure code; the phone labels in the
    // table's SVGs come from the file, so they went through escapeXml there.
    const template = doc.createElement('template');
    template.innerHTML = parts.join('');
    this.element.replaceChildren(template.content);
  }
}
