import { DataError } from '../errors.js';
import { Rng } from './rng.js';

// Stream key so subset draws never coincide with shuffling or decoy draws from the same seed.
const SUBSET_STREAM = 0x5b5e7;

/** Options of {@link stratifiedIndices}. */
export interface StratifiedOptions {
  readonly numClasses: number;
  /** Which images are picked within each class; default 0, so a limit means the same subset in every run. */
  readonly seed?: number;
}

/**
 * Per-class quotas summing to `limit`: as equal as possible, capped by what
 * each class has (water-filling), with the indivisible remainder given to
 * randomly chosen classes so no class is systematically favoured.
 */
function quotas(available: readonly number[], limit: number, rng: Rng): number[] {
  const quota = available.map(() => 0);
  let remaining = limit;
  while (remaining > 0) {
    const open = quota.map((q, c) => c).filter((c) => quota[c]! < available[c]!);
    const share = Math.floor(remaining / open.length);
    if (share === 0) {
      for (const c of rng.shuffle(open).slice(0, remaining)) quota[c]!++;
      break;
    }
    for (const c of open) {
      const add = Math.min(share, available[c]! - quota[c]!);
      quota[c]! += add;
      remaining -= add;
    }
  }
  return quota;
}

/**
 * A deterministic class-stratified subset of `limit` indices into `labels`,
 * sorted ascending (a stable order for evaluation). Every class present in
 * `labels` is represented and counts differ by at most one unless a class
 * runs out. A limit of at least `labels.length` returns every index.
 */
export function stratifiedIndices(labels: ArrayLike<number>, limit: number, options: StratifiedOptions): Int32Array {
  const n = labels.length;
  if (!Number.isInteger(limit) || limit < 1) throw new DataError(`subset limit: expected a positive integer, found ${limit}`);
  if (limit >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const byClass: number[][] = Array.from({ length: options.numClasses }, () => []);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!(y >= 0 && y < options.numClasses)) throw new DataError(`subset: expected labels in [0, ${options.numClasses}), found ${y} at index ${i}`);
    byClass[y]!.push(i);
  }
  const present = byClass.filter((ix) => ix.length > 0).length;
  if (limit < present) {
    throw new DataError(`subset limit: expected at least ${present} (one image per class), found ${limit}`);
  }
  const rng = Rng.derive(options.seed ?? 0, SUBSET_STREAM);
  const quota = quotas(byClass.map((ix) => ix.length), limit, rng);
  const chosen = new Int32Array(limit);
  let k = 0;
  byClass.forEach((ix, c) => {
    // Partial Fisher–Yates: the first quota[c] slots become a uniform sample without replacement.
    const pool = ix.slice();
    for (let i = 0; i < quota[c]!; i++) {
      const j = i + rng.int(pool.length - i);
      const t = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = t;
      chosen[k++] = pool[i]!;
    }
  });
  return chosen.sort();
}
