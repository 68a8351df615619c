/**
 * Summary statistics and Welch's t-test for comparing settings over seeds (docs/method.md §7: several seeds, mean ± std,
 * Welch's t). Plain numbers, no tensors: these run on a handful of per-seed results.
 */

/** Mean and sample standard deviation (n − 1 denominator) of a list. */
export interface MeanStd {
  mean: number;
  /** Sample std (Bessel-corrected); 0 for a single value, where it is undefined, so tables stay numeric. */
  std: number;
  n: number;
}

/** Welch's two-sample t-test (unequal variances), two-sided. */
export interface TTest {
  /** (mean(a) − mean(b)) / √(s²a/na + s²b/nb). */
  t: number;
  /** Welch–Satterthwaite degrees of freedom (fractional in general). */
  df: number;
  /** Two-sided p-value P(|T| ≥ |t|) under Student's t with df degrees of freedom. */
  p: number;
}

/** Mean and sample std of `xs` (throws on an empty list: a mean of nothing is a bug upstream). */
export function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length;
  if (n === 0) throw new RangeError('meanStd: empty list');
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n === 1) return { mean, std: 0, n };
  const ss = xs.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

/**
 * Welch's t-test of a against b, two-sided. Needs ≥ 2 values on each side (the variances are undefined
 * otherwise). When both variances are 0 the statistic is degenerate: equal means give t = 0, p = 1; different
 * means give t = ±∞, p = 0 (perfectly separated constant groups), with df = na + nb − 2.
 */
export function welchTTest(a: readonly number[], b: readonly number[]): TTest {
  if (a.length < 2 || b.length < 2) {
    throw new RangeError(`welchTTest: needs at least 2 values per group, got ${a.length} and ${b.length}`);
  }
  const A = meanStd(a);
  const B = meanStd(b);
  const va = (A.std * A.std) / A.n;
  const vb = (B.std * B.std) / B.n;
  const se2 = va + vb;
  const diff = A.mean - B.mean;
  if (se2 === 0) {
    const df = A.n + B.n - 2;
    return diff === 0 ? { t: 0, df, p: 1 } : { t: diff > 0 ? Infinity : -Infinity, df, p: 0 };
  }
  const t = diff / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (A.n - 1) + (vb * vb) / (B.n - 1));
  return { t, df, p: studentTTwoSided(t, df) };
}

/** P(|T| ≥ |t|) for Student's t with `df` > 0 degrees of freedom: I_{df/(df+t²)}(df/2, 1/2). */
export function studentTTwoSided(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTTwoSided: df must be positive, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = studentTTwoSided(t, df) / 2;
  return t >= 0 ? 1 - tail : tail;
}

// Lanczos coefficients (g = 7, n = 9), the widely used set giving ~1e-15 relative accuracy for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos approximation; reflection for x < 0.5). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/**
 * The regularised incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), a, b > 0, x ∈ [0, 1].
 * Continued fraction (modified Lentz), evaluated on whichever of I_x(a, b) and 1 − I_{1−x}(b, a) converges fast
 * (x below or above (a + 1)/(a + b + 2)), as in Numerical Recipes §6.4.
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`incomplete beta: a and b must be positive, got ${a}, ${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incomplete beta: x must be in [0, 1], got ${x}`);
  if (x === 0 || x === 1) return x;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(lnFront);
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const EPS = 1e-16;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    // Even step of the continued fraction.
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // Odd step.
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  // Not reached for the a, b, x of t-tests; fail loudly rather than return a silently wrong p.
  throw new Error(`incomplete beta: continued fraction did not converge for x=${x}, a=${a}, b=${b}`);
}
