import { scope, type Tensor } from '../torch/index.js';
import { checkPair, promote, ssim, ssimMaps } from './ssim.js';

/** A distance between maps in [0,1] (docs/method.md §2): mean absolute error, mean squared error, or 1 − SSIM. */
export type Distance = 'l1' | 'l2' | 'ssim';

export const DISTANCES: readonly Distance[] = ['l1', 'l2', 'ssim'];

/** Narrows a string (a CLI value) to a Distance, or throws naming the choices. */
export function parseDistance(s: string): Distance {
  if ((DISTANCES as readonly string[]).includes(s)) return s as Distance;
  throw new RangeError(`unknown distance '${s}' (expected one of ${DISTANCES.join(', ')})`);
}

/**
 * d(a_i, b_i) for each pair of B×H×W maps, a B-vector, differentiable in both a and b:
 * `l1` = mean |a − b|, `l2` = mean (a − b)², `ssim` = 1 − SSIM(a, b) (Gaussian 11×11, σ = 1.5, valid windows; see
 * `ssimMap`). Mixed float32/float64 operands compute in float64.
 */
export function distance(a: Tensor, b: Tensor, kind: Distance): Tensor {
  checkPair(a, b, 'distance');
  return scope(() => {
    switch (kind) {
      case 'l1': {
        const [x, y] = promote(a, b);
        return x.sub(y).abs().mean([1, 2]);
      }
      case 'l2': {
        const [x, y] = promote(a, b);
        return x.sub(y).square().mean([1, 2]);
      }
      case 'ssim':
        return ssim(a, b).neg().add(1);
      default:
        throw new RangeError(`unknown distance '${String(kind)}'`);
    }
  });
}

/**
 * `distance(a, b_k, kind)` for several targets b_1…b_K of the same maps: K B-vectors. With SSIM one filtering pass
 * serves all K (`ssimMaps`: a's statistics filtered once, constant targets' outside autograd): the objective's
 * Prototype and Batch-CAM Losses compare the same CAMs with two targets.
 */
export function distances(a: Tensor, bs: readonly Tensor[], kind: Distance): Tensor[] {
  if (kind !== 'ssim') return bs.map((b) => distance(a, b, kind));
  return scope(() => ssimMaps(a, bs).map((m) => m.mean([1, 2]).neg().add(1)));
}

/** The batch mean of `distance(a, b, kind)`, a scalar. */
export function meanDistance(a: Tensor, b: Tensor, kind: Distance): Tensor {
  return scope(() => distance(a, b, kind).mean());
}
