import { meanStd, welchTTest, type TTest } from './stats.js';
import type { Evaluation } from './evaluation.js';

/** The CE-only setting (both λ = 0) every other setting is compared with (docs/method.md §5, §7). */
export const BASELINE_SETTING = 'ce';

/** A metric aggregated over seeds, and whether larger values are better. */
export interface AggregateMetric {
  /** Its field in aggregate.json rows. */
  key: string;
  label: string;
  /** null: neither direction is better in itself (map coverage). */
  better: 'higher' | 'lower' | null;
  get: (e: Evaluation) => number | null;
}

const finite = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** What the aggregate reports per (model, dataset, setting), in table order. A new metric is one new row. */
export const AGGREGATE_METRICS = [
  { key: 'accuracy', label: 'accuracy', better: 'higher', get: (e) => finite(e.accuracy) },
  { key: 'coherenceSsim', label: 'coherence ssim', better: 'lower', get: (e) => finite(e.coherence.ssim.mean) },
  { key: 'coherenceL1', label: 'coherence l1', better: 'lower', get: (e) => finite(e.coherence.l1.mean) },
  { key: 'coherenceL2', label: 'coherence l2', better: 'lower', get: (e) => finite(e.coherence.l2.mean) },
  { key: 'reconstructionSsim', label: 'reconstruction ssim', better: 'lower', get: (e) => finite(e.reconstruction.ssim.mean) },
  { key: 'reconstructionL1', label: 'reconstruction l1', better: 'lower', get: (e) => finite(e.reconstruction.l1.mean) },
  { key: 'reconstructionL2', label: 'reconstruction l2', better: 'lower', get: (e) => finite(e.reconstruction.l2.mean) },
  { key: 'mapCoverage', label: 'map coverage', better: null, get: (e) => finite(e.maps?.coverage.mean) },
  // Higher is better only up to a point (noise has contrast too), but 0 flags the collapsed maps the losses can reach.
  { key: 'mapContrast', label: 'map contrast', better: 'higher', get: (e) => finite(e.maps?.contrast.mean) },
  { key: 'specificitySsim', label: 'within/between ssim', better: 'lower', get: (e) => finite(e.specificity?.ssim.ratio) },
  { key: 'decoyEnergy', label: 'decoy energy', better: 'lower', get: (e) => finite(e.decoy?.energy) },
  { key: 'cleanAccuracy', label: 'clean accuracy', better: 'higher', get: (e) => finite(e.decoy?.cleanAccuracy) },
  // Neither direction: 0 is the mark of a model that ignores the patch; a shortcut model can be off either way.
  { key: 'accuracyGap', label: 'clean − decoy accuracy', better: null, get: (e) => finite(e.decoy?.accuracyGap) },
  { key: 'wrongReasonGradCam', label: 'wrong reason Grad-CAM', better: 'lower', get: (e) => finite(e.decoy?.wrongReasonGradCam?.score) },
  { key: 'wrongReasonInputGradient', label: 'wrong reason input grad', better: 'lower', get: (e) => finite(e.decoy?.wrongReasonInputGradient?.score) },
  { key: 'worstGroupAccuracy', label: 'worst-group accuracy', better: 'higher', get: (e) => finite(e.bias?.worstGroupAccuracy) },
  { key: 'conflictingAccuracy', label: 'bias-conflicting accuracy', better: 'higher', get: (e) => finite(e.bias?.conflictingAccuracy) },
  // Neither direction: a model can score high here by reading the bias.
  { key: 'alignedAccuracy', label: 'bias-aligned accuracy', better: null, get: (e) => finite(e.bias?.alignedAccuracy) },
  { key: 'biasedAccuracy', label: 'biased-test accuracy', better: null, get: (e) => finite(e.bias?.biasedAccuracy) },
  { key: 'biasMass', label: 'CAM mass on bias region', better: 'lower', get: (e) => finite(e.bias?.biasMass) },
  { key: 'deletionAuc', label: 'deletion AUC', better: 'lower', get: (e) => finite(e.faithfulness.deletionAuc) },
  { key: 'insertionAuc', label: 'insertion AUC', better: 'higher', get: (e) => finite(e.faithfulness.insertionAuc) },
  { key: 'averageDrop', label: 'average drop', better: 'lower', get: (e) => finite(e.faithfulness.averageDrop) },
] as const satisfies readonly AggregateMetric[];

/** Keys of the aggregated metrics, as they appear in aggregate.json rows. */
export type MetricKey = (typeof AGGREGATE_METRICS)[number]['key'];

/** mean ± sample std over seeds, with the values themselves. */
export interface SeedStats {
  mean: number;
  std: number;
  n: number;
  values: number[];
}

/** One evaluated run of the grid. */
export interface RunResult {
  model: string;
  dataset: string;
  setting: string;
  seed: number;
  /** Run directory, relative to the experiment directory. */
  dir: string;
  evaluation: Evaluation;
}

/**
 * One row of aggregate.json: a (model, dataset, setting) over its seeds. Besides the fields below it has one
 * field per metric key (`accuracy`, `coherenceSsim`, …): mean ± std over seeds, null where no run has the metric
 * (decoy energy off decoy datasets, faithfulness skipped).
 */
export type AggregateRow = AggregateRowBase & Record<MetricKey, SeedStats | null>;

