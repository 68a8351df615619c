import { backward, noGrad, scope, stack, zeros, type Tensor } from '../torch/index.js';
import type { Optimizer } from '../nn/optimizer.js';
import { clipGradNorm_, gradNormSquared } from '../nn/clip-grad-norm.js';
import type { Classifier } from '../models/classifier.js';
import type { PlainBatch } from '../data/loader.js';
import { toTensorBatch } from '../data/batch.js';
import type { PrototypeBank } from '../losses/prototype-bank.js';
import { NonFiniteError } from './non-finite.js';
import { LOGGED_TERMS, objective, type StepAt, type TermKey } from './objective.js';
import type { TrainConfig } from './options.js';

/** What a training step works on. */
export interface StepState {
  model: Classifier;
  optimizer: Optimizer;
  /** model.parameters(), fetched once. */
  params: Tensor[];
  bank: PrototypeBank | null;
  cfg: TrainConfig;
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
 */
export function trainStep(s: StepState, batch: PlainBatch, at: StepAt): StepValues {
  return scope(() => {
    const b = toTensorBatch(batch);
    const t = objective(s.model, b.x, b.y, s.cfg, s.bank, at);
    s.optimizer.zeroGrad();
    backward(t.loss);
    const on = LOGGED_TERMS.filter((d) => t[d.key] !== null);
    // float64 keeps every value exactly as the term's own dtype holds it (the count too).
    const values = noGrad(() => stack([
      ...on.map((d) => t[d.key]!.to('float64')), t.correct.sum().to('float64'),
      (gradNormSquared(s.params) ?? zeros([])).to('float64'),
    ])).toArray();
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
