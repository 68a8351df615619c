import { el, esc, fmt, pct, table } from './html.js';
import type { EpochLine, StepLine } from './run-files.js';
import { lineChart, type Series } from './svg-chart.js';

type Line = EpochLine | StepLine;

/** A series over the lines' x (step, or epoch). */
function series<L extends Line>(name: string, lines: readonly L[], x: (r: L, i: number) => number, pick: (r: L) => number | null | undefined): Series {
  return { name, points: lines.map((r, i) => [x(r, i), pick(r) ?? null] as const) };
}

function hasAny<L extends Line>(lines: readonly L[], pick: (r: L) => number | null | undefined): boolean {
  return lines.some((r) => typeof pick(r) === 'number');
}

/** The loss and its terms: total, CE, and the two regularisers when the run used them. */
function lossSeries<L extends Line>(lines: readonly L[], x: (r: L, i: number) => number): Series[] {
  const out = [series('loss', lines, x, (r) => r.loss), series('CE', lines, x, (r) => r.ce)];
  if (hasAny(lines, (r) => r.proto)) out.push(series('prototype loss', lines, x, (r) => r.proto));
  if (hasAny(lines, (r) => r.batch)) out.push(series('Batch-CAM loss', lines, x, (r) => r.batch));
  return out;
}

/**
 * Training curves as two inline SVG charts — the loss and its terms, and train/test accuracy — followed by the
 * per-epoch numbers in a collapsible table. With steps.jsonl the curves are step-level (means of `logEvery`
 * steps) and the test results sit at each epoch's last step; without it they are epoch means.
 */
export function trainingCurves(metrics: readonly EpochLine[], steps: readonly StepLine[] = []): string {
  if (metrics.length === 0 && steps.length === 0) return el('p', { class: 'note' }, 'No metrics.jsonl (or it is empty): the run has not finished an epoch.');
  const byEpoch = (r: EpochLine, i: number): number => r.epoch ?? i + 1;
  let charts: string;
  if (steps.length > 0) {
    const byStep = (r: Line, i: number): number => r.step ?? i + 1;
    const ended = metrics.filter((r) => typeof r.step === 'number');
    const loss = lossSeries(steps, byStep);
    if (hasAny(ended, (r) => r.testLoss)) loss.push(series('test CE', ended, byStep, (r) => r.testLoss));
    if (hasAny(ended, (r) => r.valLoss)) loss.push(series('validation CE', ended, byStep, (r) => r.valLoss));
    const acc = [series('train accuracy', steps, byStep, (r) => r.trainAccuracy), series('test accuracy', ended, byStep, (r) => r.testAccuracy)];
    if (hasAny(ended, (r) => r.valAccuracy)) acc.push(series('validation accuracy', ended, byStep, (r) => r.valAccuracy));
    charts = lineChart(loss, { title: 'Training loss (means over logged step windows)', xLabel: 'step', yLabel: 'loss' }) +
      lineChart(acc, { title: 'Accuracy', xLabel: 'step', yLabel: 'accuracy' });
  } else {
    const loss = lossSeries(metrics, byEpoch);
    if (hasAny(metrics, (r) => r.testLoss)) loss.push(series('test CE', metrics, byEpoch, (r) => r.testLoss));
    if (hasAny(metrics, (r) => r.valLoss)) loss.push(series('validation CE', metrics, byEpoch, (r) => r.valLoss));
    const acc = [series('train accuracy', metrics, byEpoch, (r) => r.trainAccuracy), series('test accuracy', metrics, byEpoch, (r) => r.testAccuracy)];
    if (hasAny(metrics, (r) => r.valAccuracy)) acc.push(series('validation accuracy', metrics, byEpoch, (r) => r.valAccuracy));
    charts = lineChart(loss, { title: 'Training loss (epoch means)', xLabel: 'epoch', yLabel: 'loss' }) +
      lineChart(acc, { title: 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy' });
  }
  const validated = hasAny(metrics, (r) => r.valAccuracy);
  const rows = metrics.map((r, i) => [
    esc(r.epoch ?? i + 1), esc(r.step ?? ''), r.lr !== undefined ? esc(r.lr.toExponential(2)) : '—', fmt(r.loss), fmt(r.ce), fmt(r.proto), fmt(r.batch),
    pct(r.trainAccuracy), pct(r.testAccuracy), fmt(r.testLoss), ...(validated ? [pct(r.valAccuracy), fmt(r.valLoss)] : []), fmt(r.seconds, 1),
  ]);
  return el('div', { class: 'charts' }, charts) +
    el('details', {}, el('summary', {}, 'Per-epoch numbers'),
      table('epochs', ['epoch', 'step', 'lr', 'loss', 'CE', 'proto', 'batch', 'train acc', 'test acc', 'test CE',
        ...(validated ? ['val acc', 'val CE'] : []), 'seconds'], rows));
}
