import { fromArray, keep, noGrad, scope, stack, type DType, type Tensor } from '../torch/index.js';

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

// The separable Gaussian filter as two band matrices per (dtype, device, σ, truncate, H, W): valid filtering along W
// is a product with a W×(W−k+1) matrix Gw (Gw[j+t, j] = tap t) and along H with an (H−k+1)×H matrix Gh. As
// matrix products both directions and their backward passes are small GEMMs, several times faster than the
// single-channel 1×k / k×1 convolutions (whose backward oneDNN does not cover), with the same sums. Built once, kept.
const windows = new Map<string, [Tensor, Tensor]>();

function bandMatrix(taps: readonly number[], n: number): Float64Array {
  const k = taps.length;
  const m = n - k + 1;
  const a = new Float64Array(n * m); // n×m, row-major
  for (let j = 0; j < m; j++) for (let t = 0; t < k; t++) a[(j + t) * m + j] = taps[t]!;
  return a;
}

function window(dtype: DType, device: string, sigma: number, truncate: number, h: number, w: number): [Tensor, Tensor] {
  const key = `${dtype}|${device}|${sigma}|${truncate}|${h}|${w}`;
  let win = windows.get(key);
  if (!win) {
    const taps = gaussianTaps(sigma, truncate);
    const k = taps.length;
    const gw = keep(fromArray(bandMatrix(taps, w), [w, w - k + 1], { dtype, device })); // W×W'
    const gh = scope(() => keep(fromArray(bandMatrix(taps, h), [h, h - k + 1], { dtype, device }).transpose(0, 1).contiguous())); // H'×H
    win = [gw, gh];
    windows.set(key, win);
  }
  return win;
}

/** Throws unless `a` and `b` are B×H×W maps of one shape, naming `what` compares them. */
export function checkPair(a: Tensor, b: Tensor, what: string): void {
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
 * and a valid (unpadded) separable filter gives the same numbers. The five local statistics (μa, μb, E[a²],
 * E[b²], E[ab]) come from one stacked pass; variances are population ones (E[x²] − μ², skimage's cov_norm = 1).
 */
export function ssimMap(a: Tensor, b: Tensor, o: SsimOptions = {}): Tensor {
  checkPair(a, b, 'ssim');
  return ssimMaps(a, [b], o)[0]!;
}

/**
 * `ssimMap(a, b_k)` for several targets b_1…b_K of one map batch a, in one filtering pass: a's statistics (μa, E[a²])
 * are filtered once for all K, and the statistics of a target outside autograd (a prototype, a detached class
 * mean) are filtered without a graph, so the backward pass filters only what has a gradient (μa, E[a²], E[a·b_k],
 * and the μb, E[b²] of a target that requires grad). The same numbers as K separate calls.
 */
export function ssimMaps(a: Tensor, bs: readonly Tensor[], o: SsimOptions = {}): Tensor[] {
  return ssimMapsSharing(a, bs, o).maps;
}

/**
 * The filtered statistics of the compared maps a alone — μa, E[a²] and μa² in the dtype a is compared in, inside
 * autograd — which every SSIM of a against a target shares.
 */
export interface SsimOwnStatistics {
  mx: Tensor;
  mxx: Tensor;
  mx2: Tensor;
}

/**
 * `ssimMaps(a, bs, o)`, also returning a's own filtered statistics; given `own` (returned by an earlier call on the
 * same a, settings and compute dtype: see `promotedDtype`), it reuses them and filters only what involves the
 * targets. Without `own` the same operations as `ssimMaps`; with it the same values.
 */
export function ssimMapsSharing(a: Tensor, bs: readonly Tensor[], o: SsimOptions = {},
  own?: SsimOwnStatistics): { maps: Tensor[]; own: SsimOwnStatistics } {
  for (const b of bs) checkPair(a, b, 'ssim');
  const sigma = o.sigma ?? 1.5;
  const truncate = o.truncate ?? 3.5;
  const L = o.dataRange ?? 1;
  const c1 = ((o.k1 ?? 0.01) * L) ** 2;
  const c2 = ((o.k2 ?? 0.03) * L) ** 2;
  const [B, H, W] = a.shape as [number, number, number];
  const k = gaussianTaps(sigma, truncate).length;
  if (H < k || W < k) throw new RangeError(`ssim: maps of ${H}×${W} are smaller than the ${k}×${k} window`);
  return scope(() => {
    const [x, ...ys] = promote(a, ...bs);
    const [gw, gh] = window(x.dtype, x.device, sigma, truncate, H, W);
    // Gaussian filtering of n stacked B×H×W statistics → B×n×H'×W': one product per direction filters them all.
    const filter = (stats: Tensor[]): Tensor[] => {
      if (stats.length === 0) return [];
      const rows = stack(stats, 1).reshape([B * stats.length * H, W]).matmul(gw).reshape([B * stats.length, H, W - k + 1]);
      const f = gh.matmul(rows).reshape([B, stats.length, H - k + 1, W - k + 1]);
      return stats.map((_, i) => f.select(1, i));
    };
    // With `own` given only the targets' statistics are left: filtering the constant ones in the same product as
    // the graded ones saves a product per call (the Batch-CAM Loss's comparison after the Prototype Loss's).
    const constant = ys.map((y) => !y.requiresGrad && !own);
    const first = own ? 0 : 2; // where the targets' graded statistics start
    const graded = filter([...(own ? [] : [x, x.mul(x)]), ...ys.map((y) => x.mul(y)),
      ...ys.filter((_, i) => !constant[i]).flatMap((y) => [y, y.mul(y)])]);
    const fixed = noGrad(() => filter(ys.filter((_, i) => constant[i]).flatMap((y) => [y, y.mul(y)])));
    let stats = own;
    if (!stats) {
      const [mx, mxx] = graded as [Tensor, Tensor];
      stats = { mx, mxx, mx2: mx.mul(mx) };
    }
    const { mx, mxx, mx2 } = stats;
    let g = first + ys.length;
    let f = 0;
    const maps = ys.map((_, i) => {
      const mxy = graded[first + i]!;
      const [my, myy] = constant[i] ? [fixed[f++]!, fixed[f++]!] : [graded[g++]!, graded[g++]!];
      const mxmy = mx.mul(my);
      const my2 = my.mul(my);
      const num = mxmy.mul(2).add(c1).mul(mxy.sub(mxmy).mul(2).add(c2));
      const den = mx2.add(my2).add(c1).mul(mxx.sub(mx2).add(myy.sub(my2)).add(c2));
      return num.div(den);
    });
    return { maps, own: stats };
  });
}

/** Per-sample mean SSIM of two B×H×W maps (a B-vector), equal to skimage's `structural_similarity` per pair. */
export function ssim(a: Tensor, b: Tensor, o: SsimOptions = {}): Tensor {
  return scope(() => ssimMap(a, b, o).mean([1, 2]));
}

/** The floating dtype maps are compared in: float64 if any operand is, else float32 (`promote`). */
export function promotedDtype(...ts: readonly Tensor[]): DType {
  return ts.some((t) => t.dtype === 'float64') ? 'float64' : 'float32';
}

/** All operands in one floating dtype (float64 if any is, else float32), so mixed CAM/prototype dtypes work. */
export function promote<T extends Tensor[]>(...ts: T): { [K in keyof T]: Tensor } {
  const d = promotedDtype(...ts);
  return ts.map((t) => (t.dtype === d ? t : t.to(d))) as { [K in keyof T]: Tensor };
}
