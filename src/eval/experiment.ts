import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { LoadedDataset } from '../data/load.js';
import { CAM_TARGETS, type CamTarget } from '../cam/options.js';
import { loadConfigData, train } from '../train/trainer.js';
import { throwIfInterrupted } from '../train/interrupt.js';
import { OptionError, resolveConfig, type TrainConfig } from '../train/options.js';
import { aggregateMarkdown, aggregateRuns, BASELINE_SETTING, type Aggregate, type RunResult } from './aggregate.js';
import { INSERTION_STARTS, type InsertionStart } from './deletion-insertion.js';
import { evaluateCheckpoint, evaluationData } from './evaluate-checkpoint.js';
import type { Evaluation } from './evaluation.js';

/** One regularisation setting of a grid: a name (a directory name) and the training options it overrides. */
export interface GridSetting {
  name: string;
  [option: string]: unknown;
}

/** Evaluation options of a grid. */
export interface GridEvaluate {
  /** Test subset for the final evaluation (default null: the whole test split). */
  testLimit?: number | null;
  /** Images for the faithfulness metrics (default 200). */
  faithfulnessN?: number;
  /** Deletion/insertion steps (default 28). */
  steps?: number;
  insertionStart?: InsertionStart;
  camTarget?: CamTarget;
}

/** An experiment grid: every (model × dataset × setting × seed) is one training run plus its evaluation. */
export interface ExperimentGrid {
  name: string;
  /** Training options shared by every run. */
  base: Record<string, unknown>;
  models: string[];
  datasets: string[];
  /** The CE-only baseline should be among them, named 'ce' (both λ = 0), for the significance tests. */
  settings: GridSetting[];
  seeds: number[];
  evaluate: GridEvaluate;
}

/** One cell of the grid, with its resolved training config. */
export interface GridRun {
  model: string;
  dataset: string;
  setting: string;
  seed: number;
  /** Relative to the experiment directory: `<model>/<dataset>/<setting>/seed<k>`. */
  dir: string;
  config: TrainConfig;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const GRID_KEYS = ['name', 'base', 'models', 'datasets', 'settings', 'seeds', 'evaluate'];
const EVALUATE_KEYS = ['testLimit', 'faithfulnessN', 'steps', 'insertionStart', 'camTarget'];
// Set per run by the grid itself; a base or setting that names them would be silently overridden.
const GRID_OWNED = ['model', 'dataset', 'seed'];

function fail(msg: string): never {
  throw new OptionError(`experiment grid: ${msg}`);
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s.length > 0)) {
    fail(`'${what}' must be a non-empty array of strings`);
  }
  if (new Set(v).size !== v.length) fail(`'${what}' has duplicates`);
  return v as string[];
}

/** Checks a parsed grid JSON and resolves every run's config, so a typo fails before hours of training. */
export function parseGrid(raw: unknown): { grid: ExperimentGrid; runs: GridRun[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('expected a JSON object');
  const g = raw as Record<string, unknown>;
  for (const k of Object.keys(g)) if (!GRID_KEYS.includes(k)) fail(`unknown key '${k}' (expected ${GRID_KEYS.join(', ')})`);
  if (typeof g.name !== 'string' || !SAFE_NAME.test(g.name)) fail(`'name' must be a directory-safe string, got ${JSON.stringify(g.name)}`);
  const base = (g.base ?? {}) as Record<string, unknown>;
  if (typeof base !== 'object' || Array.isArray(base)) fail("'base' must be an object of training options");
  for (const k of GRID_OWNED) if (k in base) fail(`'base' must not set '${k}': the grid's ${k === 'seed' ? 'seeds' : `${k}s`} list sets it`);
  const models = stringList(g.models, 'models');
  const datasets = stringList(g.datasets, 'datasets');
  if (!Array.isArray(g.settings) || g.settings.length === 0) fail("'settings' must be a non-empty array of {name, ...options}");
  const settings = g.settings as GridSetting[];
  for (const s of settings) {
    if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || !SAFE_NAME.test(s.name)) {
      fail(`every setting needs a directory-safe 'name', got ${JSON.stringify(s)}`);
    }
    for (const k of GRID_OWNED) if (k in s) fail(`setting '${s.name}' must not set '${k}'`);
  }
  if (new Set(settings.map((s) => s.name)).size !== settings.length) fail('setting names must be unique');
  if (!Array.isArray(g.seeds) || g.seeds.length === 0 || !g.seeds.every((s) => Number.isInteger(s) && s >= 0)) {
    fail("'seeds' must be a non-empty array of non-negative integers");
  }
  const seeds = g.seeds as number[];
  if (new Set(seeds).size !== seeds.length) fail("'seeds' has duplicates");
  const evaluate = (g.evaluate ?? {}) as GridEvaluate;
  if (typeof evaluate !== 'object' || Array.isArray(evaluate)) fail("'evaluate' must be an object");
  for (const k of Object.keys(evaluate)) if (!EVALUATE_KEYS.includes(k)) fail(`unknown evaluate key '${k}' (expected ${EVALUATE_KEYS.join(', ')})`);
  const intOrNull = (v: unknown, min: number): boolean => v === undefined || v === null || (Number.isInteger(v) && (v as number) >= min);
  if (!intOrNull(evaluate.testLimit, 10)) fail('evaluate.testLimit must be an integer ≥ 10 or null');
  if (!intOrNull(evaluate.faithfulnessN, 0)) fail('evaluate.faithfulnessN must be an integer ≥ 0');
  if (!intOrNull(evaluate.steps, 1)) fail('evaluate.steps must be a positive integer');
  if (evaluate.insertionStart !== undefined && !INSERTION_STARTS.includes(evaluate.insertionStart)) fail(`evaluate.insertionStart must be ${INSERTION_STARTS.join('|')}`);
  if (evaluate.camTarget !== undefined && !CAM_TARGETS.includes(evaluate.camTarget)) fail(`evaluate.camTarget must be ${CAM_TARGETS.join('|')}`);

  const grid: ExperimentGrid = { name: g.name, base, models, datasets, settings, seeds, evaluate };
  const runs: GridRun[] = [];
  for (const model of models) {
    for (const dataset of datasets) {
      for (const s of settings) {
        const { name: setting, ...overrides } = s;
        for (const seed of seeds) {
          let config: TrainConfig;
          try {
            config = resolveConfig({ ...base, ...overrides, model, dataset, seed });
          } catch (e) {
            fail(`run ${model}/${dataset}/${setting}/seed${seed}: ${(e as Error).message}`);
          }
          runs.push({ model, dataset, setting, seed, dir: join(model, dataset, setting, `seed${seed}`), config });
        }
      }
    }
  }
  return { grid, runs };
}

