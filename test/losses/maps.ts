import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromArray, type Tensor } from '../../src/torch/index.js';

/** A seeded uniform [0,1) generator (mulberry32), so test maps are the same on every run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** B×H×W uniform noise maps in [0,1), flat. */
export function noiseMaps(b: number, h: number, w: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: b * h * w }, () => r());
}

/**
 * B×H×W CAM-like maps, flat: a sum of 1–3 Gaussian blobs at random positions and widths, normalised to [0,1] by the
 * max like Batch-CAM's `max` normalisation.
 */
export function blobMaps(b: number, h: number, w: number, seed: number): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(b * h * w);
  for (let i = 0; i < b; i++) {
    const blobs = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
      cy: r() * h, cx: r() * w, s: 1.5 + r() * 4, amp: 0.3 + 0.7 * r(),
    }));
    let max = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = 0;
        for (const g of blobs) v += g.amp * Math.exp(-((y - g.cy) ** 2 + (x - g.cx) ** 2) / (2 * g.s * g.s));
        out[i * h * w + y * w + x] = v;
        max = Math.max(max, v);
      }
    }
    for (let k = 0; k < h * w; k++) out[i * h * w + k]! /= max;
  }
  return out;
}

const PY = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../../test/py/ssim_ref.py', import.meta.url));

/** Whether the reference interpreter is here (Debian python3 with scikit-image). */
export const hasSkimage: boolean = existsSync(PY) &&
  spawnSync(PY, ['-c', 'import skimage.metrics'], { encoding: 'utf8' }).status === 0;

/** One pair of flat B×H×W arrays for the reference. */
export interface SsimCase {
  a: ArrayLike<number>;
  b: ArrayLike<number>;
  shape: [number, number, number];
}

/** scikit-image's per-sample SSIM for each case, through test/py/ssim_ref.py in one Python run. */
export function skimageSsimCases(cases: readonly SsimCase[]): number[][] {
  const input = JSON.stringify({ cases: cases.map((c) => ({ shape: c.shape, a: Array.from(c.a), b: Array.from(c.b) })) });
  const r = spawnSync(PY, [SCRIPT], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ssim_ref.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as number[][];
}

/** scikit-image's per-sample SSIM of two flat B×H×W arrays. */
export function skimageSsim(a: ArrayLike<number>, b: ArrayLike<number>, shape: [number, number, number]): number[] {
  return skimageSsimCases([{ a, b, shape }])[0]!;
}

/** The skimage window size ssim_ref.py reports, with skimage's version. */
export function skimageInfo(): { skimage: string; win_size: number } {
  const r = spawnSync(PY, [SCRIPT], { input: '{"info": true}', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssim_ref.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { skimage: string; win_size: number };
}

/** Largest |x − y| over two equal-length arrays. */
export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`length ${x.length} vs ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** Plain-JS per-sample L1 and L2 of flat B×N arrays. */
export function jsDistance(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, kind: 'l1' | 'l2'): number[] {
  const n = a.length / batch;
  return Array.from({ length: batch }, (_, i) => {
    let s = 0;
    for (let k = 0; k < n; k++) {
      const d = a[i * n + k]! - b[i * n + k]!;
      s += kind === 'l1' ? Math.abs(d) : d * d;
    }
    return s / n;
  });
}

/** A float64 tensor holding exactly these numbers (`T.tensor` would round them through float32). */
export function f64(values: readonly number[], shape: readonly number[]): Tensor {
  return fromArray(Float64Array.from(values), shape);
}
