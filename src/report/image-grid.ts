import { checkRaster, type RasterImage } from './png.js';

/** An image as RGB (grey replicated to three channels), so images of both kinds can share one canvas. */
export function toRgb(img: RasterImage): RasterImage {
  checkRaster(img);
  if (img.channels === 3) return img;
  const data = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) data.fill(img.data[i]!, i * 3, i * 3 + 3);
  return { width: img.width, height: img.height, channels: 3, data };
}

/** Nearest-neighbour upscaling by an integer factor: each pixel becomes a factor×factor block (no blurring). */
export function upscale(img: RasterImage, factor: number): RasterImage {
  checkRaster(img);
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`upscale: factor ${factor} must be a positive integer`);
  if (factor === 1) return img;
  const { width, height, channels, data } = img;
  const W = width * factor;
  const out = new Uint8Array(W * height * factor * channels);
  for (let y = 0; y < height * factor; y++) {
    const sy = Math.floor(y / factor);
    for (let x = 0; x < W; x++) {
      const s = (sy * width + Math.floor(x / factor)) * channels;
      out.set(data.subarray(s, s + channels), (y * W + x) * channels);
    }
  }
  return { width: W, height: height * factor, channels, data: out };
}

/** Layout of {@link tileImages}. */
export interface GridOptions {
  /** Images per row; default: all in one row. */
  columns?: number;
  /** Nearest-neighbour upscaling of every tile; default 4 (28 px → 112 px). */
  scale?: number;
  /** Pixels between tiles and around the edge; default 2. */
  spacing?: number;
  /** Background (spacing) colour as RGB; default white. */
  background?: readonly [number, number, number];
}

/**
 * Tiles images row-major onto one RGB canvas, upscaled by `scale` and separated by `spacing`. Tiles may differ
 * in size: every cell is as large as the largest tile, each tile placed at its cell's top-left corner.
 */
export function tileImages(images: readonly RasterImage[], o: GridOptions = {}): RasterImage {
  if (images.length === 0) throw new Error('tileImages: no images');
  const scale = o.scale ?? 4;
  const spacing = o.spacing ?? 2;
  const columns = Math.max(1, Math.min(o.columns ?? images.length, images.length));
  const rows = Math.ceil(images.length / columns);
  const tiles = images.map((im) => toRgb(upscale(im, scale)));
  const cw = Math.max(...tiles.map((t) => t.width));
  const chh = Math.max(...tiles.map((t) => t.height));
  const W = columns * cw + (columns + 1) * spacing;
  const H = rows * chh + (rows + 1) * spacing;
  const data = new Uint8Array(W * H * 3);
  const bg = o.background ?? [255, 255, 255];
  for (let i = 0; i < W * H; i++) data.set(bg, i * 3);
  tiles.forEach((t, k) => {
    const x0 = spacing + (k % columns) * (cw + spacing);
    const y0 = spacing + Math.floor(k / columns) * (chh + spacing);
    for (let y = 0; y < t.height; y++) {
      data.set(t.data.subarray(y * t.width * 3, (y + 1) * t.width * 3), ((y0 + y) * W + x0) * 3);
    }
  });
  return { width: W, height: H, channels: 3, data };
}
