import type { Tensor } from './tensor.js';

/**
 * A batch split across data-parallel processes, as a loss sees it. Every process holds one shard; a batch mean
 * (1/N)·Σᵢ ℓᵢ over the whole batch becomes, on each process, its share Σ_{i ∈ shard} ℓᵢ / N, with the count N
 * summed over the shards. The shares add up to the mean, and their gradients add up to its gradient, so averaging
 * world × share over the processes (what the data-parallel trainer does with the gradients) gives the gradient of
 * the whole-batch loss. Statistics that span samples (class means, prototype sums, batch-norm moments) are summed
 * over the shards the same way. `sum` is differentiable: its gradient is summed back over the shards, as
 * torch.distributed.nn.functional.all_reduce's is.
 */
export interface BatchShards {
  /** Number of shards (processes). */
  readonly count: number;
  /** t summed over every shard; every process must call it in the same order with tensors of one shape. */
  sum(t: Tensor): Tensor;
}

/** This shard's share of a whole-batch mean: localSum / (Σ over shards of localCount, at least 1). */
export function shareOfMean(localSum: Tensor, localCount: Tensor, shards: BatchShards): Tensor {
  return localSum.div(shards.sum(localCount).clamp(1));
}
