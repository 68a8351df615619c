import type { DecoyInfo } from '../builtin/decoy.js';
import type { BiasInfo, SplitData } from '../dataset.js';
import { gatherRows } from './gather-rows.js';

/** The decoy records of the samples at `rows` (`maskSize` = H·W). */
export function selectDecoy(decoy: DecoyInfo, rows: ArrayLike<number>, maskSize: number): DecoyInfo {
  return {
    corners: gatherRows(decoy.corners, rows, 1),
    decoyLabels: gatherRows(decoy.decoyLabels, rows, 1),
    masks: gatherRows(decoy.masks, rows, maskSize),
  };
}

/** The bias records of the samples at `rows` (`maskSize` = H·W). */
export function selectBias(bias: BiasInfo, rows: ArrayLike<number>, maskSize: number): BiasInfo {
  return {
    region: bias.region,
    attributes: gatherRows(bias.attributes, rows, 1),
    masks: bias.masks && gatherRows(bias.masks, rows, maskSize),
  };
}

/** The rows `rows` of a split (every per-sample field gathered alike), as a split of its own. */
export function selectRows(split: SplitData, rows: Int32Array): SplitData {
  const [c, h, w] = split.imageShape;
  const size = c * h * w;
  const bias = split.bias && selectBias(split.bias, rows, h * w);
  const decoy = split.decoy && selectDecoy(split.decoy, rows, h * w);
  return {
    split: split.split,
    n: rows.length,
    imageShape: split.imageShape,
    images: gatherRows(split.images, rows, size),
    labels: gatherRows(split.labels, rows, 1),
    pixels: gatherRows(split.pixels, rows, size),
    classes: gatherRows(split.classes, rows, 1),
    sourceIndices: gatherRows(split.sourceIndices, rows, 1),
    ...(decoy ? { decoy } : {}),
    ...(bias ? { bias } : {}),
    ...(split.cleanImages ? { cleanImages: gatherRows(split.cleanImages, rows, size) } : {}),
    ...(split.alignedImages ? { alignedImages: gatherRows(split.alignedImages, rows, size) } : {}),
    ...(split.files ? { files: split.files } : {}),
    ...(split.sources ? { sources: Array.from(rows, (i) => split.sources![i]!) } : {}),
  };
}

