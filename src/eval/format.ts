import type { Evaluation } from './evaluation.js';

const num = (v: number | null | undefined, d = 4): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—');
const pct = (v: number | null | undefined): string => (typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '—');

/** Left-aligned first column, right-aligned others, two spaces apart. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows.map((r) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ')).join('\n');
}

/** evaluation.json as a readable per-class table with the headline numbers, for the terminal. */
export function formatEvaluation(ev: Evaluation): string {
  const names = ev.figures.classNames;
  const decoy = ev.decoy;
  const header = ['class', 'accuracy', 'coh ssim', 'coh l1', 'coh l2', 'rec ssim', 'rec l1', 'rec l2', ...(decoy ? ['decoy E'] : [])];
  const row = (label: string, acc: number | null, pick: (s: { perClass: (number | null)[]; mean: number }) => number | null,
    energy: number | null | undefined): string[] => [
    label, pct(acc),
    num(pick(ev.coherence.ssim)), num(pick(ev.coherence.l1)), num(pick(ev.coherence.l2)),
    num(pick(ev.reconstruction.ssim)), num(pick(ev.reconstruction.l1)), num(pick(ev.reconstruction.l2)),
    ...(decoy ? [num(energy)] : []),
  ];
  const rows = [header];
  ev.perClassAccuracy.forEach((acc, c) => rows.push(row(names[c] && names[c] !== String(c) ? `${c} ${names[c]}` : String(c), acc, (s) => s.perClass[c] ?? null, decoy?.energyPerClass[c])));
  rows.push(row('all', ev.accuracy, (s) => s.mean, decoy?.energy));
  const f = ev.faithfulness;
  const lines = [
    `${ev.model} on ${ev.dataset}: ${ev.n} test images, CAMs explain the ${ev.camTarget === 'pred' ? 'predicted' : 'true'} class` +
      (ev.checkpoint ? ` (${ev.checkpoint})` : ''),
    `accuracy ${pct(ev.accuracy)}; CAM coverage ${num(ev.maps.coverage.mean)} (mean value: 1 = uniform, 0 = empty), ` +
      `contrast ${num(ev.maps.contrast.mean)} (spatial std: 0 = flat)`,
    `class specificity (within-class / between-class map distance; lower = maps differ by class): ` +
      `ssim ${num(ev.specificity.ssim.ratio)}, l1 ${num(ev.specificity.l1.ratio)}, l2 ${num(ev.specificity.l2.ratio)}`,
    '',
    table(rows),
    '',
    'coherence: d(CAM, mean CAM of its class); reconstruction: d(CAM, max-scaled mean training image); ssim = 1 − SSIM; lower is closer.',
    f.n > 0
      ? `faithfulness on ${f.n} images, ${f.steps} steps (deletion to black, insertion from ${f.insertionStart === 'blur' ? 'a blurred image' : 'black'}): ` +
        `deletion AUC ${num(f.deletionAuc)} (lower is better), insertion AUC ${num(f.insertionAuc)} (higher), average drop ${pct(f.averageDrop)} (lower)`
      : 'faithfulness: skipped (0 images)',
  ];
  if (decoy) {
    lines.push(`decoy: energy ${num(decoy.energy)} (uniform map ${num(decoy.uniformEnergy)}), accuracy on randomised decoys ${pct(decoy.accuracy)}, ` +
      `predictions equal to the patch's class ${pct(decoy.decoyLabelRate)}`);
    lines.push(`shortcut: accuracy without the patch ${pct(decoy.cleanAccuracy)} (gap ${pct(decoy.accuracyGap)}); wrong-reason score ` +
      `(share of patch pixels lit, XIL typology; lower is better) Grad-CAM ${num(decoy.wrongReasonGradCam.score)}, ` +
      `input gradients ${num(decoy.wrongReasonInputGradient.score)}`);
  }
  const bias = ev.bias;
  if (bias) {
    lines.push(`bias (${bias.region}): worst-group accuracy ${pct(bias.worstGroupAccuracy)} (class ${bias.worstGroup.label}, attribute ` +
      `${bias.worstGroup.attribute}, ${bias.worstGroup.n} images; ${bias.groups} groups), bias-aligned ${pct(bias.alignedAccuracy)}, ` +
      `bias-conflicting ${pct(bias.conflictingAccuracy)}, on the bias-aligned test images ${pct(bias.biasedAccuracy)}` +
      (bias.biasMass !== null ? `; CAM mass on the ${bias.region} ${num(bias.biasMass)} (uniform map ${num(bias.uniformBiasMass)})` : ''));
  }
  return lines.join('\n');
}
