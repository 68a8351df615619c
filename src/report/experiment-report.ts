import { basename, join } from 'node:path';
import { AGGREGATE_METRICS, BASELINE_SETTING, type MetricKey } from '../eval/aggregate.js';
import { camUri, figureClassCount, figureSize, greyUri, legend, sampleTile, tileOrGap } from './figures.js';
import { el, esc, fmt, page } from './html.js';
import {
  readRun, readSteps, resolveRunDir, type Aggregate, type AggregateMetricInfo, type AggregateRow, type MeanStd, type RunFiles, type TTest,
} from './run-files.js';
import { runClassNames } from './run-report.js';
import { barChart, lineChart, PALETTE, type Series } from './svg-chart.js';

/** The CE-only baseline and the columns of an aggregate.json without its own `metrics` list: the experiment's own. */
export { BASELINE_SETTING };
export const DEFAULT_METRICS: readonly AggregateMetricInfo[] = AGGREGATE_METRICS.map(({ key, label, better }) => ({ key, label, ...(better ? { better } : {}) }));

/** '**' for p < 0.01, '*' for p < 0.05, '' otherwise (or without a test). */
export function significanceMark(p: number | null | undefined): string {
  if (typeof p !== 'number' || !Number.isFinite(p)) return '';
  return p < 0.01 ? '**' : p < 0.05 ? '*' : '';
}

/** A row's mean ± std of `key`, or null. */
export function metricOf(row: AggregateRow, key: string): MeanStd | null {
  const v = row[key];
  return v && typeof v === 'object' && typeof (v as MeanStd).mean === 'number' ? (v as MeanStd) : null;
}

/**
 * "mean ± std" (scaled, e.g. ×100 for percentages) with the significance mark; the tooltip gives the test and the
 * per-seed values. With `better` known, the mark says whether the difference is an improvement or not.
 */
export function meanStdCell(v: MeanStd | null | undefined, test?: TTest | null,
  o: { scale?: number; digits?: number; better?: 'higher' | 'lower' | null; baseline?: string } = {}): string {
  if (!v || typeof v.mean !== 'number') return '—';
  const k = o.scale ?? 1;
  const d = o.digits ?? 4;
  const text = `${(k * v.mean).toFixed(d)}${typeof v.std === 'number' ? ` ± ${(k * v.std).toFixed(d)}` : ''}`;
  const mark = significanceMark(test?.p);
  const tips: string[] = [];
  if (test && typeof test.p === 'number') tips.push(`Welch t = ${fmt(test.t, 3)}, p = ${test.p.toPrecision(3)} vs ${o.baseline ?? BASELINE_SETTING}`);
  if (v.values?.length) tips.push(`seeds: ${v.values.map((x) => (k * x).toFixed(d)).join(', ')}`);
  let cls = 'sig';
  if (mark && o.better && typeof test?.t === 'number' && test.t !== 0) {
    const improved = (test.t > 0) === (o.better === 'higher');
    cls += improved ? ' better' : ' worse';
    tips.push(improved ? 'significantly better' : 'significantly worse');
  }
  return el('span', { title: tips.length ? tips.join('; ') : null }, esc(text), mark ? el('span', { class: cls }, ` ${mark}`) : '');
}

function seedsText(s: AggregateRow['seeds']): { text: string; title: string | null } {
  if (Array.isArray(s)) return { text: String(s.length), title: `seeds ${s.join(', ')}` };
  return { text: typeof s === 'number' ? String(s) : '—', title: null };
}

/**
 * The aggregate table: one row per (model, dataset, setting) with mean ± std over seeds of every metric some row
 * has, marked * p < 0.05 / ** p < 0.01 in Welch's t-test against the baseline setting.
 */
