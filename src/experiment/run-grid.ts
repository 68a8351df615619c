import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { checkDevice } from '../torch/index.js';
import { throwIfInterrupted } from '../train/run/interrupt.js';
import { train } from '../train/trainer.js';
import { loadConfigData } from '../train/session.js';
import { inputOptions } from '../train/options.js';
import { aggregateMarkdown, aggregateRuns, BASELINE_SETTING, type Aggregate, type RunResult } from '../eval/aggregate.js';
import type { Evaluation } from '../eval/evaluation.js';
import { isImageSource } from '../losses/prototype-bank.js';
import { DataCache } from './data-cache.js';
import { evaluateCheckpoint, evaluationData } from './evaluate-checkpoint.js';
import type { ExperimentGrid, GridRun } from './grid-schema.js';

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
  /** Train or evaluate at most this many runs in this invocation, then write the aggregate and return (run it again to go on). */
  maxRuns?: number;
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

/**
 * Runs every cell of the grid in order — training (`train()`) into its run directory, then `evaluateCheckpoint`
 * into evaluation.json — and writes aggregate.json and aggregate.md. Restartable: a run with evaluation.json is
 * skipped, a run with a checkpoint resumes from it (bit-identical to an uninterrupted run), a run with neither
 * starts afresh (replacing any partial files), and a run that stopped on non-finite values (failed.json) is
 * reported and not retried. So a killed grid, run again, finishes with the same aggregate, timing aside.
 */
export async function runExperiment(grid: ExperimentGrid, runs: readonly GridRun[], o: ExperimentOptions): Promise<Aggregate> {
  const log = o.log ?? ((l: string) => console.log(l));
  // Before grid.json is written: an evaluation device this libtorch lacks fails now, not after the first training.
  if (grid.evaluate.device != null) checkDevice(grid.evaluate.device, "the grid's evaluate.device");
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
  let worked = 0;
  for (const [i, run] of runs.entries()) {
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
    throwIfInterrupted(o.signal, `stopped before run ${i + 1} of ${runs.length}; the finished runs are kept`);
    if (o.maxRuns !== undefined && worked >= o.maxRuns) {
      log(`stopping after ${worked} run(s) (--max-runs); run the same command again to go on`);
      break;
    }
    worked++;
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
        const data = await cache.get(['train', cfg.dataset, cfg.trainLimit, cfg.testLimit, JSON.stringify(inputOptions(cfg)), cfg.dataDir, cfg.stream, isImageSource(cfg.prototypeSource)],
          () => loadConfigData(cfg));
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
    const data = await cache.get(['eval', cfg.dataset, cfg.trainLimit, testLimit, JSON.stringify(inputOptions(cfg)), cfg.dataDir],
      () => evaluationData(cfg, { testLimit }));
    const { evaluation } = await evaluateCheckpoint(join(dir, 'checkpoint.safetensors'), {
      ...grid.evaluate, data, testLimit, device: grid.evaluate.device ?? cfg.device,
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
