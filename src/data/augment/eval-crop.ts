import type { SplitData } from '../dataset.js';
import { centreBox, resizedCrop } from './resized-crop.js';

/**
 * The evaluation transform of torchvision's pretrained weights, `Resize(S / f)` + `CenterCrop(S)` (f = 0.875 for
 * 224 of 256), on images already decoded at S×S: the centred `fraction` of each side, resized back to S (bilinear,
 * as the training crops are). n×C×H×W float32 in, a new array out.
 */
export function centreCropImages(images: Float32Array, n: number, shape: readonly [number, number, number], fraction: number): Float32Array {
  const [c, h, w] = shape;
  const size = c * h * w;
  const box = centreBox(h, w, fraction);
  const out = new Float32Array(images.length);
  for (let k = 0; k < n; k++) out.set(resizedCrop(images.subarray(k * size, (k + 1) * size), shape, box, h, w), k * size);
  return out;
}

/**
 * An evaluation split (test, validation) through the evaluation transform: the model's inputs and the uint8 pixels its
 * figures show. Splits whose shortcut has a region (decoy patch, background masks) are refused: their masks would
 * have to move with the crop; the built-in datasets take no crop.
 */
export function centreCropSplit(split: SplitData, fraction: number): SplitData {
  if (fraction === 1) return split;
  if (split.decoy || split.bias) throw new RangeError('centreCropSplit: a split with a decoy or bias region takes no evaluation crop');
  const { n, imageShape } = split;
  const pixels = centreCropImages(Float32Array.from(split.pixels), n, imageShape, fraction);
  return {
    ...split,
    images: centreCropImages(split.images, n, imageShape, fraction),
    pixels: Uint8Array.from(pixels, (v) => Math.min(255, Math.max(0, Math.round(v)))),
  };
}
