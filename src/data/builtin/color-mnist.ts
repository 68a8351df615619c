/**
 * ColorMNIST (Rieger et al., ICML 2020, "Interpretations are useful: penalizing explanations to align neural networks
 * with prior knowledge" (CDEP); their code: laura-rieger/deep-explanation-penalization `code/ColorMNIST/`): the digit
 * itself is coloured, on black. In training class y gets colour y; at test it gets colour 9 − y, so a model that
 * reads the colour is wrong on every test image. The ten colours run from red to purple in even HSL steps (their
 * `Color("red").range_to(Color("purple"), 10)`). The shortcut sits on the object, where a map cannot move away from it.
 */

/** HSL (each in [0, 1]) → RGB in [0, 1], the standard conversion. */
function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  if (s === 0) return [l, l, l];
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t: number): number => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    if (6 * u < 1) return p + (q - p) * 6 * u;
    if (2 * u < 1) return q;
    if (3 * u < 2) return p + (q - p) * (2 / 3 - u) * 6;
    return p;
  };
  return [channel(h + 1 / 3), channel(h), channel(h - 1 / 3)];
}

// Red is hsl(0, 1, 0.5); CSS purple is #800080, hsl(300°, 1, 128/255 / 2).
const RED_HSL = [0, 1, 0.5] as const;
const PURPLE_HSL = [300 / 360, 1, 128 / 255 / 2] as const;

/** The ten digit colours, RGB in [0, 1], by class: red to purple in nine equal HSL steps. */
export const DIGIT_COLOURS: readonly (readonly [number, number, number])[] = Array.from({ length: 10 }, (_, k) =>
  hslToRgb(...([0, 1, 2].map((i) => RED_HSL[i]! + ((PURPLE_HSL[i]! - RED_HSL[i]!) * k) / 9) as [number, number, number])));

/** The colour ColorMNIST gives an image of class `label`: its own in training, the mirrored one (9 − y) at test. */
export function digitColour(label: number, split: 'train' | 'test'): number {
  return split === 'train' ? label : 9 - label;
}

/**
 * Paints grey digits (n×H×W, uint8) into n×3×H×W RGB: pixel × `DIGIT_COLOURS[colours[i]]`, rounded to the nearest
 * integer (CDEP keeps the float products; the rounding moves a pixel by at most 0.5 of 255).
 */
export function paintDigits(images: Uint8Array, colours: Uint8Array, rows = 28, cols = 28): Uint8Array {
  const size = rows * cols;
  const n = colours.length;
  if (images.length !== n * size) throw new RangeError(`paintDigits: expected ${n}×${rows}×${cols} pixels, found ${images.length}`);
  const out = new Uint8Array(n * 3 * size);
  for (let i = 0; i < n; i++) {
    const colour = DIGIT_COLOURS[colours[i]!]!;
    for (let ch = 0; ch < 3; ch++) {
      const base = (i * 3 + ch) * size;
      for (let p = 0; p < size; p++) out[base + p] = Math.round(images[i * size + p]! * colour[ch]!);
    }
  }
  return out;
}
