import { el, esc, fmt, pct, table } from './html.js';
import type { EpochLine } from './run-files.js';
import { lineChart, type Series } from './svg-chart.js';

function series(name: string, metrics: readonly EpochLine[], pick: (r: EpochLine) => number | null | undefined): Series {
  return { name, points: metrics.map((r, i) => [r.epoch ?? i + 1, pick(r) ?? null] as const) };
}

function hasAny(metrics: readonly EpochLine[], pick: (r: EpochLine) => number | null | undefined): boolean {
  return metrics.some((r) => typeof pick(r) === 'number');
}

/**
 * Training curves of metrics.jsonl as two inline SVG charts: the loss and its terms (total, CE, the two
 * regularisers when the run used them, test CE), and train/test accuracy per epoch; the numbers follow in a
 * collapsible table.
 */
export function trainingCurves(metrics: readonly EpochLine[]): string {
  if (metrics.length === 0) return el('p', { class: 'note' }, 'No metrics.jsonl (or it is empty): the run has not finished an epoch.');
  const loss: Series[] = [series('loss', metrics, (r) => r.loss), series('CE', metrics, (r) => r.ce)];
  if (hasAny(metrics, (r) => r.proto)) loss.push(series('prototype loss', metrics, (r) => r.proto));
  if (hasAny(metrics, (r) => r.batch)) loss.push(series('Batch-CAM loss', metrics, (r) => r.batch));
  if (hasAny(metrics, (r) => r.testLoss)) loss.push(series('test CE', metrics, (r) => r.testLoss));
  const acc: Series[] = [series('train accuracy', metrics, (r) => r.trainAccuracy), series('test accuracy', metrics, (r) => r.testAccuracy)];
  const rows = metrics.map((r, i) => [
    esc(r.epoch ?? i + 1), esc(r.step ?? ''), r.lr !== undefined ? esc(r.lr.toExponential(2)) : '—', fmt(r.loss), fmt(r.ce), fmt(r.proto), fmt(r.batch),
    pct(r.trainAccuracy), pct(r.testAccuracy), fmt(r.testLoss), fmt(r.seconds, 1),
  ]);
  return el('div', { class: 'charts' },
    lineChart(loss, { title: 'Training loss (epoch means)', xLabel: 'epoch', yLabel: 'loss' }),
    lineChart(acc, { title: 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy' })) +
    el('details', {}, el('summary', {}, 'Per-epoch numbers'),
      table('epochs', ['epoch', 'step', 'lr', 'loss', 'CE', 'proto', 'batch', 'train acc', 'test acc', 'test CE', 'seconds'], rows));
}
