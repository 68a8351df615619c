import type { Split } from '../dataset-info.js';
import { Rng } from '../sampling/rng.js';

/**
 * DecoyMNIST / DecoyFMNIST (Ross, Hughes & Doshi-Velez 2017, "Right for the
 * Right Reasons"): each image gets a 4×4 patch in a corner picked by two fair
 * coins. In training the patch's grey level is 255 − 25·y, a shortcut that
 * predicts the label perfectly; in test it is 255 − 25·y' for a random y', so
 * a model that learnt the shortcut fails there. This mirrors the authors'
 * `decoy_mnist.py`, where y' is drawn from all ten classes (so it equals y
 * about 10% of the time).
 */

/** Side of the square patch, in pixels. */
export const DECOY_PATCH_SIZE = 4;

/** Grey-level step per class: class y is painted 255 − 25·y. */
export const DECOY_GREY_STEP = 25;

/** Corner index: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right (2·bottom + right). */
export type Corner = 0 | 1 | 2 | 3;

/** Names of the corners, by {@link Corner} index. */
export const CORNER_NAMES: readonly string[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];

// Stream key so decoy draws never coincide with shuffling or subsetting drawn from the same seed.
const DECOY_STREAM = 0xdec0;

/** Per-image record of where the decoy is, for the decoy-energy metric. */
export interface DecoyInfo {
  /** Corner of each image's patch. */
  readonly corners: Uint8Array;
  /** The class encoded by each patch's grey level: y in train, a random y' in test. */
  readonly decoyLabels: Uint8Array;
  /** n×rows×cols, 1 inside the patch and 0 elsewhere. */
  readonly masks: Uint8Array;
}

/** Decoyed images and where their patches are. */
export interface DecoyResult extends DecoyInfo {
  /** A new n×rows×cols uint8 array; the input is left untouched. */
  readonly images: Uint8Array;
}

/** Options of {@link addDecoy}. */
export interface DecoyOptions {
  /** Which protocol: `train` encodes the true label, `test` a random one. */
  readonly split: Split;
  /** Generation seed; train and test draw from different streams of it. */
  readonly seed: number;
  readonly rows?: number;
  readonly cols?: number;
  readonly numClasses?: number;
}

/** The grey level that encodes class `label`. */
export function decoyGrey(label: number): number {
  return 255 - DECOY_GREY_STEP * label;
}

/** The class a grey level encodes, or −1 if it encodes none. */
export function decoyLabelOfGrey(grey: number): number {
  const y = (255 - grey) / DECOY_GREY_STEP;
  return Number.isInteger(y) && y >= 0 ? y : -1;
}

/** Row and column of the patch's top-left pixel for `corner`. */
export function cornerOrigin(corner: number, rows = 28, cols = 28): { row: number; col: number } {
  return {
    row: corner & 2 ? rows - DECOY_PATCH_SIZE : 0,
    col: corner & 1 ? cols - DECOY_PATCH_SIZE : 0,
  };
}

/** Writes the rows×cols mask of a patch in `corner` into `out` at `offset`. */
export function writeCornerMask(out: Uint8Array, offset: number, corner: number, rows = 28, cols = 28): void {
  const { row, col } = cornerOrigin(corner, rows, cols);
  for (let r = row; r < row + DECOY_PATCH_SIZE; r++) out.fill(1, offset + r * cols + col, offset + r * cols + col + DECOY_PATCH_SIZE);
}

/** n×rows×cols masks for the given corners. */
export function cornerMasks(corners: Uint8Array, rows = 28, cols = 28): Uint8Array {
  const size = rows * cols;
  const masks = new Uint8Array(corners.length * size);
  for (let i = 0; i < corners.length; i++) writeCornerMask(masks, i * size, corners[i]!, rows, cols);
  return masks;
}

/**
 * Paints each image's patch (grey level of `greyLabels[i]`, in `corners[i]`) into a copy of `images` (n×rows×cols).
 */
export function paintDecoys(images: Uint8Array, corners: Uint8Array, greyLabels: Uint8Array, rows = 28, cols = 28): Uint8Array {
  const size = rows * cols;
  // Copy via the constructor: on a Node Buffer, slice() would alias the caller's pixels.
  const out = new Uint8Array(images);
  for (let i = 0; i < corners.length; i++) {
    const grey = decoyGrey(greyLabels[i]!);
    const { row, col } = cornerOrigin(corners[i]!, rows, cols);
    for (let r = row; r < row + DECOY_PATCH_SIZE; r++) {
      const start = i * size + r * cols + col;
      out.fill(grey, start, start + DECOY_PATCH_SIZE);
    }
  }
  return out;
}

/**
 * Adds a decoy patch to every image. Deterministic in (seed, split): per
 * image it draws a row coin, a column coin and, in test, y'.
 */
export function addDecoy(images: Uint8Array, labels: Uint8Array, options: DecoyOptions): DecoyResult {
  const rows = options.rows ?? 28;
  const cols = options.cols ?? 28;
  const numClasses = options.numClasses ?? 10;
  const n = labels.length;
  if (images.length !== n * rows * cols) {
    throw new RangeError(`addDecoy: expected ${n}×${rows}×${cols} = ${n * rows * cols} pixels for ${n} labels, found ${images.length}`);
  }
  const rng = Rng.derive(options.seed, DECOY_STREAM, options.split === 'train' ? 0 : 1);
  const corners = new Uint8Array(n);
  const decoyLabels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const bottom = rng.bool();
    const right = rng.bool();
    corners[i] = (bottom ? 2 : 0) + (right ? 1 : 0);
    decoyLabels[i] = options.split === 'train' ? labels[i]! : rng.int(numClasses);
  }
  return { images: paintDecoys(images, corners, decoyLabels, rows, cols), corners, decoyLabels, masks: cornerMasks(corners, rows, cols) };
}
