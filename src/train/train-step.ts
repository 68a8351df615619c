import { backward, noGrad, scope, stack, zeros, type Tensor } from '../torch/index.js';
import type { Optimizer } from '../nn/optimizer.js';
import { clipGradNorm_, gradNormSquared } from '../nn/clip-grad-norm.js';
import type { Classifier } from '../models/classifier.js';
import type { PlainBatch } from '../data/batching/data-loader.js';
import { deviceBatch } from '../data/batching/device-batch.js';
import type { PrototypeBank } from '../losses/prototype-bank.js';
import type { ForwardContext } from '../nn/forward-context.js';
import { sampleKeys } from '../nn/keyed-dropout.js';
import { NonFiniteError } from './non-finite.js';
import type { DataParallel } from './data-parallel.js';
import { objective } from './objective.js';
import type { Position } from './position.js';
import { LOGGED_TERMS, type TermKey } from './objective-terms.js';
import type { TrainConfig } from './options.js';

/** What a training step works on. */
export interface StepState {
  model: Classifier;
  optimizer: Optimizer;
  /** model.parameters(), fetched once. */
  params: Tensor[];
  /** The parameters outside the classification head, which `--freeze-backbone-steps` keeps still. */
  backbone: Tensor[];
  bank: PrototypeBank | null;
  cfg: TrainConfig;
  /** Data-parallel: this process's job (the batch is then this rank's shard); absent for one process. */
  dp?: DataParallel;
}

/** The host values of one step. */
export interface StepValues {
  /** Every logged term (LOGGED_TERMS), null where it was off. */
  terms: Record<TermKey, number | null>;
  /** Correctly classified images of the batch. */
  correct: number;
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
}

/**
 * One optimiser step at the current learning rate: the objective, backward, gradient clipping, update. Every
 * logged value — the objective's terms, the correct count and the gradient norm — comes to the host in ONE read
 * after backward; a NaN/Inf term or gradient norm throws NonFiniteError before the weights change.
 *
 * Dropout masks come from (seed, step, each sample's dataset index), not from libtorch's generator, so a sample's
 * mask is the same whatever batch or shard it is in. Data-parallel (`s.dp`, `batch` this rank's shard): each
 * term is this rank's share of its whole-batch value (see `objective`); backward runs on world × the shares, the
 * gradients are all-reduced and averaged (so they are the gradients of the whole-batch objective, on every rank),
 * and the logged values are summed over the ranks in the same single read.
 */
export function trainStep(s: StepState, batch: PlainBatch, at: Pick<Position, 'epoch' | 'step'>): StepValues {
  return scope(() => {
    const b = deviceBatch(batch, s.model.device);
    const dp = s.dp;
    // What the forward pass depends on: dropout keys of these samples at this step; with --sync-bn, the shards whose
    // batch statistics BatchNorm shares.
    const forward: ForwardContext = {
      sampleKeys: sampleKeys(s.cfg.seed, at.step, batch.indices), ...(dp && s.cfg.syncBn && { shards: dp.group }),
    };
    const t = objective(s.model, b.x, b.y, s.cfg, s.bank, at, dp?.group, forward);
    s.optimizer.zeroGrad();
    backward(dp ? t.loss.mul(dp.worldSize) : t.loss);
    if (dp) dp.allReduceGradients(s.params);
    // A parameter without a gradient is left alone by the optimiser (no update, no weight decay, no moments).
    if (at.step < s.cfg.freezeBackboneSteps) for (const p of s.backbone) p.grad = null;
    const on = LOGGED_TERMS.filter((d) => t[d.key] !== null);
    // float64 keeps every value exactly as the term's own dtype holds it (the count too).
    const stacked = noGrad(() => stack([
      ...on.map((d) => t[d.key]!.to('float64')), t.correct.sum().to('float64'),
      (gradNormSquared(s.params) ?? zeros([])).to('float64'),
    ]));
    // Every rank holds the same (all-reduced) gradients, so the summed norm² is world × the norm².
    if (dp) dp.group.allReduce([stacked]);
    const values = stacked.toArray();
    if (dp) values[on.length + 1] = values[on.length + 1]! / dp.worldSize;
    const terms = Object.fromEntries(LOGGED_TERMS.map((d) => [d.key, null])) as Record<TermKey, number | null>;
    on.forEach((d, i) => { terms[d.key] = values[i]!; });
    for (const d of on) if (!Number.isFinite(terms[d.key])) throw new NonFiniteError(at.step, d.name, terms[d.key]!);
    const gradNorm = Math.sqrt(values[on.length + 1]!);
    if (!Number.isFinite(gradNorm)) throw new NonFiniteError(at.step, 'gradient norm', gradNorm);
    clipGradNorm_(s.params, s.cfg.clipGradNorm, gradNorm);
    s.optimizer.step();
    return { terms, correct: values[on.length]!, gradNorm };
  });
}
