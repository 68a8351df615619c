import { readFileSync } from 'node:fs';
import {
  checkDevice, crossEntropy, manualSeed, noGrad, scope, setNumThreads, tensor, yieldToEventLoop,
} from '../torch/index.js';
import { AdamW } from '../nn/adamw.js';
import { CosineSchedule } from '../nn/cosine-schedule.js';
import type { Optimizer } from '../nn/optimizer.js';
import { saveSafetensors } from '../nn/safetensors.js';
import { SGD } from '../nn/sgd.js';
import type { Classifier } from '../models/classifier.js';
import { createModel } from '../models/registry.js';
import { DataLoader } from '../data/batching/data-loader.js';
import { loadTrainingData } from '../data/load-dataset.js';
import type { LoadedDataset } from '../data/dataset.js';
import type { BatchStream } from '../data/batching/batch-stream.js';
import { openBatchStream } from '../data/streaming/open-batch-stream.js';
import { isStreamed, type TrainingData } from '../data/streaming/streamed-split.js';
import { toUnitFloat } from '../data/preprocess/normalisation.js';
import { imagesToTensor, labelsToTensor } from '../data/batching/tensor-batch.js';
import { deviceBatch } from '../data/batching/device-batch.js';
import { InterruptedError, RunDirError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { isImageSource, PrototypeBank } from '../losses/prototype-bank.js';
import { dataRecord, readCheckpoint, restoreCheckpoint, saveCheckpoint, type LoadedCheckpoint, type Position } from './checkpoint.js';
import { shellQuote } from './interrupt.js';
import { LOGGED_TERMS } from './objective.js';
import { userDataOptions, OptionError, resolveConfig, usesPrototypeBank, type TrainConfig } from './options.js';
import { Progress } from './progress.js';
import { checkRunDir, recoverRunDir, replaceRun, type RunPaths, type RunReplacement } from './run-dir.js';
import { acquireRunLock } from './run-lock.js';
import { addStep, emptySums } from './running-sums.js';
import { appendStepRecord, stepRecord, truncateStepLog, type StepRecord } from './step-log.js';
import { trainStep, type StepState } from './train-step.js';
import { DataParallel, distEnv, rankDevice, type DistEnv } from './data-parallel.js';
import { runPaths } from './run-dir.js';

/** One line of metrics.jsonl: an epoch's training means (as a steps.jsonl record over the whole epoch) and test results. */
export interface EpochRecord extends StepRecord {
  testAccuracy: number;
  testLoss: number;
  seconds: number;
}

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
   * Stop request (see `interruptSignal` in ./interrupt.ts for SIGINT/SIGTERM): once aborted, the current step
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
 * Loads the dataset a config names; a folder: training split streams from disk per `--stream` (image prototypes
 * need every training image up front, so `auto` keeps them in memory then).
 */
export async function loadConfigData(cfg: TrainConfig): Promise<TrainingData> {
  return loadTrainingData(cfg.dataset, {
    dataDir: cfg.dataDir ?? undefined, trainLimit: cfg.trainLimit ?? undefined, testLimit: cfg.testLimit ?? undefined,
    standardise: cfg.standardize, ...userDataOptions(cfg),
    stream: isImageSource(cfg.prototypeSource) && cfg.stream === 'auto' ? 'off' : cfg.stream,
  });
}

function makeOptimizer(cfg: TrainConfig, model: Classifier): Optimizer {
  return cfg.optimizer === 'sgd'
    ? new SGD(model.parameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay })
    : new AdamW(model.parameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay });
}

/**
 * Test accuracy and mean CE in eval mode, in a stable order. Data-parallel (`dp`): each rank evaluates every
 * world-th batch and the sums are all-reduced, so every rank gets the whole test set's figures.
 */
export function evaluateAccuracy(model: Classifier, data: Pick<LoadedDataset, 'test'>, batchSize = 256, dp?: DataParallel): { accuracy: number; loss: number } {
  const loader = new DataLoader(data.test, { batchSize });
  let correct = 0;
  let loss = 0;
  model.eval();
  noGrad(() => {
    for (const b of loader.batches(0)) {
      if (dp && b.batchIndex % dp.worldSize !== dp.rank) continue;
      scope(() => {
        const t = deviceBatch(b, model.device);
        const logits = model.forward(t.x);
        correct += logits.argmax(1).eq(t.y).sum().item();
        loss += crossEntropy(logits, t.y, 'sum').item();
      });
    }
  });
  model.train();
  if (dp) {
    [correct, loss] = scope(() => {
      const t = tensor([correct, loss], [2], { dtype: 'float64' });
      dp.group.allReduce([t]);
      return t.toArray() as [number, number];
    });
  }
  return { accuracy: correct / data.test.n, loss: loss / data.test.n };
}

