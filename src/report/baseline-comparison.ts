import { camUri, figureClassCount, figureSize, greyUri, legend, sampleTile, tileOrGap } from './figures.js';
import { el, esc, fmt, pct, table } from './html.js';
import type { Evaluation } from './run-files.js';

/** The headline numbers compared, as (label, how to show it, value). */
const ROWS: readonly [string, (v: number | null | undefined) => string, (e: Evaluation) => number | null | undefined][] = [
  ['test accuracy', pct, (e) => e.accuracy],
  ['coherence ssim (lower = more alike within a class)', fmt, (e) => e.coherence?.ssim?.mean],
  ['class specificity ssim (within / between; lower = class-specific)', fmt, (e) => e.specificity?.ssim?.ratio],
  ['map coverage (1 = uniform, 0 = empty)', fmt, (e) => e.maps?.coverage?.mean],
  ['map contrast (0 = flat)', fmt, (e) => e.maps?.contrast?.mean],
  ['randomised-decoy accuracy', pct, (e) => (e.decoy ? e.decoy.accuracy : undefined)],
  ['clean − decoy accuracy gap', pct, (e) => (e.decoy ? e.decoy.accuracyGap : undefined)],
  ['wrong reason, Grad-CAM (lower is better)', fmt, (e) => e.decoy?.wrongReasonGradCam?.score],
  ['wrong reason, input gradients', fmt, (e) => e.decoy?.wrongReasonInputGradient?.score],
];

/**
 * "What the regulariser changed": a run's evaluation beside a baseline's (typically the CE-only run on the same data):
 * the headline metrics side by side, then per class the baseline's mean CAM and sample overlays next to this run's.
 */
export function baselineComparison(run: Evaluation, baseline: Evaluation, names: { run: string; baseline: string }): string {
  const rows = ROWS.filter(([, , get]) => get(run) !== undefined || get(baseline) !== undefined)
    .map(([label, show, get]) => [esc(label), show(get(baseline)), show(get(run))]);
  const C = Math.max(figureClassCount(run), figureClassCount(baseline));
  const figRows: string[] = [];
  for (let c = 0; c < C; c++) {
    const samples = (ev: Evaluation): string => {
      const mine = (ev.figures?.samples ?? []).filter((s) => s.label === c);
      return mine.length ? mine.map((s) => sampleTile(ev, s)).join('') : el('span', { class: 'note' }, 'no samples');
    };
    figRows.push(el('tr', { 'data-class': c },
      el('td', {}, esc(run.figures?.classNames?.[c] ?? String(c))),
      el('td', {}, tileOrGap(greyUri(run.figures?.meanImages?.[c] ?? baseline.figures?.meanImages?.[c], figureSize(run) ?? figureSize(baseline)), 'mean')),
      el('td', {}, tileOrGap(camUri(baseline.figures?.meanCams?.[c], figureSize(baseline)), 'baseline')),
      el('td', {}, tileOrGap(camUri(run.figures?.meanCams?.[c], figureSize(run)), 'this run')),
      el('td', { class: 'imgs' }, samples(baseline)),
      el('td', { class: 'imgs' }, samples(run))));
  }
  return el('p', { class: 'sub' }, `baseline: ${esc(names.baseline)} · this run: ${esc(names.run)}`) +
    table('baseline', ['metric', 'baseline', 'this run'], rows) + legend() +
    el('table', { class: 'class-figures figs baseline-figures' },
      el('thead', {}, el('tr', {}, ...['class', 'mean image', 'mean CAM: baseline', 'mean CAM: this run', 'samples: baseline', 'samples: this run']
        .map((h) => el('th', {}, esc(h))))),
      el('tbody', {}, ...figRows));
}
