import { scope, type BatchShards, type Tensor } from '../torch/index.js';
import { distance, type Distance } from './distance.js';
import { meanOverEligible, type MapTargets } from './map-targets.js';
import type { PrototypeBank } from './prototype-bank.js';

/**
 * L_proto (docs/method.md §3): the mean over samples whose class prototype is initialised of d(cam_i, P_{y_i}).
 * Gradients flow into `cams` only (the bank is outside autograd). With no eligible sample it is a zero that is still
 * connected to `cams` (zero gradient), so a training step can add it unconditionally and nothing syncs to the host.
 * `cams` B×H×W (the bank's H×W), `labels` int64 B. With `shards` (data-parallel), this process's share of the mean
 * over the whole batch: the eligible count is summed over the shards.
 */
export function prototypeLoss(cams: Tensor, labels: Tensor, bank: PrototypeBank, kind: Distance, shards?: BatchShards): Tensor {
  return scope(() => {
    const { target, eligible } = prototypeTargets(cams, labels, bank);
    return meanOverEligible(distance(cams, target, kind), eligible, shards);
  });
}

/** Each sample's class prototype (on the CAMs' device) and whether it is initialised: what L_proto compares. */
export function prototypeTargets(cams: Tensor, labels: Tensor, bank: PrototypeBank): MapTargets {
  if (cams.ndim !== 3 || cams.shape[1] !== bank.height || cams.shape[2] !== bank.width) {
    throw new RangeError(`prototypeLoss: expected B×${bank.height}×${bank.width} CAMs, got [${cams.shape}]`);
  }
  const dev = cams.device;
  return scope(() => ({ target: bank.prototypesFor(labels).to(dev), eligible: bank.initializedMask(labels).to(dev) }));
}
