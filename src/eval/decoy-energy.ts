import { noGrad, scope, type Tensor } from '../torch/index.js';

/** Guards the all-zero CAM (ReLU can kill every location): its energy is 0 — it puts no mass on the patch. */
const MASS_EPS = 1e-12;

/**
 * Decoy energy (docs/method.md §7, after Ross et al. 2017): the share of each CAM's mass that lies inside its decoy
 * patch, Σ cam·mask / Σ cam, in [0, 1]. `cams` N×H×W (non-negative), `masks` N×H×W or N×1×H×W (any dtype, non-zero
 * inside the patch). A uniform map scores the patch's area share (16/784 for a 4×4 patch on 28×28); a model that
 * relies on the decoy scores near 1. Returns an N-vector (float64).
 */
export function decoyEnergy(cams: Tensor, masks: Tensor): Tensor {
  if (cams.ndim !== 3) throw new RangeError(`decoyEnergy: expected N×H×W CAMs, got [${cams.shape}]`);
  const [n, h, w] = cams.shape as [number, number, number];
  if (masks.numel !== n * h * w || masks.shape[0] !== n || masks.shape.slice(-2).join(',') !== `${h},${w}`) {
    throw new RangeError(`decoyEnergy: expected ${n}×${h}×${w} (or ${n}×1×${h}×${w}) masks, got [${masks.shape}]`);
  }
  return noGrad(() => scope(() => {
    const c = cams.to('float64');
    const inside = masks.reshape([n, h, w]).ne(0).to('float64');
    return c.mul(inside).sum([1, 2]).div(c.sum([1, 2]).clamp(MASS_EPS));
  }));
}
