import { crossEntropy, scope, where, type Tensor } from '../torch/index.js';
import { classMeanMaps } from './class-means.js';

/** Smallest norm a flattened map is divided by (F.normalize's eps): an empty map stays the zero vector. */
const NORM_EPS = 1e-12;

/** The rows of a B×H×W (or C×H×W) stack as unit vectors of length H·W (an all-zero map stays zero). */
function unitRows(maps: Tensor): Tensor {
  return scope(() => {
    const flat = maps.reshape([maps.shape[0]!, -1]);
    return flat.div(flat.norm([1], true).clamp(NORM_EPS));
  });
}

/**
 * A contrastive CAM loss against class reference maps (InfoNCE, as Contrastive Grad-CAM Consistency, Pillai et al.
 * CVPR 2022, contrasts Grad-CAM maps): with ẑ_i = cam_i/‖cam_i‖ and r̂_c = R_c/‖R_c‖ flattened,
 *
 *   s_ic = ẑ_i·r̂_c / τ,     L = mean_i −log( exp(s_{i,y_i}) / Σ_{c available} exp(s_ic) ),
 *
 * so each CAM must be closer (cosine) to its own class's reference than to every other class's. Unlike a distance to
 * a self-referential target, a uniform map (the same cosine to every class) and an empty map (ẑ = 0: s_ic = 0 for all
 * c) both score log(#available classes), the loss of a guess: neither is a minimiser. Only samples whose class is
 * available take part, and only while at least two classes are (else the loss is a zero still connected to `cams`).
 * `cams` B×H×W, `labels` int64 B, `refs` C×H×W reference maps (a constant: the caller detaches them), `available`
 * bool C (which references exist), `temperature` τ > 0; `samples` (bool B, optional) further restricts which samples
 * take part.
 */
export function classContrastLoss(cams: Tensor, labels: Tensor, refs: Tensor, available: Tensor, temperature: number,
  samples?: Tensor): Tensor {
  if (!(temperature > 0)) throw new RangeError(`classContrastLoss: temperature must be positive, got ${temperature}`);
  if (cams.ndim !== 3 || refs.ndim !== 3 || cams.shape.slice(1).join(',') !== refs.shape.slice(1).join(',')) {
    throw new RangeError(`classContrastLoss: expected B×H×W CAMs and C×H×W references of one map size, got [${cams.shape}] and [${refs.shape}]`);
  }
  const b = cams.shape[0]!;
  if (labels.ndim !== 1 || labels.shape[0] !== b) throw new RangeError(`classContrastLoss: expected labels of shape [${b}], got [${labels.shape}]`);
  return scope(() => {
    const dev = cams.device;
    const y = labels.to(dev);
    const avail = available.to(dev).ne(0); // C
    const logits = unitRows(cams).matmul(unitRows(refs.to(dev).to(cams.dtype)).transpose(0, 1)).div(temperature); // B×C
    // An unavailable class is no candidate: its logit is −∞, so it takes no share of the softmax.
    const masked = where(avail.unsqueeze(0), logits, -Infinity);
    let eligible = avail.indexSelect(0, y).mul(avail.sum().ge(2)); // B
    if (samples) eligible = eligible.mul(samples.to(dev));
    // A never-eligible row still needs a finite loss before `where` drops it: give it its own label's logit 0.
    const safe = where(eligible.unsqueeze(1), masked, 0);
    const nll = crossEntropy(safe, y, 'none');
    return where(eligible, nll, 0).sum().div(eligible.sum().clamp(1));
  });
}

/**
 * The in-batch references of the Batch-CAM contrastive loss: each class's mean CAM in the batch (C×H×W, detached),
 * which classes are present (bool C), and which samples share their class with another one (bool B, the Batch-CAM
 * Loss's eligibility). `cams` B×H×W, `labels` int64 B.
 */
export function batchClassMeans(cams: Tensor, labels: Tensor, numClasses: number): { means: Tensor; present: Tensor; paired: Tensor } {
  return scope(() => {
    const y = labels.to(cams.device);
    const { means, counts } = classMeanMaps(cams.detach(), y, numClasses);
    return { means, present: counts.gt(0), paired: counts.indexSelect(0, y).ge(2) };
  });
}