/** Reads and checks a grid file. */
export function readGrid(path: string): { grid: ExperimentGrid; runs: GridRun[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new OptionError(`--config ${path}: cannot read it as JSON (${(e as Error).message})`);
  }
  return parseGrid(raw);
}

/** Options of {@link runExperiment}. */
export interface ExperimentOptions {
  /** Experiment directory: runs go to `<outDir>/<model>/<dataset>/<setting>/seed<k>/`, then aggregate.json/.md. */
  outDir: string;
  /** No training progress bars. */
  quiet?: boolean;
  /**
   * Evaluate finished runs again from their checkpoints (no training), rewriting evaluation.json: for when the
   * evaluator or the grid's `evaluate` options changed after the runs were trained.
   */
  reevaluate?: boolean;
  /** One line per run event (default: console.log). */
  log?: (line: string) => void;
  /** Stop request: the run in progress checkpoints and InterruptedError is thrown (see train/interrupt.ts). */
  signal?: AbortSignal;
}

/** Per-run wall-clock times, kept beside evaluation.json (timing.json) for the aggregate's timing section. */
interface RunTiming {
  trainSeconds: number | null;
  evalSeconds: number | null;
}

/** The reason a run diverged, kept as failed.json so a rerun of the grid does not retry a deterministic failure. */
interface RunFailure {
  reason: string;
}

function readJson<T>(path: string): T | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null;
}

function writeJson(path: string, v: unknown): void {
  writeFileAtomic(path, Buffer.from(JSON.stringify(v) + '\n'));
}

/** Datasets reused across consecutive runs with the same data options (loading MNIST again per run is wasted time). */
class DataCache {
  #entries = new Map<string, LoadedDataset>();

