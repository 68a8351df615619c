import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { backgroundLoss, batchClassMeans, classContrastLoss } from '../../src/losses/index.js';
import { blobMaps, f64, rng } from './maps.js';

const H = 9;
const N = H * H;
const labels = [0, 1, 2, 0, 1, 2, 0];
const B = labels.length;
const C = 3;
const y = (): T.Tensor => T.tensor(labels, [B], { dtype: 'int64' });
const row = (a: ArrayLike<number>, i: number): number[] => Array.from(a).slice(i * N, (i + 1) * N);

/** Plain-JS InfoNCE of cosine similarities: −log softmax over the available classes, mean over eligible samples. */
function jsContrast(cams: ArrayLike<number>, refs: ArrayLike<number>, avail: boolean[], tau: number, samples?: boolean[]): number {
  const unit = (v: number[]): number[] => {
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => x / Math.max(n, 1e-12));
  };
  const R = Array.from({ length: C }, (_, c) => unit(row(refs, c)));
  const nAvail = avail.filter(Boolean).length;
  let sum = 0;
  let n = 0;
  labels.forEach((c, i) => {
    if (!avail[c] || nAvail < 2 || (samples && !samples[i])) return;
    const z = unit(row(cams, i));
    const s = R.map((r, k) => (avail[k] ? z.reduce((acc, zj, j) => acc + zj * r[j]!, 0) / tau : -Infinity));
    const m = Math.max(...s);
    const lse = m + Math.log(s.reduce((acc, v) => acc + Math.exp(v - m), 0));
    sum += lse - s[c]!;
    n++;
  });
  return n === 0 ? 0 : sum / n;
}

/** Central finite difference of f along a random direction v, against ⟨∇f, v⟩ (float64). */
function directional(f: (x: T.Tensor) => T.Tensor, x: T.Tensor, seed: number, eps = 1e-6): { numeric: number; analytic: number } {
  return T.scope(() => {
    const xi = x.detach().requiresGrad_();
    const [g] = T.grad(f(xi), [xi]);
    const r = rng(seed);
    const v = Array.from({ length: x.numel }, () => r() - 0.5);
    const dv = f64(v, x.shape).mul(eps);
    const numeric = T.noGrad(() => (f(x.add(dv)).item() - f(x.sub(dv)).item()) / (2 * eps));
    const analytic = g!.toArray().reduce((s, gi, k) => s + gi * v[k]!, 0);
    return { numeric, analytic };
  });
}

test('classContrastLoss equals a plain-JS InfoNCE of cosine similarities, with unavailable classes and sample masks', () => {
  T.scope(() => {
    const cams = blobMaps(B, H, H, 5);
    const refs = blobMaps(C, H, H, 6);
    for (const tau of [0.1, 1]) {
      for (const avail of [[true, true, true], [true, false, true], [false, true, false]]) {
        for (const samples of [undefined, [true, false, true, true, true, false, true]]) {
          const ours = classContrastLoss(T.fromArray(cams, [B, H, H]), y(), T.fromArray(refs, [C, H, H]),
            T.tensor(avail.map(Number), [C], { dtype: 'uint8' }), tau, samples && T.tensor(samples.map(Number), [B], { dtype: 'bool' })).item();
          const exp = jsContrast(cams, refs, avail, tau, samples);
          assert.ok(Math.abs(ours - exp) < 1e-10, `τ=${tau} avail=${avail} samples=${samples}: ${ours} vs ${exp}`);
        }
      }
    }
  });
});

test('classContrastLoss gradient matches finite differences', () => {
  T.scope(() => {
    const cams = f64(Array.from(blobMaps(B, H, H, 7)), [B, H, H]);
    const refs = T.fromArray(blobMaps(C, H, H, 8), [C, H, H]);
    const avail = T.tensor([1, 1, 1], [C], { dtype: 'uint8' });
    for (const seed of [1, 2, 3]) {
      const { numeric, analytic } = directional((x) => classContrastLoss(x, y(), refs, avail, 0.2), cams, seed);
      assert.ok(Math.abs(numeric - analytic) < 1e-6 * Math.max(1, Math.abs(analytic)), `${numeric} vs ${analytic}`);
    }
  });
});

