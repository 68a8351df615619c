import type { Tensor } from '../torch/index.js';

/**
 * The terms of one step's objective L = CE + λp·L_proto + λb·L_batch (docs/method.md §5) + λpc·L_proto-contrast +
 * λbc·L_batch-contrast + λbg·L_background (ours, against collapsed maps) + λam·L_am (GAIN's attention mining: the
 * evidence must lie where the map points); a term that is off is null.
 */
export interface ObjectiveTerms {
  loss: Tensor;
  ce: Tensor;
  proto: Tensor | null;
  batch: Tensor | null;
  protoContrast: Tensor | null;
  batchContrast: Tensor | null;
  background: Tensor | null;
  mining: Tensor | null;
  /** Correctly classified samples in the batch (bool B). */
  correct: Tensor;
}

/**
 * The scalar terms of {@link ObjectiveTerms} a training step logs, in the order they are checked for NaN/Inf and
 * written to steps.jsonl/metrics.jsonl: `key` is the field here and in StepRecord, `name` the term in messages;
 * a `regulariser` is off (null) during the CE-only warm-ups. A new term is one more entry (and its fields).
 */
export const LOGGED_TERMS = [
  { key: 'ce', name: 'cross-entropy', regulariser: false },
  { key: 'proto', name: 'prototype loss', regulariser: true },
  { key: 'batch', name: 'batch-cam loss', regulariser: true },
  { key: 'protoContrast', name: 'contrastive prototype loss', regulariser: true },
  { key: 'batchContrast', name: 'contrastive batch-cam loss', regulariser: true },
  { key: 'background', name: 'background loss', regulariser: true },
  { key: 'mining', name: 'attention-mining loss', regulariser: true },
  { key: 'loss', name: 'total loss', regulariser: false },
] as const satisfies readonly { key: keyof ObjectiveTerms; name: string; regulariser: boolean }[];

/** A logged term's key. */
export type TermKey = (typeof LOGGED_TERMS)[number]['key'];