/** Refuses a data-parallel setting that cannot work (before anything on disk changes). */
function checkDistributed(cfg: TrainConfig, env: DistEnv | null): void {
  if (!env) return;
  if (cfg.batchSize % env.worldSize !== 0) {
    throw new OptionError(`--batch-size ${cfg.batchSize} is the global batch of all ${env.worldSize} processes and must divide evenly among them; ` +
      `use a multiple of ${env.worldSize}, e.g. ${Math.max(1, Math.round(cfg.batchSize / env.worldSize)) * env.worldSize}`);
  }
  const unsupported = ([['lambdaProtoContrast', '--lambda-proto-contrast'], ['lambdaBatchContrast', '--lambda-batch-contrast'],
    ['lambdaBackground', '--lambda-background'], ['lambdaMining', '--lambda-mining']] as const).filter(([k]) => cfg[k] > 0).map(([, f]) => f);
  if (unsupported.length) {
    throw new OptionError(`${unsupported.join(', ')}: not available in data-parallel training yet (WORLD_SIZE=${env.worldSize}); train them in one process`);
  }
  if (cfg.dropPath > 0) {
    throw new OptionError(`--drop-path ${cfg.dropPath}: stochastic depth draws from each process's own generator, so data-parallel runs would ` +
      'not match one process; use --drop-path 0 with WORLD_SIZE > 1');
  }
}

/** Refuses a device this libtorch cannot use (before anything on disk changes). */
/** The seeded model of `cfg`, checked to have the requested --cam-layer. */
function buildModel(cfg: TrainConfig, data: TrainingData, device: string): Classifier {
  manualSeed(cfg.seed);
  // Built on the CPU from the seed (the same weights on any device), then moved.
  const model = createModel(cfg.model, data.info.numClasses, { dropPath: cfg.dropPath, inputShape: data.info.imageShape });
  if (device !== 'cpu') model.toDevice(device);
  if (cfg.camLayer && !model.targetLayers.includes(cfg.camLayer)) {
    const layers = model.targetLayers.join(', ');
    model.dispose();
    throw new OptionError(`--cam-layer: model '${cfg.model}' has no layer '${cfg.camLayer}'; choose one of ${layers}`);
  }
  return model;
}

/** Everything a run needs in memory, built and checked before the run directory changes. */
interface Session {
  cfg: TrainConfig;
  paths: RunPaths;
  data: TrainingData;
  model: Classifier;
  optimizer: Optimizer;
  bank: PrototypeBank | null;
  loader: BatchStream;
  schedule: CosineSchedule;
  position: Position;
  history: EpochRecord[];
  resumed: boolean;
  /** Data-parallel: this process's job; null for one process. */
  dp: DataParallel | null;
}

/**
 * Reads the checkpoint to resume (if any), builds model, optimiser, bank and data, and restores the checkpoint
 * into them: every check that can fail (device, target layer, data, a checkpoint that is unreadable or does not
 * fit) runs here, while nothing on disk has changed. Deterministic: weights from `manualSeed(seed)` (nothing in
 * data loading draws from libtorch's generator), the rest restored by `resume`.
 */
