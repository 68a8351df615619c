import { conv2d, fromArray, keep, scope, stack, type DType, type Tensor } from '../torch/index.js';

/**
 * SSIM settings. The defaults are Wang et al. 2004 as docs/method.md §2 fixes them and as scikit-image applies them with
 * `gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1`.
 */
export interface SsimOptions {
  /** Standard deviation of the Gaussian window (default 1.5). */
  sigma?: number;
  /** The window's radius is floor(truncate·σ + 0.5) (default 3.5: skimage's choice, giving 11 taps for σ = 1.5). */
  truncate?: number;
  /** C1 = (k1·L)² (default 0.01). */
  k1?: number;
  /** C2 = (k2·L)² (default 0.03). */
  k2?: number;
  /** L, the value range of the maps (default 1). */
  dataRange?: number;
}

/**
 * The normalised 1-D Gaussian taps exp(−x²/2σ²)/Σ for x = −r…r, r = floor(truncate·σ + 0.5) — scipy.ndimage's
 * `_gaussian_kernel1d`, which skimage's `gaussian` uses. σ = 1.5, truncate = 3.5 → r = 5, 11 taps.
 */
export function gaussianTaps(sigma = 1.5, truncate = 3.5): number[] {
  if (!(sigma > 0)) throw new RangeError(`ssim: sigma must be positive, got ${sigma}`);
  const r = Math.floor(truncate * sigma + 0.5);
  const taps: number[] = [];
  for (let x = -r; x <= r; x++) taps.push(Math.exp((-0.5 * x * x) / (sigma * sigma)));
  const s = taps.reduce((p, q) => p + q, 0);
  return taps.map((t) => t / s);
}

// Row and column kernels per (dtype, device, σ, truncate): built once and kept, so a training step does not copy
// the window to the device every time.
const windows = new Map<string, [Tensor, Tensor]>();

function window(dtype: DType, device: string, sigma: number, truncate: number): [Tensor, Tensor] {
  const key = `${dtype}|${device}|${sigma}|${truncate}`;
  let w = windows.get(key);
  if (!w) {
    const taps = Float64Array.from(gaussianTaps(sigma, truncate));
    const k = taps.length;
    w = [keep(fromArray(taps, [1, 1, 1, k], { dtype, device })), keep(fromArray(taps, [1, 1, k, 1], { dtype, device }))];
    windows.set(key, w);
  }
  return w;
}

function checkPair(a: Tensor, b: Tensor, what: string): void {
  if (a.ndim !== 3 || a.shape.join(',') !== b.shape.join(',')) {
    throw new RangeError(`${what}: expected two B×H×W maps of the same shape, got [${a.shape}] and [${b.shape}]`);
  }
}

/**
 * The SSIM index map of each pair of B×H×W maps over the valid window positions: B×(H−2r)×(W−2r), r = 5 by default.
 *
 * How it matches scikit-image exactly: skimage filters the full image with `ndimage.gaussian_filter(mode='reflect',
 * truncate=3.5)` and then crops `pad = (win_size − 1) // 2 = r` pixels from every border before averaging. The kept
 * pixels are precisely those whose window lies inside the image, so the reflected border never reaches the result
 * and a valid (unpadded) separable convolution gives the same numbers. The five local statistics (μa, μb, E[a²],
 * E[b²], E[ab]) come from one stacked pass; variances are population ones (E[x²] − μ², skimage's cov_norm = 1).
 */
export function ssimMap(a: Tensor, b: Tensor, o: SsimOptions = {}): Tensor {
  checkPair(a, b, 'ssim');
  const sigma = o.sigma ?? 1.5;
  const truncate = o.truncate ?? 3.5;
  const L = o.dataRange ?? 1;
  const c1 = ((o.k1 ?? 0.01) * L) ** 2;
  const c2 = ((o.k2 ?? 0.03) * L) ** 2;
  const [B, H, W] = a.shape as [number, number, number];
  const k = gaussianTaps(sigma, truncate).length;
  if (H < k || W < k) throw new RangeError(`ssim: maps of ${H}×${W} are smaller than the ${k}×${k} window`);
  return scope(() => {
    const [x, y] = promote(a, b);
    const [row, col] = window(x.dtype, x.device, sigma, truncate);
    // One single-channel image per (sample, statistic), so a 1-channel kernel filters all five at once.
    const stats = stack([x, y, x.mul(x), y.mul(y), x.mul(y)], 1).reshape([B * 5, 1, H, W]);
    const f = conv2d(conv2d(stats, row), col).reshape([B, 5, H - k + 1, W - k + 1]);
    const [mx, my, mxx, myy, mxy] = [0, 1, 2, 3, 4].map((i) => f.select(1, i)) as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const mxmy = mx.mul(my);
    const vx = mxx.sub(mx.mul(mx));
    const vy = myy.sub(my.mul(my));
    const vxy = mxy.sub(mxmy);
    const num = mxmy.mul(2).add(c1).mul(vxy.mul(2).add(c2));
    const den = mx.mul(mx).add(my.mul(my)).add(c1).mul(vx.add(vy).add(c2));
    return num.div(den);
  });
}

/** Per-sample mean SSIM of two B×H×W maps (a B-vector), equal to skimage's `structural_similarity` per pair. */
export function ssim(a: Tensor, b: Tensor, o: SsimOptions = {}): Tensor {
  return scope(() => ssimMap(a, b, o).mean([1, 2]));
}

/** Both operands in one floating dtype (float64 if either is), so mixed CAM/prototype dtypes work. */
export function promote(a: Tensor, b: Tensor): [Tensor, Tensor] {
  if (a.dtype === b.dtype && (a.dtype === 'float32' || a.dtype === 'float64')) return [a, b];
  const d: DType = a.dtype === 'float64' || b.dtype === 'float64' ? 'float64' : 'float32';
  return [a.dtype === d ? a : a.to(d), b.dtype === d ? b : b.to(d)];
}
