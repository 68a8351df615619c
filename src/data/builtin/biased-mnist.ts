import { Rng } from '../sampling/rng.js';

/**
 * Biased-MNIST (Bahng et al., ICML 2020, "Learning De-biased Representations with Biased Representations"; their
 * code: clovaai/rebias `datasets/colour_mnist.py`): the digit is binarised to white and the background is filled
 * with a colour. Each class has its own colour; a fraction ρ of a class's images gets it, and the rest are split
 * into nine equal chunks (the last one shorter), one for each other colour. ρ near 1 makes the background a shortcut
 * that predicts the label almost perfectly; the unbiased test split uses ρ = 0.1, every colour equally likely.
 */

/** The ten background colours, by class (rebias's COLOUR_MAP). */
export const BIAS_COLOURS: readonly (readonly [number, number, number])[] = [
  [255, 0, 0], [0, 255, 0], [0, 0, 255], [225, 225, 0], [225, 0, 225],
  [0, 255, 255], [255, 128, 0], [255, 0, 128], [128, 0, 255], [128, 128, 128],
];

/** ρ of the unbiased test split: a class's own colour no likelier than any other. */
export const UNBIASED_RHO = 0.1;

// Stream key so colour draws never coincide with shuffling, subsetting or decoy draws from the same seed.
const BIASED_MNIST_STREAM = 0xb1a5;

/**
 * The colour index of every image: per class, its images in a random order; the first ⌊n·ρ⌋ get the class's colour,
 * the rest go in chunks of ⌈(n − ⌊n·ρ⌋)/9⌉ to the other colours (y+1 … y+9 mod 10) in a random order, as rebias's
 * `_update_bias_indices` assigns them. Deterministic in (seed, stream).
 */
export function backgroundColours(labels: Uint8Array, rho: number, seed: number, stream: number, numClasses = 10): Uint8Array {
  if (!(rho > 0 && rho <= 1)) throw new RangeError(`backgroundColours: ρ must be in (0, 1], got ${rho}`);
  const rng = Rng.derive(seed, BIASED_MNIST_STREAM, stream);
  const colours = new Uint8Array(labels.length);
  for (let y = 0; y < numClasses; y++) {
    const members: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === y) members.push(i);
    rng.shuffle(members);
    const correlated = Math.floor(members.length * rho);
    const chunk = Math.max(1, Math.ceil((members.length - correlated) / (numClasses - 1)));
    const others = rng.shuffle(Array.from({ length: numClasses - 1 }, (_, k) => (y + 1 + k) % numClasses));
    members.forEach((i, k) => {
      colours[i] = k < correlated ? y : others[Math.floor((k - correlated) / chunk)]!;
    });
  }
  return colours;
}

/**
 * Paints images (n×H×W grey, uint8) into n×3×H×W RGB: every non-zero pixel white, every zero pixel the image's
 * colour (`BIAS_COLOURS[colours[i]]`), as rebias's `_binary_to_colour`.
 */
export function paintBackground(images: Uint8Array, colours: Uint8Array, rows = 28, cols = 28): Uint8Array {
  const size = rows * cols;
  const n = colours.length;
  if (images.length !== n * size) throw new RangeError(`paintBackground: expected ${n}×${rows}×${cols} pixels, found ${images.length}`);
  const out = new Uint8Array(n * 3 * size);
  for (let i = 0; i < n; i++) {
    const colour = BIAS_COLOURS[colours[i]!]!;
    for (let ch = 0; ch < 3; ch++) {
      const base = (i * 3 + ch) * size;
      for (let p = 0; p < size; p++) out[base + p] = images[i * size + p] !== 0 ? 255 : colour[ch]!;
    }
  }
  return out;
}

/** n×H×W masks of the background (1 where the grey image is 0): the bias region of Biased-MNIST. */
export function backgroundMasks(images: Uint8Array): Uint8Array {
  const out = new Uint8Array(images.length);
  for (let p = 0; p < images.length; p++) out[p] = images[p] === 0 ? 1 : 0;
  return out;
}
