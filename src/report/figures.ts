import { camRaster, colorbar, greyRaster, overlayRaster, type Values } from './colormap.js';
import { el, esc, figure } from './html.js';
import { pngSrc } from './png.js';
import type { Evaluation, FigureSample } from './run-files.js';

/** Side of a square map of `n` values (784 → 28), or null when `n` is not a square. */
export function squareSide(n: number): number | null {
  const s = Math.round(Math.sqrt(n));
  return s > 0 && s * s === n ? s : null;
}

/** Height and width of the figure maps. */
export interface MapSize {
  readonly height: number;
  readonly width: number;
}

/** The map size an evaluation's figures record (H×W, any aspect); null for files from before it was recorded (square maps). */
export function figureSize(ev: Evaluation | null | undefined): MapSize | null {
  const h = ev?.figures?.height;
  const w = ev?.figures?.width;
  return typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0 ? { height: h, width: w } : null;
}

/** H×W of a map of `n` values: `size` when it fits, else a square side; null when neither fits. */
function dims(n: number, size: MapSize | null | undefined): [number, number] | null {
  if (size && size.height * size.width === n) return [size.height, size.width];
  const s = squareSide(n);
  return s ? [s, s] : null;
}

/** A grey map in [0,1] as a PNG `src`; null when it is missing or of no known size. */
export function greyUri(v: Values | null | undefined, size?: MapSize | null): string | null {
  const d = v && v.length > 0 ? dims(v.length, size) : null;
  return d ? pngSrc(greyRaster(v!, d[1], d[0])) : null;
}

/** A CAM in [0,1], jet-coloured, as a PNG `src`. */
export function camUri(v: Values | null | undefined, size?: MapSize | null): string | null {
  const d = v && v.length > 0 ? dims(v.length, size) : null;
  return d ? pngSrc(camRaster(v!, d[1], d[0])) : null;
}

/** A colour image (R, G, B planes) as a PNG `src`; null when it is missing or of no known size. */
export function rgbUri(rgb: Values | null | undefined, size?: MapSize | null): string | null {
  const d = rgb && rgb.length > 0 && rgb.length % 3 === 0 ? dims(rgb.length / 3, size) : null;
  return d ? pngSrc(greyRaster(rgb!, d[1], d[0])) : null;
}

/** Image (grey, or R, G, B planes) and CAM blended (α = 0.5) as a PNG `src`; null unless both are present and of one size. */
export function overlayUri(image: Values | null | undefined, cam: Values | null | undefined, alpha = 0.5, size?: MapSize | null): string | null {
  const d = cam && cam.length > 0 ? dims(cam.length, size) : null;
  if (!d || !image || !(image.length === cam!.length || image.length === 3 * cam!.length)) return null;
  return pngSrc(overlayRaster(image, cam!, d[1], d[0], alpha));
}

/** The jet legend: 0 (no attention) … 1 (most), as an inline image with labels. */
export function legend(): string {
  return el('p', { class: 'note' }, 'CAM colour scale: 0 ', `<img class="legend" src="${pngSrc(colorbar(100, 1))}" alt="jet colour scale">`, ' 1');
}

/** A tile, or a muted placeholder when the data is absent (so the grid's columns stay aligned). */
export function tileOrGap(uri: string | null, caption: string, title?: string): string {
  return uri ? figure(uri, caption, { title }) : el('span', { class: 'note' }, '—');
}

function className(ev: Evaluation, c: number | undefined): string {
  if (c === undefined || c === null) return '?';
  return ev.figures?.classNames?.[c] ?? String(c);
}

/** A sample's overlay tile, captioned with its test index (and "→ prediction" when wrong). */
export function sampleTile(ev: Evaluation, s: FigureSample): string {
  const wrong = s.pred !== undefined && s.label !== undefined && s.pred !== s.label;
  const cap = wrong ? `#${s.index ?? '?'}: ${className(ev, s.label)} → ${className(ev, s.pred)}` : `#${s.index ?? '?'}`;
  const title = `test index ${s.index ?? '?'}: label ${className(ev, s.label)}, predicted ${className(ev, s.pred)}`;
  return tileOrGap(overlayUri(s.rgb ?? s.image, s.cam, 0.5, figureSize(ev)), cap, title);
}

/** Number of classes the figures cover. */
export function figureClassCount(ev: Evaluation): number {
  const f = ev.figures;
  return Math.max(f?.classNames?.length ?? 0, f?.meanImages?.length ?? 0, f?.meanCams?.length ?? 0, ev.perClassAccuracy?.length ?? 0);
}

/**
 * Per class: mean test image, prototype CAM (mean CAM), the trained prototype bank entry when the run had one,
 * and the sample overlays of that class; misclassified samples follow in a section of their own (§7).
 */
export function classFigures(ev: Evaluation): string {
  const f = ev.figures;
  if (!f) return el('p', { class: 'note' }, 'evaluation.json has no figures.');
  const C = figureClassCount(ev);
  const bank = f.bankPrototypes && f.bankPrototypes.length ? f.bankPrototypes : null;
  const size = figureSize(ev);
  const samples = f.samples ?? [];
  const header = ['class', 'mean image', 'prototype CAM (mean CAM)', ...(bank ? ['bank prototype'] : []), 'samples: CAM overlays'];
  const rows: string[] = [];
  for (let c = 0; c < C; c++) {
    const mine = samples.filter((s) => s.label === c);
    rows.push(el('tr', { 'data-class': c },
      el('td', {}, esc(className(ev, c))),
      el('td', {}, tileOrGap(greyUri(f.meanImages?.[c], size), 'mean')),
      el('td', {}, tileOrGap(camUri(f.meanCams?.[c], size), 'mean CAM')),
      bank ? el('td', {}, tileOrGap(camUri(bank[c], size), 'bank')) : '',
      el('td', { class: 'imgs' }, mine.length ? mine.map((s) => sampleTile(ev, s)).join('') : el('span', { class: 'note' }, 'no samples'))));
  }
  const mis = f.misclassified ?? [];
  const misHtml = mis.length
    ? el('div', { class: 'misclassified' }, ...mis.map((s) => {
      const img = rgbUri(s.rgb, size) ?? greyUri(s.image, size);
      return el('span', { class: 'pair' }, img ? figure(img, `#${s.index ?? '?'} input`) : '', sampleTile(ev, s));
    }))
    : el('p', { class: 'note' }, 'No misclassified samples in the figures.');
  return legend() +
    el('table', { class: 'class-figures figs' },
      el('thead', {}, el('tr', {}, ...header.map((h) => el('th', {}, esc(h))))),
      el('tbody', {}, ...rows)) +
    el('h3', {}, `Misclassified samples (input, then CAM overlay${ev.camTarget ? ` for the ${ev.camTarget === 'pred' ? 'predicted' : 'true'} class` : ''}; caption: index → prediction)`) + misHtml;
}