async function setUp(fresh: TrainConfig | null, paths: RunPaths, o: TrainOptions): Promise<Session> {
  let ck: LoadedCheckpoint | null = null;
  let model: Classifier | null = null;
  let bank: PrototypeBank | null = null;
  try {
    let cfg: TrainConfig;
    if (fresh) {
      cfg = fresh;
    } else {
      ck = readCheckpoint(paths.checkpoint);
      cfg = ck.config;
    }
    checkDevice(cfg.device);
    setNumThreads(cfg.threads);
    // Data first: the model's input channels, size and classes come from it (loading draws nothing from libtorch's RNG).
    const data = o.data ?? (await loadConfigData(cfg));
    // Data-parallel on GPUs: `cuda` is each rank's own GPU (cuda:LOCAL_RANK).
    const device = rankDevice(cfg.device, o.distributed === undefined ? distEnv() : o.distributed);
    model = buildModel(cfg, data, device);
    const optimizer = makeOptimizer(cfg, model);
    bank = usesPrototypeBank(cfg) ? new PrototypeBank({
      numClasses: data.info.numClasses, height: data.info.imageShape[1], width: data.info.imageShape[2],
      source: cfg.prototypeSource, momentum: cfg.prototypeMomentum, correctOnly: cfg.prototypeCorrectOnly, device,
    }) : null;
    if (bank && isImageSource(cfg.prototypeSource)) {
      if (isStreamed(data)) throw new OptionError(`--prototype-source ${cfg.prototypeSource} needs the training images in memory; use --stream off`);
      const b = bank;
      const train = data.train;
      // From the raw pixels (in [0,1]), whatever the input standardisation.
      scope(() => b.initFromImages(
        imagesToTensor(toUnitFloat(train.pixels), train.n, train.imageShape), labelsToTensor(train.labels)));
    }
    // Opening starts nothing: a streamed loader's worker threads start with the first batch.
    const loader = openBatchStream(data.train, { batchSize: cfg.batchSize, shuffle: true, seed: cfg.seed });
    const totalSteps = cfg.epochs * loader.numBatches;
    const schedule = new CosineSchedule({ baseLr: cfg.lr, warmupSteps: Math.min(cfg.warmupSteps, totalSteps), totalSteps, minLr: cfg.minLr });
    let position: Position = { epoch: 0, batch: 0, step: 0, sums: emptySums(), window: emptySums() };
    const history: EpochRecord[] = [];
    if (ck) {
      restoreCheckpoint(ck, { model, optimizer, bank }, paths.checkpoint);
      position = ck.position;
      history.push(...(ck.history as EpochRecord[]));
    }
    return { cfg, paths, data, model, optimizer, bank, loader, schedule, position, history, resumed: ck !== null, dp: null };
  } catch (e) {
    model?.dispose();
    bank?.dispose();
    throw e;
  } finally {
    if (ck) for (const t of ck.tensors.values()) t.dispose();
  }
}

/** The command that continues the run in `dir`. */
function resumeCommand(dir: string): string {
  return `batchcam train --out ${shellQuote(dir)} --resume`;
}

/**
 * Trains a model with the objective of docs/method.md §5 and writes the run directory. Deterministic for a seed:
 * weights from `manualSeed(seed)`, epoch e's batch order from (seed, e), dropout masks from (seed, step, sample),
 * drop-path from libtorch's CPU generator, all restored by `resume`, so a resumed run is bit-identical to an
 * uninterrupted one. On `--device cuda[:N]` model, batches, bank and optimiser state live on the GPU; checkpoints
 * are written from CPU copies and load on either device. Data-parallel (RANK/WORLD_SIZE, see ./data-parallel.ts):
 * every rank calls train() with the same options; rank 0 alone touches the run directory.
 *
 * Nothing is lost on bad input: options and device are checked first; then, holding the directory's lock (a
 * second trainer is refused), the run directory, the checkpoint to resume, the target layer and the data. Only
 * then does the directory change. `overwrite` moves the old run aside and deletes it once the new run has written
 * its first checkpoint; if the new run fails (or is interrupted) before that, the old run is put back as it was.
 */
export async function train(partial: Partial<TrainConfig> | Record<string, unknown>, o: TrainOptions): Promise<TrainResult> {
  if (o.resume && o.overwrite) {
    throw new OptionError('--resume and --overwrite exclude each other: --resume continues the run in --out, --overwrite replaces it');
  }
  const fresh = o.resume ? null : resolveConfig(partial as Record<string, unknown>);
  if (fresh) checkDevice(fresh.device);
  const env = o.distributed === undefined ? distEnv() : o.distributed;
  if (fresh) checkDistributed(fresh, env);
  if (env && env.rank > 0) return trainFollower(fresh, o, env);
  const lock = acquireRunLock(o.outDir);
  let session: Session | null = null;
  let replacement: RunReplacement | null = null;
  try {
    // What a killed trainer left (a half-done --overwrite, temp files) is settled first, under the lock.
    recoverRunDir(o.outDir);
    const paths = checkRunDir(o.outDir, o);
    session = await setUp(fresh, paths, o);
    if (env) {
      checkDistributed(session.cfg, env);
      session.dp = joinJob(session, env);
    }
    // Every check has passed: from here on the directory changes.
    if (session.resumed) {
      truncateStepLog(paths.steps, session.position.step);
    } else {
      replacement = replaceRun(o.outDir);
      writeFileAtomic(paths.config, Buffer.from(JSON.stringify(session.cfg, null, 2) + '\n'));
      writeFileAtomic(paths.metrics, Buffer.alloc(0));
      writeFileAtomic(paths.steps, Buffer.alloc(0));
    }
    return await runEpochs(session, o, replacement);
  } catch (e) {
    session?.model.dispose();
    session?.bank?.dispose();
    throw undoReplacement(e, replacement, o.outDir);
  } finally {
    // Decode worker threads end with the run, however it ends.
    await session?.loader.close();
    session?.dp?.destroy();
    lock.release();
  }
}

