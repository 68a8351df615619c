import { scope, type Tensor } from '../torch/index.js';
import { DISTANCES, type Distance } from '../losses/distance.js';
import { classMeans } from './class-means.js';
import { distanceToClassReference } from './class-distance.js';
import { summariseByClass, type ClassSummary } from './class-summary.js';

/**
 * Coherence distances (docs/method.md §7): d(cam_i, M_{y_i}) where M_c is the mean CAM of class c over the same set
 * (grouped by label). `cams` N×H×W in [0,1], `labels` int64 N. An N-vector; 0 means the class's maps agree exactly.
 */
export function coherenceDistances(cams: Tensor, labels: Tensor, numClasses: number, kind: Distance): Tensor {
  return scope(() => distanceToClassReference(cams, labels, classMeans(cams, labels, numClasses).means, kind));
}

/**
 * Coherence for each distance: per class the mean d(cam_i, mean CAM of the class), and the mean over all samples.
 * Lower is more coherent. The class means are computed once and shared by the distances.
 */
export function coherence(cams: Tensor, labels: Tensor, numClasses: number,
  kinds: readonly Distance[] = DISTANCES): Record<Distance, ClassSummary> {
  return scope(() => {
    const { means } = classMeans(cams, labels, numClasses);
    const out = {} as Record<Distance, ClassSummary>;
    for (const k of kinds) out[k] = scope(() => summariseByClass(distanceToClassReference(cams, labels, means, k), labels, numClasses));
    return out;
  });
}
