import { interpolateBilinear, scope, type Tensor } from '../torch/index.js';
import { CAM_EPS, type CamNorm } from './options.js';

/**
 * The map step shared by Batch-CAM and the per-sample loop: cam = ReLU(Σ_k α_k A_k), normalised per sample,
 * optionally upsampled. alpha B×K×1×1, activation B×K×h×w → B×h×w (or B×H×W).
 */
export function camFromWeights(alpha: Tensor, activation: Tensor, norm: CamNorm, size: [number, number] | null): Tensor {
  // Σ_k α_k A_k as one batched (1×K)·(K×hw) product: no B×K×h×w temporary forward or backward (where α·A summed
  // over k writes one, and its backward two). flatten(2) is a view in either layout (NCHW or channels-last).
  const [b, k, h, w] = activation.shape as [number, number, number, number];
  const cam = scope(() => normalise(alpha.reshape([b, 1, k]).matmul(activation.flatten(2)).view([b, h, w]).relu(), norm));
  if (!size) return cam;
  const up = scope(() => interpolateBilinear(cam.unsqueeze(1), size).squeeze(1));
  cam.dispose();
  return up;
}

/** Per-sample scaling of B×h×w maps to [0,1]: cam / max, or (cam − min) / (max − min). */
function normalise(cam: Tensor, norm: CamNorm): Tensor {
  const max = cam.amax([1, 2], true);
  if (norm === 'max') return cam.div(max.add(CAM_EPS));
  const min = cam.amin([1, 2], true);
  return cam.sub(min).div(max.sub(min).add(CAM_EPS));
}
