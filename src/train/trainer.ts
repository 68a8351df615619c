import {
  crossEntropy, manualSeed, noGrad, scope, setNumThreads, yieldToEventLoop,
} from '../torch/index.js';
import { AdamW } from '../nn/adamw.js';
import { CosineSchedule } from '../nn/cosine-schedule.js';
import type { Optimizer } from '../nn/optimizer.js';
import { saveSafetensors } from '../nn/safetensors.js';
import { SGD } from '../nn/sgd.js';
import type { Classifier } from '../models/classifier.js';
import { createModel } from '../models/registry.js';
import { DataLoader } from '../data/loader.js';
import { loadDataset, type LoadedDataset } from '../data/load.js';
import { toUnitFloat } from '../data/preprocess.js';
import { imagesToTensor, labelsToTensor, toTensorBatch } from '../data/batch.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { PrototypeBank } from '../losses/prototype-bank.js';
import { readCheckpoint, restoreCheckpoint, saveCheckpoint, type Position } from './checkpoint.js';
import { LOGGED_TERMS } from './objective.js';
import { OptionError, resolveConfig, type TrainConfig } from './options.js';
import { Progress } from './progress.js';
import { prepareRunDir, type RunPaths } from './run-dir.js';
import { addStep, emptySums } from './running-sums.js';
import { appendStepRecord, stepRecord, truncateStepLog, type StepRecord } from './step-log.js';
import { trainStep, type StepState } from './train-step.js';

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
  data?: LoadedDataset;
  onEpoch?: (r: EpochRecord) => void;
}

export interface TrainResult {
  config: TrainConfig;
  model: Classifier;
  bank: PrototypeBank | null;
  history: EpochRecord[];
  paths: RunPaths;
  data: LoadedDataset;
  position: Position;
}

/** Loads the dataset a config names. */
export async function loadConfigData(cfg: TrainConfig): Promise<LoadedDataset> {
  return loadDataset(cfg.dataset, {
    dataDir: cfg.dataDir ?? undefined, trainLimit: cfg.trainLimit ?? undefined, testLimit: cfg.testLimit ?? undefined,
    standardise: cfg.standardize,
  });
}

function makeOptimizer(cfg: TrainConfig, model: Classifier): Optimizer {
  return cfg.optimizer === 'sgd'
    ? new SGD(model.parameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay })
    : new AdamW(model.parameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay });
}

/** Test accuracy and mean CE in eval mode, in a stable order. */
export function evaluateAccuracy(model: Classifier, data: LoadedDataset, batchSize = 256): { accuracy: number; loss: number } {
  const loader = new DataLoader(data.test, { batchSize });
  let correct = 0;
  let loss = 0;
  model.eval();
  noGrad(() => {
    for (const b of loader.batches(0)) {
      scope(() => {
        const t = toTensorBatch(b);
        const logits = model.forward(t.x);
        correct += logits.argmax(1).eq(t.y).sum().item();
        loss += crossEntropy(logits, t.y, 'sum').item();
      });
    }
  });
  model.train();
  return { accuracy: correct / data.test.n, loss: loss / data.test.n };
}

/**
 * Trains a model with the objective of METHOD.md §5 and writes the run directory. Deterministic for a seed:
 * weights from `manualSeed(seed)`, epoch e's batch order from (seed, e), dropout from libtorch's generator,
 * all restored by `resume`, so a resumed run is bit-identical to an uninterrupted one.
 */
