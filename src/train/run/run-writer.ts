import { RunDirError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { saveSafetensors } from '../../nn/safetensors.js';
import type { Optimizer } from '../../nn/optimizer.js';
import type { Classifier } from '../../models/classifier.js';
import type { PrototypeBank } from '../../losses/prototype-bank.js';
import type { TrainConfig } from '../options.js';
import type { Position } from '../position.js';
import { saveCheckpoint, type DataRecord } from './checkpoint.js';
import { checkRunDir, recoverRunDir, replaceRun, runPaths, type RunPaths, type RunReplacement } from './run-dir.js';
import { acquireRunLock, type RunLock } from './run-lock.js';
import { appendStepRecord, truncateStepLog, type StepRecord } from './step-log.js';

/** What a checkpoint holds besides the run's position. */
export interface CheckpointParts {
  model: Classifier;
  optimizer: Optimizer;
  bank: PrototypeBank | null;
  config: TrainConfig;
  history: unknown[];
  data: DataRecord;
}

/**
 * Everything a training run writes to its directory, in one place. The writer of rank 0 (or of a one-process run)
 * holds the directory's lock from `open` to `close` and writes config, logs, checkpoints and the final model; the
 * writer of any other data-parallel rank is silent (the run directory is rank 0's alone), so the training loop
 * reads the same on every rank.
 *
 * The transaction of `--overwrite`: `begin` moves the old run aside, the first `checkpoint` deletes it, and
 * `abandon` (a failure before that first checkpoint) puts it back byte for byte.
 */
export class RunWriter {
  #replacement: RunReplacement | null = null;

  private constructor(readonly paths: RunPaths, readonly writes: boolean, readonly lock: RunLock | null) {}

  /**
   * Rank 0: takes the lock (a second trainer is refused), settles what a killed trainer left (a half-done
   * --overwrite, temp files) and checks the directory against `resume`/`overwrite` — all before anything changes.
   * Other ranks: a silent writer.
   */
  static open(dir: string, o: { resume?: boolean; overwrite?: boolean }, rank = 0): RunWriter {
    if (rank > 0) return new RunWriter(runPaths(dir), false, null);
    const lock = acquireRunLock(dir);
    try {
      recoverRunDir(dir);
      return new RunWriter(checkRunDir(dir, o), true, lock);
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** Every check has passed: a resumed run drops step-log lines after its checkpoint, a new run replaces the old one. */
  begin(config: TrainConfig, resumedAt: Position | null): void {
    if (!this.writes) return;
    if (resumedAt) {
      truncateStepLog(this.paths.steps, resumedAt.step);
      return;
    }
    this.#replacement = replaceRun(this.paths.dir);
    writeFileAtomic(this.paths.config, Buffer.from(JSON.stringify(config, null, 2) + '\n'));
    writeFileAtomic(this.paths.metrics, Buffer.alloc(0));
    writeFileAtomic(this.paths.steps, Buffer.alloc(0));
  }

  /** Writes the checkpoint of `position`; the first one commits an --overwrite (the old run can go). */
  checkpoint(parts: CheckpointParts, position: Position): void {
    if (!this.writes) return;
    saveCheckpoint(this.paths.checkpoint, { ...parts, position });
    this.#replacement?.commit();
  }

  /** One steps.jsonl line. */
  logSteps(record: StepRecord): void {
    if (this.writes) appendStepRecord(this.paths.steps, record);
  }

  /** metrics.jsonl: one line per finished epoch. */
  logEpochs(history: readonly object[]): void {
    if (this.writes) writeFileAtomic(this.paths.metrics, Buffer.from(history.map((h) => JSON.stringify(h)).join('\n') + '\n'));
  }

  /** The weights as they are now (PyTorch keys, config and data record in the metadata) to `path`, as evaluate reads them. */
  #saveWeights(path: string, model: Classifier, config: TrainConfig, data: DataRecord): void {
    saveSafetensors(path, model.stateDict(), {
      format: 'pytorch-state-dict', model: config.model, config: JSON.stringify(config), data: JSON.stringify(data),
    });
  }

  /** best.safetensors: the weights of the best epoch so far by the validation metric. */
  saveBest(model: Classifier, config: TrainConfig, data: DataRecord): void {
    if (this.writes) this.#saveWeights(this.paths.best, model, config, data);
  }

  /** The trained weights (model.safetensors, PyTorch keys) and summary.json. */
  finish(model: Classifier, config: TrainConfig, data: DataRecord, history: readonly object[]): void {
    if (!this.writes) return;
    this.#saveWeights(this.paths.model, model, config, data);
    const summary = { config, final: history[history.length - 1] ?? null, epochs: history.length };
    writeFileAtomic(this.paths.summary, Buffer.from(JSON.stringify(summary, null, 2) + '\n'));
  }

  /** After a failure: puts an --overwrite's old run back if the new run has no checkpoint yet; returns the error to throw. */
  abandon(e: unknown): unknown {
    try {
      this.#replacement?.rollback();
      return e;
    } catch (re) {
      return new RunDirError(`${(e as Error).message}\n(putting the old run in ${this.paths.dir} back failed too: ${(re as Error).message}; ` +
        'run the same command again to retry)', { cause: e });
    }
  }

  /** Releases the directory's lock. */
  close(): void {
    this.lock?.release();
  }
}
