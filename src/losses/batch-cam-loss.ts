import { scope, type BatchShards, type Tensor } from '../torch/index.js';
import type { Distance } from './distance.js';
import { classMeanMaps } from './class-means.js';
import { mapDistance, type MapDistance } from './map-comparer.js';
import { meanOverEligible, type ReferenceMaps } from './reference-maps.js';

/** Whether the batch class means are constants (`detached`, default) or part of the graph (`attached`). */
export type BatchMeans = 'detached' | 'attached';

export const BATCH_MEANS: readonly BatchMeans[] = ['detached', 'attached'];

/** Options of `batchCamLoss` (docs/method.md §4). */
export interface BatchCamLossOptions {
  /** 'detached' (default): M_c is a constant, each CAM is pulled toward it; 'attached': gradients also flow through M_c. */
  means?: BatchMeans;
  /**
   * C. Optional: given, the class means come from a one-hot C×B matmul (O(B·C·HW), cheaper when C < B); without it,
   * from the B×B same-class matrix (O(B²·HW)). Same result either way.
   */
  numClasses?: number;
  /**
   * Data-parallel: the batch is split across processes and M_c is the class mean over the WHOLE batch (per-class sums
   * and counts summed over the shards, which is what an all-gather of the detached CAMs and labels would give, in
   * C×H×W rather than B×H×W of traffic); the result is this process's share of the whole-batch mean. Needs
   * `numClasses`. With `means: 'attached'` the gradient through M_c reaches every shard (the sum is differentiable).
   */
  shards?: BatchShards;
}

/**
 * L_batch (docs/method.md §4): M_c = mean of the batch's CAMs of class c (each sample's own CAM included); the loss is the
 * mean over samples whose class has ≥ 2 members in the batch of d(cam_i, M_{y_i}). With no such sample it is a zero
 * still connected to `cams`. Vectorised, with no host sync: through the B×B same-class matrix S (S_ij = [y_i = y_j]),
 * M_{y_i} = (S·cams)_i / Σ_j S_ij, or through a one-hot matmul when `numClasses` is given. `cams` B×H×W, `labels`
 * int64 B; d is a distance kind, or a `MapComparer` of these CAMs with its kind (`comparer.by(kind)`), which shares
 * the CAMs' SSIM statistics with the step's other losses.
 */
export function batchCamLoss(cams: Tensor, labels: Tensor, d: Distance | MapDistance, o: BatchCamLossOptions = {}): Tensor {
  return scope(() => {
    const { reference, eligible } = batchCamReferences(cams, labels, o);
    return meanOverEligible(mapDistance(cams, reference, d), eligible, o.shards);
  });
}

/** Each sample's batch class mean M_{y_i} and whether its class has ≥ 2 members: what L_batch compares (same options). */
function batchCamReferences(cams: Tensor, labels: Tensor, o: BatchCamLossOptions): ReferenceMaps {
  const means = o.means ?? 'detached';
  if (cams.ndim !== 3) throw new RangeError(`batchCamLoss: expected B×H×W CAMs, got [${cams.shape}]`);
  const [b, h, w] = cams.shape as [number, number, number];
  if (labels.ndim !== 1 || labels.shape[0] !== b) {
    throw new RangeError(`batchCamLoss: expected labels of shape [${b}], got [${labels.shape}]`);
  }
  if (o.shards && o.numClasses === undefined) throw new RangeError('batchCamLoss: a sharded batch needs numClasses');
  return scope(() => {
    const y = labels.to(cams.device);
    const src = (means === 'detached' ? cams.detach() : cams).reshape([b, h * w]);
    let classMeans: Tensor;
    let counts: Tensor; // B: members of each sample's class, ≥ 1 (itself)
    if (o.numClasses !== undefined) {
      const m = classMeanMaps(src, y, o.numClasses, { ...(o.shards && { shards: o.shards }) }); // C×HW, whole batch
      classMeans = m.means.indexSelect(0, y);
      counts = m.counts.indexSelect(0, y);
    } else {
      const same = y.unsqueeze(1).eq(y.unsqueeze(0)).to(cams.dtype); // B×B
      counts = same.sum(1);
      classMeans = same.matmul(src).div(counts.unsqueeze(1));
    }
    return { reference: classMeans.reshape([b, h, w]), eligible: counts.ge(2) };
  });
}