test('classContrastLoss: uniform and empty maps score log C and are not minimisers; class-matching maps score lower', () => {
  T.scope(() => {
    const refs = blobMaps(C, H, H, 9);
    const refsT = T.fromArray(refs, [C, H, H]);
    // Reference maps that are themselves uniform would make every map a guess; ours are distinct blobs.
    const avail = T.tensor([1, 1, 1], [C], { dtype: 'uint8' });
    const uniform = classContrastLoss(T.ones([B, H, H], { dtype: 'float64' }), y(), T.ones([C, H, H], { dtype: 'float64' }), avail, 0.1).item();
    assert.ok(Math.abs(uniform - Math.log(C)) < 1e-12, `all-uniform: ${uniform}`);
    const empty = classContrastLoss(T.zeros([B, H, H], { dtype: 'float64' }), y(), refsT, avail, 0.1).item();
    assert.ok(Math.abs(empty - Math.log(C)) < 1e-12, `empty maps: ${empty} vs log C`);
    const matching = Float64Array.from({ length: B * N }, (_, k) => refs[labels[Math.floor(k / N)]! * N + (k % N)]!);
    const good = classContrastLoss(T.fromArray(matching, [B, H, H]), y(), refsT, avail, 0.1).item();
    const unif = classContrastLoss(T.ones([B, H, H], { dtype: 'float64' }), y(), refsT, avail, 0.1).item();
    assert.ok(good < unif && good < empty, `matching ${good} vs uniform ${unif}, empty ${empty}`);
    // At the uniform map the gradient is not zero: a small step along it lowers the loss.
    const x = T.ones([B, H, H], { dtype: 'float64' }).requiresGrad_();
    const [g] = T.grad(classContrastLoss(x, y(), refsT, avail, 0.1), [x]);
    const stepped = T.noGrad(() => classContrastLoss(x.detach().sub(g!.mul(1e-2)), y(), refsT, avail, 0.1).item());
    assert.ok(stepped < unif - 1e-6, `a gradient step from the uniform map: ${stepped} vs ${unif}`);
  });
});

test('batchClassMeans: per-class batch means, presence, and which samples have a classmate', () => {
  T.scope(() => {
    const lab = [0, 2, 0, 2, 2, 1];
    const cams = blobMaps(lab.length, H, H, 11);
    const r = batchClassMeans(T.fromArray(cams, [lab.length, H, H]), T.tensor(lab, [lab.length], { dtype: 'int64' }), 4);
    assert.deepEqual(r.present.toArray(), [1, 1, 1, 0]);
    assert.deepEqual(r.paired.toArray(), [1, 1, 1, 1, 1, 0]);
    const m = r.means.toArray();
    for (let c = 0; c < 4; c++) {
      const members = lab.flatMap((d, j) => (d === c ? [j] : []));
      for (let k = 0; k < N; k++) {
        const exp = members.length ? members.reduce((s, j) => s + cams[j * N + k]!, 0) / members.length : 0;
        assert.ok(Math.abs(m[c * N + k]! - exp) < 1e-12);
      }
    }
  });
});

test('backgroundLoss is the mean of the lowest pixels; uniform maps score 1, a map with its background off scores 0', () => {
  T.scope(() => {
    const cams = blobMaps(B, H, H, 12);
    for (const fraction of [0.1, 0.5, 1]) {
      const k = Math.ceil(fraction * N);
      const exp = labels.reduce((s, _, i) => s + row(cams, i).sort((a, b) => a - b).slice(0, k).reduce((p, q) => p + q, 0) / k, 0) / B;
      const ours = backgroundLoss(T.fromArray(cams, [B, H, H]), fraction).item();
      assert.ok(Math.abs(ours - exp) < 1e-12, `fraction ${fraction}: ${ours} vs ${exp}`);
    }
    assert.equal(backgroundLoss(T.ones([2, H, H], { dtype: 'float64' }), 0.5).item(), 1);
    const spot = T.fromArray(Float64Array.from({ length: N }, (_, k) => (k === 4 * H + 4 ? 1 : 0)), [1, H, H]);
    assert.equal(backgroundLoss(spot, 0.5).item(), 0);
    const x = f64(Array.from(cams), [B, H, H]);
    const { numeric, analytic } = directional((t) => backgroundLoss(t, 0.3), x, 4);
    assert.ok(Math.abs(numeric - analytic) < 1e-7, `${numeric} vs ${analytic}`);
    assert.throws(() => backgroundLoss(x, 0), /fraction/);
  });
});
