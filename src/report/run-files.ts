import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

import type { EpochRecord } from '../train/session.js';
import type { StepRecord } from '../train/run/step-log.js';
import type { Evaluation as EvaluationRecord, FigureSample as FigureSampleRecord } from '../eval/evaluation.js';
import type { ClassSummary } from '../eval/class-summary.js';
import type { Aggregate as AggregateRecord, AggregateCore, AggregateRow as AggregateRowRecord, SeedStats } from '../eval/aggregate.js';
import type { TTest as TTestRecord } from '../eval/stats.js';

/**
 * Readers of what `batchcam train`, `evaluate` and `experiment` leave in a directory, typed by what the writers
 * write, read back as {@link AsRead}: a report shows whatever a run has (an unfinished run, an older
 * evaluation.json) instead of failing.
 */

/**
 * A JSON record as read back from disk: every field, at any depth, may be missing (an older or unfinished run's
 * file). The readers below never throw on a missing field; the report shows '—' for it.
 */
export type AsRead<T> = T extends string | number | boolean | null | undefined ? T
  : T extends readonly (infer U)[] ? AsRead<U>[]
  : { [K in keyof T]?: AsRead<T[K]> };

/** One line of steps.jsonl: means over the last `logEvery` steps. */
export type StepLine = AsRead<StepRecord>;
/** One line of metrics.jsonl: a StepLine over the epoch, plus test results. */
export type EpochLine = AsRead<EpochRecord>;
/** A per-class metric with its mean. */
export type PerClassMetric = AsRead<ClassSummary>;
/** One explained sample of evaluation.json's figures. */
export type FigureSample = AsRead<FigureSampleRecord>;
/** evaluation.json, as `batchcam evaluate` writes it. */
export type Evaluation = AsRead<EvaluationRecord>;
/** mean ± std over seeds, with the per-seed values. */
export type MeanStd = AsRead<SeedStats>;
/** Welch's t-test against the CE-only baseline (t > 0: this setting's mean is larger). */
export type TTest = AsRead<TTestRecord>;
/** An aggregated metric: its key in the rows (any string: a newer file may have metrics this version lacks), label, better direction. */
export type AggregateMetricInfo = Omit<AsRead<AggregateCore['metrics'][number]>, 'key'> & { key: string };
/**
 * One row of aggregate.json: a (model, dataset, setting) over its seeds, one mean ± std field per metric key, looked
 * up by the keys the file's own `metrics` lists (see AggregateMetricInfo).
 */
export type AggregateRow = Omit<AsRead<AggregateRowRecord>, 'vsBaseline'> & {
  vsBaseline?: Record<string, TTest | null | undefined> | null;
  [metric: string]: unknown;
};
/** aggregate.json, as `batchcam experiment` writes it. */
export type Aggregate = Omit<AsRead<AggregateRecord>, 'metrics'> & { metrics?: AggregateMetricInfo[] };

/** What a run directory holds (each part null when absent). */
export interface RunFiles {
  dir: string;
  config: Record<string, unknown> | null;
  metrics: EpochLine[];
  /** steps.jsonl: empty for runs trained without step logging. */
  steps: StepLine[];
  evaluation: Evaluation | null;
  /** Problems met while reading (malformed lines, unreadable files), shown in the report rather than thrown. */
  warnings: string[];
}

function readJson<T>(path: string, warnings: string[]): T | null {
  if (!existsSync(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (v === null || typeof v !== 'object') {
      warnings.push(`${path}: expected a JSON object`);
      return null;
    }
    return v as T;
  } catch (e) {
    warnings.push(`${path}: ${(e as Error).message}`);
    return null;
  }
}

/** A JSONL file of objects: blank lines skipped, malformed ones reported in `warnings`; [] when it does not exist. */
function readJsonl<T>(path: string, warnings: string[]): T[] {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as T);
      else warnings.push(`${path}:${i + 1}: not a JSON object`);
    } catch (e) {
      warnings.push(`${path}:${i + 1}: ${(e as Error).message}`);
    }
  });
  return out;
}

/** metrics.jsonl: one EpochRecord per line. */
export function readMetrics(path: string, warnings: string[] = []): EpochLine[] {
  return readJsonl<EpochLine>(path, warnings);
}

/** steps.jsonl: one StepRecord per `logEvery` steps. */
export function readSteps(path: string, warnings: string[] = []): StepLine[] {
  return readJsonl<StepLine>(path, warnings);
}

/** Reads config.json, metrics.jsonl, steps.jsonl and evaluation.json of a run directory. */
export function readRun(dir: string): RunFiles {
  const warnings: string[] = [];
  return {
    dir,
    config: readJson<Record<string, unknown>>(join(dir, 'config.json'), warnings),
    metrics: readMetrics(join(dir, 'metrics.jsonl'), warnings),
    steps: readSteps(join(dir, 'steps.jsonl'), warnings),
    evaluation: readJson<Evaluation>(join(dir, 'evaluation.json'), warnings),
    warnings,
  };
}

/** aggregate.json of an experiment directory, or null when there is none. */
export function readAggregate(dir: string, warnings: string[] = []): Aggregate | null {
  return readJson<Aggregate>(join(dir, 'aggregate.json'), warnings);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Finds a run directory named in aggregate.json: as written when absolute, else relative to the experiment
 * directory, then to the working directory (where `batchcam experiment` ran). Null when none exists.
 */
export function resolveRunDir(experimentDir: string, runPath: string): string | null {
  if (isAbsolute(runPath)) return isDir(runPath) ? runPath : null;
  for (const p of [join(experimentDir, runPath), resolve(runPath)]) if (isDir(p)) return p;
  return null;
}
