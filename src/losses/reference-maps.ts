import { scope, shareOfMean, where, type BatchShards, type Tensor } from '../torch/index.js';

/**
 * What a map-matching loss compares each CAM with: `reference` B×H×W (a class prototype, a batch class mean) and
 * `eligible` bool B, whether the sample's term counts (its prototype exists, its class has a partner in the batch).
 */
export interface ReferenceMaps {
  reference: Tensor;
  eligible: Tensor;
}

/**
 * The mean of per-sample distances `d` (B) over the eligible samples, without a host sync: `where`, not a multiply by
 * the mask, so an ineligible sample's value cannot leak in; with none eligible a zero still connected to `d`. With
 * `shards` (data-parallel), this process's share of the mean over the whole batch (the eligible count summed over
 * the shards).
 */
export function meanOverEligible(d: Tensor, eligible: Tensor, shards?: BatchShards): Tensor {
  return scope(() => {
    const kept = where(eligible, d, 0);
    return shards ? shareOfMean(kept.sum(), eligible.sum(), shards) : kept.sum().div(eligible.sum().clamp(1));
  });
}
