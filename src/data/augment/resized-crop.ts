/** A crop of an image: its top-left corner (row `top`, column `left`) and its size, in pixels. */
export interface CropBox {
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
}

/**
 * The `box` of one image C×H×W (float32, row-major) resized to C×outH×outW by bilinear interpolation with half-pixel
 * centres and no antialiasing — torchvision's `resized_crop` on a tensor (`F.interpolate(..., mode='bilinear',
 * align_corners=False)`) — and mirrored left–right when `flip` is set (`hflip` after it). A box of the image's own
 * size at the same output size is a copy.
 */
export function resizedCrop(src: Float32Array, shape: readonly [number, number, number], box: CropBox,
  outH: number, outW: number, flip = false): Float32Array {
  const [c, h, w] = shape;
  if (box.top < 0 || box.left < 0 || box.height < 1 || box.width < 1 || box.top + box.height > h || box.left + box.width > w) {
    throw new RangeError(`resizedCrop: box ${JSON.stringify(box)} does not lie inside a ${h}×${w} image`);
  }
  const out = new Float32Array(c * outH * outW);
  const ys = sourceIndices(box.height, outH);
  const xs = sourceIndices(box.width, outW);
  for (let ch = 0; ch < c; ch++) {
    const plane = ch * h * w;
    const dst = ch * outH * outW;
    for (let y = 0; y < outH; y++) {
      const r0 = plane + (box.top + ys.i0[y]!) * w + box.left;
      const r1 = plane + (box.top + ys.i1[y]!) * w + box.left;
      const ly1 = ys.l1[y]!;
      const ly0 = ys.l0[y]!;
      for (let x = 0; x < outW; x++) {
        const x0 = xs.i0[x]!;
        const x1 = xs.i1[x]!;
        const v = ly0 * (xs.l0[x]! * src[r0 + x0]! + xs.l1[x]! * src[r0 + x1]!) + ly1 * (xs.l0[x]! * src[r1 + x0]! + xs.l1[x]! * src[r1 + x1]!);
        out[dst + y * outW + (flip ? outW - 1 - x : x)] = v;
      }
    }
  }
  return out;
}

/** For each output index, the two input indices and their weights (PyTorch's `area_pixel_compute_source_index`). */
function sourceIndices(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; l0: Float64Array; l1: Float64Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l0 = new Float64Array(outSize);
  const l1 = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    const real = Math.max(scale * (d + 0.5) - 0.5, 0);
    const i = Math.min(Math.floor(real), inSize - 1);
    const lambda = Math.min(Math.max(real - i, 0), 1);
    i0[d] = i;
    i1[d] = Math.min(i + 1, inSize - 1);
    l1[d] = lambda;
    l0[d] = 1 - lambda;
  }
  return { i0, i1, l0, l1 };
}

/** The centred box covering `fraction` of each side of an H×W image (torchvision's `CenterCrop` rounding). */
export function centreBox(h: number, w: number, fraction: number): CropBox {
  const height = Math.max(1, Math.min(h, Math.round(h * fraction)));
  const width = Math.max(1, Math.min(w, Math.round(w * fraction)));
  return { top: roundHalfEven((h - height) / 2), left: roundHalfEven((w - width) / 2), height, width };
}

/** Python's round(): halves to the even neighbour. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
