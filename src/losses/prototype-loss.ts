import { scope, where, type Tensor } from '../torch/index.js';
import { distance, type Distance } from './distance.js';
import type { PrototypeBank } from './prototype-bank.js';
import { shareOfMean, type BatchShards } from '../torch/index.js';

/**
 * L_proto (docs/method.md §3): the mean over samples whose class prototype is initialised of d(cam_i, P_{y_i}).
 * Gradients flow into `cams` only (the bank is outside autograd). With no eligible sample it is a zero that is still
 * connected to `cams` (zero gradient), so a training step can add it unconditionally and nothing syncs to the host.
 * `cams` B×H×W (the bank's H×W), `labels` int64 B. With `shards` (data-parallel), this process's share of the mean
 * over the whole batch: the eligible count is summed over the shards.
 */
export function prototypeLoss(cams: Tensor, labels: Tensor, bank: PrototypeBank, kind: Distance, shards?: BatchShards): Tensor {
  if (cams.ndim !== 3 || cams.shape[1] !== bank.height || cams.shape[2] !== bank.width) {
    throw new RangeError(`prototypeLoss: expected B×${bank.height}×${bank.width} CAMs, got [${cams.shape}]`);
  }
  return scope(() => {
    const dev = cams.device;
    const target = bank.prototypesFor(labels).to(dev);
    const eligible = bank.initializedMask(labels).to(dev);
    // where (not a multiply by the mask) so an uninitialised class's distance cannot leak into the value.
    const d = where(eligible, distance(cams, target, kind), 0);
    return shards ? shareOfMean(d.sum(), eligible.sum(), shards) : d.sum().div(eligible.sum().clamp(1));
  });
}
