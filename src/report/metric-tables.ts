import { el, esc, fmt, pct, table } from './html.js';
import type { Evaluation } from './run-files.js';

const DISTANCES = ['l1', 'l2', 'ssim'] as const;

/**
 * The headline numbers of evaluation.json (docs/method.md §7): accuracy, coherence and reconstruction means per
 * distance, map coverage and contrast, decoy energy and accuracy, faithfulness. Missing parts show as '—' rather than vanish, so two
 * reports always line up.
 */
export function summaryTable(ev: Evaluation): string {
  const rows: string[][] = [['test accuracy', pct(ev.accuracy)]];
  for (const d of DISTANCES) rows.push([`coherence ${d} (mean over classes)`, fmt(ev.coherence?.[d]?.mean)]);
  for (const d of DISTANCES) rows.push([`reconstruction ${d} (mean over classes)`, fmt(ev.reconstruction?.[d]?.mean)]);
  rows.push(['map coverage (mean CAM value; 1 = uniform map, 0 = empty)', fmt(ev.maps?.coverage?.mean)]);
  rows.push(['map contrast (spatial std of a CAM; 0 = flat map)', fmt(ev.maps?.contrast?.mean)]);
  for (const d of DISTANCES) rows.push([`class specificity ${d} (within- / between-class map distance; lower = class-specific)`, fmt(ev.specificity?.[d]?.ratio)]);
  if (ev.decoy) {
    rows.push(['decoy energy (CAM mass in the patch; lower is better)', fmt(ev.decoy.energy)]);
    rows.push(['decoy energy of a uniform map (reference)', fmt(ev.decoy.uniformEnergy)]);
    rows.push(['decoy test accuracy', pct(ev.decoy.accuracy)]);
    rows.push(['predictions equal to the patch\'s class (≈ 10% without shortcut)', pct(ev.decoy.decoyLabelRate)]);
    rows.push(['accuracy on the same images without the patch', pct(ev.decoy.cleanAccuracy)]);
    rows.push(['clean − decoy accuracy gap (≈ 0 without shortcut)', pct(ev.decoy.accuracyGap)]);
    rows.push(['wrong-reason score, Grad-CAM (share of patch pixels lit; lower is better)', fmt(ev.decoy.wrongReasonGradCam?.score)]);
    rows.push(['wrong-reason score, input gradients (RRR explainer)', fmt(ev.decoy.wrongReasonInputGradient?.score)]);
  }
  const bias = ev.bias;
  if (bias) {
    rows.push([`worst-group accuracy (groups: class × ${bias.region === 'patch' ? 'patch shade' : 'colour'})`, pct(bias.worstGroupAccuracy)]);
    rows.push(['bias-aligned accuracy (test samples whose bias matches their class)', pct(bias.alignedAccuracy)]);
    rows.push(['bias-conflicting accuracy', pct(bias.conflictingAccuracy)]);
    rows.push(['accuracy on the bias-aligned test images (the "biased" test set)', pct(bias.biasedAccuracy)]);
    rows.push([`CAM mass on the bias region (${bias.region}; lower is better)`, fmt(bias.biasMass)]);
    rows.push(['… of a uniform map (reference)', fmt(bias.uniformBiasMass)]);
  }
  const fa = ev.faithfulness;
  rows.push(['deletion AUC (lower is better)', fmt(fa?.deletionAuc)]);
  rows.push(['insertion AUC (higher is better)', fmt(fa?.insertionAuc)]);
  rows.push(['average drop (lower is better)', fa?.averageDrop !== undefined ? pct(fa.averageDrop) : '—']);
  const bits = [
    ev.n !== undefined ? `${ev.n} test images` : null,
    ev.camTarget ? `CAM of the ${ev.camTarget === 'pred' ? 'predicted' : 'true'} class` : null,
    fa?.n !== undefined ? `faithfulness on ${fa.n} images, ${fa.steps ?? '?'} steps${fa.insertionStart ? `, insertion from ${fa.insertionStart}` : ''}` : null,
    'coherence and reconstruction are distances (l1 = mean |a−b|, l2 = mean (a−b)², ssim = 1 − SSIM): lower is closer',
  ].filter(Boolean);
  return table('summary', ['metric', 'value'], rows.map(([a, b]) => [esc(a), b!])) + el('p', { class: 'note' }, esc(bits.join(' · ')));
}

/** Per class: accuracy, coherence and reconstruction for each distance. */
export function perClassTable(ev: Evaluation, classNames: readonly string[]): string {
  const C = Math.max(classNames.length, ev.perClassAccuracy?.length ?? 0,
    ...DISTANCES.map((d) => ev.coherence?.[d]?.perClass?.length ?? 0));
  if (C === 0) return el('p', { class: 'note' }, 'No per-class results.');
  const decoy = ev.decoy?.energyPerClass ?? null;
  const rows: string[][] = [];
  for (let c = 0; c < C; c++) {
    rows.push([
      esc(classNames[c] ?? String(c)), pct(ev.perClassAccuracy?.[c]),
      ...DISTANCES.map((d) => fmt(ev.coherence?.[d]?.perClass?.[c])),
      ...DISTANCES.map((d) => fmt(ev.reconstruction?.[d]?.perClass?.[c])),
      ...(decoy ? [fmt(decoy[c])] : []),
    ]);
  }
  return table('per-class', ['class', 'accuracy', 'coherence l1', 'coherence l2', 'coherence ssim', 'reconstruction l1', 'reconstruction l2',
    'reconstruction ssim', ...(decoy ? ['decoy energy'] : [])], rows);
}
