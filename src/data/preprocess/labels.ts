/** Labels as int64, the dtype cross-entropy losses take for class indices. */
export function labelsToInt64(labels: Uint8Array): BigInt64Array {
  const out = new BigInt64Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = BigInt(labels[i]!);
  return out;
}

/** Per-class counts of `labels` (length `numClasses`). */
export function classCounts(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y < 0 || y >= numClasses) throw new RangeError(`classCounts: expected labels in [0, ${numClasses}), found ${y} at ${i}`);
    counts[y]!++;
  }
  return counts;
}
