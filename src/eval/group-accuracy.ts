/**
 * Accuracy by group, the shortcut literature's measure (Sagawa et al. 2020, group DRO; Bahng et al. 2020): a group is
 * a (class, bias attribute) pair; a sample is bias-aligned when its attribute stands for its own class and
 * bias-conflicting otherwise. A model that reads the bias scores near 1 on aligned samples and near 0 on conflicting
 * ones, so its worst group is near 0; a model that ignores the bias scores about the same everywhere.
 */
export interface GroupAccuracy {
  /** Accuracy on bias-aligned samples; NaN when there are none (ColorMNIST's test split). */
  aligned: number;
  /** Accuracy on bias-conflicting samples; NaN when there are none. */
  conflicting: number;
  /** The lowest accuracy of any non-empty group. */
  worstGroup: number;
  /** Which group that is (the first in (class, attribute) order on a tie), and its size. */
  worst: { label: number; attribute: number; n: number };
  /** How many groups have samples. */
  groups: number;
}

/**
 * Group accuracies of predictions `preds` against `labels`, grouped by `attributes` (each the class its bias stands
 * for, in [0, numAttributes)). Every group with at least one sample counts, however small.
 */
export function groupAccuracy(preds: ArrayLike<number>, labels: ArrayLike<number>, attributes: ArrayLike<number>,
  numClasses: number, numAttributes = numClasses): GroupAccuracy {
  const n = labels.length;
  if (preds.length !== n || attributes.length !== n) {
    throw new RangeError(`groupAccuracy: expected ${n} predictions and attributes, got ${preds.length} and ${attributes.length}`);
  }
  if (n === 0) throw new RangeError('groupAccuracy: no samples');
  const total = new Float64Array(numClasses * numAttributes);
  const right = new Float64Array(numClasses * numAttributes);
  const split = { aligned: [0, 0], conflicting: [0, 0] };
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    const a = attributes[i]!;
    const ok = preds[i] === y ? 1 : 0;
    total[y * numAttributes + a]!++;
    right[y * numAttributes + a]! += ok;
    const s = a === y ? split.aligned : split.conflicting;
    s[0]! += ok;
    s[1]!++;
  }
  let worst = { label: -1, attribute: -1, n: 0 };
  let worstGroup = Infinity;
  let groups = 0;
  for (let g = 0; g < total.length; g++) {
    if (total[g] === 0) continue;
    groups++;
    const acc = right[g]! / total[g]!;
    if (acc < worstGroup) {
      worstGroup = acc;
      worst = { label: Math.floor(g / numAttributes), attribute: g % numAttributes, n: total[g]! };
    }
  }
  const rate = ([ok, count]: number[]): number => (count! > 0 ? ok! / count! : NaN);
  return { aligned: rate(split.aligned), conflicting: rate(split.conflicting), worstGroup, worst, groups };
}
