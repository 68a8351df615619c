import { scope, topk, type Tensor } from '../torch/index.js';

/**
 * A term against uniform maps: the mean of each CAM's lowest `fraction` of pixels, averaged over the batch,
 *
 *   L_bg = mean_i mean( lowest ⌈fraction·H·W⌉ values of cam_i ),
 *
 * the min-pooling counterpart of SEAM's (Wang et al. CVPR 2020) pooling over the lowest-scoring pixels to keep the
 * background of an activation map at zero. A max-normalised map that is uniform scores 1, the worst value; a map whose
 * background is off scores 0. It does not reject empty maps by itself (they score 0 too): pair it with a term that
 * does (the contrastive losses). `cams` B×H×W in [0,1], `fraction` in (0, 1].
 */
export function backgroundLoss(cams: Tensor, fraction: number): Tensor {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`backgroundLoss: fraction must be in (0, 1], got ${fraction}`);
  if (cams.ndim !== 3) throw new RangeError(`backgroundLoss: expected B×H×W CAMs, got [${cams.shape}]`);
  const [b, h, w] = cams.shape as [number, number, number];
  const k = Math.max(1, Math.ceil(fraction * h * w));
  return scope(() => topk(cams.reshape([b, h * w]), k, 1, false).values.mean());
}
