import { cat, noGrad, scope, type Tensor } from '../torch/index.js';
import { distance, type Distance } from '../losses/distance.js';
import { checkMaps } from './class-means.js';

/** Maps per distance call: bounds the SSIM intermediates (5 stacked statistics per map) on a 10 000-image set. */
export const DISTANCE_CHUNK = 1024;

/**
 * d(map_i, reference_{y_i}) for every sample: `maps` N×H×W, `labels` int64 N, `references` C×H×W (one per class).
 * Vectorised per chunk of {@link DISTANCE_CHUNK} maps; outside autograd. Returns an N-vector (float32 or float64,
 * the promoted dtype of the operands).
 */
export function distanceToClassReference(maps: Tensor, labels: Tensor, references: Tensor, kind: Distance): Tensor {
  checkMaps(maps, labels, 'distanceToClassReference');
  if (references.ndim !== 3 || references.shape.slice(1).join(',') !== maps.shape.slice(1).join(',')) {
    throw new RangeError(`distanceToClassReference: expected C×${maps.shape[1]}×${maps.shape[2]} references, got [${references.shape}]`);
  }
  const n = maps.shape[0]!;
  return noGrad(() => scope(() => {
    const parts: Tensor[] = [];
    for (let s = 0; s < n; s += DISTANCE_CHUNK) {
      const e = Math.min(n, s + DISTANCE_CHUNK);
      parts.push(scope(() => {
        const m = maps.slice(0, s, e);
        const ref = references.indexSelect(0, labels.slice(0, s, e));
        return distance(m, ref, kind);
      }));
    }
    return parts.length === 1 ? parts[0]! : cat(parts);
  }));
}
