import { inflateSync } from 'node:zlib';
import { crc32, PNG_SIGNATURE } from './png.js';

/** Thrown for a file that is not a PNG this decoder reads; the message says what it is and what is accepted. */
export class PngError extends Error {
  override name = 'PngError';
}

/** A decoded 8-bit PNG: 1 grey, 2 grey+alpha, 3 RGB or 4 RGBA interleaved samples per pixel. */
export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array;
}

const CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 4: 2, 2: 3, 6: 4 };
const COLOUR_NAMES: Record<number, string> = { 0: 'grey', 2: 'RGB', 3: 'palette', 4: 'grey+alpha', 6: 'RGBA' };
const ACCEPTED = 'accepted: 8-bit grey or RGB (alpha allowed), non-interlaced';

/** Largest image accepted; explanations are of 28×28 inputs, so anything bigger than this is a mistake. */
const MAX_PIXELS = 1 << 24;

/**
 * Decodes a non-interlaced 8-bit grey, grey+alpha, RGB or RGBA PNG (all five row filters, any number of IDAT
 * chunks, CRCs checked). Palette, 1/2/4/16-bit and Adam7-interlaced files are rejected with a PngError naming
 * the format found, rather than decoded approximately.
 */
export function decodePng(bytes: Uint8Array): DecodedPng {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new PngError('not a PNG file (bad signature)');
  let pos = 8;
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | null = null;
  const idat: Buffer[] = [];
  let ended = false;
  while (pos < buf.length && !ended) {
    if (pos + 12 > buf.length) throw new PngError('truncated PNG (chunk header past end of file)');
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + len > buf.length) throw new PngError(`truncated PNG (${type} chunk runs past end of file)`);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (crc32(buf.subarray(pos + 4, pos + 8 + len)) !== buf.readUInt32BE(pos + 8 + len)) {
      throw new PngError(`corrupt PNG (CRC mismatch in ${type} chunk)`);
    }
    pos += 12 + len;
    if (type === 'IHDR') {
      if (len !== 13) throw new PngError('corrupt PNG (IHDR is not 13 bytes)');
      header = {
        width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8]!, colour: body[9]!, interlace: body[12]!,
      };
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') ended = true;
    // Ancillary chunks (gAMA, pHYs, tEXt, …) are ignored: they do not change the 8-bit samples.
  }
  if (!header) throw new PngError('corrupt PNG (no IHDR chunk)');
  const { width, height, depth, colour, interlace } = header;
  const channels = CHANNELS[colour];
  const kind = COLOUR_NAMES[colour] ?? `colour type ${colour}`;
  if (!channels) throw new PngError(`${kind} PNG is not supported (${ACCEPTED}); re-save it as grey or RGB`);
  if (depth !== 8) throw new PngError(`${depth}-bit ${kind} PNG is not supported (${ACCEPTED}); re-save it with 8 bits per sample`);
  if (interlace !== 0) throw new PngError(`interlaced PNG is not supported (${ACCEPTED}); re-save it without interlacing`);
  if (width < 1 || height < 1 || width * height > MAX_PIXELS) throw new PngError(`PNG of ${width}×${height} pixels is out of range`);
  if (idat.length === 0) throw new PngError('corrupt PNG (no IDAT chunk)');

  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new PngError(`corrupt PNG (image data does not inflate: ${(e as Error).message})`);
  }
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) throw new PngError(`corrupt PNG (image data is ${raw.length} bytes, expected ${(stride + 1) * height})`);
  const out = new Uint8Array(stride * height);
  const bpp = channels; // bytes per pixel at 8 bits per sample
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i]!;
      const a = i >= bpp ? out[row + i - bpp]! : 0;
      const b = y > 0 ? out[prev + i]! : 0;
      const c = y > 0 && i >= bpp ? out[prev + i - bpp]! : 0;
      let v: number;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: v = x + paeth(a, b, c); break;
        default: throw new PngError(`corrupt PNG (unknown row filter ${filter} in row ${y})`);
      }
      out[row + i] = v & 0xff;
    }
  }
  return { width, height, channels, data: out };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Grey levels in [0,1] of a decoded PNG: RGB by ITU-R BT.601 luma (what most tools call "greyscale"), alpha
 * composited over black, since MNIST-style digits are light strokes on a black background.
 */
export function toGrey(img: DecodedPng): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  const ch = img.channels;
  for (let i = 0; i < n; i++) {
    const o = i * ch;
    const lum = ch >= 3 ? 0.299 * d[o]! + 0.587 * d[o + 1]! + 0.114 * d[o + 2]! : d[o]!;
    const alpha = ch === 2 || ch === 4 ? d[o + ch - 1]! / 255 : 1;
    out[i] = (lum / 255) * alpha;
  }
  return out;
}

/** Nearest-neighbour resize of a single-channel image (pixel centres mapped, as most image libraries do). */
export function resizeNearest(src: Float32Array, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  if (src.length !== width * height) throw new Error(`resizeNearest: ${src.length} values for ${width}×${height}`);
  const out = new Float32Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outHeight));
    for (let x = 0; x < outWidth; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outWidth));
      out[y * outWidth + x] = src[sy * width + sx]!;
    }
  }
  return out;
}