export function aggregateTable(rows: readonly AggregateRow[], o: { metrics?: readonly AggregateMetricInfo[]; baseline?: string } = {}): string {
  const baseline = o.baseline ?? BASELINE_SETTING;
  const metrics = (o.metrics ?? DEFAULT_METRICS).filter((m) => rows.some((r) => metricOf(r, m.key)));
  const arrow = (m: AggregateMetricInfo): string => (m.better === 'higher' ? ' ↑' : m.better === 'lower' ? ' ↓' : '');
  const header = ['model', 'dataset', 'setting', 'seeds', ...metrics.map((m) => `${m.label ?? m.key}${m.key === 'accuracy' ? ' (%)' : ''}${arrow(m)}`)];
  const body = rows.map((r) => {
    const seeds = seedsText(r.seeds);
    const vs = r.vsBaseline ?? null;
    return el('tr', { 'data-setting': r.setting ?? '' },
      el('td', {}, esc(r.model ?? '?')), el('td', {}, esc(r.dataset ?? '?')),
      el('td', {}, esc(r.setting ?? '?'), r.setting === baseline ? el('span', { class: 'note' }, ' (baseline)') : ''),
      el('td', { title: seeds.title }, esc(seeds.text)),
      ...metrics.map((m) => el('td', { 'data-metric': m.key }, meanStdCell(metricOf(r, m.key), vs?.[m.key] ?? null,
        { ...(m.key === 'accuracy' ? { scale: 100, digits: 2 } : {}), better: m.better, baseline }))));
  });
  return el('div', { class: 'scroll' }, el('table', { class: 'aggregate' },
    el('thead', {}, el('tr', {}, ...header.map((h) => el('th', {}, esc(h))))), el('tbody', {}, ...body))) +
    el('p', { class: 'note' }, `mean ± std over seeds (↑ higher is better, ↓ lower is better); * p &lt; 0.05, ** p &lt; 0.01 in Welch's t-test against the '${esc(baseline)}' setting of the same model and dataset (green: better, red: worse; hover for t, p and the per-seed values). Coherence and reconstruction are distances (ssim = 1 − SSIM): lower is closer.`);
}

/** A (model, dataset) block of rows, baseline first. */
interface Group {
  key: string;
  model: string;
  dataset: string;
  rows: AggregateRow[];
}

function groups(rows: readonly AggregateRow[], baseline: string): Group[] {
  const map = new Map<string, Group>();
  for (const r of rows) {
    const key = `${r.model ?? '?'} / ${r.dataset ?? '?'}`;
    if (!map.has(key)) map.set(key, { key, model: r.model ?? '?', dataset: r.dataset ?? '?', rows: [] });
    map.get(key)!.rows.push(r);
  }
  for (const g of map.values()) {
    // Stable: the baseline first, the rest in aggregate.json order.
    g.rows.sort((a, b) => Number(b.setting === baseline) - Number(a.setting === baseline));
  }
  return [...map.values()];
}

/** A setting with its first seed's run, read from disk (null run when it cannot be found). */
interface SettingRun {
  row: AggregateRow;
  setting: string;
  run: RunFiles | null;
  runPath: string | null;
}

function firstRuns(dir: string, g: Group, missing: string[]): SettingRun[] {
  return g.rows.map((row) => {
    const runPath = row.runs?.[0] ?? null;
    const resolved = runPath ? resolveRunDir(dir, runPath) : null;
    if (runPath && !resolved) missing.push(runPath);
    return { row, setting: row.setting ?? '?', run: resolved ? readRun(resolved) : null, runPath };
  });
}

/**
 * Side by side, for the first seed of each setting: per class the mean image, then each setting's prototype CAM
 * (mean CAM) and its first sample overlay, so the baseline's explanations sit next to the regularised ones.
 */