/**
 * Joins the data-parallel job of a set-up session: rank 0's weights and buffers go to every rank (they are equal
 * already, from the seed or the shared checkpoint, as DDP checks), and --sync-bn shares the BatchNorm statistics.
 */
function joinJob(s: Session, env: DistEnv): DataParallel {
  const dp = DataParallel.join(env, s.cfg.distBackend, s.cfg.distTimeout * 1000, s.cfg.device);
  try {
    dp.broadcastModel(s.model);
    if (s.cfg.syncBn) dp.syncBatchNorm(s.model);
    return dp;
  } catch (e) {
    dp.destroy();
    throw e;
  }
}

/**
 * A rank other than 0 of a data-parallel job: it trains exactly as rank 0 does but writes nothing (rank 0 owns the
 * run directory, its lock, logs and checkpoints). It joins the job first, so that on --resume it reads the
 * checkpoint only once rank 0 holds the directory's lock and has settled it.
 */
async function trainFollower(fresh: TrainConfig | null, o: TrainOptions, env: DistEnv): Promise<TrainResult> {
  // A resumed follower joins with the run's own backend, timeout and device (from its config.json), as rank 0 does.
  const joined = fresh ?? runConfigOnDisk(o.outDir);
  const backend = joined?.distBackend ?? 'gloo';
  const timeout = (joined?.distTimeout ?? 60) * 1000;
  const dp = DataParallel.join(env, backend, timeout, joined?.device ?? 'cpu');
  let session: Session | null = null;
  try {
    session = await setUp(fresh, runPaths(o.outDir), { ...o, quiet: true });
    checkDistributed(session.cfg, env);
    session.dp = dp;
    dp.broadcastModel(session.model);
    if (session.cfg.syncBn) dp.syncBatchNorm(session.model);
    return await runEpochs(session, { ...o, quiet: true }, null);
  } catch (e) {
    session?.model.dispose();
    session?.bank?.dispose();
    throw e;
  } finally {
    dp.destroy();
  }
}

/** The resolved config.json of the run in `dir`, or null when there is none or it does not parse. */
function runConfigOnDisk(dir: string): TrainConfig | null {
  try {
    return resolveConfig(JSON.parse(readFileSync(runPaths(dir).config, 'utf8')) as Record<string, unknown>);
  } catch {
    return null;
  }
}

/** Puts the old run back after a failure before the new run's first checkpoint; returns the error to throw. */
function undoReplacement(e: unknown, replacement: RunReplacement | null, dir: string): unknown {
  try {
    replacement?.rollback();
    return e;
  } catch (re) {
    return new RunDirError(`${(e as Error).message}\n(putting the old run in ${dir} back failed too: ${(re as Error).message}; ` +
      'run the same command again to retry)', { cause: e });
  }
}