interface AggregateRowBase {
  model: string;
  dataset: string;
  setting: string;
  seeds: number[];
  /** Run directories (relative to the experiment directory), in seed order. */
  runs: string[];
  /**
   * Welch's t-test of this setting against the baseline setting of the same model and dataset, per metric
   * (t > 0: this setting's mean is larger). Null for the baseline row itself or when there is no baseline; a metric
   * is null when either side has fewer than 2 seeds with it.
   */
  vsBaseline: Record<MetricKey, TTest | null> | null;
}

/** aggregate.json minus its timing fields (see `Aggregate`). */
export interface AggregateCore {
  name: string;
  baseline: string;
  metrics: { key: MetricKey; label: string; better: 'higher' | 'lower' | null }[];
  rows: AggregateRow[];
  /** Runs that stopped on non-finite values (a diverging setting), left out of the rows. */
  failed: { dir: string; reason: string }[];
}

/** Wall-clock times: the only fields that differ between an interrupted-and-resumed grid and an uninterrupted one. */
export interface AggregateTiming {
  createdAt: string;
  runs: { dir: string; trainSeconds: number | null; evalSeconds: number | null }[];
}

/** aggregate.json. */
export type Aggregate = AggregateCore & { timing: AggregateTiming };

function seedStats(values: number[]): SeedStats | null {
  if (values.length === 0) return null;
  const s = meanStd(values);
  return { mean: s.mean, std: s.std, n: s.n, values };
}

function metricValues(runs: readonly RunResult[], m: AggregateMetric): number[] {
  return runs.map((r) => m.get(r.evaluation)).filter((v): v is number => v !== null);
}

/**
 * Groups runs by (model, dataset, setting), in first-appearance order with seeds ascending, and summarises each
 * metric as mean ± std over seeds; every non-baseline setting is tested against `baseline` with Welch's t-test.
 */
export function aggregateRuns(name: string, runs: readonly RunResult[], failed: AggregateCore['failed'] = [],
  baseline = BASELINE_SETTING): AggregateCore {
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) {
    const key = JSON.stringify([r.model, r.dataset, r.setting]);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  for (const g of groups.values()) g.sort((a, b) => a.seed - b.seed);
  const rows = [...groups.values()].map((g) => {
    const { model, dataset, setting } = g[0]!;
    const base = setting === baseline ? null : groups.get(JSON.stringify([model, dataset, baseline])) ?? null;
    const metrics = {} as Record<MetricKey, SeedStats | null>;
    const vs = {} as Record<MetricKey, TTest | null>;
    for (const m of AGGREGATE_METRICS) {
      const values = metricValues(g, m);
      metrics[m.key] = seedStats(values);
      if (base) {
        const b = metricValues(base, m);
        vs[m.key] = values.length >= 2 && b.length >= 2 ? welchTTest(values, b) : null;
      }
    }
    const row: AggregateRow = {
      model, dataset, setting, seeds: g.map((r) => r.seed), runs: g.map((r) => r.dir), ...metrics, vsBaseline: base ? vs : null,
    };
    return row;
  });
  return {
    name, baseline,
    metrics: AGGREGATE_METRICS.map(({ key, label, better }) => ({ key, label, better })),
    rows, failed,
  };
}

const cell = (s: SeedStats | null, d: number, scale = 1): string =>
  s ? `${(scale * s.mean).toFixed(d)} ± ${(scale * s.std).toFixed(d)}` : '—';
const pText = (t: TTest | null | undefined): string => (t ? ` (p=${t.p < 1e-4 ? t.p.toExponential(1) : t.p.toFixed(4)})` : '');

/**
 * The aggregate as a markdown table: mean ± std over seeds per (model, dataset, setting), with Welch's p-value
 * against the baseline after each non-baseline cell.
 */
export function aggregateMarkdown(a: AggregateCore): string {
  const shown = AGGREGATE_METRICS.filter((m) => a.rows.some((r) => r[m.key] !== null));
  const head = ['model', 'dataset', 'setting', 'seeds', ...shown.map((m) => `${m.label}${m.key === 'accuracy' ? ' (%)' : ''} ${m.better === 'higher' ? '↑' : m.better === 'lower' ? '↓' : ''}`.trimEnd())];
  const lines = [
    `# ${a.name}`,
    '',
    `mean ± std over seeds; (p=…) is Welch's two-sided t-test against the '${a.baseline}' setting of the same model and dataset.`,
    'Coherence and reconstruction are distances (ssim = 1 − SSIM); decoy energy is the CAM mass share inside the decoy patch.',
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i < 3 ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const r of a.rows) {
    const cells = shown.map((m) => {
      const s = r[m.key];
      return m.key === 'accuracy' ? cell(s, 2, 100) + pText(r.vsBaseline?.[m.key]) : cell(s, 4) + pText(r.vsBaseline?.[m.key]);
    });
    lines.push(`| ${[r.model, r.dataset, r.setting === a.baseline ? `${r.setting} (baseline)` : r.setting, String(r.seeds.length), ...cells].join(' | ')} |`);
  }
  if (a.failed.length) {
    lines.push('', 'Runs left out (non-finite values):', ...a.failed.map((f) => `- ${f.dir}: ${f.reason}`));
  }
  return lines.join('\n') + '\n';
}
