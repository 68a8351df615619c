import { scope, type BatchShards, type Tensor } from '../torch/index.js';
import type { Distance } from './distance.js';
import { mapDistance, type MapDistance } from './map-comparer.js';
import { meanOverEligible } from './reference-maps.js';
import type { PrototypeBank } from './prototype-bank.js';

/**
 * L_proto (docs/method.md §3): the mean over samples whose class prototype is initialised of d(cam_i, P_{y_i}).
 * Gradients flow into `cams` only (the bank is outside autograd). With no eligible sample it is a zero that is still
 * connected to `cams` (zero gradient), so a training step can add it unconditionally and nothing syncs to the host.
 * `cams` B×H×W (the bank's H×W), `labels` int64 B; d is a distance kind, or a `MapComparer` of these CAMs with its
 * kind (`comparer.by(kind)`), which shares the CAMs' SSIM statistics with the step's other losses. With `shards`
 * (data-parallel), this process's share of the mean over the whole batch: the eligible count is summed over the shards.
 */
export function prototypeLoss(cams: Tensor, labels: Tensor, bank: PrototypeBank, d: Distance | MapDistance, shards?: BatchShards): Tensor {
  if (cams.ndim !== 3 || cams.shape[1] !== bank.height || cams.shape[2] !== bank.width) {
    throw new RangeError(`prototypeLoss: expected B×${bank.height}×${bank.width} CAMs, got [${cams.shape}]`);
  }
  return scope(() => {
    // Each sample's class prototype (on the CAMs' device) and whether it is initialised.
    const dev = cams.device;
    const reference = bank.prototypesFor(labels).to(dev);
    const eligible = bank.initialisedMask(labels).to(dev);
    return meanOverEligible(mapDistance(cams, reference, d), eligible, shards);
  });
}
