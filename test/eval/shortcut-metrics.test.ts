import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { Classifier, type SplitForward } from '../../src/models/classifier.js';
import { classSpecificity } from '../../src/eval/class-specificity.js';
import { inputGradients } from '../../src/eval/input-gradients.js';
import { wrongReason } from '../../src/eval/wrong-reason.js';
import { distance } from '../../src/losses/distance.js';
import { rng } from '../losses/maps.js';

const close = (a: number, b: number, tol: number, what = ''): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what} expected ${b}, got ${a}`);

/** The XIL typology's WR written out with loops over plain arrays (no tensors): the independent computation. */
function jsWrongReason(attr: number[][], masks: number[][]): { score: number; threshold: number; n: number } {
  const normed = attr.map((a) => {
    const p = a.map((v) => Math.max(v, 0));
    const mn = Math.min(...p);
    const mx = Math.max(...p);
    return p.map((v) => (v - mn) / (mx + 1e-6));
  });
  const keep = normed.map((a) => a.reduce((s, v) => s + v, 0) !== 0);
  const kept = normed.filter((_, i) => keep[i]);
  const threshold = kept.reduce((s, a) => s + a.reduce((p, v) => p + v, 0) / a.length, 0) / kept.length;
  let score = 0;
  normed.forEach((a, i) => {
    if (!keep[i]) return;
    const on = a.map((v) => (v > threshold ? 1 : v < threshold ? 0 : v));
    const m = masks[i]!;
    score += on.reduce((s, v, k) => s + v * m[k]!, 0) / m.reduce((s, v) => s + v, 0);
  });
  return { score: score / kept.length, threshold, n: kept.length };
}

test('wrongReason: attribution only on the patch is 1, only off it is 0, and it equals a loop implementation on random maps', () => {
  T.scope(() => {
    const H = 8;
    const N = H * H;
    const patch = Array.from({ length: N }, (_, k) => (Math.floor(k / H) < 2 && k % H < 2 ? 1 : 0));
    const onPatch = patch.map((v) => 3 * v);
    const offPatch = patch.map((v, k) => (v ? 0 : 1 + (k % 3)));
    const t = (rows: number[][]): T.Tensor => T.fromArray(Float64Array.from(rows.flat()), [rows.length, H, H]);
    close(wrongReason(t([onPatch, onPatch]), t([patch, patch])).score, 1, 1e-12, 'on the patch');
    close(wrongReason(t([offPatch, offPatch]), t([patch, patch])).score, 0, 1e-12, 'off the patch');
    // An all-zero (or all-negative) attribution has nothing to normalise: it is left out, not scored.
    const zero = new Array<number>(N).fill(0);
    const neg = new Array<number>(N).fill(-2);
    const r0 = wrongReason(t([onPatch, zero, neg]), t([patch, patch, patch]));
    assert.equal(r0.n, 1);
    assert.equal(r0.zeroMaps, 2);
    close(r0.score, 1, 1e-12);
    const r = rng(3);
    const attr = Array.from({ length: 12 }, () => Array.from({ length: N }, () => r() * 2 - 0.5));
    const masks = Array.from({ length: 12 }, (_, i) => Array.from({ length: N }, (_, k) => (((k + i) % 7) < 2 ? 1 : 0)));
    const ours = wrongReason(t(attr), t(masks));
    const exp = jsWrongReason(attr, masks);
    close(ours.score, exp.score, 1e-12, 'random score');
    close(ours.threshold, exp.threshold, 1e-12, 'random threshold');
    assert.equal(ours.n, exp.n);
  });
});

/** A small float64 non-linear classifier: logits = sigmoid(flatten(x)·W1)·W2, so input gradients are not trivial. */
class TinyNet extends Classifier {
  readonly camLayers = ['input'] as const;
  readonly numClasses = 3;
  constructor(readonly w1: T.Tensor, readonly w2: T.Tensor) {
    super();
  }
  forwardSplit(x: T.Tensor, layer = 'input'): SplitForward {
    this.checkLayer(layer);
    const activation = x.mul(1);
    const logits = T.scope(() => activation.reshape([x.shape[0]!, -1]).matmul(this.w1).sigmoid().matmul(this.w2));
    return { activation, logits };
  }
  macsAt(): number {
    return 0;
  }
}

test('inputGradients equals central finite differences of Σ_k log softmax, summed over channels', () => {
  T.scope(() => {
    const r = rng(8);
    const [B, Cin, H] = [3, 2, 4];
    const D = Cin * H * H;
    const f64 = (n: number, shape: number[]): T.Tensor => T.fromArray(Float64Array.from({ length: n }, () => r() - 0.5), shape);
    const net = new TinyNet(f64(D * 5, [D, 5]), f64(5 * 3, [5, 3]));
    const x = f64(B * D, [B, Cin, H, H]);
    const g = inputGradients(net, x).toArray();
    assert.equal(g.length, B * H * H);
    const f = (xx: T.Tensor): number => T.noGrad(() => T.logSoftmax(net.forward(xx), 1).sum().item());
    const xs = x.toArray();
    const eps = 1e-6;
    for (const [b, p] of [[0, 0], [1, 5], [2, 15]] as const) {
      // The channel sum of ∂/∂x at pixel p of image b: a step on every channel of that pixel at once.
      const step = (sgn: number): T.Tensor => T.fromArray(Float64Array.from(xs, (v, k) => {
        const bi = Math.floor(k / D);
        const pix = k % (H * H);
        return bi === b && pix === p ? v + sgn * eps : v;
      }), [B, Cin, H, H]);
      close(g[b * H * H + p]!, (f(step(1)) - f(step(-1))) / (2 * eps), 1e-7, `image ${b} pixel ${p}`);
    }
  });
});

test('classSpecificity: within is the coherence distance, between the mean over class-mean pairs; all-alike maps have ratio ~1', () => {
  T.scope(() => {
    const H = 12;
    const N = H * H;
    const r = rng(4);
    const lab = [0, 0, 1, 1, 2, 2, 2];
    const maps = Float64Array.from({ length: lab.length * N }, () => r());
    const t = T.fromArray(maps, [lab.length, H, H]);
    const y = T.tensor(lab, [lab.length], { dtype: 'int64' });
    const s = classSpecificity(t, y, 4, ['l1', 'ssim']);
    const mean = (c: number): number[] => {
      const m = lab.flatMap((d, j) => (d === c ? [j] : []));
      return Array.from({ length: N }, (_, k) => m.reduce((acc, j) => acc + maps[j * N + k]!, 0) / m.length);
    };
    const M = [0, 1, 2].map(mean);
    const l1 = (a: number[], b: number[]): number => a.reduce((acc, v, k) => acc + Math.abs(v - b[k]!), 0) / N;
    const within = lab.reduce((acc, c, i) => acc + l1(Array.from(maps.slice(i * N, (i + 1) * N)), M[c]!), 0) / lab.length;
    let between = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (i !== j) between += l1(M[i]!, M[j]!) / 6;
    // The class means are kept in float32 (as the coherence metric keeps them): agreement to float32 precision.
    close(s.l1.within, within, 1e-6, 'within l1');
    close(s.l1.between, between, 1e-6, 'between l1');
    close(s.l1.ratio, within / between, 1e-5, 'ratio l1');
    const ssimBetween = [[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]].reduce((acc, [i, j]) =>
      acc + distance(T.fromArray(Float64Array.from(M[i!]!), [1, H, H]), T.fromArray(Float64Array.from(M[j!]!), [1, H, H]), 'ssim').item() / 6, 0);
    close(s.ssim.between, ssimBetween, 1e-5, 'between ssim');
    // Class-specific maps (each class its own constant pattern) have ratio 0; maps that ignore the class, ratio ≫ 0.
    const specific = T.fromArray(Float64Array.from({ length: lab.length * N }, (_, k) => ((k % N) % 3 === lab[Math.floor(k / N)] ? 1 : 0)), [lab.length, H, H]);
    close(classSpecificity(specific, y, 3, ['l1']).l1.ratio, 0, 1e-12, 'class-specific');
    const alike = T.fromArray(Float64Array.from({ length: lab.length * N }, (_, k) => (Math.floor(k / N) % 2 === 0 ? (k % N) / N : 1 - (k % N) / N)), [lab.length, H, H]);
    assert.ok(classSpecificity(alike, y, 3, ['l1']).l1.ratio > 0.9, 'maps that do not depend on the class');
  });
});
