import { checkDevice, yieldToEventLoop } from '../torch/index.js';
import type { Classifier } from '../models/classifier.js';
import type { TrainingData } from '../data/streaming/streamed-split.js';
import type { PrototypeBank } from '../losses/prototype-bank.js';
import { InterruptedError } from '../errors.js';
import { dataRecord } from './run/checkpoint.js';
import { shellQuote } from './run/interrupt.js';
import { readRunConfig, type RunPaths } from './run/run-dir.js';
import { RunWriter } from './run/run-writer.js';
import { stepRecord } from './run/step-log.js';
import { checkDataParallel, DataParallel, distEnv, rankDevice, type DistEnv } from './data-parallel.js';
import { LOGGED_TERMS } from './objective-terms.js';
import { OptionError, resolveConfig, type TrainConfig } from './options.js';
import type { Position } from './position.js';
import { Progress } from './progress.js';
import { trainMode } from './train-mode.js';
import { ProbeRecorder } from './probes.js';
import { addStep, emptySums } from './running-sums.js';
import { closeSession, openSession, type EpochRecord, type Session } from './session.js';
import { evaluateAccuracy } from './test-pass.js';
import { trainStep, type StepState } from './train-step.js';


export interface TrainOptions {
  /** Run directory (config.json, metrics.jsonl, steps.jsonl, checkpoint.safetensors, model.safetensors, summary.json). */
  outDir: string;
  resume?: boolean;
  overwrite?: boolean;
  /** Stop after this many optimiser steps in this invocation (tests, crash drills). */
  maxSteps?: number;
  /** No progress output. */
  quiet?: boolean;
  /** An already loaded dataset to reuse (must match config.dataset and limits). */
  data?: TrainingData;
  /**
   * Stop request (see `interruptSignal` in ./run/interrupt.ts for SIGINT/SIGTERM): once aborted, the current step
   * finishes, a checkpoint is written and train() throws InterruptedError saying how to resume.
   */
  signal?: AbortSignal;
  onEpoch?: (r: EpochRecord) => void;
  /**
   * The data-parallel job this process is a rank of (default: from RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; null:
   * one process). Rank 0 alone writes the run directory; every rank must be given the same options.
   */
  distributed?: DistEnv | null;
}

export interface TrainResult {
  config: TrainConfig;
  model: Classifier;
  bank: PrototypeBank | null;
  history: EpochRecord[];
  paths: RunPaths;
  data: TrainingData;
  position: Position;
}

/**
 * Trains a model with the objective of docs/method.md §5 and writes the run directory. Deterministic for a seed:
 * weights from `manualSeed(seed)`, epoch e's batch order from (seed, e), dropout masks from (seed, step, sample),
 * drop-path from libtorch's CPU generator, all restored by `resume`, so a resumed run is bit-identical to an
 * uninterrupted one. On `--device cuda[:N]` model, batches, bank and optimiser state live on the GPU; checkpoints
 * are written from CPU copies and load on either device.
 *
 * Data-parallel (RANK/WORLD_SIZE, see ./data-parallel.ts): every rank calls train() with the same options and runs
 * the same code; rank 0's RunWriter owns the directory, the others' is silent. Rank 0 takes the directory's lock
 * and settles it before it joins the job; the other ranks join first, so that on --resume they read the checkpoint
 * only once rank 0 holds the lock and has settled the directory.
 *
 * Nothing is lost on bad input: options, device and the directory are checked, then checkpoint, CAM layer and
 * data are read, and only then does the directory change (RunWriter.begin). `overwrite` moves the old run aside
 * and deletes it once the new run has written its first checkpoint; a failure before that puts the old run back.
 */
