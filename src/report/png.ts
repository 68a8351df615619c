import sharp from 'sharp';

/** An 8-bit raster: `channels` interleaved samples per pixel, rows top to bottom. */
export interface RasterImage {
  readonly width: number;
  readonly height: number;
  /** 1 = grey, 3 = RGB. */
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

/** Checks that `data` has exactly width·height·channels samples. */
export function checkRaster(img: RasterImage): void {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`image size ${width}×${height}: width and height must be positive integers`);
  }
  if (channels !== 1 && channels !== 3) throw new Error(`image channels ${channels}: expected 1 (grey) or 3 (RGB)`);
  if (data.length !== width * height * channels) {
    throw new Error(`image data has ${data.length} bytes, expected ${width}×${height}×${channels} = ${width * height * channels}`);
  }
}

/** Encodes an 8-bit grey or RGB image as a PNG through sharp (libvips / libpng), grey staying one channel. */
export async function encodePng(img: RasterImage): Promise<Buffer> {
  checkRaster(img);
  const { width, height, channels, data } = img;
  return sharp(data, { raw: { width, height, channels } })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb')
    .png({ compressionLevel: 9, adaptiveFiltering: true })
    .toBuffer();
}

// A placeholder carries its raster (size, channels, base64 samples), so building HTML stays a pure, synchronous
// function of the data and only the final inlining pass encodes (sharp is asynchronous).
const PLACEHOLDER = /batchcam-raster:(\d+):(\d+):([13]):([A-Za-z0-9+/]*={0,2})/g;

/**
 * The `src` of an image in an HTML page under construction: a placeholder that {@link inlinePngs} replaces by the
 * PNG's `data:` URI. Every page the report writes goes through inlinePngs.
 */
export function pngSrc(img: RasterImage): string {
  checkRaster(img);
  return `batchcam-raster:${img.width}:${img.height}:${img.channels}:${Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).toString('base64')}`;
}

/** Replaces every {@link pngSrc} placeholder in `html` by its PNG as a `data:image/png;base64,` URI (identical rasters encoded once). */
export async function inlinePngs(html: string): Promise<string> {
  const uris = new Map<string, Promise<string>>();
  for (const m of html.matchAll(PLACEHOLDER)) {
    if (uris.has(m[0])) continue;
    const [, w, h, c, b64] = m as unknown as [string, string, string, string, string];
    const data = new Uint8Array(Buffer.from(b64, 'base64'));
    uris.set(m[0], encodePng({ width: Number(w), height: Number(h), channels: Number(c) as 1 | 3, data })
      .then((png) => `data:image/png;base64,${png.toString('base64')}`));
  }
  const done = new Map<string, string>();
  for (const [k, p] of uris) done.set(k, await p);
  return html.replace(PLACEHOLDER, (m) => done.get(m)!);
}
