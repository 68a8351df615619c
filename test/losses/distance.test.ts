import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { distance, meanDistance, parseDistance, ssim } from '../../src/losses/index.js';
import { blobMaps, jsDistance, maxAbsDiff, noiseMaps } from './maps.js';

test('l1 and l2 equal their plain-JS definitions per sample (float32 and float64)', () => {
  const shape: [number, number, number] = [5, 28, 28];
  const a = blobMaps(...shape, 1);
  const b = noiseMaps(...shape, 2);
  for (const dtype of ['float32', 'float64'] as const) {
    T.scope(() => {
      const ta = T.fromArray(a, shape, { dtype });
      const tb = T.fromArray(b, shape, { dtype });
      const av = Array.from(ta.data() as Float32Array);
      const bv = Array.from(tb.data() as Float32Array);
      const tol = dtype === 'float32' ? 1e-6 : 1e-14;
      for (const kind of ['l1', 'l2'] as const) {
        const ours = distance(ta, tb, kind).toArray();
        const ref = jsDistance(av, bv, 5, kind);
        assert.ok(maxAbsDiff(ours, ref) < tol, `${kind} ${dtype}: ${ours} vs ${ref}`);
        const m = meanDistance(ta, tb, kind).item();
        assert.ok(Math.abs(m - ref.reduce((s, v) => s + v, 0) / 5) < tol);
      }
    });
  }
});

test('ssim distance is 1 − SSIM per sample; mixed float32/float64 operands compute in float64', () => {
  T.scope(() => {
    const a = T.fromArray(blobMaps(3, 24, 24, 3), [3, 24, 24], { dtype: 'float32' });
    const b = T.fromArray(blobMaps(3, 24, 24, 4), [3, 24, 24], { dtype: 'float64' });
    const d = distance(a, b, 'ssim');
    assert.equal(d.dtype, 'float64');
    const s = ssim(a.to('float64'), b).toArray();
    assert.ok(maxAbsDiff(d.toArray(), s.map((v) => 1 - v)) < 1e-14);
    assert.ok(maxAbsDiff(distance(a, b, 'l1').toArray(),
      jsDistance(a.toArray(), b.toArray(), 3, 'l1')) < 1e-12);
  });
});

test('l1 and l2 gradients flow into both operands and equal the analytic ones', () => {
  T.scope(() => {
    const a = T.fromArray(Float64Array.from([0.1, 0.5, 0.9, 0.3]), [1, 2, 2]).requiresGrad_();
    const b = T.fromArray(Float64Array.from([0.2, 0.4, 0.9, 0.7]), [1, 2, 2]).requiresGrad_();
    const [ga, gb] = T.grad(distance(a, b, 'l2').sum(), [a, b]);
    const expA = [0.1 - 0.2, 0.5 - 0.4, 0, 0.3 - 0.7].map((d) => (2 * d) / 4);
    assert.ok(maxAbsDiff(ga!.toArray(), expA) < 1e-15);
    assert.ok(maxAbsDiff(gb!.toArray(), expA.map((v) => -v)) < 1e-15);
    const [g1] = T.grad(distance(a, b, 'l1').sum(), [a]);
    assert.deepEqual(g1!.toArray(), [-0.25, 0.25, 0, -0.25]); // sign(a − b)/4, sign(0) = 0
  });
});

test('bad shapes and names are errors', () => {
  assert.throws(() => distance(T.zeros([2, 4, 4]), T.zeros([2, 4, 5]), 'l1'), /same shape/);
  assert.throws(() => distance(T.zeros([2, 1, 4, 4]), T.zeros([2, 1, 4, 4]), 'l2'), /B×H×W/);
  assert.equal(parseDistance('ssim'), 'ssim');
  assert.throws(() => parseDistance('cosine'), /l1, l2, ssim/);
});