export async function train(partial: Partial<TrainConfig> | Record<string, unknown>, o: TrainOptions): Promise<TrainResult> {
  const resumeFrom = o.resume ? readCheckpoint(prepareRunDir(o.outDir, { resume: true }).checkpoint) : null;
  const cfg = resumeFrom ? resumeFrom.config : resolveConfig(partial as Record<string, unknown>);
  const paths = prepareRunDir(o.outDir, { resume: o.resume, overwrite: o.overwrite });
  setNumThreads(cfg.threads);
  const data = o.data ?? (await loadConfigData(cfg));

  manualSeed(cfg.seed);
  const model = createModel(cfg.model, data.info.numClasses, { dropPath: cfg.dropPath });
  if (cfg.camLayer && !model.targetLayers.includes(cfg.camLayer)) {
    throw new OptionError(`--cam-layer: model '${cfg.model}' has no layer '${cfg.camLayer}'; choose one of ${model.targetLayers.join(', ')}`);
  }
  if (cfg.device !== 'cpu') throw new OptionError(`--device ${cfg.device}: training on CUDA is not wired up yet; use --device cpu`);
  const optimizer = makeOptimizer(cfg, model);
  const bank = cfg.lambdaProto > 0 ? new PrototypeBank({
    numClasses: data.info.numClasses, height: data.info.imageShape[1], width: data.info.imageShape[2],
    source: cfg.prototypeSource, momentum: cfg.prototypeMomentum, correctOnly: cfg.prototypeCorrectOnly,
  }) : null;
  if (bank && cfg.prototypeSource === 'image') {
    // From the raw pixels (in [0,1]), whatever the input standardisation.
    scope(() => bank.initFromImages(
      imagesToTensor(toUnitFloat(data.train.pixels), data.train.n, data.train.imageShape), labelsToTensor(data.train.labels)));
  }
  const loader = new DataLoader(data.train, { batchSize: cfg.batchSize, shuffle: true, seed: cfg.seed });
  const totalSteps = cfg.epochs * loader.numBatches;
  const schedule = new CosineSchedule({ baseLr: cfg.lr, warmupSteps: Math.min(cfg.warmupSteps, totalSteps), totalSteps, minLr: cfg.minLr });

  let pos: Position = { epoch: 0, batch: 0, step: 0, sums: emptySums(), window: emptySums() };
  const history: EpochRecord[] = [];
  if (resumeFrom) {
    restoreCheckpoint(resumeFrom, { model, optimizer, bank }, paths.checkpoint);
    pos = resumeFrom.position;
    history.push(...(resumeFrom.history as EpochRecord[]));
    truncateStepLog(paths.steps, pos.step);
    for (const t of resumeFrom.tensors.values()) t.dispose();
  } else {
    writeFileAtomic(paths.config, Buffer.from(JSON.stringify(cfg, null, 2) + '\n'));
    writeFileAtomic(paths.metrics, Buffer.alloc(0));
    writeFileAtomic(paths.steps, Buffer.alloc(0));
  }
  const checkpoint = (): void => saveCheckpoint(paths.checkpoint, { model, optimizer, bank, config: cfg, position: pos, history });
  const state: StepState = { model, optimizer, params: model.parameters(), bank, cfg };
  let stepsThisRun = 0;
  model.train();

  while (pos.epoch < cfg.epochs) {
    const progress = new Progress(`epoch ${pos.epoch + 1}/${cfg.epochs}`, data.train.n, 'img', process.stderr, o.quiet);
    let t0 = performance.now();
    for (const plain of loader.batches(pos.epoch, pos.batch)) {
      if (o.maxSteps !== undefined && stepsThisRun >= o.maxSteps) {
        checkpoint();
        return { config: cfg, model, bank, history, paths, data, position: pos };
      }
      if (pos.step % 16 === 0) await yieldToEventLoop();
      optimizer.lr = schedule.lrAt(pos.step);
      const v = trainStep(state, plain, pos);
      const now = performance.now();
      for (const sums of [pos.sums, pos.window]) addStep(sums, v.terms, v.correct, plain.size, (now - t0) / 1000);
      t0 = now;
      pos = { ...pos, batch: pos.batch + 1, step: pos.step + 1 };
      stepsThisRun++;
      if (cfg.logEvery > 0 && pos.step % cfg.logEvery === 0) {
        appendStepRecord(paths.steps, stepRecord(pos.window, pos.epoch + 1, pos.step, optimizer.lr));
        pos = { ...pos, window: emptySums() };
      }
      const e = pos.sums;
      const cam = LOGGED_TERMS.some((d) => d.regulariser && v.terms[d.key] !== null);
      progress.update(e.n, `loss ${(e.terms.loss.sum / e.steps).toFixed(4)} acc ${(e.correct / e.n).toFixed(3)}${cam ? ' +cam' : ''}`);
      if (cfg.checkpointEvery > 0 && pos.step % cfg.checkpointEvery === 0 && pos.batch < loader.numBatches) checkpoint();
    }
    const s = pos.sums;
    const test = evaluateAccuracy(model, data);
    const rec: EpochRecord = {
      ...stepRecord(s, pos.epoch + 1, pos.step, optimizer.lr), testAccuracy: test.accuracy, testLoss: test.loss, seconds: s.seconds,
    };
    progress.done(`test acc ${test.accuracy.toFixed(4)}`);
    history.push(rec);
    writeFileAtomic(paths.metrics, Buffer.from(history.map((h) => JSON.stringify(h)).join('\n') + '\n'));
    o.onEpoch?.(rec);
    pos = { ...pos, epoch: pos.epoch + 1, batch: 0, sums: emptySums() };
    checkpoint();
  }
  saveSafetensors(paths.model, model.stateDict(), { format: 'pytorch-state-dict', model: cfg.model, config: JSON.stringify(cfg) });
  writeFileAtomic(paths.summary, Buffer.from(JSON.stringify({ config: cfg, final: history[history.length - 1] ?? null, epochs: history.length }, null, 2) + '\n'));
  return { config: cfg, model, bank, history, paths, data, position: pos };
}
