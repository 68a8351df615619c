import type { RasterImage } from './png.js';

/** Values a map may come in: plain arrays from JSON or typed arrays from tensors. */
export type Values = ArrayLike<number>;

function clamp01(v: number): number {
  // NaN maps to 0 so that a broken map shows as "no attention" instead of poisoning a whole figure.
  return v > 0 ? (v < 1 ? v : 1) : 0;
}

/**
 * Jet colour of t ∈ [0,1] as 8-bit RGB: dark blue (0,0,128) at 0 → cyan → yellow → dark red (128,0,0) at 1.
 * The piecewise-linear form of MATLAB's jet, the colormap Grad-CAM figures conventionally use.
 */
export function jet(t: number): [number, number, number] {
  const x = clamp01(t);
  const ch = (centre: number): number => Math.round(255 * clamp01(1.5 - Math.abs(4 * x - centre)));
  return [ch(3), ch(2), ch(1)];
}

/** A map in [0,1] coloured by {@link jet}, as RGB bytes (3 per value). */
export function colourise(map: Values): Uint8Array {
  const out = new Uint8Array(map.length * 3);
  for (let i = 0; i < map.length; i++) out.set(jet(map[i]!), i * 3);
  return out;
}

/**
 * Blends an image (in [0,1]) with the jet colours of a CAM (in [0,1]): out = (1−α)·255·image + α·jet(cam), per
 * channel, rounded and clamped to 0…255. α = 0 gives the image, α = 1 the coloured CAM alone. The image is grey
 * (one value per CAM pixel) or colour: three planes R, G, B (C×H×W, as the models take it).
 */
export function overlay(image: Values, cam: Values, alpha = 0.5): Uint8Array {
  const n = cam.length;
  if (image.length !== n && image.length !== 3 * n) throw new Error(`overlay: image has ${image.length} pixels, CAM has ${n} (a colour image has three planes of ${n})`);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`overlay: alpha ${alpha} is outside [0, 1]`);
  const colour = image.length === 3 * n;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = jet(cam[i]!);
    for (let k = 0; k < 3; k++) {
      const g = 255 * clamp01(image[colour ? k * n + i : i]!);
      out[i * 3 + k] = Math.round((1 - alpha) * g + alpha * c[k]!);
    }
  }
  return out;
}

/** An image from values in [0,1] (clamped), as an 8-bit raster: grey (H·W values) or colour (R, G, B planes, 3·H·W). */
export function greyRaster(values: Values, width: number, height: number): RasterImage {
  const n = width * height;
  if (values.length !== n && values.length !== 3 * n) throw new Error(`greyRaster: ${values.length} values for ${width}×${height}`);
  if (values.length === 3 * n) {
    const data = new Uint8Array(3 * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) data[i * 3 + k] = Math.round(255 * clamp01(values[k * n + i]!));
    return { width, height, channels: 3, data };
  }
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.round(255 * clamp01(values[i]!));
  return { width, height, channels: 1, data };
}

/** A map in [0,1] coloured by {@link jet}, as an RGB raster. */
export function camRaster(map: Values, width: number, height: number): RasterImage {
  if (map.length !== width * height) throw new Error(`camRaster: ${map.length} values for ${width}×${height}`);
  return { width, height, channels: 3, data: colourise(map) };
}

/** {@link overlay} as an RGB raster. */
export function overlayRaster(grey: Values, cam: Values, width: number, height: number, alpha = 0.5): RasterImage {
  if (grey.length !== width * height && grey.length !== 3 * width * height) throw new Error(`overlayRaster: ${grey.length} values for ${width}×${height}`);
  return { width, height, channels: 3, data: overlay(grey, cam, alpha) };
}

/** A horizontal colour bar of the jet colormap from 0 (left) to 1 (right), for figure legends. */
export function colorbar(width: number, height: number): RasterImage {
  const row = colourise(Array.from({ length: width }, (_, x) => (width === 1 ? 0 : x / (width - 1))));
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) data.set(row, y * width * 3);
  return { width, height, channels: 3, data };
}
