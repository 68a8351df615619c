import { camRaster, colorbar, greyRaster, overlayRaster, type Values } from './colormap.js';
import { el, esc, figure } from './html.js';
import { pngSrc } from './png.js';
import type { Evaluation, FigureSample } from './run-files.js';

/** Side of a square map of `n` values (784 → 28), or null when `n` is not a square. */
export function squareSide(n: number): number | null {
  const s = Math.round(Math.sqrt(n));
  return s > 0 && s * s === n ? s : null;
}

function usable(v: Values | null | undefined): v is Values {
  return !!v && v.length > 0 && squareSide(v.length) !== null;
}

/** A grey map in [0,1] as a PNG data: URI; null when it is missing or not square. */
export function greyUri(v: Values | null | undefined): string | null {
  if (!usable(v)) return null;
  const s = squareSide(v.length)!;
  return pngSrc(greyRaster(v, s, s));
}

/** A CAM in [0,1], jet-coloured, as a PNG data: URI. */
export function camUri(v: Values | null | undefined): string | null {
  if (!usable(v)) return null;
  const s = squareSide(v.length)!;
  return pngSrc(camRaster(v, s, s));
}

/** Image and CAM blended (α = 0.5) as a PNG data: URI; null unless both are present and the same size. */
export function overlayUri(image: Values | null | undefined, cam: Values | null | undefined, alpha = 0.5): string | null {
  // A colour image comes as three planes (R, G, B) of the CAM's size.
  if (!usable(cam) || !image || !(image.length === cam.length || image.length === 3 * cam.length)) return null;
  const s = squareSide(cam.length)!;
  return pngSrc(overlayRaster(image, cam, s, s, alpha));
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
  return tileOrGap(overlayUri(s.rgb ?? s.image, s.cam), cap, title);
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
  const samples = f.samples ?? [];
  const header = ['class', 'mean image', 'prototype CAM (mean CAM)', ...(bank ? ['bank prototype'] : []), 'samples: CAM overlays'];
  const rows: string[] = [];
  for (let c = 0; c < C; c++) {
    const mine = samples.filter((s) => s.label === c);
    rows.push(el('tr', { 'data-class': c },
      el('td', {}, esc(className(ev, c))),
      el('td', {}, tileOrGap(greyUri(f.meanImages?.[c]), 'mean')),
      el('td', {}, tileOrGap(camUri(f.meanCams?.[c]), 'mean CAM')),
      bank ? el('td', {}, tileOrGap(camUri(bank[c]), 'bank')) : '',
      el('td', { class: 'imgs' }, mine.length ? mine.map((s) => sampleTile(ev, s)).join('') : el('span', { class: 'note' }, 'no samples'))));
  }
  const mis = f.misclassified ?? [];
  const misHtml = mis.length
    ? el('div', { class: 'misclassified' }, ...mis.map((s) => {
      const img = s.rgb && s.image && squareSide(s.image.length) ? pngSrc(greyRaster(s.rgb, squareSide(s.image.length)!, squareSide(s.image.length)!)) : greyUri(s.image);
      return el('span', { class: 'pair' }, img ? figure(img, `#${s.index ?? '?'} input`) : '', sampleTile(ev, s));
    }))
    : el('p', { class: 'note' }, 'No misclassified samples in the figures.');
  return legend() +
    el('table', { class: 'class-figures figs' },
      el('thead', {}, el('tr', {}, ...header.map((h) => el('th', {}, esc(h))))),
      el('tbody', {}, ...rows)) +
    el('h3', {}, `Misclassified samples (input, then CAM overlay${ev.camTarget ? ` for the ${ev.camTarget === 'pred' ? 'predicted' : 'true'} class` : ''}; caption: index → prediction)`) + misHtml;
}
