import { datasetInfo, isDatasetName } from '../data/builtin/datasets.js';
import { trainingCurves } from './curves.js';
import { classFigures } from './figures.js';
import { el, esc, page, table } from './html.js';
import { perClassTable, summaryTable } from './metric-tables.js';
import type { RunFiles } from './run-files.js';
import { baselineComparison } from './baseline-comparison.js';

/** Configuration keys shown up front; the full config.json follows collapsed. */
const KEY_OPTIONS = [
  'model', 'dataset', 'epochs', 'batchSize', 'optimizer', 'lr', 'seed', 'trainLimit', 'testLimit', 'lambdaProto', 'lambdaBatch',
  'distance', 'prototypeSource', 'camTarget', 'camLayer', 'camGrad', 'camWarmupEpochs', 'camWarmupSteps',
];

/** Class names of a run: from its figures, else from its dataset, else the class numbers. */
export function runClassNames(run: RunFiles): string[] {
  const fromFigures = run.evaluation?.figures?.classNames;
  if (fromFigures?.length) return fromFigures;
  const ds = run.evaluation?.dataset ?? run.config?.dataset;
  if (typeof ds === 'string' && isDatasetName(ds)) return [...datasetInfo(ds).classNames];
  const n = run.evaluation?.perClassAccuracy?.length ?? 0;
  return Array.from({ length: n }, (_, i) => String(i));
}

/** "model on dataset" for headings, from whatever the run recorded. */
export function runTitle(run: RunFiles): string {
  const model = run.evaluation?.model ?? run.config?.model;
  const dataset = run.evaluation?.dataset ?? run.config?.dataset;
  return model || dataset ? `${model ?? '?'} on ${dataset ?? '?'}` : run.dir;
}

function configSection(cfg: Record<string, unknown> | null): string {
  if (!cfg) return el('p', { class: 'note' }, 'No config.json.');
  const rows = KEY_OPTIONS.filter((k) => k in cfg).map((k) => [esc(k), esc(typeof cfg[k] === 'string' ? cfg[k] : JSON.stringify(cfg[k]))]);
  return table('config', ['option', 'value'], rows) +
    el('details', {}, el('summary', {}, 'Full config.json'), el('pre', {}, esc(JSON.stringify(cfg, null, 2))));
}

function warnings(list: readonly string[]): string {
  return list.length ? el('div', { class: 'warn' }, el('strong', {}, 'Some files could not be read: '), esc(list.join('; '))) : '';
}

/**
 * The body of a single run's report: configuration, training curves, evaluation tables and figures; with a
 * `baseline` run that has an evaluation, a comparison section first (metrics and maps side by side).
 */
export function runReportBody(run: RunFiles, baseline?: RunFiles | null): string {
  const ev = run.evaluation;
  const names = runClassNames(run);
  const parts = [
    el('h1', {}, `batchcam run: ${esc(runTitle(run))}`),
    el('p', { class: 'sub' }, esc(run.dir), ev?.checkpoint ? ` · evaluated ${esc(ev.checkpoint)}` : ''),
    warnings(run.warnings),
    ...(ev && baseline?.evaluation ? [el('h2', { id: 'baseline' }, 'What the regulariser changed (vs the baseline run)'),
      baselineComparison(ev, baseline.evaluation, { run: run.dir, baseline: baseline.dir })] : []),
    el('h2', { id: 'config' }, 'Configuration'), configSection(run.config),
    el('h2', { id: 'training' }, 'Training curves'), trainingCurves(run.metrics, run.steps),
  ];
  if (ev) {
    parts.push(
      el('h2', { id: 'evaluation' }, 'Evaluation'), summaryTable(ev),
      el('h3', {}, 'Per class'), perClassTable(ev, names),
      el('h2', { id: 'figures' }, 'Explanations per class'), classFigures(ev));
  } else {
    parts.push(el('h2', { id: 'evaluation' }, 'Evaluation'),
      el('p', { class: 'note' }, 'No evaluation.json: run `batchcam evaluate` on this run for metrics and figures.'));
  }
  return parts.join('\n');
}

/** A single run's report as a complete HTML page. */
export function runReport(run: RunFiles, baseline?: RunFiles | null): string {
  return page(`batchcam — ${runTitle(run)}`, runReportBody(run, baseline));
}
