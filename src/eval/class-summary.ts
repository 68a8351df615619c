import { noGrad, scope, type Tensor } from '../torch/index.js';
import { classMapSums } from '../losses/class-means.js';

/** A per-sample metric reduced per class and over all samples. */
export interface ClassSummary {
  /** Mean over the samples of each class (by label); null for a class with no samples. */
  perClass: (number | null)[];
  /** Mean over all samples (micro average, so every sample weighs the same). */
  mean: number;
}

/** Reduces a per-sample N-vector to per-class means (grouped by the int64 `labels`) and the overall mean. */
export function summariseByClass(perSample: Tensor, labels: Tensor, numClasses: number): ClassSummary {
  if (perSample.ndim !== 1 || labels.ndim !== 1 || perSample.shape[0] !== labels.shape[0]) {
    throw new RangeError(`summariseByClass: expected two N-vectors, got [${perSample.shape}] and [${labels.shape}]`);
  }
  if (perSample.shape[0] === 0) throw new RangeError('summariseByClass: no samples');
  return noGrad(() => scope(() => {
    const v = perSample.to('float64');
    const c = classMapSums(v, labels, numClasses);
    const sums = c.sums.toArray();
    const counts = c.counts.toArray();
    return {
      perClass: sums.map((s, c) => (counts[c]! > 0 ? s / counts[c]! : null)),
      mean: v.mean().item(),
    };
  }));
}