function sideBySide(runs: readonly SettingRun[]): string {
  const withFig = runs.filter((r) => r.run?.evaluation?.figures);
  if (withFig.length === 0) return el('p', { class: 'note' }, 'No evaluation.json with figures among the first-seed runs.');
  const ref = withFig[0]!.run!;
  const names = runClassNames(ref);
  const C = Math.max(names.length, ...withFig.map((r) => figureClassCount(r.run!.evaluation!)));
  const header = el('tr', {}, el('th', {}, 'class'), el('th', {}, 'mean image'),
    ...runs.map((r) => el('th', { title: r.runPath ?? '' }, esc(r.setting), r.runPath ? el('div', { class: 'note' }, esc(basename(r.runPath))) : '')));
  const body: string[] = [];
  for (let c = 0; c < C; c++) {
    const meanImage = withFig.map((r) => r.run!.evaluation!.figures!.meanImages?.[c]).find((m) => m) ?? null;
    body.push(el('tr', { 'data-class': c }, el('td', {}, esc(names[c] ?? String(c))), el('td', {}, tileOrGap(greyUri(meanImage, figureSize(ref.evaluation)), 'mean')),
      ...runs.map((r) => {
        const ev = r.run?.evaluation;
        const f = ev?.figures;
        if (!ev || !f) return el('td', {}, el('span', { class: 'note' }, 'no evaluation'));
        const sample = f.samples?.find((s) => s.label === c);
        return el('td', { class: 'imgs' }, tileOrGap(camUri(f.meanCams?.[c], figureSize(ev)), 'mean CAM'), sample ? sampleTile(ev, sample) : '');
      })));
  }
  return legend() + el('table', { class: 'side-by-side figs' }, el('thead', {}, header), el('tbody', {}, ...body));
}

/** Test accuracy per epoch of each setting's first seed, in one chart. */
function accuracyCurves(runs: readonly SettingRun[]): string {
  const series = runs.filter((r) => r.run && r.run.metrics.length).map((r) => ({
    name: r.setting,
    points: r.run!.metrics.map((m, i) => [m.epoch ?? i + 1, m.testAccuracy ?? null] as const),
  }));
  if (series.length === 0) return '';
  return lineChart(series, { title: 'Test accuracy per epoch (first seed of each setting)', xLabel: 'epoch', yLabel: 'accuracy' });
}

const SEED_DASHES = ['', '6 3', '2 3', '8 3 2 3'];

/**
 * Training cross-entropy over steps (steps.jsonl) for every run of the group, all seeds: colour = setting,
 * dash = seed. A run that never leaves ln C (chance) shows here, where the epoch means would hide when it stalled.
 */
function stepCurves(dir: string, g: Group): string {
  const series: Series[] = [];
  g.rows.forEach((row, si) => {
    (row.runs ?? []).forEach((runPath, k) => {
      const resolved = resolveRunDir(dir, runPath);
      const steps = resolved ? readSteps(join(resolved, 'steps.jsonl')) : [];
      if (steps.length === 0) return;
      series.push({
        name: `${row.setting ?? '?'} seed ${Array.isArray(row.seeds) ? row.seeds[k] ?? k : k}`, color: PALETTE[si % PALETTE.length], dash: SEED_DASHES[k % SEED_DASHES.length],
        points: steps.map((r, i) => [r.step ?? i + 1, r.ce ?? null] as const),
      });
    });
  });
  if (series.length === 0) return '';
  return lineChart(series, { title: 'Training cross-entropy per logged step window (every seed)', xLabel: 'step', yLabel: 'CE' });
}

/**
 * Decoy figures (DecoyMNIST/DecoyFMNIST): decoy energy mean ± std per setting, and each setting's sample
 * overlays, where a shortcut shows as attention on the corner patch.
 */
function decoyFigures(g: Group, runs: readonly SettingRun[]): string {
  const isDecoy = g.dataset.includes('decoy') || g.rows.some((r) => metricOf(r, 'decoyEnergy')) || runs.some((r) => r.run?.evaluation?.decoy);
  if (!isDecoy) return '';
  const bars = g.rows.map((r) => ({ label: r.setting ?? '?', value: metricOf(r, 'decoyEnergy')?.mean ?? null, error: metricOf(r, 'decoyEnergy')?.std ?? null }));
  const uniform = runs.map((r) => r.run?.evaluation?.decoy?.uniformEnergy).find((u) => typeof u === 'number');
  const rows = runs.map((r) => {
    const ev = r.run?.evaluation;
    const samples = ev?.figures?.samples ?? [];
    // One sample per class: enough to see whether attention sits on the digit or on the patch.
    const perClass = [...new Map(samples.map((s) => [s.label, s] as const)).values()];
    return el('tr', {}, el('td', {}, esc(r.setting)), el('td', {}, fmt(ev?.decoy?.energy)),
      el('td', { class: 'imgs' }, ev && perClass.length ? perClass.map((s) => sampleTile(ev, s)).join('') : el('span', { class: 'note' }, 'no samples')));
  });
  return el('h3', {}, 'Decoy: CAM mass on the corner patch') +
    (bars.some((b) => b.value !== null) ? barChart(bars, { title: 'Decoy energy (mean ± std over seeds)', yLabel: 'energy' }) : '') +
    (uniform !== undefined ? el('p', { class: 'note' }, `A uniform map puts ${fmt(uniform)} of its mass on the patch.`) : '') +
    el('table', { class: 'decoy-samples figs' }, el('thead', {}, el('tr', {}, el('th', {}, 'setting'), el('th', {}, 'decoy energy (first seed)'), el('th', {}, 'sample overlays (first seed)'))),
      el('tbody', {}, ...rows));
}

