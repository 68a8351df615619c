import { oneHot, scope, type BatchShards, type DType, type Tensor } from '../torch/index.js';

/** Per-class sums of maps and each class's (weighted) member count. */
export interface ClassMapSums {
  /** C×… sums of the maps of each class (the maps' trailing shape). */
  sums: Tensor;
  /** C counts: the summed weights of each class's samples (members, without `weights`). */
  counts: Tensor;
}

/** Options of `classMapSums` and `classMeanMaps`. */
export interface ClassSumsOptions {
  /** Float dtype the one-hot matrix and the maps are summed in (default: the maps' own). */
  dtype?: DType;
  /** B per-sample weights (bool or float, e.g. which samples are correctly classified): each sample counts this much. */
  weights?: Tensor;
  /** Data-parallel: sums and counts over every process's shard of the batch (counts first, then sums). */
  shards?: BatchShards;
}

/**
 * Σ of the B×… `maps` per class of the int64 `labels` (B) and the class counts, in one one-hot C×B matmul.
 * Differentiable in `maps` (detach them first for constants). The labels move to the maps' device.
 */
export function classMapSums(maps: Tensor, labels: Tensor, numClasses: number, o: ClassSumsOptions = {}): ClassMapSums {
  const b = maps.shape[0]!;
  if (maps.ndim < 1 || labels.ndim !== 1 || labels.shape[0] !== b) {
    throw new RangeError(`classMapSums: expected B×… maps and labels of shape [${b}], got [${maps.shape}] and [${labels.shape}]`);
  }
  return scope(() => {
    const dtype = o.dtype ?? maps.dtype;
    let hot = oneHot(labels.to(maps.device), numClasses).to(dtype); // B×C
    if (o.weights) hot = hot.mul(o.weights.to(maps.device).to(dtype).unsqueeze(1));
    const counts = o.shards ? o.shards.sum(hot.sum(0)) : hot.sum(0); // C
    const flat = maps.reshape([b, -1]);
    const local = hot.transpose(0, 1).matmul(flat.dtype === dtype ? flat : flat.to(dtype)); // C×(…)
    const sums = o.shards ? o.shards.sum(local) : local;
    return { sums: sums.reshape([numClasses, ...maps.shape.slice(1)]), counts };
  });
}

/** Class means from class sums: C×…, sums / max(count, 1), so a class without members has a zero mean. */
export function classMeansFromSums({ sums, counts }: ClassMapSums): Tensor {
  return scope(() => sums.div(counts.clamp(1).reshape([-1, ...sums.shape.slice(1).map(() => 1)])));
}

/**
 * Each class's mean map and its member count (`classMapSums`, then `classMeansFromSums`): `maps` B×… → means C×…
 * (zero for an absent class) and counts C. Differentiable in `maps`; detach them first for a constant target.
 */
export function classMeanMaps(maps: Tensor, labels: Tensor, numClasses: number, o: ClassSumsOptions = {}): { means: Tensor; counts: Tensor } {
  return scope(() => {
    const s = classMapSums(maps, labels, numClasses, o);
    return { means: classMeansFromSums(s), counts: s.counts };
  });
}