/** The training loop from `s.position` to the end (or `maxSteps`, or a stop request). */
async function runEpochs(s: Session, o: TrainOptions, replacement: RunReplacement | null): Promise<TrainResult> {
  const { cfg, paths, model, optimizer, bank, data, loader, schedule, history, dp } = s;
  // Data-parallel: rank 0 alone writes (the others compute the same values).
  const writes = !dp || dp.rank === 0;
  let pos = s.position;
  const result = (): TrainResult => ({ config: cfg, model, bank, history, paths, data, position: pos });
  let checkpointedAt: number | null = s.resumed ? pos.step : null;
  const checkpoint = (): void => {
    if (!writes) {
      checkpointedAt = pos.step;
      return;
    }
    saveCheckpoint(paths.checkpoint, { model, optimizer, bank, config: cfg, position: pos, history, data: dataRecord(data) });
    checkpointedAt = pos.step;
    // The new run has its first checkpoint: the old run it replaces can go.
    replacement?.commit();
  };
  const state: StepState = { model, optimizer, params: model.parameters(), bank, cfg, ...(dp ? { dp } : {}) };
  let stepsThisRun = 0;
  const stopIfAsked = (): void => {
    // Data-parallel: all ranks stop after the same step, whichever got the signal.
    const asked = dp ? dp.anyRank(o.signal?.aborted === true) : o.signal?.aborted === true;
    if (!asked) return;
    const reason: unknown = o.signal?.aborted ? o.signal.reason : undefined;
    const sig = typeof reason === 'string' ? reason : dp ? 'a stop request (from another rank)' : 'a stop request';
    if (stepsThisRun === 0 && checkpointedAt === null) {
      throw new InterruptedError(sig, `stopped before the first step; ${paths.dir} is as it was`, null);
    }
    if (checkpointedAt !== pos.step) checkpoint();
    throw new InterruptedError(sig, `stopped after step ${pos.step} (epoch ${pos.epoch + 1} of ${cfg.epochs}); the checkpoint is ${paths.checkpoint}`,
      resumeCommand(paths.dir));
  };
  model.train();

  while (pos.epoch < cfg.epochs) {
    const progress = new Progress(`epoch ${pos.epoch + 1}/${cfg.epochs}`, data.train.n, 'img', process.stderr, o.quiet);
    let t0 = performance.now();
    for await (const plain of loader.batches(pos.epoch, pos.batch)) {
      if (o.maxSteps !== undefined && stepsThisRun >= o.maxSteps) {
        checkpoint();
        return result();
      }
      // Every step: signal handlers (and GC finalizers) run only when the event loop gets control.
      await yieldToEventLoop();
      stopIfAsked();
      optimizer.lr = schedule.lrAt(pos.step);
      const v = trainStep(state, dp ? dp.shard(plain) : plain, pos);
      const now = performance.now();
      for (const sums of [pos.sums, pos.window]) addStep(sums, v.terms, v.correct, plain.size, (now - t0) / 1000);
      t0 = now;
      pos = { ...pos, batch: pos.batch + 1, step: pos.step + 1 };
      stepsThisRun++;
      if (cfg.logEvery > 0 && pos.step % cfg.logEvery === 0) {
        if (writes) appendStepRecord(paths.steps, stepRecord(pos.window, pos.epoch + 1, pos.step, optimizer.lr));
        pos = { ...pos, window: emptySums() };
      }
      const e = pos.sums;
      const cam = LOGGED_TERMS.some((d) => d.regulariser && v.terms[d.key] !== null);
      progress.update(e.n, `loss ${(e.terms.loss.sum / e.steps).toFixed(4)} acc ${(e.correct / e.n).toFixed(3)}${cam ? ' +cam' : ''}`);
      if (cfg.checkpointEvery > 0 && pos.step % cfg.checkpointEvery === 0 && pos.batch < loader.numBatches) checkpoint();
    }
    const e = pos.sums;
    const test = evaluateAccuracy(model, data, 256, dp ?? undefined);
    const rec: EpochRecord = {
      ...stepRecord(e, pos.epoch + 1, pos.step, optimizer.lr), testAccuracy: test.accuracy, testLoss: test.loss, seconds: e.seconds,
    };
    progress.done(`test acc ${test.accuracy.toFixed(4)}`);
    history.push(rec);
    if (writes) writeFileAtomic(paths.metrics, Buffer.from(history.map((h) => JSON.stringify(h)).join('\n') + '\n'));
    if (writes) o.onEpoch?.(rec);
    pos = { ...pos, epoch: pos.epoch + 1, batch: 0, sums: emptySums() };
    checkpoint();
  }
  if (!writes) return result();
  saveSafetensors(paths.model, model.stateDict(), {
    format: 'pytorch-state-dict', model: cfg.model, config: JSON.stringify(cfg), data: JSON.stringify(dataRecord(data)),
  });
  writeFileAtomic(paths.summary, Buffer.from(JSON.stringify({ config: cfg, final: history[history.length - 1] ?? null, epochs: history.length }, null, 2) + '\n'));
  return result();
}
