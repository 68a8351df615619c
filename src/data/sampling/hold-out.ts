import type { SplitData } from '../dataset.js';
import { DataError } from '../errors.js';
import { Rng } from './rng.js';
import { selectRows } from './select-rows.js';

// Stream key so validation draws never coincide with shuffling, subsetting or decoy draws from the same seed.
const HOLD_OUT_STREAM = 0x7a1;

/**
 * A seeded validation split held out of `labels`, stratified in proportion: from each class, round(n_c·fraction) of
 * its samples (at least one where the class has two or more) chosen at random. Returns the held-out and the kept
 * positions, each ascending.
 */
export function holdOutIndices(labels: Uint8Array, fraction: number, seed: number, numClasses: number): { held: Int32Array; kept: Int32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`holdOutIndices: fraction must be in (0, 1), got ${fraction}`);
  const rng = Rng.derive(seed, HOLD_OUT_STREAM);
  const held = new Uint8Array(labels.length);
  for (let c = 0; c < numClasses; c++) {
    const members: number[] = [];
    labels.forEach((y, i) => { if (y === c) members.push(i); });
    if (members.length < 2) continue;
    const take = Math.min(members.length - 1, Math.max(1, Math.round(members.length * fraction)));
    rng.shuffle(members);
    for (const i of members.slice(0, take)) held[i] = 1;
  }
  const pick = (v: number): Int32Array => Int32Array.from(labels.keys()).filter((i) => held[i] === v);
  return { held: pick(1), kept: pick(0) };
}

/** `split` divided into a validation split (`fraction` of each class, seeded) and the rest, for training. */
export function holdOut(split: SplitData, fraction: number, seed: number, numClasses: number): { train: SplitData; val: SplitData } {
  const { held, kept } = holdOutIndices(split.classes, fraction, seed, numClasses);
  if (held.length === 0) throw new DataError(`--val-fraction ${fraction}: no class of the ${split.n} training images has two or more to hold one out`);
  return { train: selectRows(split, kept), val: selectRows(split, held) };
}
