import { Rng } from '../sampling/rng.js';
import { channelMoments, type Normalisation } from '../preprocess/normalisation.js';
import { colorJitter, JITTER_OPS, type JitterDraw } from './color-jitter.js';
import { randomResizedCropBox, uniform } from './random-resized-crop.js';
import { resizedCrop, type CropBox } from './resized-crop.js';

// Stream key, so augmentation draws never coincide with the shuffle, decoy or subset draws of the same seed.
const AUGMENT_STREAM = 0xa06e;

/**
 * Training-time augmentation, torchvision's ImageNet recipe: RandomResizedCrop (back to the image's own size),
 * RandomHorizontalFlip, ColorJitter (brightness, contrast, saturation).
 */
export interface Augmentation {
  /** RandomResizedCrop's range of the crop's area, as a share of the image ([1, 1] with ratio [1, 1]: no crop). */
  readonly cropScale: readonly [number, number];
  /** RandomResizedCrop's range of the crop's aspect ratio (width / height), drawn log-uniformly. */
  readonly cropRatio: readonly [number, number];
  /** Probability of a horizontal flip. */
  readonly flip: number;
  /** ColorJitter's strengths for brightness, contrast and saturation: factors uniform in [max(0, 1 − s), 1 + s]; 0 = off. */
  readonly jitter: readonly [number, number, number];
}

/** torchvision's `RandomResizedCrop(size)` + `RandomHorizontalFlip()` defaults, no colour jitter. */
export const IMAGENET_AUGMENTATION: Augmentation = { cropScale: [0.08, 1], cropRatio: [3 / 4, 4 / 3], flip: 0.5, jitter: [0, 0, 0] };

/** What one sample's augmentation drew. */
export interface SampleDraw {
  readonly box: CropBox;
  readonly flip: boolean;
  readonly jitter: JitterDraw;
}

/**
 * The draws of sample `index` (its position in the split) in `epoch`: a pure function of (seed, epoch, index), so every
 * process of a data-parallel run, a streamed and an in-memory split, and a resumed run all augment alike.
 */
export function drawAugmentation(aug: Augmentation, seed: number, epoch: number, index: number, h: number, w: number): SampleDraw {
  const rng = Rng.derive(seed, AUGMENT_STREAM, epoch, index);
  const box = randomResizedCropBox(rng, h, w, aug.cropScale, aug.cropRatio);
  const flip = aug.flip > 0 && rng.random() < aug.flip;
  // ColorJitter applies its adjustments in a random order (torchvision: randperm), each with its own factor.
  const order = rng.permutation(JITTER_OPS.length);
  const jitter: { op: (typeof JITTER_OPS)[number]; factor: number }[] = [];
  for (const k of order) {
    const s = aug.jitter[k]!;
    if (s > 0) jitter.push({ op: JITTER_OPS[k]!, factor: uniform(rng, Math.max(0, 1 - s), 1 + s) });
  }
  return { box, flip, jitter };
}

/**
 * One image C×H×W as the model's input (standardised with `normalisation`, or in [0, 1] without one), augmented with
 * `draw`: cropped and resized back to H×W, flipped, and colour-jittered in [0, 1] units (so a standardised image is
 * taken back to [0, 1] for the jitter and clamping, as torchvision jitters before Normalize).
 */
export function augmentImage(img: Float32Array, shape: readonly [number, number, number], draw: SampleDraw, normalisation: Normalisation | null): Float32Array {
  const [c, h, w] = shape;
  const out = resizedCrop(img, shape, draw.box, h, w, draw.flip);
  if (draw.jitter.length === 0) return out;
  const plane = h * w;
  for (let ch = 0; ch < c; ch++) {
    const [mean, std] = channelMoments(normalisation, ch);
    for (let p = ch * plane; p < (ch + 1) * plane; p++) out[p] = out[p]! * std + mean;
  }
  colorJitter(out, shape, draw.jitter);
  for (let ch = 0; ch < c; ch++) {
    const [mean, std] = channelMoments(normalisation, ch);
    const inv = 1 / std;
    for (let p = ch * plane; p < (ch + 1) * plane; p++) out[p] = (out[p]! - mean) * inv;
  }
  return out;
}

/** How a loader augments its batches: the recipe, the run's seed and the inputs' normalisation. */
export interface BatchAugmentation {
  readonly augmentation: Augmentation;
  readonly seed: number;
  readonly normalisation: Normalisation | null;
}

/** A batch n×C×H×W of epoch `epoch` whose samples sit at `indices` of their split, augmented in place sample by sample. */
export function augmentBatch(x: Float32Array, shape: readonly [number, number, number], indices: Int32Array, epoch: number,
  a: BatchAugmentation): Float32Array {
  const [, h, w] = shape;
  const size = shape[0] * h * w;
  for (let k = 0; k < indices.length; k++) {
    const draw = drawAugmentation(a.augmentation, a.seed, epoch, indices[k]!, h, w);
    x.set(augmentImage(x.subarray(k * size, (k + 1) * size), shape, draw, a.normalisation), k * size);
  }
  return x;
}