/**
 * Shortcut figures (datasets with a known bias attribute: DecoyMNIST, Biased-MNIST, ColorMNIST): per setting, mean ±
 * std over seeds of worst-group and bias-conflicting accuracy, and of the CAM mass on the bias region where it is one.
 */
function biasFigures(g: Group): string {
  const chart = (key: MetricKey, title: string, yLabel: string): string => {
    const bars = g.rows.map((r) => ({ label: r.setting ?? '?', value: metricOf(r, key)?.mean ?? null, error: metricOf(r, key)?.std ?? null }));
    // Accuracies and mass shares are fractions: one fixed 0–1 axis keeps the three charts comparable (and a row of zeros readable).
    return bars.some((b) => b.value !== null) ? barChart(bars, { title, yLabel, yRange: [0, 1] }) : '';
  };
  const charts = [
    chart('worstGroupAccuracy', 'Worst-group accuracy (mean ± std)', 'accuracy'),
    chart('conflictingAccuracy', 'Bias-conflicting accuracy (mean ± std)', 'accuracy'),
    chart('biasMass', 'CAM mass on the bias region (mean ± std)', 'share'),
  ].join('');
  return charts ? el('h3', {}, 'Shortcut: groups of class × bias attribute') + charts : '';
}

/** The body of an experiment report: aggregate table, then per (model, dataset) the curves, grids and decoy figures. */
export function experimentReportBody(dir: string, agg: Aggregate, readWarnings: readonly string[] = []): string {
  const rows = agg.rows ?? [];
  const baseline = agg.baseline ?? BASELINE_SETTING;
  const missing: string[] = [];
  const blocks = groups(rows, baseline).map((g) => {
    const runs = firstRuns(dir, g, missing);
    return el('section', { class: 'group' }, el('h2', {}, esc(g.key)), accuracyCurves(runs), stepCurves(dir, g),
      el('h3', {}, `Explanations: ${esc(baseline)} vs regularised (first seed of each)`), sideBySide(runs), decoyFigures(g, runs), biasFigures(g));
  });
  const warn = [...readWarnings, ...(missing.length ? [`run directories not found: ${missing.join(', ')}`] : [])];
  const failed = (agg.failed ?? []).map((f) => `${f.dir ?? '?'}: ${f.reason ?? 'failed'}`);
  return [
    el('h1', {}, `batchcam experiment${agg.name ? `: ${esc(agg.name)}` : ''}`),
    el('p', { class: 'sub' }, esc(dir), ` · ${rows.length} rows · baseline '${esc(baseline)}'`),
    warn.length ? el('div', { class: 'warn' }, esc(warn.join('; '))) : '',
    el('h2', { id: 'aggregate' }, 'Results over seeds'),
    rows.length ? aggregateTable(rows, { metrics: agg.metrics, baseline }) : el('p', { class: 'note' }, 'aggregate.json has no rows.'),
    failed.length ? el('div', { class: 'warn failed' }, el('strong', {}, 'Runs left out (non-finite values): '), esc(failed.join('; '))) : '',
    ...blocks,
  ].join('\n');
}

/** An experiment's report as a complete HTML page. */
export function experimentReport(dir: string, agg: Aggregate, readWarnings: readonly string[] = []): string {
  return page(`batchcam — experiment ${agg.name ?? basename(dir)}`, experimentReportBody(dir, agg, readWarnings));
}