export async function train(partial: Partial<TrainConfig> | Record<string, unknown>, o: TrainOptions): Promise<TrainResult> {
  if (o.resume && o.overwrite) {
    throw new OptionError('--resume and --overwrite exclude each other: --resume continues the run in --out, --overwrite replaces it');
  }
  const fresh = o.resume ? null : resolveConfig(partial as Record<string, unknown>);
  const env = o.distributed === undefined ? distEnv() : o.distributed;
  if (fresh) {
    checkDevice(fresh.device);
    checkDataParallel(fresh, env);
  }
  const run = RunWriter.open(o.outDir, o, env?.rank ?? 0);
  let dp: DataParallel | null = null;
  let session: Session | null = null;
  let finished = false;
  try {
    // A resumed follower joins with the run's own backend, timeout and device (its config.json), as rank 0 does.
    if (env && env.rank > 0) dp = joinJob(env, fresh ?? readRunConfig(o.outDir));
    session = await openSession(fresh, run.paths, { ...(o.data && { data: o.data }), device: (cfg) => rankDevice(cfg.device, env) });
    if (!fresh) checkDataParallel(session.cfg, env);
    if (env && !dp) dp = joinJob(env, session.cfg);
    // Rank 0's weights and buffers go to every rank (they are equal already, from the seed or the checkpoint, as DDP checks).
    dp?.broadcastModel(session.model);
    // Every check has passed: from here on the directory changes.
    run.begin(session.cfg, session.resumed ? session.position : null);
    if (run.writes && !o.quiet) for (const note of session.notes) process.stderr.write(`${note}\n`);
    const result = await trainLoop(session, run, dp, { ...o, quiet: o.quiet || !run.writes });
    finished = true;
    return result;
  } catch (e) {
    throw run.abandon(e);
  } finally {
    // Decode worker threads end with the run, however it ends; the model is the caller's once training finished.
    if (session) await closeSession(session, finished);
    dp?.destroy();
    run.close();
  }
}

/** Joins the data-parallel job with a config's backend, timeout and device (torch's defaults without a config). */
function joinJob(env: DistEnv, cfg: TrainConfig | null): DataParallel {
  return DataParallel.join(env, cfg?.distBackend ?? 'gloo', (cfg?.distTimeout ?? 60) * 1000, cfg?.device ?? 'cpu');
}

