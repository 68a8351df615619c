import type { Rng } from '../sampling/rng.js';
import { roundHalfEven, type CropBox } from './resized-crop.js';

/**
 * The box RandomResizedCrop cuts from an H×W image: torchvision's `RandomResizedCrop.get_params`, drawing from `rng`.
 * Up to ten tries of an area (a `scale` share of the image) and an aspect ratio (log-uniform in `ratio`) whose box
 * fits, at a uniform position; else the centred box of the whole image with its ratio clamped into `ratio`.
 */
export function randomResizedCropBox(rng: Rng, h: number, w: number, scale: readonly [number, number], ratio: readonly [number, number]): CropBox {
  const area = h * w;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * uniform(rng, scale[0], scale[1]);
    const aspect = Math.exp(uniform(rng, logRatio[0], logRatio[1]));
    const width = roundHalfEven(Math.sqrt(targetArea * aspect));
    const height = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (width > 0 && width <= w && height > 0 && height <= h) {
      return { top: rng.int(h - height + 1), left: rng.int(w - width + 1), height, width };
    }
  }
  const inRatio = w / h;
  let width = w;
  let height = h;
  if (inRatio < Math.min(ratio[0], ratio[1])) height = roundHalfEven(width / Math.min(ratio[0], ratio[1]));
  else if (inRatio > Math.max(ratio[0], ratio[1])) width = roundHalfEven(height * Math.max(ratio[0], ratio[1]));
  return { top: Math.floor((h - height) / 2), left: Math.floor((w - width) / 2), height, width };
}

/** A uniform draw in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.random();
}
