/** The colour adjustments of ColorJitter that batchcam draws: brightness, contrast, saturation (torchvision's order of names). */
export const JITTER_OPS = ['brightness', 'contrast', 'saturation'] as const;
export type JitterOp = (typeof JITTER_OPS)[number];

/** One image's jitter: the adjustments in the order they apply, each with its factor (1 = unchanged). */
export type JitterDraw = readonly { readonly op: JitterOp; readonly factor: number }[];

/**
 * Applies `draw` to one image C×H×W in [0, 1] (float32, in place), with torchvision's float-tensor definitions:
 * brightness blends with black, contrast with the mean of the image's grey version, saturation with its grey version
 * (grey = 0.2989 R + 0.587 G + 0.114 B; a one-channel image's saturation is itself); each result is clamped to [0, 1].
 */
export function colorJitter(img: Float32Array, shape: readonly [number, number, number], draw: JitterDraw): Float32Array {
  const [c, h, w] = shape;
  const plane = h * w;
  for (const { op, factor: f } of draw) {
    if (op === 'brightness') {
      for (let i = 0; i < img.length; i++) img[i] = clamp01(f * img[i]!);
    } else if (op === 'contrast') {
      const g = grey(img, c, plane);
      let sum = 0;
      for (let p = 0; p < plane; p++) sum += g[p]!;
      const mean = Math.fround(sum / plane);
      for (let i = 0; i < img.length; i++) img[i] = clamp01(f * img[i]! + (1 - f) * mean);
    } else if (c === 3) {
      const g = grey(img, c, plane);
      for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) img[ch * plane + p] = clamp01(f * img[ch * plane + p]! + (1 - f) * g[p]!);
    }
  }
  return img;
}

/** torchvision's `rgb_to_grayscale` (float32), or the image itself when it has one channel. */
function grey(img: Float32Array, c: number, plane: number): Float32Array {
  if (c !== 3) return img.subarray(0, plane);
  const g = new Float32Array(plane);
  for (let p = 0; p < plane; p++) g[p] = 0.2989 * img[p]! + 0.587 * img[plane + p]! + 0.114 * img[2 * plane + p]!;
  return g;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
