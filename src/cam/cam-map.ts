import { interpolateBilinear, type Tensor } from '../torch/index.js';
import { CAM_EPS, type CamNorm } from './options.js';

/**
 * The map step shared by Batch-CAM and the per-sample loop: cam = ReLU(Σ_k α_k A_k), normalised per sample,
 * optionally upsampled. alpha B×K×1×1, activation B×K×h×w → B×h×w (or B×H×W).
 */
export function camFromWeights(alpha: Tensor, activation: Tensor, norm: CamNorm, size: [number, number] | null): Tensor {
  const weighted = alpha.mul(activation);
  const summed = weighted.sum(1);
  const cam = summed.relu();
  const max = cam.amax([1, 2], true);
  let normed: Tensor;
  if (norm === 'max') {
    const d = max.add(CAM_EPS);
    normed = cam.div(d);
    d.dispose();
  } else {
    const min = cam.amin([1, 2], true);
    const num = cam.sub(min);
    const range = max.sub(min);
    const d = range.add(CAM_EPS);
    normed = num.div(d);
    for (const t of [min, num, range, d]) t.dispose();
  }
  for (const t of [weighted, summed, cam, max]) t.dispose();
  if (!size) return normed;
  const n4 = normed.unsqueeze(1);
  const up = interpolateBilinear(n4, size);
  const out = up.squeeze(1);
  for (const t of [normed, n4, up]) t.dispose();
  return out;
}
