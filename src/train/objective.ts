import { crossEntropy, full, noGrad, shareOfMean, type BatchShards, type Tensor } from '../torch/index.js';
import { batchCam } from '../cam/batch-cam.js';
import type { Classifier } from '../models/classifier.js';
import { batchCamLoss } from '../losses/batch-cam-loss.js';
import { MapComparer } from '../losses/map-comparer.js';
import { prototypeLoss } from '../losses/prototype-loss.js';
import type { PrototypeBank } from '../losses/prototype-bank.js';
import { batchClassMeans, classContrastLoss } from '../losses/class-contrast-loss.js';
import { backgroundLoss } from '../losses/background-loss.js';
import { attentionMiningLoss } from '../losses/attention-mining-loss.js';
import type { ForwardContext } from '../nn/forward-context.js';
import type { ObjectiveTerms } from './objective-terms.js';
import { camLossesOn, type TrainConfig } from './options.js';
import type { Position } from './position.js';

/** What the objective needs of where training stands: the 0-based epoch and the optimiser steps taken before this one. */
type StepPosition = Pick<Position, 'epoch' | 'step'>;

/**
 * Whether the regularisers are on at this step: a positive λ, and both CE-only warm-ups over (`camWarmupEpochs`
 * epochs, and `camWarmupSteps` steps counted from the start of training).
 */
export function regularised(cfg: TrainConfig, at: StepPosition): boolean {
  return at.epoch >= cfg.camWarmupEpochs && at.step >= cfg.camWarmupSteps && camLossesOn(cfg);
}

/**
 * Builds the objective for a batch in the model's current (training) mode. With a regulariser on, one forward
 * pass serves both CE and Batch-CAM; the CAM-source prototype bank is updated from the detached CAMs after the
 * loss has read it, so a class's first batch only initialises its prototype.
 *
 * With `shards` (data-parallel: x, y are this process's shard of the batch) every term is this process's share of
 * its whole-batch value (`shareOfMean`): means over the whole batch, the Batch-CAM Loss's class means over the whole
 * batch (or, with --batch-cam-scope rank, this shard's own Batch-CAM Loss divided by the number of shards), and the
 * prototype bank updated from the whole batch; the shares of all processes add up to the one-process objective.
 */
export function objective(model: Classifier, x: Tensor, y: Tensor, cfg: TrainConfig, bank: PrototypeBank | null, at: StepPosition,
  shards?: BatchShards, forward: ForwardContext = {}): ObjectiveTerms {
  const meanCe = (logits: Tensor): Tensor => shards
    ? shareOfMean(crossEntropy(logits, y, 'sum'), full([], y.shape[0]!, { device: logits.device }), shards)
    : crossEntropy(logits, y);
  if (!regularised(cfg, at)) {
    const logits = model.forward(x, forward);
    const ce = meanCe(logits);
    const correct = noGrad(() => logits.argmax(1).eq(y));
    return { loss: ce, ce, proto: null, batch: null, protoContrast: null, batchContrast: null, background: null, mining: null, correct };
  }
  const { cams, logits } = batchCam(model, x, y, {
    layer: cfg.camLayer ?? model.defaultCamLayer, target: cfg.camTarget, grad: cfg.camGrad, norm: cfg.camNorm,
  }, forward);
  const ce = meanCe(logits);
  const correct = noGrad(() => logits.argmax(1).eq(y));
  let loss = ce;
  const term = (lambda: number, make: () => Tensor): Tensor | null => {
    if (!(lambda > 0)) return null;
    const t = make();
    loss = loss.add(t, lambda);
    return t;
  };
  // L_proto and L_batch compare the same CAMs: one comparer lets them share the CAMs' SSIM statistics.
  // The Batch-CAM Loss's class means span the whole batch in a data-parallel run, unless --batch-cam-scope rank: then
  // each process takes its own shard's loss, divided by the number of shards.
  const maps = new MapComparer(cams);
  const batchShards = cfg.batchCamScope === 'rank' ? undefined : shards;
  let proto: Tensor | null;
  let batch: Tensor | null;
  try {
    proto = bank && term(cfg.lambdaProto, () => prototypeLoss(cams, y, bank, maps.by(cfg.protoDistance ?? cfg.distance), shards));
    batch = term(cfg.lambdaBatch, () => {
      const l = batchCamLoss(cams, y, maps.by(cfg.batchDistance ?? cfg.distance),
        { means: cfg.batchMeans, ...(batchShards && { numClasses: model.numClasses, shards: batchShards }) });
      return shards && !batchShards ? l.div(shards.count) : l;
    });
  } finally {
    maps.dispose();
  }
  const protoContrast = bank
    ? term(cfg.lambdaProtoContrast, () => classContrastLoss(cams, y, bank.prototypes, bank.initialised, cfg.contrastTemperature))
    : null;
  const batchContrast = term(cfg.lambdaBatchContrast, () => {
    const m = batchClassMeans(cams, y, model.numClasses);
    return classContrastLoss(cams, y, m.means, m.present, cfg.contrastTemperature, m.paired);
  });
  const background = term(cfg.lambdaBackground, () => backgroundLoss(cams, cfg.backgroundFraction));
  // The erased images are not training data: with --mining-bn-stats frozen they leave BatchNorm's running statistics alone.
  const mine = (xe: Tensor): Tensor => model.forward(xe, cfg.miningBnStats === 'frozen' ? { ...forward, runningStats: 'frozen' } : forward);
  const mining = term(cfg.lambdaMining, () => attentionMiningLoss(mine, x, cams, y,
    { threshold: cfg.miningThreshold, scale: cfg.miningScale, mask: cfg.miningMask }));
  if (bank && bank.source === 'cam') bank.update(cams, y, correct, shards);
  return { loss, ce, proto, batch, protoContrast, batchContrast, background, mining, correct };
}