/** The training loop from the session's position to the end (or `maxSteps`, or a stop request). */
async function trainLoop(s: Session, run: RunWriter, dp: DataParallel | null, o: TrainOptions): Promise<TrainResult> {
  const { cfg, model, optimizer, bank, data, loader, schedule, history } = s;
  const parts = { model, optimizer, bank, config: cfg, history, data: dataRecord(data) };
  const state: StepState = { model, optimizer, params: model.parameters(), backbone: model.backboneParameters(), bank, cfg, ...(dp ? { dp } : {}) };
  let pos = s.position;
  let checkpointedAt: number | null = s.resumed ? pos.step : null;
  let stepsThisRun = 0;
  const checkpoint = (): void => {
    run.checkpoint(parts, pos);
    checkpointedAt = pos.step;
  };
  const result = (): TrainResult => ({ config: cfg, model, bank, history, paths: run.paths, data, position: pos });
  trainMode(model, cfg);
  // The CAM timeline (rank 0, after begin(): a resume has cut probes.bin at the checkpoint's step).
  const probes = run.writes && cfg.probeEvery > 0
    ? ProbeRecorder.open(run.paths, cfg, data.test, data.info.classNames, model, s.resumed ? pos : null) : null;
  probes?.maybeRecord(model, pos);

  while (pos.epoch < cfg.epochs) {
    const progress = new Progress(`epoch ${pos.epoch + 1}/${cfg.epochs}`, data.train.n, 'img', process.stderr, o.quiet);
    let t0 = performance.now();
    for await (const batch of loader.batches(pos.epoch, pos.batch)) {
      if (o.maxSteps !== undefined && stepsThisRun >= o.maxSteps) {
        checkpoint();
        return result();
      }
      // Every step: signal handlers (and GC finalizers) run only when the event loop gets control.
      await yieldToEventLoop();
      const stop = stopRequest(o.signal, dp);
      if (stop) {
        if (stepsThisRun === 0 && checkpointedAt === null) {
          throw new InterruptedError(stop, `stopped before the first step; ${run.paths.dir} is as it was`, null);
        }
        if (checkpointedAt !== pos.step) checkpoint();
        throw new InterruptedError(stop, `stopped after step ${pos.step} (epoch ${pos.epoch + 1} of ${cfg.epochs}); ` +
          `the checkpoint is ${run.paths.checkpoint}`, `batchcam train --out ${shellQuote(run.paths.dir)} --resume`);
      }

      optimizer.lr = schedule.lrAt(pos.step);
      const v = trainStep(state, dp ? dp.shard(batch) : batch, pos);

      const now = performance.now();
      for (const sums of [pos.sums, pos.window]) addStep(sums, v.terms, v.correct, batch.size, (now - t0) / 1000);
      t0 = now;
      pos = { ...pos, batch: pos.batch + 1, step: pos.step + 1 };
      stepsThisRun++;
      if (cfg.logEvery > 0 && pos.step % cfg.logEvery === 0) {
        run.logSteps(stepRecord(pos.window, pos.epoch + 1, pos.step, optimizer.lr));
        pos = { ...pos, window: emptySums() };
      }
      probes?.maybeRecord(model, pos);
      const e = pos.sums;
      const cam = LOGGED_TERMS.some((d) => d.regulariser && v.terms[d.key] !== null);
      progress.update(e.n, `loss ${(e.terms.loss.sum / e.steps).toFixed(4)} acc ${(e.correct / e.n).toFixed(3)}${cam ? ' +cam' : ''}`);
      if (cfg.checkpointEvery > 0 && pos.step % cfg.checkpointEvery === 0 && pos.batch < loader.numBatches) checkpoint();
    }

    // With a validation split, it is what each epoch is judged by, and the test split is read once, at the end.
    const val = data.val ? evaluateAccuracy(model, { test: data.val }, 256, dp ?? undefined) : null;
    const test = !val || pos.epoch + 1 === cfg.epochs ? evaluateAccuracy(model, data, 256, dp ?? undefined) : null;
    const e = pos.sums;
    const rec: EpochRecord = {
      ...stepRecord(e, pos.epoch + 1, pos.step, optimizer.lr), testAccuracy: test?.accuracy ?? null, testLoss: test?.loss ?? null,
      ...(val && { valAccuracy: val.accuracy, valLoss: val.loss }), seconds: e.seconds,
    };
    progress.done([val && `val acc ${val.accuracy.toFixed(4)}`, test && `test acc ${test.accuracy.toFixed(4)}`].filter(Boolean).join(', '));
    if (val && isBestEpoch(rec, history, cfg.selectBy)) run.saveBest(model, cfg, parts.data);
    history.push(rec);
    run.logEpochs(history);
    if (run.writes) o.onEpoch?.(rec);
    pos = { ...pos, epoch: pos.epoch + 1, batch: 0, sums: emptySums() };
    checkpoint();
  }
  probes?.finish(model, pos);
  run.finish(model, cfg, parts.data, history);
  return result();
}

/** Whether `rec` beats every earlier epoch by the validation metric (the first epoch always does; ties keep the earlier). */
function isBestEpoch(rec: EpochRecord, history: readonly EpochRecord[], by: TrainConfig['selectBy']): boolean {
  const score = (r: EpochRecord): number => (by === 'val-loss' ? -(r.valLoss ?? Infinity) : (r.valAccuracy ?? -Infinity));
  return history.every((h) => score(rec) > score(h));
}

/**
 * The reason to stop after this step, or null: this process's stop request, or (data-parallel) any rank's, so
 * that all ranks stop after the same step.
 */
function stopRequest(signal: AbortSignal | undefined, dp: DataParallel | null): string | null {
  const asked = dp ? dp.anyRank(signal?.aborted === true) : signal?.aborted === true;
  if (!asked) return null;
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  return typeof reason === 'string' ? reason : dp ? 'a stop request (from another rank)' : 'a stop request';
}
