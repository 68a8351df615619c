import { argsort, cat, conv2d, fromArray, noGrad, scope, stack, where, type Tensor } from '../torch/index.js';
import { gaussianTaps } from '../losses/ssim.js';
import type { Classifier } from '../models/classifier.js';
import { classProbability } from './class-probability.js';

/** Where insertion starts: RISE's blurred copy of the image, or a black (all-baseline) image. */
export type InsertionStart = 'blur' | 'zero';
export const INSERTION_STARTS: readonly InsertionStart[] = ['blur', 'zero'];

/** Options of the deletion/insertion metrics (RISE, Petsiuk et al. 2018). */
export interface DeletionInsertionOptions {
  /** K: the curve has K + 1 points, after removing/inserting round(k·HW/K) pixels, k = 0…K (default 28: 28 px/step on 28×28). */
  steps?: number;
  /** Input value of a deleted (black) pixel; 0 for [0,1] inputs, −mean/std for standardised ones (default 0). */
  baseline?: number | Tensor;
  /** Default 'blur', as in RISE: insertion starts from a Gaussian-blurred image (σ = 5, 11×11, zero padding). */
  insertionStart?: InsertionStart;
  /** Blur σ (default 5, RISE's). */
  blurSigma?: number;
  /** Blur window side, odd (default 11, RISE's). */
  blurSize?: number;
}

/** Per-image curves and their areas. */
export interface DeletionInsertionResult {
  /** N deletion AUCs in [0,1]; lower is more faithful (the class score collapses when the salient pixels go). */
  deletion: Tensor;
  /** N insertion AUCs in [0,1]; higher is more faithful. */
  insertion: Tensor;
  /** N×(K+1) class probabilities along the deletion path. */
  deletionCurve: Tensor;
  /** N×(K+1) class probabilities along the insertion path. */
  insertionCurve: Tensor;
  /** The K+1 x-coordinates: fraction of pixels removed/inserted. */
  fractions: number[];
}

/**
 * Each pixel's position in the order of decreasing saliency (0 = most salient), N×HW int64. Ties keep raster
 * order (stable sort), so the order — and the metrics — are deterministic.
 */
export function saliencyRanks(cams: Tensor): Tensor {
  const n = cams.shape[0]!;
  return noGrad(() => scope(() => {
    const order = argsort(cams.reshape([n, -1]), 1, { stable: true, descending: true });
    // The inverse permutation of a permutation is its argsort.
    return argsort(order, 1, { stable: true });
  }));
}

/** Area under each row of `curves` (N×(K+1)) over x = `fractions`, trapezoid rule; in [0,1] for x and y in [0,1]. */
export function trapezoidAuc(curves: Tensor, fractions: readonly number[]): Tensor {
  const k = fractions.length - 1;
  if (curves.ndim !== 2 || curves.shape[1] !== k + 1) {
    throw new RangeError(`trapezoidAuc: expected N×${k + 1} curves, got [${curves.shape}]`);
  }
  return noGrad(() => scope(() => {
    const dx = fromArray(Float64Array.from({ length: k }, (_, i) => fractions[i + 1]! - fractions[i]!), [k, 1], { device: curves.device });
    const c = curves.to('float64');
    const mid = c.slice(1, 0, k).add(c.slice(1, 1, k + 1)).mul(0.5);
    return mid.matmul(dx).squeeze(1);
  }));
}

/**
 * RISE's blur of N×C×H×W images around `baseline`: a normalised separable Gaussian with zero padding applied to
 * (x − baseline), so the padding and the result are "black" in the model's input units.
 */
export function blurImages(x: Tensor, baseline: number | Tensor = 0, sigma = 5, size = 11): Tensor {
  if (!(size % 2 === 1 && size >= 1)) throw new RangeError(`blur: window size must be odd, got ${size}`);
  const r = (size - 1) / 2;
  const taps = gaussianTaps(sigma, (r + 0.49) / sigma); // truncate chosen so the radius is exactly r
  const c = x.shape[1]!;
  return noGrad(() => scope(() => {
    const row = fromArray(Float32Array.from(taps), [1, 1, 1, size], { device: x.device }).to(x.dtype).expand([c, 1, 1, size]).contiguous();
    const col = fromArray(Float32Array.from(taps), [1, 1, size, 1], { device: x.device }).to(x.dtype).expand([c, 1, size, 1]).contiguous();
    const centred = x.sub(baseline);
    const b = conv2d(conv2d(centred, row, null, { padding: [0, r], groups: c }), col, null, { padding: [r, 0], groups: c });
    return b.add(baseline);
  }));
}

/**
 * Deletion and insertion AUC (RISE, Petsiuk et al. 2018) of each image's saliency map. Pixels are visited in order of
 * decreasing saliency in K steps; deletion replaces them with black (`baseline`) starting from the image, insertion
 * copies them from the image into the start image (blurred by default, or black). The tracked score is the softmax
 * probability of the explained class `targets`; the AUC is the trapezoid area over the fraction of pixels changed,
 * in [0,1]. `x` N×C×H×W, `cams` N×H×W, `targets` int64 N. One forward pass of 2N images per step (deletion and
 * insertion together); the caller chunks large sets and sets eval mode.
 */
export function deletionInsertion(model: Classifier, x: Tensor, cams: Tensor, targets: Tensor,
  o: DeletionInsertionOptions = {}): DeletionInsertionResult {
  const [n, , h, w] = x.shape as [number, number, number, number];
  if (cams.ndim !== 3 || cams.shape.join(',') !== `${n},${h},${w}`) {
    throw new RangeError(`deletionInsertion: expected ${n}×${h}×${w} maps for images [${x.shape}], got [${cams.shape}]`);
  }
  const steps = o.steps ?? 28;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`deletionInsertion: steps must be a positive integer, got ${steps}`);
  const baseline = o.baseline ?? 0;
  const hw = h * w;
  const counts = Array.from({ length: steps + 1 }, (_, k) => Math.round((k * hw) / steps));
  const fractions = counts.map((c) => c / hw);
  return noGrad(() => scope(() => {
    const ranks = saliencyRanks(cams).reshape([n, 1, h, w]);
    const black = x.mul(0).add(baseline);
    const start = (o.insertionStart ?? 'blur') === 'blur' ? blurImages(x, baseline, o.blurSigma ?? 5, o.blurSize ?? 11) : black;
    const both = cat([targets, targets]);
    const probs: Tensor[] = [];
    for (const c of counts) {
      probs.push(scope(() => {
        const changed = ranks.lt(c); // N×1×H×W, broadcast over channels
        const del = where(changed, black, x);
        const ins = where(changed, x, start);
        return classProbability(model, cat([del, ins]), both);
      }));
    }
    const all = stack(probs, 1); // 2N×(K+1)
    const deletionCurve = all.slice(0, 0, n);
    const insertionCurve = all.slice(0, n, 2 * n);
    return {
      deletion: trapezoidAuc(deletionCurve, fractions), insertion: trapezoidAuc(insertionCurve, fractions),
      deletionCurve: deletionCurve.contiguous(), insertionCurve: insertionCurve.contiguous(), fractions,
    };
  }));
}
