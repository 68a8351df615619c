import { scope, type Tensor } from '../torch/index.js';

/** Below this a map's max is not divided by: an all-zero map stays zero rather than 0/0. */
const MAX_EPS = 1e-12;

/**
 * Each of the N×… `maps` scaled to [0,1] by its own max over its trailing dimensions (non-negative maps: class-mean
 * images, the image prototypes and the reconstruction reference of docs/method.md §3 and §7).
 */
export function scaleByMax(maps: Tensor): Tensor {
  return scope(() => {
    const trailing = Array.from({ length: maps.ndim - 1 }, (_, i) => i + 1);
    return maps.div(maps.amax(trailing, true).clamp(MAX_EPS));
  });
}
