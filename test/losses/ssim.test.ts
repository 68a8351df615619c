import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { gaussianTaps, ssim, ssimMap, distance } from '../../src/losses/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { blobMaps, hasSkimage, maxAbsDiff, noiseMaps, skimageInfo, skimageSsim } from './maps.js';

const skip = hasSkimage ? false : 'needs /usr/bin/python3 with scikit-image (test/py/ssim_ref.py)';
const TOL = 1e-4;

function compare(a: Float64Array, b: Float64Array, shape: [number, number, number], dtype: T.DType): number {
  return T.scope(() => {
    const ta = T.fromArray(a, shape, { dtype });
    const tb = T.fromArray(b, shape, { dtype });
    // skimage sees exactly the values the tensors hold (float32-rounded when dtype is float32).
    const ours = ssim(ta, tb).toArray();
    const ref = skimageSsim(Array.from(ta.data() as ArrayLike<number>), Array.from(tb.data() as ArrayLike<number>), shape);
    return maxAbsDiff(ours, ref);
  });
}

test('the window is skimage\'s: 11 normalised taps of exp(−x²/2σ²), σ = 1.5, truncate 3.5', { skip }, () => {
  const taps = gaussianTaps();
  assert.equal(taps.length, skimageInfo().win_size);
  assert.equal(taps.length, 11);
  assert.ok(Math.abs(taps.reduce((s, t) => s + t, 0) - 1) < 1e-15);
  const z = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / 4.5)).reduce((s, t) => s + t, 0);
  taps.forEach((t, i) => assert.ok(Math.abs(t - Math.exp(-((i - 5) ** 2) / 4.5) / z) < 1e-15));
});

test('SSIM matches skimage on random maps (28×28, 24×24, non-square), float32 and float64', { skip }, () => {
  const cases: [number, number, number][] = [[6, 28, 28], [6, 24, 24], [3, 13, 20], [2, 11, 11]];
  for (const [i, shape] of cases.entries()) {
    const a = noiseMaps(...shape, 100 + i);
    const b = noiseMaps(...shape, 200 + i);
    for (const dtype of ['float32', 'float64'] as const) {
      const err = compare(a, b, shape, dtype);
      // float64 agrees to rounding (the same sums, reordered): the border handling is skimage's exactly.
      const tol = dtype === 'float64' ? 1e-12 : TOL;
      assert.ok(err < tol, `shape ${shape} ${dtype}: max |ours − skimage| = ${err}`);
    }
  }
});

test('SSIM matches skimage on CAM-like blob maps (28×28 and 24×24), unrelated and nearby pairs', { skip }, () => {
  for (const [i, [h, w]] of [[28, 28], [24, 24]].entries()) {
    const shape: [number, number, number] = [8, h!, w!];
    const a = blobMaps(...shape, 300 + i);
    const b = blobMaps(...shape, 400 + i);
    // A nearby pair: the same blobs with a little noise, kept in [0,1] — SSIM near 1, where the test is sharpest.
    const noise = noiseMaps(...shape, 500 + i);
    const near = a.map((v, k) => Math.min(1, Math.max(0, v + 0.05 * (noise[k]! - 0.5))));
    for (const dtype of ['float32', 'float64'] as const) {
      const e1 = compare(a, b, shape, dtype);
      const e2 = compare(a, near, shape, dtype);
      assert.ok(e1 < TOL && e2 < TOL, `${h}×${w} ${dtype}: errors ${e1}, ${e2}`);
    }
  }
  // And the values are far from trivial: unrelated blob pairs differ clearly from identical ones.
  const s = skimageSsim(blobMaps(4, 28, 28, 300), blobMaps(4, 28, 28, 400), [4, 28, 28]);
  assert.ok(s.some((v) => v < 0.8), `unrelated blob SSIMs ${s}`);
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
