import { scope, type Tensor } from '../torch/index.js';
import { DISTANCES, type Distance } from '../losses/distance.js';
import { distanceToClassReference } from './class-distance.js';
import { summariseByClass, type ClassSummary } from './class-summary.js';

/**
 * Reconstruction distances (docs/method.md §7): d(cam_i, R_{y_i}), where R_c is the mean image of class c scaled to
 * [0,1] by its max (build it with `classMeans` + `scaleByMax`). A low value says the saliency looks like the
 * class's typical shape rather than like something else (a decoy patch, the background). N-vector.
 */
export function reconstructionDistances(cams: Tensor, labels: Tensor, meanImages: Tensor, kind: Distance): Tensor {
  return distanceToClassReference(cams, labels, meanImages, kind);
}

/** Reconstruction for each distance, per class (by label) and over all samples. */
export function reconstruction(cams: Tensor, labels: Tensor, meanImages: Tensor, numClasses: number,
  kinds: readonly Distance[] = DISTANCES): Record<Distance, ClassSummary> {
  const out = {} as Record<Distance, ClassSummary>;
  for (const k of kinds) {
    out[k] = scope(() => summariseByClass(reconstructionDistances(cams, labels, meanImages, k), labels, numClasses));
  }
  return out;
}
