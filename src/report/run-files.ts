import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Readers of what `batchcam train`, `evaluate` and `experiment` leave in a directory. Every field is optional
 * here: a report should show whatever a run has (an unfinished run, an older evaluation.json) instead of failing.
 */

/** One line of steps.jsonl (see StepRecord in src/train/step-log.ts): means over the last `logEvery` steps. */
export interface StepLine {
  epoch?: number;
  step?: number;
  lr?: number;
  ce?: number | null;
  proto?: number | null;
  batch?: number | null;
  loss?: number | null;
  trainAccuracy?: number | null;
  imagesPerSecond?: number;
}

/** One line of metrics.jsonl (see EpochRecord in src/train/trainer.ts): a StepLine over the epoch, plus test results. */
export interface EpochLine extends StepLine {
  testAccuracy?: number | null;
  testLoss?: number | null;
  seconds?: number;
}

/** A per-class metric with its mean. */
export interface PerClassMetric {
  /** null for a class absent from the evaluated set. */
  perClass?: (number | null)[];
  mean?: number;
}

/** One explained sample of evaluation.json's figures. */
export interface FigureSample {
  index?: number;
  label?: number;
  pred?: number;
  /** 784 grey levels in [0,1]. */
  image?: number[];
  /** 784 CAM values in [0,1]. */
  cam?: number[];
}

/** evaluation.json, as `batchcam evaluate` writes it. */
export interface Evaluation {
  dataset?: string;
  model?: string;
  checkpoint?: string;
  n?: number;
  camTarget?: string;
  accuracy?: number;
  perClassAccuracy?: (number | null)[];
  coherence?: Partial<Record<'l1' | 'l2' | 'ssim', PerClassMetric>>;
  reconstruction?: Partial<Record<'l1' | 'l2' | 'ssim', PerClassMetric>>;
  maps?: Partial<Record<'coverage' | 'contrast', PerClassMetric>>;
  decoy?: {
    energy?: number; accuracy?: number; energyPerClass?: (number | null)[]; uniformEnergy?: number; decoyLabelRate?: number;
    cleanAccuracy?: number; accuracyGap?: number; wrongReasonGradCam?: { score?: number }; wrongReasonInputGradient?: { score?: number };
  } | null;
  specificity?: Partial<Record<'l1' | 'l2' | 'ssim', { within?: number; between?: number; ratio?: number }>>;
  faithfulness?: {
    n?: number; steps?: number; insertionStart?: string; deletionAuc?: number; insertionAuc?: number; averageDrop?: number;
  } | null;
  figures?: {
    classNames?: string[];
    meanImages?: (number[] | null)[];
    meanCams?: (number[] | null)[];
    bankPrototypes?: (number[] | null)[] | null;
    samples?: FigureSample[];
    misclassified?: FigureSample[];
  };
}

/** mean ± std over seeds (with the per-seed values, where aggregate.json has them). */
export interface MeanStd {
  mean?: number;
  std?: number;
  n?: number;
  values?: number[];
}

/** Welch's t-test against the CE-only baseline (t > 0: this setting's mean is larger). */
export interface TTest {
  t?: number;
  p?: number;
}

/** An aggregated metric: its key in the rows, label, and which direction is better. */
export interface AggregateMetricInfo {
  key: string;
  label?: string;
  better?: 'higher' | 'lower' | null;
}

/**
 * One row of aggregate.json: a (model, dataset, setting) over its seeds, with one mean ± std field per metric
 * key (`accuracy`, `coherenceSsim`, …) and the t-tests against the baseline under `vsBaseline`.
 */
export interface AggregateRow {
  model?: string;
  dataset?: string;
  setting?: string;
  seeds?: number[] | number;
  accuracy?: MeanStd | null;
  coherenceSsim?: MeanStd | null;
  coherenceL1?: MeanStd | null;
  coherenceL2?: MeanStd | null;
  reconstructionSsim?: MeanStd | null;
  decoyEnergy?: MeanStd | null;
  vsBaseline?: Record<string, TTest | null | undefined> | null;
  runs?: string[];
  [metric: string]: unknown;
}

export interface Aggregate {
  name?: string;
  /** The setting the t-tests compare against (default 'ce'). */
  baseline?: string;
  /** The metrics of the rows, in table order; absent in older files (a default set is shown then). */
  metrics?: AggregateMetricInfo[];
  rows?: AggregateRow[];
  /** Runs left out because they diverged. */
  failed?: { dir?: string; reason?: string }[];
}

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
