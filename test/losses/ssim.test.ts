import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { gaussianTaps, ssim, ssimMap, ssimMaps, distance, distances } from '../../src/losses/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { blobMaps, hasSkimage, maxAbsDiff, noiseMaps, skimageInfo, skimageSsimCases } from './maps.js';
import { maxTensorDiff } from '../helpers/tensor-diff.js';

const TOL = 1e-4;

interface Pair {
  name: string;
  a: Float64Array;
  b: Float64Array;
  shape: [number, number, number];
}

/** max |ours − skimage| per pair and dtype; skimage sees exactly the values the tensors hold (float32-rounded or not). */
function compareAll(pairs: readonly Pair[], dtype: T.DType): { name: string; err: number }[] {
  return T.scope(() => {
    const ts = pairs.map((p) => [T.fromArray(p.a, p.shape, { dtype }), T.fromArray(p.b, p.shape, { dtype })] as const);
    const refs = skimageSsimCases(ts.map(([ta, tb], i) => ({
      a: ta.data() as Float32Array, b: tb.data() as Float32Array, shape: pairs[i]!.shape,
    })));
    return ts.map(([ta, tb], i) => ({ name: pairs[i]!.name, err: maxAbsDiff(ssim(ta, tb).toArray(), refs[i]!) }));
  });
}

test('the scikit-image oracle is installed (apt-get install python3-skimage)', () => assert.ok(hasSkimage));

test('the window is skimage\'s: 11 normalised taps of exp(−x²/2σ²), σ = 1.5, truncate 3.5', () => {
  const taps = gaussianTaps();
  assert.equal(taps.length, skimageInfo().win_size);
  assert.equal(taps.length, 11);
  assert.ok(Math.abs(taps.reduce((s, t) => s + t, 0) - 1) < 1e-15);
  const z = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / 4.5)).reduce((s, t) => s + t, 0);
  taps.forEach((t, i) => assert.ok(Math.abs(t - Math.exp(-((i - 5) ** 2) / 4.5) / z) < 1e-15));
});

test('SSIM matches skimage on random maps (28×28, 24×24, non-square), float32 and float64', () => {
  const cases: [number, number, number][] = [[6, 28, 28], [6, 24, 24], [3, 13, 20], [2, 11, 11]];
  const pairs = cases.map((shape, i) => ({ name: `noise ${shape}`, shape, a: noiseMaps(...shape, 100 + i), b: noiseMaps(...shape, 200 + i) }));
  for (const dtype of ['float32', 'float64'] as const) {
    // float64 agrees to rounding (the same sums, reordered): the border handling is skimage's exactly.
    const tol = dtype === 'float64' ? 1e-12 : TOL;
    for (const { name, err } of compareAll(pairs, dtype)) assert.ok(err < tol, `${name} ${dtype}: max |ours − skimage| = ${err}`);
  }
});

test('SSIM matches skimage on CAM-like blob maps (28×28 and 24×24), unrelated and nearby pairs', () => {
  const pairs: Pair[] = [];
  for (const [i, [h, w]] of [[28, 28], [24, 24]].entries()) {
    const shape: [number, number, number] = [8, h!, w!];
    const a = blobMaps(...shape, 300 + i);
    // A nearby pair: the same blobs with a little noise, kept in [0,1] — SSIM near 1.
    const noise = noiseMaps(...shape, 500 + i);
    const near = a.map((v, k) => Math.min(1, Math.max(0, v + 0.05 * (noise[k]! - 0.5))));
    pairs.push({ name: `blobs ${shape}`, shape, a, b: blobMaps(...shape, 400 + i) }, { name: `near blobs ${shape}`, shape, a, b: near });
  }
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float64' ? 1e-12 : TOL;
    for (const { name, err } of compareAll(pairs, dtype)) assert.ok(err < tol, `${name} ${dtype}: max |ours − skimage| = ${err}`);
  }
  // The values span the range: unrelated blobs are far from similar, nearby ones close to 1.
  const [far, near] = skimageSsimCases(pairs.slice(0, 2));
  assert.ok(Math.min(...far!) < 0.5 && Math.min(...near!) > 0.8, `far ${far}, near ${near}`);
});

test('identical maps give SSIM 1 and distance 0; the map has the valid size', () => {
  T.scope(() => {
    const a = T.fromArray(blobMaps(3, 24, 24, 7), [3, 24, 24]);
    assert.ok(maxAbsDiff(ssim(a, a).toArray(), [1, 1, 1]) < 1e-6);
    assert.ok(maxAbsDiff(distance(a, a, 'ssim').toArray(), [0, 0, 0]) < 1e-6);
    assert.deepEqual(ssimMap(a, a).shape, [3, 14, 14]);
    assert.throws(() => ssim(T.zeros([1, 10, 20]), T.zeros([1, 10, 20])), /smaller than the 11×11 window/);
    assert.throws(() => ssim(T.zeros([1, 12, 12]), T.zeros([1, 12, 13])), /same shape/);
  });
});

test('SSIM distance gradients in both operands match finite differences (float64)', () => {
  const a = T.fromArray(blobMaps(2, 12, 13, 11), [2, 12, 13]);
  const b = T.fromArray(noiseMaps(2, 12, 13, 12), [2, 12, 13]);
  // Weights per sample so the per-sample values enter with different signs and sizes.
  const wts = T.tensor([0.7, -1.3], [2], { dtype: 'float64' });
  const err = gradcheck(([x, y]) => distance(x!, y!, 'ssim').mul(wts).sum(), [a, b]);
  assert.ok(err < 1e-6, `max error ${err}`);
});

test('ssimMaps: several targets in one pass equal separate ssimMap calls, values and gradients (constant and graded targets)', () => {
  T.manualSeed(5);
  const a = T.rand([4, 20, 18], { dtype: 'float64' }).requiresGrad_();
  const fixed = T.rand([4, 20, 18], { dtype: 'float64' }); // a prototype: outside autograd
  const graded = T.rand([4, 20, 18], { dtype: 'float64' }).requiresGrad_(); // an attached class mean
  const fixed32 = T.rand([4, 20, 18]); // float32 beside float64: computed in float64
  const together = ssimMaps(a, [fixed, graded, fixed32]);
  const apart = [ssimMap(a, fixed), ssimMap(a, graded), ssimMap(a, fixed32)];
  together.forEach((m, i) => assert.ok(maxTensorDiff(m, apart[i]!) < 1e-12, `target ${i}`));
  const w = together.map((m, i) => m.mul(i + 1).sum()).reduce((p, q) => p.add(q));
  const v = apart.map((m, i) => m.mul(i + 1).sum()).reduce((p, q) => p.add(q));
  const [ga, gg] = T.grad(w, [a, graded]);
  const [va, vg] = T.grad(v, [a, graded]);
  assert.ok(maxTensorDiff(ga!, va!) < 1e-12 && maxTensorDiff(gg!, vg!) < 1e-12);
  // distances(): the same per target, for every distance kind.
  for (const kind of ['l1', 'l2', 'ssim'] as const) {
    distances(a, [fixed, graded], kind).forEach((d, i) => assert.ok(maxTensorDiff(d, distance(a, [fixed, graded][i]!, kind)) < 1e-12, `${kind} ${i}`));
  }
});

