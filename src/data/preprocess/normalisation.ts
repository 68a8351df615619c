/**
 * Mean and standard deviation of pixel values (after scaling to [0, 1]), one entry per colour channel — or a single
 * entry that every channel shares (checkpoints written before per-channel statistics record one value).
 */
export interface Normalisation {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** `--normalize`: what the inputs are standardised with. */
export const NORMALIZE_MODES = ['none', 'dataset', 'imagenet'] as const;
export type NormalizeMode = (typeof NORMALIZE_MODES)[number];

/** torchvision's ImageNet statistics (`weights.transforms()`), for RGB inputs. */
export const IMAGENET_NORMALISATION: Normalisation = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/**
 * ImageNet's statistics for `channels` input channels: the RGB ones, or for one channel their averages — the grey
 * image a summed RGB stem (timm's `adapt_input_conv`) sees stands for three equal channels.
 */
export function imagenetNormalisation(channels: number): Normalisation {
  if (channels === 3) return IMAGENET_NORMALISATION;
  const avg = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  return { mean: [avg(IMAGENET_NORMALISATION.mean)], std: [avg(IMAGENET_NORMALISATION.std)] };
}

/** The normalisation a mode asks for: null for `none`, the training split's statistics for `dataset`. */
export function normalisationFor(mode: NormalizeMode, trainStats: Normalisation | undefined, channels: number): Normalisation | undefined {
  if (mode === 'none') return undefined;
  if (mode === 'imagenet') return imagenetNormalisation(channels);
  if (!trainStats) throw new Error('normalisationFor: the dataset mode needs the training statistics');
  return trainStats;
}

/** A recorded normalisation: per-channel lists, or the single numbers older checkpoints hold. */
export function normalisationFromRecord(r: { mean: number | readonly number[]; std: number | readonly number[] } | null | undefined): Normalisation | null {
  if (!r) return null;
  const list = (v: number | readonly number[]): number[] => (typeof v === 'number' ? [v] : [...v]);
  return { mean: list(r.mean), std: list(r.std) };
}

/** Scales uint8 pixels to float32 in [0, 1]. */
export function toUnitFloat(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  // A lookup table keeps the exact float32 value of k/255 for every byte, and is faster than dividing.
  const table = new Float32Array(256);
  for (let k = 0; k < 256; k++) table[k] = k / 255;
  for (let i = 0; i < pixels.length; i++) out[i] = table[pixels[i]!]!;
  return out;
}

/**
 * The 256-bin histogram of each channel of uint8 images laid out n×C×(plane), concatenated (C×256 counts). Counted
 * exactly, so statistics from histograms carry no float accumulation error over 47M values.
 */
export function channelHistograms(pixels: Uint8Array, channels: number, plane: number): Float64Array {
  const hist = new Float64Array(channels * 256);
  const image = channels * plane;
  for (let s = 0; s < pixels.length; s += image) {
    for (let c = 0; c < channels; c++) {
      const base = c * 256;
      const end = s + (c + 1) * plane;
      for (let i = s + c * plane; i < end; i++) hist[base + pixels[i]!]!++;
    }
  }
  return hist;
}

/** Per-channel mean and population standard deviation, in [0, 1] units, of uint8 images n×C×(plane). */
export function pixelStats(pixels: Uint8Array, channels = 1, plane = pixels.length): Normalisation {
  return statsFromHistogram(channelHistograms(pixels, channels, channels === 1 ? pixels.length : plane));
}

/** Mean and population standard deviation, in [0, 1] units, of each channel's 256-bin histogram (C×256 counts). */
export function statsFromHistogram(hist: Float64Array): Normalisation {
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < hist.length / 256; c++) {
    const h = hist.subarray(c * 256, (c + 1) * 256);
    let total = 0;
    for (let k = 0; k < 256; k++) total += h[k]!;
    let sum = 0;
    for (let k = 0; k < 256; k++) sum += h[k]! * (k / 255);
    const m = sum / total;
    let sq = 0;
    for (let k = 0; k < 256; k++) sq += h[k]! * (k / 255 - m) ** 2;
    mean.push(m);
    std.push(Math.sqrt(sq / total));
  }
  return { mean, std };
}

/**
 * Standardises images n×C×(plane) in place: x ← (x − mean[c]) / std[c] (one entry: every channel alike).
 * Returns `values`.
 */
export function standardiseInPlace(values: Float32Array, { mean, std }: Normalisation, plane = values.length): Float32Array {
  if (std.some((s) => !(s > 0))) throw new RangeError(`standardise: expected positive stds, found ${std.join(', ')}`);
  if (mean.length === 1) return standardiseRange(values, 0, values.length, mean[0]!, 1 / std[0]!);
  const channels = mean.length;
  for (let s = 0; s < values.length; s += channels * plane) {
    for (let c = 0; c < channels; c++) standardiseRange(values, s + c * plane, s + (c + 1) * plane, mean[c]!, 1 / std[c]!);
  }
  return values;
}

function standardiseRange(values: Float32Array, from: number, to: number, mean: number, inv: number): Float32Array {
  for (let i = from; i < to; i++) values[i] = (values[i]! - mean) * inv;
  return values;
}

/** Channel `c`'s mean and std ([0, 1] for none; a single-entry normalisation serves every channel). */
export function channelMoments(normalisation: Normalisation | null | undefined, c: number): [number, number] {
  if (!normalisation) return [0, 1];
  const k = normalisation.mean.length === 1 ? 0 : c;
  return [normalisation.mean[k]!, normalisation.std[k]!];
}

/** The input value of a black pixel in each channel: 0 for [0, 1] inputs, (0 − mean)/std for standardised ones. */
export function blackValues(normalisation: Normalisation | null | undefined, channels: number): number[] {
  return Array.from({ length: channels }, (_, c) => {
    if (!normalisation) return 0;
    const [mean, std] = channelMoments(normalisation, c);
    return -mean / std;
  });
}
