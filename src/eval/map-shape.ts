import { noGrad, scope, type Tensor } from '../torch/index.js';

/** Per-sample shape statistics of normalised CAMs: the numbers that expose a collapsed map. */
export interface MapShape {
  /** Mean value of each map: 1 for a uniform (all-max) map, 0 for an empty one. N-vector, float64. */
  coverage: Tensor;
  /** Spatial standard deviation of each map: 0 for any flat map, uniform or empty; a focused map scores high. */
  contrast: Tensor;
}

/**
 * Coverage and contrast of each CAM (`cams` N×H×W, normalised to [0,1]). The coherence and prototype distances have
 * trivial minimisers — a uniform map under SSIM, an all-zero map under L1/L2 — so a low coherence distance means
 * little unless the maps keep their contrast; these two numbers tell the cases apart.
 */
export function mapShape(cams: Tensor): MapShape {
  if (cams.ndim !== 3) throw new RangeError(`mapShape: expected N×H×W CAMs, got [${cams.shape}]`);
  return noGrad(() => scope(() => {
    const c = cams.to('float64');
    const coverage = c.mean([1, 2]);
    // Population std (divide by H·W): a map is the whole population of its pixels.
    const contrast = c.sub(coverage.reshape([-1, 1, 1])).square().mean([1, 2]).sqrt();
    return { coverage, contrast };
  }));
}
