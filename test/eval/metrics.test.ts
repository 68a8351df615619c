import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import {
  averageDrop, blurImages, classMeans, coherence, coherenceDistances, decoyEnergy, deletionInsertion, mapShape, reconstruction,
  saliencyRanks, scaleByMax, summariseByClass, trapezoidAuc,
} from '../../src/eval/index.js';
import { distance } from '../../src/losses/distance.js';
import { ProbeModel } from './probe-model.js';

const H = 28;
const W = 28;
const close = (a: number, b: number, tol = 1e-6, what = ''): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what} expected ${b}, got ${a} (|diff| ${Math.abs(a - b)})`);

/** n maps of H×W filled by f(i, r, c). */
function maps(n: number, f: (i: number, r: number, c: number) => number, h = H, w = W): T.Tensor {
  const a = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) a[(i * h + r) * w + c] = f(i, r, c);
  return T.fromArray(a, [n, h, w]);
}
const labels = (ys: number[]): T.Tensor => T.tensor(ys, [ys.length], { dtype: 'int64' });

test('decoy energy: all mass in the patch is 1, uniform is 16/784, half in is 1/2, a zero map is 0', () => {
  T.scope(() => {
    // A 4×4 patch in the top-right corner of every image.
    const inPatch = (r: number, c: number): boolean => r < 4 && c >= W - 4;
    const masks = T.fromArray(Uint8Array.from({ length: 4 * H * W }, (_, k) => (inPatch(Math.floor((k % (H * W)) / W), k % W) ? 1 : 0)), [4, 1, H, W]);
    const cams = maps(4, (i, r, c) => {
      if (i === 0) return inPatch(r, c) ? 0.7 : 0; // entirely inside
      if (i === 1) return 0.3; // uniform
      if (i === 2) return inPatch(r, c) || (r === 20 && c < 16) ? 1 : 0; // 16 px inside, 16 outside
      return 0; // dead map
    });
    const e = decoyEnergy(cams, masks).toArray();
    close(e[0]!, 1, 1e-12, 'inside');
    close(e[1]!, 16 / 784, 1e-12, 'uniform');
    close(e[2]!, 0.5, 1e-12, 'half');
    assert.equal(e[3], 0);
    // N×H×W masks work the same.
    close(decoyEnergy(cams, masks.reshape([4, H, W])).toArray()[1]!, 16 / 784, 1e-12);
  });
});

test('map shape: uniform and empty maps have contrast 0, a half-on map coverage 1/2 and contrast 1/2', () => {
  T.scope(() => {
    const cams = maps(4, (i, r, c) => {
      if (i === 0) return 1; // uniform after max normalisation: the SSIM losses' trivial minimiser
      if (i === 1) return 0; // empty: the L1/L2 losses' trivial minimiser
      if (i === 2) return r < H / 2 ? 1 : 0; // half on
      return r === 3 && c === 5 ? 1 : 0; // one pixel
    });
    const { coverage, contrast } = mapShape(cams);
    const cov = coverage.toArray();
    const con = contrast.toArray();
    assert.deepEqual([cov[0], con[0]], [1, 0]);
    assert.deepEqual([cov[1], con[1]], [0, 0]);
    close(cov[2]!, 0.5, 1e-12, 'half coverage');
    close(con[2]!, 0.5, 1e-12, 'half contrast');
    const p = 1 / (H * W);
    close(cov[3]!, p, 1e-12, 'pixel coverage');
    close(con[3]!, Math.sqrt(p * (1 - p)), 1e-12, 'pixel contrast'); // a Bernoulli(p) population's std
    assert.throws(() => mapShape(cams.reshape([4, 1, H, W])), /N×H×W/);
  });
});

test('coherence: identical maps of a class give 0 for l1, l2 and ssim', () => {
  T.scope(() => {
    const base = maps(1, (_, r, c) => Math.exp(-((r - 12) ** 2 + (c - 15) ** 2) / 30));
    const cams = T.cat([base, base, base, base.mul(0.5), base.mul(0.5)]);
    const co = coherence(cams, labels([3, 3, 3, 1, 1]), 4);
    for (const k of ['l1', 'l2'] as const) {
      assert.equal(co[k].mean, 0);
      assert.deepEqual(co[k].perClass, [null, 0, null, 0]);
    }
    close(co.ssim.mean, 0, 1e-6, 'ssim');
  });
});

test('coherence: constant maps have the known distances to their class mean', () => {
  T.scope(() => {
    // Class 0: 0 and 1 (mean 0.5 → l1 0.5, l2 0.25); class 2: 0.2 and 0.6 (mean 0.4 → l1 0.2, l2 0.04).
    const values = [0, 1, 0.2, 0.6];
    const cams = maps(4, (i) => values[i]!);
    const y = labels([0, 0, 2, 2]);
    const co = coherence(cams, y, 3, ['l1', 'l2']);
    close(co.l1.perClass[0]!, 0.5, 1e-7);
    close(co.l1.perClass[2]!, 0.2, 1e-7);
    assert.equal(co.l1.perClass[1], null);
    close(co.l1.mean, 0.35, 1e-7);
    close(co.l2.perClass[0]!, 0.25, 1e-7);
    close(co.l2.perClass[2]!, 0.04, 1e-7);
    close(co.l2.mean, 0.145, 1e-7);
    // The per-sample vector equals distance() to a hand-built mean.
    const d = coherenceDistances(cams, y, 3, 'ssim').toArray();
    const means = T.cat([maps(2, () => 0.5), maps(2, () => 0.4)]);
    distance(cams, means, 'ssim').toArray().forEach((v, i) => close(d[i]!, v, 1e-6));
  });
});

test('classMeans / scaleByMax: the mean image of a class, scaled to [0,1] by its max', () => {
  T.scope(() => {
    const imgs = maps(3, (i, r) => (i === 0 ? (r < 14 ? 100 : 0) : i === 1 ? (r < 14 ? 200 : 50) : 7));
    const { means, counts } = classMeans(imgs, labels([1, 1, 0]), 3);
    assert.deepEqual(counts.toArray(), [1, 2, 0]);
    const s = scaleByMax(means);
    const row = s.select(0, 1).toArray();
    close(row[0]!, 1, 1e-7); // (100 + 200)/2 = 150 → 1
    close(row[20 * W]!, 25 / 150, 1e-7); // (0 + 50)/2 = 25
    assert.ok(s.select(0, 0).toArray().every((v) => Math.abs(v - 1) < 1e-7));
    assert.ok(s.select(0, 2).toArray().every((v) => v === 0)); // absent class: zero, not NaN
  });
});

test('reconstruction: a CAM equal to its class reference is 0; a zero CAM is the reference mean (l1) and mean square (l2)', () => {
  T.scope(() => {
    const refs = maps(2, (i, r) => (i === 0 ? (r < 7 ? 1 : 0) : 0.5)); // class 0: top quarter lit
    const cams = T.cat([refs.slice(0, 0, 1), maps(1, () => 0), refs.slice(0, 1, 2)]);
    const rec = reconstruction(cams, labels([0, 0, 1]), refs, 2, ['l1', 'l2']);
    close(rec.l1.perClass[0]!, (0 + 0.25) / 2, 1e-7);
    close(rec.l2.perClass[0]!, (0 + 0.25) / 2, 1e-7);
    assert.equal(rec.l1.perClass[1], 0);
    close(rec.l1.mean, 0.25 / 3, 1e-7);
  });
});

test('summariseByClass: per-class and overall (micro) means, null for absent classes', () => {
  T.scope(() => {
    const s = summariseByClass(T.tensor([1, 0, 1, 1]), labels([0, 0, 2, 2]), 4);
    assert.deepEqual(s.perClass, [0.5, null, 1, null]);
    assert.equal(s.mean, 0.75);
  });
});

test('saliencyRanks: decreasing saliency, ties in raster order', () => {
  T.scope(() => {
    const r = saliencyRanks(T.tensor([0.1, 0.5, 0.5, 0.2], [1, 2, 2])).toArray();
    assert.deepEqual(r, [3, 0, 1, 2]);
  });
});

test('trapezoidAuc: known areas', () => {
  T.scope(() => {
    const auc = trapezoidAuc(T.tensor([1, 0.5, 0, 1, 1, 1, 0, 0, 1], [3, 3]), [0, 0.5, 1]).toArray();
    close(auc[0]!, 0.5, 1e-12);
    close(auc[1]!, 1, 1e-12);
    close(auc[2]!, 0.25, 1e-12);
  });
});

/** The top half of the image lit: m = 392 of 784 pixels. */
const halfImage = (): T.Tensor => maps(1, (_, r) => (r < 14 ? 1 : 0)).unsqueeze(1);

test('deletion/insertion: a perfect saliency order on the probe model gives AUC 1/4 and 3/4 (zero start)', () => {
  T.scope(() => {
    const model = new ProbeModel(392).eval();
    const x = halfImage();
    const perfect = x.squeeze(1); // saliency = the lit pixels first
    const worst = perfect.neg().add(1); // dark pixels first
    const t = labels([0]);
    // P(class 0) after k of 28 steps (28 px each): deletion 1 − k/14 down to 0 at k = 14, insertion k/14 up to 1.
    const r = deletionInsertion(model, x, perfect, t, { steps: 28, insertionStart: 'zero' });
    close(r.deletion.item(), 0.25, 1e-7, 'deletion AUC');
    close(r.insertion.item(), 0.75, 1e-7, 'insertion AUC');
    const curve = r.deletionCurve.toArray();
    curve.forEach((p, k) => close(p, Math.max(0, 1 - k / 14), 1e-7, `deletion curve at ${k}`));
    r.insertionCurve.toArray().forEach((p, k) => close(p, Math.min(1, k / 14), 1e-7, `insertion curve at ${k}`));
    assert.equal(r.fractions.length, 29);
    const bad = deletionInsertion(model, x, worst, t, { steps: 28, insertionStart: 'zero' });
    close(bad.deletion.item(), 0.75, 1e-7, 'worst deletion AUC');
    close(bad.insertion.item(), 0.25, 1e-7, 'worst insertion AUC');
    // Steps that do not divide HW round the pixel counts; the area follows the true fractions: 1/4 still.
    close(deletionInsertion(model, x, perfect, t, { steps: 10, insertionStart: 'zero' }).deletion.item(), 0.25, 2e-3);
  });
});

test('deletion/insertion: batched images are independent, and blur insertion starts from the blurred image', () => {
  T.scope(() => {
    const model = new ProbeModel(392).eval();
    const x = T.cat([halfImage(), halfImage()]);
    const cams = T.cat([x.squeeze(1).slice(0, 0, 1), x.squeeze(1).slice(0, 0, 1).neg().add(1)]);
    const r = deletionInsertion(model, x, cams, labels([0, 0]), { steps: 28, insertionStart: 'zero' });
    const d = r.deletion.toArray();
    close(d[0]!, 0.25, 1e-7);
    close(d[1]!, 0.75, 1e-7);
    const blurred = blurImages(x.slice(0, 0, 1));
    const rb = deletionInsertion(model, x.slice(0, 0, 1), cams.slice(0, 0, 1), labels([0]), { steps: 28 });
    close(rb.insertionCurve.toArray()[0]!, blurred.sum().item() / 392, 1e-6, 'insertion starts at P(blurred)');
    close(rb.insertionCurve.toArray()[28]!, 1, 1e-7, 'insertion ends at the image');
  });
});

test('blurImages: a normalised 11×11 Gaussian (σ = 5) with zero padding', () => {
  T.scope(() => {
    const delta = maps(1, (_, r, c) => (r === 14 && c === 14 ? 1 : 0)).unsqueeze(1);
    const b = blurImages(delta);
    close(b.sum().item(), 1, 1e-6, 'mass kept away from the border');
    const v = b.reshape([H, W]).toArray();
    // Separable: value at (14+dr, 14+dc) = g(dr)·g(dc), g ∝ exp(−d²/50) over d = −5…5.
    const z = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / 50)).reduce((s, q) => s + q, 0);
    const g = (d: number): number => (Math.abs(d) > 5 ? 0 : Math.exp(-(d * d) / 50) / z);
    for (const [dr, dc] of [[0, 0], [3, -2], [5, 5], [6, 0]]) close(v[(14 + dr!) * W + 14 + dc!]!, g(dr!) * g(dc!), 1e-7);
    // Around a baseline: a constant image at the baseline stays there.
    const flat = T.full([1, 1, H, W], -0.4);
    assert.ok(blurImages(flat, -0.4).add(0.4).abs().amax().item() < 1e-6);
  });
});

test('averageDrop: 0 when the map keeps the evidence, 1/2 when it halves it', () => {
  T.scope(() => {
    const model = new ProbeModel(392).eval();
    const x = T.cat([halfImage(), halfImage(), halfImage()]);
    const cams = T.cat([maps(1, () => 1), x.squeeze(1).slice(0, 0, 1), maps(1, () => 0.5)]);
    const drop = averageDrop(model, x, cams, labels([0, 0, 0])).toArray();
    close(drop[0]!, 0, 1e-9);
    close(drop[1]!, 0, 1e-9);
    close(drop[2]!, 0.5, 1e-7);
  });
});
