import { noGrad, scope, type Tensor } from '../torch/index.js';
import { classMapSums, classMeansFromSums, type ClassMapSums } from '../losses/class-means.js';
import { scaleByMax as scaleMapsByMax } from '../losses/scale-by-max.js';

/** Per-class sums of maps (C×H×W float64) and how many maps each class has (C float64). */
export type ClassSums = ClassMapSums;

/**
 * Σ of the N×H×W `maps` (any real dtype) per class of the int64 `labels`, in one one-hot matmul, float64 so that
 * sums accumulated over chunks of a large set stay exact enough. Outside autograd.
 */
export function classSums(maps: Tensor, labels: Tensor, numClasses: number): ClassSums {
  checkMaps(maps, labels, 'classSums');
  return noGrad(() => classMapSums(maps, labels, numClasses, { dtype: 'float64' }));
}

/** Class means from sums: C×H×W float32, zero for classes without maps (check `counts`). */
export function meansFromSums(s: ClassSums): Tensor {
  return noGrad(() => scope(() => classMeansFromSums(s).to('float32')));
}

/** The mean map of each class (C×H×W float32; zero for absent classes) and the class counts (C float64). */
export function classMeans(maps: Tensor, labels: Tensor, numClasses: number): { means: Tensor; counts: Tensor } {
  return scope(() => {
    const s = classSums(maps, labels, numClasses);
    return { means: meansFromSums(s), counts: s.counts };
  });
}

/**
 * Each class mean scaled to [0,1] by its own max: the image prototypes and the reconstruction reference of
 * docs/method.md §3 and §7. An all-zero mean stays zero rather than 0/0.
 */
export function scaleByMax(means: Tensor): Tensor {
  return noGrad(() => scaleMapsByMax(means));
}

/** Throws unless `maps` is N×H×W and `labels` an int64 N-vector. */
export function checkMaps(maps: Tensor, labels: Tensor, what: string): void {
  if (maps.ndim !== 3) throw new RangeError(`${what}: expected N×H×W maps, got [${maps.shape}]`);
  if (labels.ndim !== 1 || labels.shape[0] !== maps.shape[0] || labels.dtype !== 'int64') {
    throw new RangeError(`${what}: expected int64 labels of shape [${maps.shape[0]}], got ${labels.dtype} [${labels.shape}]`);
  }
}
