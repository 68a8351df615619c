import sharp from 'sharp';
import { DataError } from '../errors.js';

/** File extensions read as images (case-insensitive): PNG, JPEG, WebP. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;

/** What an image file's header says. */
export interface ImageProbe {
  readonly width: number;
  readonly height: number;
  /** Colour channels, alpha not counted: 1 (grey) or 3. */
  readonly channels: 1 | 3;
}

/** The size an image is decoded to: channels, height, width. */
export type ImageShape = readonly [number, number, number];

const problem = (path: string, e: unknown): DataError =>
  new DataError(`${path}: cannot decode this image (${(e as Error).message.replace(/\s+/g, ' ').trim()}); the file is corrupt, truncated or not a ` +
    'PNG, JPEG or WebP image — replace it or remove it from the folder', { cause: e });

/** Reads an image's header (size, colour) without decoding the pixels. */
export async function probeImage(path: string): Promise<ImageProbe> {
  try {
    const m = await sharp(path).metadata();
    if (!m.width || !m.height) throw new Error('no size in the header');
    const colour = (m.channels ?? 1) - (m.hasAlpha ? 1 : 0);
    return { width: m.width, height: m.height, channels: colour >= 3 ? 3 : 1 };
  } catch (e) {
    throw problem(path, e);
  }
}

/** An encoded image held in memory (PNG, JPEG or WebP bytes), decoded only when it has at most `limitInputPixels` pixels. */
export interface EncodedImage {
  readonly bytes: Uint8Array;
  readonly limitInputPixels?: number;
}

/**
 * Decodes `input` (a file path, encoded bytes, or raw uint8 pixels with their layout) to uint8 C×H×W: alpha dropped, grey
 * or sRGB as `shape` asks, resized with sharp's Lanczos-3 filter when its size differs. An image already of the
 * requested size and colour is passed through unchanged (bit for bit).
 */
export async function decodeImage(
  input: string | EncodedImage | { readonly pixels: Uint8Array; readonly width: number; readonly height: number; readonly channels: 1 | 3 },
  shape: ImageShape,
  name = typeof input === 'string' ? input : 'image',
): Promise<Uint8Array> {
  const [c, h, w] = shape;
  try {
    const raw = typeof input !== 'string' && 'pixels' in input ? input : null;
    let img = typeof input === 'string'
      ? sharp(input, { failOn: 'warning' })
      : !raw ? sharp((input as EncodedImage).bytes, { failOn: 'warning', limitInputPixels: (input as EncodedImage).limitInputPixels ?? 0x3fff * 0x3fff })
        : sharp(raw.pixels, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
    const meta = raw ? { width: raw.width, height: raw.height, channels: raw.channels, hasAlpha: false } : await img.metadata();
    const inColour = (meta.channels ?? 1) - (meta.hasAlpha ? 1 : 0) >= 3;
    if (meta.hasAlpha) img = img.removeAlpha();
    if (meta.width !== w || meta.height !== h) img = img.resize(w, h, { fit: 'fill', kernel: 'lanczos3' });
    // Grey from colour: an image whose three channels agree (a grey image saved as RGB) keeps its values exactly;
    // any other is converted by sharp's greyscale.
    const grey = c === 1 && inColour ? await sameChannels(img.clone()) : null;
    img = c === 1 ? (grey ? img.extractChannel(0) : inColour ? img.greyscale() : img.extractChannel(0)) : img.toColourspace('srgb');
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== c || info.width !== w || info.height !== h) {
      throw new Error(`decoded to ${info.channels}×${info.height}×${info.width}, expected ${c}×${h}×${w}`);
    }
    if (c === 1) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // sharp gives H×W×C interleaved; the models take C×H×W planes.
    const out = new Uint8Array(c * h * w);
    const hw = h * w;
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[k * hw + p] = data[p * c + k]!;
    return out;
  } catch (e) {
    throw e instanceof DataError ? e : problem(name, e);
  }
}

/** True when every pixel of the (colour) image has R = G = B. */
async function sameChannels(img: sharp.Sharp): Promise<boolean> {
  const { data, info } = await img.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  for (let i = 0; i < data.length; i += info.channels) if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) return false;
  return true;
}

/** Runs `fn` over `items` with at most `limit` in flight (sharp decodes on libuv's worker threads), in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: unknown = null;
  const worker = async (): Promise<void> => {
    while (next < items.length && failed === null) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== null) throw failed;
  return out;
}