  async get(key: unknown, load: () => Promise<LoadedDataset>): Promise<LoadedDataset> {
    const k = JSON.stringify(key);
    let d = this.#entries.get(k);
    if (!d) {
      // Two entries at most (the training view and the evaluation view of one dataset): memory stays bounded.
      if (this.#entries.size >= 2) this.#entries.clear();
      d = await load();
      this.#entries.set(k, d);
    }
    return d;
  }
}

/**
 * Runs every cell of the grid in order — training (`train()`) into its run directory, then `evaluateCheckpoint`
 * into evaluation.json — and writes aggregate.json and aggregate.md. Restartable: a run with evaluation.json is
 * skipped, a run with a checkpoint resumes from it (bit-identical to an uninterrupted run), a run with neither
 * starts afresh (replacing any partial files), and a run that stopped on non-finite values (failed.json) is
 * reported and not retried. So a killed grid, run again, finishes with the same aggregate, timing aside.
 */
export async function runExperiment(grid: ExperimentGrid, runs: readonly GridRun[], o: ExperimentOptions): Promise<Aggregate> {
  const log = o.log ?? ((l: string) => console.log(l));
  const cache = new DataCache();
  const gridPath = join(o.outDir, 'grid.json');
  const previous = existsSync(gridPath) ? readFileSync(gridPath, 'utf8') : null;
  if (previous !== null && previous !== JSON.stringify(grid) + '\n') {
    // Allowed (adding seeds or settings to a grid is normal), but finished runs keep the options they ran with.
    log(`note: ${gridPath} differs from this grid; finished runs are kept as they are, new ones use this grid`);
  }
  writeJson(gridPath, grid);
  if (!grid.settings.some((s) => s.name === BASELINE_SETTING)) {
    log(`note: no setting named '${BASELINE_SETTING}' (the CE-only baseline); the aggregate will have no significance tests`);
  }
  for (const [i, run] of runs.entries()) {
    throwIfInterrupted(o.signal, `stopped before run ${i + 1} of ${runs.length}; the finished runs are kept`);
    const dir = join(o.outDir, run.dir);
    const tag = `[${i + 1}/${runs.length}] ${run.dir}`;
    const evalPath = join(dir, 'evaluation.json');
    if (existsSync(evalPath) && !o.reevaluate) {
      log(`${tag}: done, skipped`);
      continue;
    }
    if (existsSync(join(dir, 'failed.json'))) {
      log(`${tag}: failed earlier (failed.json), skipped`);
      continue;
    }
    const cfg = run.config;
    const t0 = performance.now();
    let trainSeconds: number | null;
    if (existsSync(evalPath)) {
      log(`${tag}: evaluating again`);
      trainSeconds = readJson<RunTiming>(join(dir, 'timing.json'))?.trainSeconds ?? null;
    } else {
      const resume = existsSync(join(dir, 'checkpoint.safetensors'));
      log(`${tag}: ${resume ? 'resuming from its checkpoint' : 'training'}`);
      try {
        const data = await cache.get(['train', cfg.dataset, cfg.trainLimit, cfg.testLimit, cfg.standardize, cfg.dataDir], () => loadConfigData(cfg));
        const result = await train(cfg, { outDir: dir, resume, overwrite: !resume, quiet: o.quiet, data, signal: o.signal });
        // Training time summed over epochs (and so over resumed invocations), not this call's wall clock.
        trainSeconds = result.history.reduce((s, h) => s + h.seconds, 0);
        result.model.dispose();
        result.bank?.dispose();
      } catch (e) {
        if ((e as Error).name !== 'NonFiniteError') throw e;
        writeJson(join(dir, 'failed.json'), { reason: (e as Error).message } satisfies RunFailure);
        log(`${tag}: FAILED (${(e as Error).message}); recorded in failed.json, going on`);
        continue;
      }
    }
    const t1 = performance.now();
    const testLimit = grid.evaluate.testLimit ?? null;
    const data = await cache.get(['eval', cfg.dataset, cfg.trainLimit, testLimit, cfg.standardize, cfg.dataDir],
      () => evaluationData(cfg, { testLimit }));
    const { evaluation } = await evaluateCheckpoint(join(dir, 'checkpoint.safetensors'), {
      data, testLimit, faithfulnessN: grid.evaluate.faithfulnessN, steps: grid.evaluate.steps,
      insertionStart: grid.evaluate.insertionStart, camTarget: grid.evaluate.camTarget,
    });
    writeJson(join(dir, 'timing.json'), { trainSeconds, evalSeconds: (performance.now() - t1) / 1000 } satisfies RunTiming);
    // evaluation.json last: its presence is what marks the run as finished.
    writeJson(evalPath, evaluation);
    log(`${tag}: accuracy ${(100 * evaluation.accuracy).toFixed(2)}%, coherence ssim ${evaluation.coherence.ssim.mean.toFixed(4)}, ` +
      `map contrast ${evaluation.maps.contrast.mean.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const agg = collectAggregate(grid, runs, o.outDir);
  writeJson(join(o.outDir, 'aggregate.json'), agg);
  writeFileAtomic(join(o.outDir, 'aggregate.md'), Buffer.from(aggregateMarkdown(agg)));
  return agg;
}

/** Builds the aggregate from the run directories on disk (finished runs only). */
export function collectAggregate(grid: ExperimentGrid, runs: readonly GridRun[], outDir: string): Aggregate {
  const results: RunResult[] = [];
  const failed: { dir: string; reason: string }[] = [];
  const timing: Aggregate['timing']['runs'] = [];
  for (const run of runs) {
    const dir = join(outDir, run.dir);
    const evaluation = readJson<Evaluation>(join(dir, 'evaluation.json'));
    const failure = readJson<RunFailure>(join(dir, 'failed.json'));
    if (evaluation) {
      results.push({ model: run.model, dataset: run.dataset, setting: run.setting, seed: run.seed, dir: run.dir, evaluation });
      const t = readJson<RunTiming>(join(dir, 'timing.json'));
      timing.push({ dir: run.dir, trainSeconds: t?.trainSeconds ?? null, evalSeconds: t?.evalSeconds ?? null });
    } else if (failure) {
      failed.push({ dir: run.dir, reason: failure.reason });
    }
  }
  const core = aggregateRuns(grid.name, results, failed);
  return { ...core, timing: { createdAt: new Date().toISOString(), runs: timing } };
}
