import { noGrad, scope, type Tensor } from '../torch/index.js';

/** The "wrong reason" score of a set of attributions against the masks of a known shortcut. */
export interface WrongReason {
  /** Mean over the attributable images of the share of shortcut pixels that are on; 0 = the shortcut is never used. */
  score: number;
  /** The binarisation threshold: the mean normalised attribution over the attributable images and pixels. */
  threshold: number;
  /** Images scored. */
  n: number;
  /** Images left out because their attribution is zero everywhere (nothing to normalise). */
  zeroMaps: number;
}

/** What the per-image normalisation adds to the max (the XIL typology's `norm_saliencies_fast`). */
const NORM_EPS = 1e-6;

/**
 * The wrong-reason (WR) metric of the XIL typology (Friedrich et al. 2023, "A typology for exploring the mitigation of
 * shortcut behaviour"): each attribution is made positive (negatives set to 0) and min-max normalised per image,
 * (a − min)/(max + 1e-6); images whose normalised attribution is zero everywhere are left out; the threshold is the
 * mean normalised attribution over the remaining images and pixels; a pixel is on when above it (and off when below;
 * a pixel exactly at the threshold keeps its value, as in the reference code); the image's score is the share of the
 * shortcut mask's pixels that are on, and WR is the mean score. `attributions` N×H×W (any sign), `masks` N×H×W
 * (1 on the shortcut, 0 elsewhere; every mask non-empty).
 */
export function wrongReason(attributions: Tensor, masks: Tensor): WrongReason {
  if (attributions.ndim !== 3 || attributions.shape.join(',') !== masks.shape.join(',')) {
    throw new RangeError(`wrongReason: expected N×H×W attributions and masks of one shape, got [${attributions.shape}] and [${masks.shape}]`);
  }
  const n = attributions.shape[0]!;
  return noGrad(() => scope(() => {
    const flat = attributions.reshape([n, -1]).to('float64').relu();
    const shifted = flat.sub(flat.amin([1], true));
    const normed = shifted.div(flat.amax([1], true).add(NORM_EPS));
    const keepRows = normed.sum([1]).ne(0);
    const kept = keepRows.sum().item();
    if (kept === 0) return { score: NaN, threshold: NaN, n: 0, zeroMaps: n };
    const w = keepRows.to('float64');
    const threshold = normed.mean([1]).mul(w).sum().item() / kept;
    const on = normed.gt(threshold).to('float64').add(normed.eq(threshold).to('float64').mul(normed));
    const m = masks.reshape([n, -1]).to('float64');
    const perImage = on.mul(m).sum([1]).div(m.sum([1]).clamp(1));
    return { score: perImage.mul(w).sum().item() / kept, threshold, n: kept, zeroMaps: n - kept };
  }));
}
